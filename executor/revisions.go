package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/planner"
	"github.com/reconciler/reconciler/runtime"
)

// revisionSet is a Deployment's stored revisions, by template hash.
type revisionSet map[string]runtime.Revision

func (s revisionSet) maxNumber() int64 {
	var n int64
	for _, r := range s {
		n = max(n, r.Number)
	}
	return n
}

// soleMax reports whether exactly one revision has the highest number.
func (s revisionSet) soleMax() bool {
	n, top := 0, s.maxNumber()
	for _, r := range s {
		if r.Number == top {
			n++
		}
	}
	return n == 1
}

// pinFor returns the revision pinned to run instead of hash, if any.
func (s revisionSet) pinFor(hash string) (runtime.Revision, bool) {
	for _, r := range s {
		if r.PinFor == hash {
			return r, true
		}
	}
	return runtime.Revision{}, false
}

// loadRevisions reads the node's revisions grouped by "ns/deployment".
func (e *Executor) loadRevisions(ctx context.Context) (map[string]revisionSet, error) {
	list, err := e.rt.Revisions(ctx, e.opt.Node)
	if err != nil {
		return nil, err
	}
	out := map[string]revisionSet{}
	for _, r := range list {
		k := r.Namespace + "/" + r.Deployment
		if out[k] == nil {
			out[k] = revisionSet{}
		}
		out[k][r.Hash] = r
	}
	return out, nil
}

// applyRevisions records the desired template of every Deployment as its
// newest revision, drops pins that a new desired template overrides, prunes
// old revisions, and returns the desired state to plan with, in which a
// pinned Deployment runs its pinned revision's template.
func (e *Executor) applyRevisions(ctx context.Context, d *config.Desired, obs *runtime.Observed, revs map[string]revisionSet) (*config.Desired, map[string]string, error) {
	pinned := map[string]string{}
	out := *d
	out.Workloads = append([]config.Workload(nil), d.Workloads...)
	running := runningHashes(obs)
	for i := range out.Workloads {
		wl := &out.Workloads[i]
		if wl.Key.Kind != "Deployment" || len(wl.Unhonoured) > 0 {
			continue
		}
		k := wl.Key.Namespace + "/" + wl.Key.Name
		set := revs[k]
		if set == nil {
			set = revisionSet{}
			revs[k] = set
		}
		if err := e.recordRevision(ctx, wl, d.Revision, set); err != nil {
			return nil, nil, err
		}
		if p, ok := set.pinFor(wl.TemplateHash); ok {
			var tmpl corev1.PodTemplateSpec
			if err := json.Unmarshal(p.Template, &tmpl); err == nil {
				wl.Template, wl.TemplateHash = tmpl, p.Hash
				pinned[wl.Key.String()] = fmt.Sprintf("running revision %d (%s) instead of the desired template %s until git changes it", p.Number, p.PinReason, p.PinFor)
			}
		}
		if err := e.pruneRevisions(ctx, wl, set, running[k]); err != nil {
			return nil, nil, err
		}
	}
	return &out, pinned, e.dropUndesired(ctx, d, revs)
}

// recordRevision makes the desired template the newest revision and clears
// pins made for other templates (the next change in git overrides an undo).
func (e *Executor) recordRevision(ctx context.Context, wl *config.Workload, source string, set revisionSet) error {
	for h, r := range set {
		if r.PinFor != "" && r.PinFor != wl.TemplateHash {
			r.PinFor, r.PinReason = "", ""
			if err := e.rt.PutRevision(ctx, r); err != nil {
				return err
			}
			set[h] = r
		}
	}
	cur, ok := set[wl.TemplateHash]
	if ok && cur.Number == set.maxNumber() && set.soleMax() {
		return nil
	}
	tmpl, err := json.Marshal(wl.Template)
	if err != nil {
		return fmt.Errorf("executor: encode template of %s: %w", wl.Key, err)
	}
	rev := runtime.Revision{Namespace: wl.Key.Namespace, Deployment: wl.Key.Name, Node: e.opt.Node,
		Number: set.maxNumber() + 1, Hash: wl.TemplateHash, Template: tmpl, Source: source,
		Complete: cur.Complete, Created: e.opt.Now()}
	if err := e.rt.PutRevision(ctx, rev); err != nil {
		return err
	}
	set[wl.TemplateHash] = rev
	return nil
}

// pruneRevisions keeps revisionHistoryLimit old revisions besides the
// desired one, never deleting a pinned revision or one whose pods still run.
func (e *Executor) pruneRevisions(ctx context.Context, wl *config.Workload, set revisionSet, running map[string]bool) error {
	var old []runtime.Revision
	for h, r := range set {
		if h != wl.TemplateHash && r.PinFor == "" && !running[h] {
			old = append(old, r)
		}
	}
	sort.Slice(old, func(i, j int) bool { return old[i].Number > old[j].Number })
	for _, r := range old[min(len(old), int(wl.RevisionHistoryLimit)):] {
		if err := e.rt.DeleteRevision(ctx, r); err != nil {
			return err
		}
		delete(set, r.Hash)
	}
	return nil
}

// dropUndesired deletes the revisions of Deployments no longer desired.
func (e *Executor) dropUndesired(ctx context.Context, d *config.Desired, revs map[string]revisionSet) error {
	want := map[string]bool{}
	for _, wl := range d.Workloads {
		if wl.Key.Kind == "Deployment" {
			want[wl.Key.Namespace+"/"+wl.Key.Name] = true
		}
	}
	for k, set := range revs {
		if want[k] {
			continue
		}
		for _, r := range set {
			if err := e.rt.DeleteRevision(ctx, r); err != nil {
				return err
			}
		}
		delete(revs, k)
	}
	return nil
}

// runningHashes lists, per "ns/deployment", the template hashes that have pods.
func runningHashes(obs *runtime.Observed) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, p := range obs.Pods {
		if p.Owner.Kind != "Deployment" {
			continue
		}
		k := p.Namespace + "/" + p.Owner.Name
		if out[k] == nil {
			out[k] = map[string]bool{}
		}
		out[k][p.TemplateHash] = true
	}
	return out
}

// afterPlan marks fully rolled-out revisions complete and, for Deployments
// that opted in, reverts a rollout that missed its progress deadline to the
// last complete revision. Pinned Deployments are not reverted again.
func (e *Executor) afterPlan(ctx context.Context, d *config.Desired, plan planner.Result, revs map[string]revisionSet, pinned map[string]string, now time.Time) error {
	byKey := make(map[config.Key]*config.Workload, len(d.Workloads))
	for i := range d.Workloads {
		byKey[d.Workloads[i].Key] = &d.Workloads[i]
	}
	for _, st := range plan.Rollouts {
		wl := byKey[st.Key]
		set := revs[st.Key.Namespace+"/"+st.Key.Name]
		if wl == nil || wl.Key.Kind != "Deployment" || set == nil {
			continue
		}
		if r, ok := set[wl.TemplateHash]; ok && st.Complete && !r.Complete {
			r.Complete = true
			if err := e.rt.PutRevision(ctx, r); err != nil {
				return err
			}
			set[r.Hash] = r
		}
		if _, isPinned := pinned[st.Key.String()]; st.DeadlineExceeded && !isPinned && (wl.AutoRevert || e.opt.AutoRevert) {
			if err := e.autoRevert(ctx, wl, set, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// autoRevert pins the newest complete revision to run instead of the
// failed template, unless a pin is already in place.
func (e *Executor) autoRevert(ctx context.Context, wl *config.Workload, set revisionSet, now time.Time) error {
	if _, ok := set.pinFor(wl.TemplateHash); ok {
		return nil
	}
	var target runtime.Revision
	for h, r := range set {
		if h != wl.TemplateHash && r.Complete && r.Number > target.Number {
			target = r
		}
	}
	if target.Hash == "" {
		e.events.record(now, Warning, "AutoRevertImpossible", wl.Key.String(), "progress deadline exceeded and no earlier revision was ever fully available")
		return nil
	}
	target.PinFor, target.PinReason = wl.TemplateHash, "auto-revert"
	if err := e.rt.PutRevision(ctx, target); err != nil {
		return err
	}
	set[target.Hash] = target
	e.events.record(now, Warning, "AutoReverted", wl.Key.String(), fmt.Sprintf(
		"template %s missed its progress deadline; reverted to revision %d, which it stays on until git changes the template", wl.TemplateHash, target.Number))
	return nil
}
