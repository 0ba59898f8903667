package executor

import (
	"sort"
	"strconv"
	"time"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/planner"
)

// Drift reasons, the label values of the drift metrics.
const (
	DriftRemoved    = "removed by hand"
	DriftDied       = "container died"
	DriftChanged    = "changed by hand"
	DriftUnexpected = "unexpected managed pod"
)

// DriftStatus is one workload that differs from the desired state it was
// already brought to, without any change in the source.
type DriftStatus struct {
	Namespace string `json:"namespace"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Reason    string `json:"reason"`
}

// drift remembers which workloads reached their desired state, so that a
// later difference without a change in the source is known as drift.
type drift struct {
	// settled holds, per workload, the signature (template and replicas)
	// at which it was last fully in sync.
	settled map[config.Key]string
	// revision is the source revision under which every workload was in sync.
	revision string
}

func signature(wl *config.Workload) string {
	return wl.TemplateHash + "/" + strconv.Itoa(int(wl.Replicas))
}

// classify returns, for every action of the plan that corrects drift, its
// drift reason (by action index), and the drifting workloads.
func (d *drift) classify(desired *config.Desired, plan planner.Result) (map[int]string, []DriftStatus) {
	sigs := make(map[config.Key]string, len(desired.Workloads))
	for i := range desired.Workloads {
		sigs[desired.Workloads[i].Key] = signature(&desired.Workloads[i])
	}
	reasons := map[int]string{}
	byKey := map[config.Key]string{}
	for i, a := range plan.Actions {
		reason := d.reason(a, sigs, desired.Revision)
		if reason == "" {
			continue
		}
		reasons[i] = reason
		if _, seen := byKey[a.Owner]; !seen {
			byKey[a.Owner] = reason
		}
	}
	out := make([]DriftStatus, 0, len(byKey))
	for k, r := range byKey {
		out = append(out, DriftStatus{Namespace: k.Namespace, Kind: k.Kind, Name: k.Name, Reason: r})
	}
	sort.Slice(out, func(i, j int) bool {
		return config.Key{Namespace: out[i].Namespace, Kind: out[i].Kind, Name: out[i].Name}.Less(
			config.Key{Namespace: out[j].Namespace, Kind: out[j].Kind, Name: out[j].Name})
	})
	return reasons, out
}

// reason names the drift an action corrects, or "" when the action carries
// out a change of the source (or a probe's verdict, or housekeeping).
func (d *drift) reason(a planner.Action, sigs map[config.Key]string, revision string) string {
	if a.Cause == planner.CauseOrphan {
		if _, desired := sigs[a.Owner]; !desired && d.revision == revision && revision != "" {
			return DriftUnexpected
		}
		return ""
	}
	sig, desired := sigs[a.Owner]
	if !desired || d.settled[a.Owner] != sig {
		return "" // not yet brought to this desired state: a rollout, not drift
	}
	switch a.Cause {
	case planner.CauseCreate, planner.CauseMissing:
		return DriftRemoved
	case planner.CauseExited:
		return DriftDied
	case planner.CauseStart, planner.CauseScale, planner.CauseTemplate:
		return DriftChanged
	}
	return "" // probes and pruning are the loop's own business
}

// settle records the workloads that the plan found in sync.
func (d *drift) settle(desired *config.Desired, plan planner.Result) {
	if d.settled == nil {
		d.settled = map[config.Key]string{}
	}
	busy := map[config.Key]bool{}
	for _, a := range plan.Actions {
		busy[a.Owner] = true
	}
	complete := map[config.Key]bool{}
	for _, r := range plan.Rollouts {
		complete[r.Key] = r.Complete
	}
	all := len(plan.Actions) == 0
	for i := range desired.Workloads {
		wl := &desired.Workloads[i]
		if !busy[wl.Key] && complete[wl.Key] {
			d.settled[wl.Key] = signature(wl)
		}
	}
	if all {
		d.revision = desired.Revision
	}
}

// heal drops the drift corrections from a plan when self-healing is off,
// and records drift events once per workload and reason.
func (e *Executor) heal(desired *config.Desired, plan planner.Result, now time.Time) (planner.Result, []DriftStatus, map[string]int) {
	reasons, drifting := e.drift.classify(desired, plan)
	corrections := map[string]int{}
	for _, ds := range drifting {
		key := ds.Namespace + "/" + ds.Kind + "/" + ds.Name + "/" + ds.Reason
		if !e.driftSeen[key] {
			e.events.record(now, Warning, "DriftDetected", ds.Namespace+"/"+ds.Kind+"/"+ds.Name, ds.Reason+selfHealNote(e.opt.NoSelfHeal))
		}
	}
	seen := make(map[string]bool, len(drifting))
	for _, ds := range drifting {
		seen[ds.Namespace+"/"+ds.Kind+"/"+ds.Name+"/"+ds.Reason] = true
	}
	e.driftSeen = seen
	if !e.opt.NoSelfHeal {
		for _, r := range reasons {
			corrections[r]++
		}
		return plan, drifting, corrections
	}
	kept := plan
	kept.Actions = nil
	for i, a := range plan.Actions {
		if _, isDrift := reasons[i]; !isDrift {
			kept.Actions = append(kept.Actions, a)
		}
	}
	return kept, drifting, corrections
}

func selfHealNote(off bool) string {
	if off {
		return "; self-heal is off: nothing is changed until the next commit"
	}
	return "; correcting it"
}
