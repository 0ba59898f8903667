package planner

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// Result is a plan: the next actions, the workloads left alone and why, and
// when to look again if nothing else changes.
type Result struct {
	Actions []Action
	// Skipped lists workloads this build does not run (they are not touched).
	Skipped []Skip
	// Requeue is the earliest time a waiting step becomes due (a restart
	// back-off ending); zero when nothing is waiting.
	Requeue time.Time
	// Rollouts holds the status of every workload that was planned, in
	// desired order.
	Rollouts []RolloutStatus
	// Jobs and CronJobs are the status of every Job (of the source, and
	// those CronJobs created) and CronJob, sorted by namespace and name.
	Jobs     []JobStatus
	CronJobs []CronJobStatus
	// Notes are findings that call for no action (a CronJob slot skipped or
	// missed), for the executor to record once each as an event.
	Notes []Note
}

// Skip is a workload the planner leaves alone, with the reason.
type Skip struct {
	Key    config.Key
	Reason string
}

// Plan computes the next safe step from desired to observed at now. A nil
// desired state plans nothing: the caller has no good desired state yet, and
// an empty plan never removes what runs.
func Plan(desired *config.Desired, observed *runtime.Observed, now time.Time) Result {
	var r Result
	if desired == nil || observed == nil {
		return r
	}
	owned := indexByOwner(observed)
	for i := range desired.Workloads {
		wl := &desired.Workloads[i]
		pods := owned[wl.Key]
		delete(owned, wl.Key)
		if len(wl.Unhonoured) > 0 {
			r.Skipped = append(r.Skipped, Skip{Key: wl.Key, Reason: wl.Unhonoured[0]})
			continue
		}
		st := rolloutStatus(wl, pods, now)
		r.Rollouts = append(r.Rollouts, st)
		deadlineRequeue(&r, wl, st)
		if isRolling(wl) {
			planRollingUpdate(&r, wl, pods, now)
		} else {
			planWorkload(&r, wl, pods, now)
		}
	}
	planJobs(&r, desired, observed, owned, now)
	for key, pods := range owned {
		for _, p := range pods {
			if !p.Terminating {
				r.Actions = append(r.Actions, removePod(key, p, "no longer desired", CauseOrphan))
			}
		}
	}
	sortActions(r.Actions)
	return r
}

// indexByOwner groups observed pods by the key of the object that owns them.
func indexByOwner(o *runtime.Observed) map[config.Key][]*runtime.Pod {
	m := make(map[config.Key][]*runtime.Pod)
	for i := range o.Pods {
		p := &o.Pods[i]
		k := config.Key{Namespace: p.Namespace, Kind: p.Owner.Kind, Name: p.Owner.Name}
		m[k] = append(m[k], p)
	}
	return m
}

// isRolling reports whether a workload is updated with RollingUpdate (a
// Deployment whose strategy says so, the default); Pods, ReplicationControllers
// and Recreate Deployments are replaced all at once.
func isRolling(wl *config.Workload) bool {
	return wl.Key.Kind == "Deployment" && wl.Strategy.Type != appsv1.RecreateDeploymentStrategyType
}

// planWorkload plans one Recreate workload: replace out-of-date pods, scale to the
// desired count, and keep the containers of current pods running. Pods
// being stopped are not counted; new pods wait until every out-of-date pod
// (and, for a plain Pod, whose name is fixed, any pod) is gone.
func planWorkload(r *Result, wl *config.Workload, pods []*runtime.Pod, now time.Time) {
	var current, old []*runtime.Pod
	blocked := false
	for _, p := range pods {
		switch {
		case p.Terminating:
			blocked = blocked || p.TemplateHash != wl.TemplateHash || wl.Key.Kind == "Pod"
		case p.TemplateHash == wl.TemplateHash:
			current = append(current, p)
		default:
			old = append(old, p)
		}
	}
	if len(old) > 0 {
		// Recreate: every out-of-date pod goes first; new pods are created
		// on a later pass, once none is left.
		for _, p := range old {
			r.Actions = append(r.Actions, removePod(wl.Key, p, "pod template changed", CauseTemplate))
		}
		return
	}
	want := int(wl.Replicas)
	switch {
	case len(current) < want && blocked:
		// wait for the pods being stopped
	case len(current) < want:
		for _, name := range newPodNames(wl, pods, want-len(current)) {
			r.Actions = append(r.Actions, Action{
				Type: CreatePod, Namespace: wl.Key.Namespace, Pod: name,
				Owner: wl.Key, Workload: wl, Reason: createReason(wl, len(current), want), Cause: CauseCreate,
			})
		}
	case len(current) > want:
		victims := scaleDownOrder(current)[:len(current)-want]
		for _, p := range victims {
			r.Actions = append(r.Actions, removePod(wl.Key, p, "scaled down", CauseScale))
		}
		current = keepOthers(current, victims)
	}
	for _, p := range current {
		planContainers(r, wl, p, now)
	}
}

func createReason(wl *config.Workload, have, want int) string {
	if wl.Key.Kind == "Pod" {
		return "pod missing"
	}
	if have == 0 {
		return "creating replicas"
	}
	return "scaled up"
}

func removePod(owner config.Key, p *runtime.Pod, reason string, cause Cause) Action {
	return Action{
		Type: RemovePod, Namespace: p.Namespace, Pod: p.Name,
		Owner: owner, PodID: p.ID, Grace: p.GracePeriod, Reason: reason, Cause: cause,
	}
}

// scaleDownOrder ranks pods for removal as a ReplicaSet does: pods not
// running before running ones, then newer before older, then by name.
func scaleDownOrder(pods []*runtime.Pod) []*runtime.Pod {
	out := append([]*runtime.Pod(nil), pods...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := podRunning(out[i]), podRunning(out[j])
		if ri != rj {
			return !ri
		}
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// podRunning reports whether every current container of the pod runs.
func podRunning(p *runtime.Pod) bool {
	if len(p.Containers) == 0 {
		return false
	}
	for _, c := range p.Containers {
		if cur := p.Current(c.Name); cur != nil && cur.State != runtime.StateRunning {
			return false
		}
	}
	return true
}

func keepOthers(all, drop []*runtime.Pod) []*runtime.Pod {
	gone := make(map[*runtime.Pod]bool, len(drop))
	for _, p := range drop {
		gone[p] = true
	}
	var out []*runtime.Pod
	for _, p := range all {
		if !gone[p] {
			out = append(out, p)
		}
	}
	return out
}

// sortActions orders a plan by phase, then by pod and container, so map
// iteration order never shows.
func sortActions(a []Action) {
	sort.SliceStable(a, func(i, j int) bool {
		x, y := a[i], a[j]
		if x.Type != y.Type {
			return x.Type < y.Type
		}
		if x.Namespace != y.Namespace {
			return x.Namespace < y.Namespace
		}
		if x.Pod != y.Pod {
			return x.Pod < y.Pod
		}
		if x.Container != y.Container {
			return x.Container < y.Container
		}
		return x.ContainerID < y.ContainerID
	})
}

// restartPolicy returns the template's policy with the Kubernetes default.
func restartPolicy(spec *corev1.PodSpec) corev1.RestartPolicy {
	if spec.RestartPolicy == "" {
		return corev1.RestartPolicyAlways
	}
	return spec.RestartPolicy
}
