package planner

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// Restart back-off, as the kubelet's CrashLoopBackOff: the first restart is
// immediate, then 10 s doubling to 5 min; a run of 10 min resets it.
const (
	backoffBase  = 10 * time.Second
	backoffCap   = 5 * time.Minute
	backoffReset = 10 * time.Minute
)

// RestartDelay is how long after a container's run number restarts ended
// (0-based: the first run has restarts 0) the next run may start, given how
// long that run lasted.
func RestartDelay(restarts int, ran time.Duration) time.Duration {
	if restarts <= 0 || ran >= backoffReset {
		return 0
	}
	d := backoffBase
	for i := 1; i < restarts && d < backoffCap; i++ {
		d *= 2
	}
	return min(d, backoffCap)
}

// ShouldRestart applies a pod's restartPolicy to a container that exited.
func ShouldRestart(policy corev1.RestartPolicy, exitCode int32) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return exitCode != 0
	default:
		return true
	}
}

// planContainers keeps the containers of an up-to-date pod as its spec and
// restart policy want: first its init containers, one at a time, each to
// success; then its app containers. It prunes old runs (keeping the last
// one for logs).
func planContainers(r *Result, wl *config.Workload, p *runtime.Pod, now time.Time) {
	spec := &wl.Template.Spec
	want := make(map[string]bool, len(spec.InitContainers)+len(spec.Containers))
	for _, c := range spec.InitContainers {
		want[c.Name] = true
	}
	for _, c := range spec.Containers {
		want[c.Name] = true
	}
	if planInit(r, wl, p, now) {
		for _, c := range spec.Containers {
			planContainer(r, wl, p, c.Name, p.Current(c.Name), restartPolicy(spec), false, now)
		}
	}
	prune(r, wl, p, p.Containers, p.Current, want)
	prune(r, wl, p, p.InitContainers, p.CurrentInit, want)
}

// planInit runs the pod's init containers in order, the next one only once
// the one before exited 0, and reports whether they have all succeeded. A
// failed init container is run again under the pod's restart policy
// (Always counts as OnFailure, as for the kubelet); under Never the pod
// has failed and its app containers never start. Once an app container
// exists the init containers are done: the kubelet never runs them again
// in the same pod.
func planInit(r *Result, wl *config.Workload, p *runtime.Pod, now time.Time) bool {
	spec := &wl.Template.Spec
	if len(spec.InitContainers) == 0 || len(p.Containers) > 0 {
		return true
	}
	policy := restartPolicy(spec)
	if policy == corev1.RestartPolicyAlways {
		policy = corev1.RestartPolicyOnFailure
	}
	for _, c := range spec.InitContainers {
		cur := p.CurrentInit(c.Name)
		if cur != nil && cur.State == runtime.StateExited && cur.ExitCode == 0 {
			continue
		}
		planContainer(r, wl, p, c.Name, cur, policy, true, now)
		return false
	}
	return true
}

// InitFailed reports whether a pod's init container failed for good: it
// exited non-zero under restartPolicy Never.
func InitFailed(p *runtime.Pod, spec *corev1.PodSpec) bool {
	if restartPolicy(spec) != corev1.RestartPolicyNever || len(p.Containers) > 0 {
		return false
	}
	for _, c := range spec.InitContainers {
		if cur := p.CurrentInit(c.Name); cur != nil && cur.State == runtime.StateExited && cur.ExitCode != 0 {
			return true
		}
	}
	return false
}

// prune removes runs of containers the spec no longer has, and runs older
// than the one before the current.
func prune(r *Result, wl *config.Workload, p *runtime.Pod, runs []runtime.Container, current func(string) *runtime.Container, want map[string]bool) {
	for _, c := range runs {
		cur := current(c.Name)
		switch {
		case !want[c.Name]:
			r.Actions = append(r.Actions, containerAction(RemoveContainer, wl, p, c, "container not in pod spec", CauseOrphan))
		case c.ID != cur.ID && c.RestartCount < cur.RestartCount-1 && c.State == runtime.StateExited:
			r.Actions = append(r.Actions, containerAction(RemoveContainer, wl, p, c, "pruning old run", CausePrune))
		}
	}
}

// planContainer keeps one container (cur is its newest run, or nil) as the
// restart policy wants.
func planContainer(r *Result, wl *config.Workload, p *runtime.Pod, name string, cur *runtime.Container, policy corev1.RestartPolicy, init bool, now time.Time) {
	kind, restarting := "container", "restarting"
	if init {
		kind, restarting = "init container", "restarting init container"
	}
	switch {
	case cur == nil:
		r.Actions = append(r.Actions, Action{
			Type: CreateContainer, Namespace: p.Namespace, Pod: p.Name, Owner: wl.Key,
			PodID: p.ID, Workload: wl, Container: name, Reason: kind + " missing", Cause: CauseMissing,
		})
	case cur.State == runtime.StateCreated:
		r.Actions = append(r.Actions, containerAction(StartContainer, wl, p, *cur, kind+" created but not started", CauseStart))
	case cur.State == runtime.StateRunning && cur.Unhealthy != "":
		a := containerAction(StopContainer, wl, p, *cur, cur.Unhealthy+"; killing the container", CauseUnhealthy)
		a.Grace = p.GracePeriod
		r.Actions = append(r.Actions, a)
	case cur.State == runtime.StateExited && ShouldRestart(policy, cur.ExitCode):
		due := cur.FinishedAt.Add(RestartDelay(cur.RestartCount, cur.FinishedAt.Sub(cur.StartedAt)))
		if now.Before(due) {
			requeueAt(r, due)
			return
		}
		r.Actions = append(r.Actions, Action{
			Type: CreateContainer, Namespace: p.Namespace, Pod: p.Name, Owner: wl.Key,
			PodID: p.ID, Workload: wl, Container: name, RestartCount: cur.RestartCount + 1,
			Reason: fmt.Sprintf("%s: exited with code %d (restartPolicy %s)", restarting, cur.ExitCode, policy),
			Cause:  CauseExited,
		})
	}
}

func containerAction(t ActionType, wl *config.Workload, p *runtime.Pod, c runtime.Container, reason string, cause Cause) Action {
	return Action{
		Type: t, Namespace: p.Namespace, Pod: p.Name, Owner: wl.Key, PodID: p.ID,
		ContainerID: c.ID, Container: c.Name, RestartCount: c.RestartCount, Reason: reason, Cause: cause,
	}
}
