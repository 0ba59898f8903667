package executor

import (
	"strings"
	"time"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/planner"
	"github.com/reconciler/reconciler/runtime"
)

// Status is the loop's report: what it applies, whether the engine and the
// source are healthy, and why pods wait.
type Status struct {
	Node     string `json:"node"`
	Revision string `json:"revision"`
	// RevisionTime is when the loop started applying Revision.
	RevisionTime time.Time `json:"revisionTime"`
	SourceError  string    `json:"sourceError,omitempty"`
	EngineUp     bool      `json:"engineUp"`
	EngineError  string    `json:"engineError,omitempty"`
	LastSync     time.Time `json:"lastSync"`
	// Pods holds, by "namespace/name", pods that are not simply running.
	Pods map[string]PodStatus `json:"pods"`
	// Quotas are the ResourceQuotas with the usage of the node's pods.
	Quotas []QuotaStatus `json:"quotas,omitempty"`
	// Claims are the PersistentVolumeClaims' bindings, by "namespace/name".
	Claims map[string]config.ClaimBinding `json:"claims,omitempty"`
	// Readiness holds, by "namespace/name", every pod's ready containers
	// as the probes see them.
	Readiness map[string]Readiness `json:"readiness"`
	// Skipped lists workloads this build does not run, with the reason.
	Skipped []SkippedObject `json:"skipped,omitempty"`
	// Workloads are the desired workloads of the applied revision.
	Workloads []WorkloadStatus `json:"workloads"`
	// Drift lists the workloads that differ from a desired state they had
	// reached, without a change in the source.
	Drift []DriftStatus `json:"drift,omitempty"`
	// Jobs and CronJobs are the Jobs (of the source, and those CronJobs
	// created) and CronJobs as of the last pass, sorted by namespace and name.
	Jobs     []planner.JobStatus     `json:"jobs,omitempty"`
	CronJobs []planner.CronJobStatus `json:"cronJobs,omitempty"`
	// Endpoints are the Services with their ready endpoints as the proxy
	// serves them; ServiceError is the last error of the Services' data
	// plane (a port that could not be bound, ...), empty when all is well.
	Endpoints    []EndpointsStatus `json:"endpoints,omitempty"`
	ServiceError string            `json:"serviceError,omitempty"`
	// DriftCorrections counts, by reason, the corrections applied since
	// the daemon started.
	DriftCorrections map[string]int `json:"driftCorrections,omitempty"`
	// Unplaced lists, in a fleet, the workloads, Jobs and CronJobs with
	// replicas that run on no node (Pending or NodeLost), sorted by key.
	Unplaced []planner.Unplaced `json:"unplaced,omitempty"`
	// Handover lists, in a fleet, the workloads this node runs more
	// replicas of than its share, until the nodes taking them over have
	// them available (a rejoin, a drain).
	Handover []string `json:"handover,omitempty"`
	// Cordoned is set once a pass placed with this node cordoned.
	Cordoned bool `json:"cordoned,omitempty"`
	// Movable counts, in a fleet, this node's pods that placement may move
	// elsewhere (not stateful, not pinned here): 0 once a drain is done.
	Movable int `json:"movable"`
	// PlacementChanges counts the passes whose share of the fleet differed
	// from the last one's, and NodesLost the members this node saw turn
	// NotReady, since the daemon started.
	PlacementChanges int `json:"placementChanges,omitempty"`
	NodesLost        int `json:"nodesLost,omitempty"`
	// Paused is true while applying is paused through the API.
	Paused bool `json:"paused,omitempty"`
	// Pending lists what the last plan wanted to do (empty when in sync).
	Pending []string `json:"pending,omitempty"`
	// InSync is true when the last plan had nothing to do.
	InSync bool `json:"inSync"`
}

// PodStatus is why a pod is not running as desired.
type PodStatus struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Readiness counts a pod's ready containers; Unhealthy is the last
// liveness or startup failure that will restart a container.
type Readiness struct {
	Ready     int    `json:"ready"`
	Total     int    `json:"total"`
	Unhealthy string `json:"unhealthy,omitempty"`
}

// readinessOf counts ready containers, from the observation after probes.
func readinessOf(obs *runtime.Observed) map[string]Readiness {
	out := make(map[string]Readiness, len(obs.Pods))
	for i := range obs.Pods {
		p := &obs.Pods[i]
		var r Readiness
		for j := range p.Containers {
			c := &p.Containers[j]
			if p.Current(c.Name) != c {
				continue
			}
			r.Total++
			if c.State == runtime.StateRunning && c.Ready {
				r.Ready++
			}
			if c.Unhealthy != "" {
				r.Unhealthy = c.Unhealthy
			}
		}
		out[p.Namespace+"/"+p.Name] = r
	}
	return out
}

// SkippedObject is a desired object the loop leaves alone.
type SkippedObject struct {
	Object string `json:"object"`
	Reason string `json:"reason"`
}

// Status returns a copy of the current status.
func (e *Executor) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.status
	s.Pods = make(map[string]PodStatus, len(e.status.Pods))
	for k, v := range e.status.Pods {
		s.Pods[k] = v
	}
	s.Skipped = append([]SkippedObject(nil), e.status.Skipped...)
	s.Pending = append([]string(nil), e.status.Pending...)
	s.Drift = append([]DriftStatus(nil), e.status.Drift...)
	s.DriftCorrections = make(map[string]int, len(e.status.DriftCorrections))
	for k, v := range e.status.DriftCorrections {
		s.DriftCorrections[k] = v
	}
	s.Workloads = append([]WorkloadStatus(nil), e.status.Workloads...)
	s.Jobs = append([]planner.JobStatus(nil), e.status.Jobs...)
	s.CronJobs = append([]planner.CronJobStatus(nil), e.status.CronJobs...)
	s.Unplaced = append([]planner.Unplaced(nil), e.status.Unplaced...)
	s.Handover = append([]string(nil), e.status.Handover...)
	s.Readiness = make(map[string]Readiness, len(e.status.Readiness))
	for k, v := range e.status.Readiness {
		s.Readiness[k] = v
	}
	return s
}

// Events returns the recent events, oldest first.
func (e *Executor) Events() []Event { return e.events.list() }

func (e *Executor) setStatus(f func(*Status)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f(&e.status)
}

// noteWaiting records a waiting reason as an event when it first appears or
// changes for a pod.
func (e *Executor) noteWaiting(a planner.Action, w *ErrWaiting) {
	key := a.Namespace + "/" + a.Pod
	e.mu.Lock()
	prev, seen := e.status.Pods[key]
	e.mu.Unlock()
	if seen && prev.Reason == w.Reason {
		return
	}
	typ := Warning
	if w.Reason == ReasonContainerCreating {
		typ = Normal
	}
	e.events.record(e.opt.Now(), typ, w.Reason, objectOf(a), w.Error())
}

// setWaiting replaces the waiting reasons with those of the last apply.
func (e *Executor) setWaiting(m map[string]string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	pods := make(map[string]PodStatus, len(m))
	for k, msg := range m {
		reason := msg
		if w := waitingReason(msg); w != "" {
			reason = w
		}
		pods[k] = PodStatus{Reason: reason, Message: msg}
	}
	e.status.Pods = pods
}

// waitingReason extracts the reason prefix of an ErrWaiting message.
func waitingReason(msg string) string {
	for _, r := range []string{ReasonErrImagePull, ReasonImagePullBackOff, ReasonErrImageNeverPull, ReasonContainerCreating,
		ReasonCreateContainerConfigError, ReasonPending, ReasonFailedCreate} {
		if len(msg) >= len(r) && msg[:len(r)] == r {
			return r
		}
	}
	return ""
}

func (e *Executor) updateStatus(obs *runtime.Observed, plan planner.Result, pinned map[string]string, now time.Time) {
	skipped := make([]SkippedObject, 0, len(plan.Skipped)+len(e.objectSkips))
	skipped = append(skipped, e.objectSkips...)
	for _, s := range plan.Skipped {
		skipped = append(skipped, SkippedObject{Object: s.Key.String(), Reason: s.Reason})
	}
	if len(plan.Skipped) > 0 && !e.skipsLogged[e.desired.Revision] {
		for _, s := range plan.Skipped {
			e.events.record(now, Normal, "Skipped", s.Key.String(), s.Reason)
		}
		e.skipsLogged = map[string]bool{e.desired.Revision: true}
	}
	wls := e.workloadStatuses(plan, pinned, now)
	e.recordNotes(plan.Notes, now)
	ready := readinessOf(obs)
	pending := make([]string, 0, len(plan.Actions))
	for _, a := range plan.Actions {
		pending = append(pending, a.String())
	}
	quotas := e.quotaStatus(obs)
	var claims map[string]config.ClaimBinding
	if e.data != nil {
		claims = e.data.claims
	}
	e.setStatus(func(s *Status) {
		e.pods = obs.Pods
		s.Pending = pending
		s.Workloads = wls
		s.Jobs, s.CronJobs = plan.Jobs, plan.CronJobs
		s.Readiness = ready
		s.Quotas = quotas
		s.Claims = claims
		s.LastSync = now
		s.Skipped = skipped
		s.InSync = len(plan.Actions) == 0 && len(s.Drift) == 0
	})
}

// WorkloadStatus is a desired workload and its rollout as of the last pass.
type WorkloadStatus struct {
	Namespace    string `json:"namespace"`
	Kind         string `json:"kind"`
	Name         string `json:"name"`
	TemplateHash string `json:"templateHash"`
	// Pinned says which stored revision runs instead of the desired
	// template, after an undo or an automatic revert.
	Pinned string `json:"pinned,omitempty"`
	// Failed is set when the desired template failed and was reverted.
	Failed string `json:"failed,omitempty"`
	planner.RolloutStatus
}

// workloadStatuses pairs the desired workloads with the plan's rollout
// statuses and records an event when a rollout completes or passes its
// progress deadline.
func (e *Executor) workloadStatuses(plan planner.Result, pinned map[string]string, now time.Time) []WorkloadStatus {
	if e.desired == nil {
		return nil
	}
	byKey := make(map[string]planner.RolloutStatus, len(plan.Rollouts))
	for _, r := range plan.Rollouts {
		byKey[r.Key.String()] = r
	}
	out := make([]WorkloadStatus, 0, len(e.desired.Workloads))
	seen := make(map[string]string, len(e.desired.Workloads))
	for _, w := range e.desired.Workloads {
		k := w.Key.String()
		rs, ok := byKey[k]
		if !ok {
			msg := "not run by this build"
			if len(w.Unhonoured) > 0 {
				msg = "not run: " + w.Unhonoured[0]
			}
			rs = planner.RolloutStatus{Replicas: w.Replicas, Message: msg}
		}
		ws := WorkloadStatus{Namespace: w.Key.Namespace, Kind: w.Key.Kind, Name: w.Key.Name,
			TemplateHash: w.TemplateHash, RolloutStatus: rs, Pinned: pinned[k]}
		if strings.Contains(ws.Pinned, "(auto-revert)") {
			ws.Failed = "ProgressDeadlineExceeded: automatically reverted; " + ws.Pinned
		}
		out = append(out, ws)
		seen[k] = e.noteRollout(k, w.TemplateHash, rs, now)
	}
	e.rolloutState = seen
	return out
}

// noteRollout records rollout transitions as events, once per template.
func (e *Executor) noteRollout(key, hash string, rs planner.RolloutStatus, now time.Time) string {
	state := hash + "/progressing"
	switch {
	case rs.DeadlineExceeded:
		state = hash + "/failed"
	case rs.Complete:
		state = hash + "/complete"
	}
	if e.rolloutStart == nil {
		e.rolloutStart = map[string]time.Time{}
	}
	if state == hash+"/progressing" {
		if _, ok := e.rolloutStart[key+"/"+hash]; !ok {
			e.rolloutStart[key+"/"+hash] = now
		}
	}
	if prev, ok := e.rolloutState[key]; ok && prev != state {
		switch {
		case rs.DeadlineExceeded:
			e.events.record(now, Warning, "ProgressDeadlineExceeded", key, rs.Message)
		case rs.Complete:
			e.events.record(now, Normal, "RolloutComplete", key, "successfully rolled out")
			if start, ok := e.rolloutStart[key+"/"+hash]; ok {
				e.opt.Observer.RolloutDone(now.Sub(start))
				delete(e.rolloutStart, key+"/"+hash)
			}
		}
	}
	return state
}

// countCorrections adds applied drift corrections to the status counters.
func (e *Executor) countCorrections(c map[string]int) {
	if len(c) == 0 {
		return
	}
	e.setStatus(func(s *Status) {
		if s.DriftCorrections == nil {
			s.DriftCorrections = map[string]int{}
		}
		for k, v := range c {
			s.DriftCorrections[k] += v
		}
	})
}
