package planner

import (
	"fmt"
	"maps"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// workload is the Job as the pod-creating code knows workloads: its pod
// template with the labels Kubernetes gives a Job's pods (job-name and
// batch.kubernetes.io/job-name).
func (j *jobRun) workload() *config.Workload {
	if j.wl != nil {
		return j.wl
	}
	t := *j.spec.Template.DeepCopy()
	t.Labels = maps.Clone(t.Labels)
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	t.Labels["job-name"] = j.key.Name
	t.Labels["batch.kubernetes.io/job-name"] = j.key.Name
	j.wl = &config.Workload{Key: j.key, Replicas: derefInt32(j.spec.Parallelism, 1), Template: t,
		TemplateHash: j.hash, Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}}
	return j.wl
}

// jobPodNames returns n new pod names "<job>-<suffix>", as Kubernetes'
// generateName makes them, with suffixes derived from the Job's identity
// and the attempt number, so no name repeats within the Job.
func jobPodNames(j *jobRun, n int) []string {
	base := j.key.Name
	if len(base) > maxBase {
		base = base[:maxBase]
	}
	seed := j.key.Name
	if j.rec != nil {
		seed += "/" + fmt.Sprint(j.rec.Created.UnixNano())
	}
	used := make(map[string]bool, len(j.pods))
	for _, p := range j.pods {
		used[p.Name] = true
	}
	out := make([]string, 0, n)
	for i := len(j.pods); len(out) < n; i++ {
		name := base + "-" + suffix(seed, i)
		if !used[name] {
			used[name] = true
			out = append(out, name)
		}
	}
	return out
}

// podOutcome is what a Job's pod came to.
type podOutcome int

const (
	outcomeActive podOutcome = iota
	outcomeSucceeded
	outcomeFailed
)

// podOutcomeOf classifies a Job's pod: succeeded when every container's
// current run exited 0; with restartPolicy Never, failed when every
// container exited and one did not exit 0; active otherwise (OnFailure
// restarts a failed container in the same pod).
func podOutcomeOf(p *runtime.Pod, spec *corev1.PodSpec) podOutcome {
	if len(spec.Containers) == 0 {
		return outcomeActive
	}
	if InitFailed(p, spec) {
		return outcomeFailed
	}
	allExited, failed := true, false
	for _, c := range spec.Containers {
		cur := p.Current(c.Name)
		if cur == nil || cur.State != runtime.StateExited {
			allExited = false
			continue
		}
		failed = failed || cur.ExitCode != 0
	}
	switch {
	case !allExited:
		return outcomeActive
	case !failed:
		return outcomeSucceeded
	case restartPolicy(spec) == corev1.RestartPolicyNever:
		return outcomeFailed
	}
	return outcomeActive
}

// failedRuns counts the failed runs of an OnFailure pod: each restart
// followed a failure, and a current run that exited non-zero failed too.
func failedRuns(p *runtime.Pod, spec *corev1.PodSpec) int32 {
	var n int32
	count := func(cur *runtime.Container) {
		if cur != nil {
			n += int32(cur.RestartCount)
			if cur.State == runtime.StateExited && cur.ExitCode != 0 {
				n++
			}
		}
	}
	for _, c := range spec.InitContainers {
		count(p.CurrentInit(c.Name))
	}
	for _, c := range spec.Containers {
		count(p.Current(c.Name))
	}
	return n
}

// podFinished is when a finished pod's last container exited.
func podFinished(p *runtime.Pod) time.Time {
	var t time.Time
	for i := range p.Containers {
		if c := &p.Containers[i]; p.Current(c.Name) == c && c.FinishedAt.After(t) {
			t = c.FinishedAt
		}
	}
	for i := range p.InitContainers { // a pod whose init container failed
		if c := &p.InitContainers[i]; p.CurrentInit(c.Name) == c && c.FinishedAt.After(t) {
			t = c.FinishedAt
		}
	}
	return t
}

// jobCensus counts a Job's pods.
type jobCensus struct {
	active      []*runtime.Pod // not finished, not being removed
	terminating int            // not finished, being removed
	succeeded   int32
	failed      int32
	// failuresSinceSuccess counts pods that failed after the last pod that
	// succeeded; lastFailure is when the newest failed: the back-off runs
	// from there.
	failuresSinceSuccess int
	lastFailure          time.Time
	names                []string
}

// census counts the pods of j. Counts never go below the record's: a pod
// removed after it was counted still counts.
func (j *jobRun) census(now time.Time) jobCensus {
	var c jobCensus
	if j.spec == nil {
		return c
	}
	spec := &j.spec.Template.Spec
	var lastSuccess time.Time
	var failedAt []time.Time
	for _, p := range oldestFirst(j.pods) {
		c.names = append(c.names, p.Name)
		if restartPolicy(spec) != corev1.RestartPolicyNever {
			c.failed += failedRuns(p, spec)
		}
		switch podOutcomeOf(p, spec) {
		case outcomeSucceeded:
			c.succeeded++
			lastSuccess = latest(lastSuccess, podFinished(p))
		case outcomeFailed:
			c.failed++
			failedAt = append(failedAt, podFinished(p))
		default:
			if p.Terminating {
				c.terminating++
			} else {
				c.active = append(c.active, p)
			}
		}
	}
	for _, t := range failedAt {
		if t.After(lastSuccess) {
			c.failuresSinceSuccess++
			c.lastFailure = latest(c.lastFailure, t)
		}
	}
	if j.rec != nil {
		c.succeeded = max(c.succeeded, j.rec.Succeeded)
		c.failed = max(c.failed, j.rec.Failed)
	}
	return c
}

// status renders the census as the Job's status.
func (c jobCensus) status(j *jobRun) JobStatus {
	st := JobStatus{Namespace: j.key.Namespace, Name: j.key.Name, TemplateHash: j.hash, Labels: j.labels,
		Active: int32(len(c.active) + c.terminating), Succeeded: c.succeeded, Failed: c.failed, Pods: c.names,
		Status: "Running"}
	if j.spec != nil {
		st.Completions, st.Parallelism = j.spec.Completions, derefInt32(j.spec.Parallelism, 1)
		st.BackoffLimit = derefInt32(j.spec.BackoffLimit, 6)
	}
	rec := j.rec
	if rec == nil {
		st.Status = "Pending"
		return st
	}
	st.CronJob, st.Manual, st.ScheduledTime = rec.CronJob, rec.Manual, rec.ScheduledTime
	st.Created, st.StartTime, st.CompletionTime = rec.Created, rec.StartTime, rec.CompletionTime
	if j.spec != nil && jobSuspended(j.spec) && !rec.Finished() {
		st.Status = "Suspended"
		st.Conditions = append(st.Conditions, JobCondition{Type: "Suspended", Status: "True", Reason: "JobSuspended", Message: "Job suspended"})
	}
	if rec.Finished() {
		st.Status = rec.Condition
		st.Conditions = append(st.Conditions, JobCondition{Type: rec.Condition, Status: "True", Reason: rec.Reason,
			Message: rec.Message, LastTransitionTime: rec.CompletionTime})
	}
	return st
}

// oldestFirst orders pods by creation, then name.
func oldestFirst(pods []*runtime.Pod) []*runtime.Pod {
	out := append([]*runtime.Pod(nil), pods...)
	for i := 1; i < len(out); i++ {
		for k := i; k > 0 && podBefore(out[k], out[k-1]); k-- {
			out[k], out[k-1] = out[k-1], out[k]
		}
	}
	return out
}

// podBefore orders pods by creation, then name.
func podBefore(a, b *runtime.Pod) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	return a.Name < b.Name
}
