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
// restart policy want, and prunes old runs (keeping the last one for logs).
func planContainers(r *Result, wl *config.Workload, p *runtime.Pod, now time.Time) {
	spec := &wl.Template.Spec
	want := make(map[string]bool, len(spec.Containers))
	for _, c := range spec.Containers {
		want[c.Name] = true
		planContainer(r, wl, p, c.Name, restartPolicy(spec), now)
	}
	for _, c := range p.Containers {
		cur := p.Current(c.Name)
		switch {
		case !want[c.Name]:
			r.Actions = append(r.Actions, containerAction(RemoveContainer, wl, p, c, "container not in pod spec", CauseOrphan))
		case c.ID != cur.ID && c.RestartCount < cur.RestartCount-1 && c.State == runtime.StateExited:
			r.Actions = append(r.Actions, containerAction(RemoveContainer, wl, p, c, "pruning old run", CausePrune))
		}
	}
}

func planContainer(r *Result, wl *config.Workload, p *runtime.Pod, name string, policy corev1.RestartPolicy, now time.Time) {
	cur := p.Current(name)
	switch {
	case cur == nil:
		r.Actions = append(r.Actions, Action{
			Type: CreateContainer, Namespace: p.Namespace, Pod: p.Name, Owner: wl.Key,
			PodID: p.ID, Workload: wl, Container: name, Reason: "container missing", Cause: CauseMissing,
		})
	case cur.State == runtime.StateCreated:
		r.Actions = append(r.Actions, containerAction(StartContainer, wl, p, *cur, "container created but not started", CauseStart))
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
			Reason: fmt.Sprintf("restarting: exited with code %d (restartPolicy %s)", cur.ExitCode, policy),
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
