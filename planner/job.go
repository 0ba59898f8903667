package planner

import (
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// Jobs run their pods to completion, as Kubernetes' Job controller runs
// them (pkg/controller/job), in the reconciler's level-triggered way: each
// pass recounts a Job's pods, and the Job's record in the engine keeps what
// must outlive them. A Job's life in passes:
//
//  1. No record: write one (PutJobRecord), and nothing else. Pods come on
//     the next pass, so no pod ever runs for a Job the engine does not
//     remember.
//  2. Running: count succeeded and failed pods (restartPolicy Never) or
//     runs (OnFailure); write changed counts; create pods up to the wanted
//     parallelism, after the failure back-off; restart failed containers
//     of OnFailure pods with the kubelet's back-off.
//  3. Finishing: when the backoff limit is passed, the active deadline is
//     reached or enough pods succeeded, write the condition and nothing
//     else. Only on a later pass, once the record says so, are the pods
//     still running removed: a crash in between loses no count.
//  4. Finished: nothing runs again, whatever restarts or syncs come; after
//     ttlSecondsAfterFinished the pods are removed (the record stays, so a
//     Job of the source is not run again; a CronJob's Job goes entirely).

// Job failure back-off, as Kubernetes' Job controller: 10 s after the
// first failed pod, doubling, capped at six minutes.
const (
	jobBackoffBase = 10 * time.Second
	jobBackoffCap  = 6 * time.Minute
)

// Job event reasons, as Kubernetes names them where it has a name.
const (
	ReasonBackoffLimitExceeded = "BackoffLimitExceeded"
	ReasonDeadlineExceeded     = "DeadlineExceeded"
)

// JobBackoff is the delay before a new pod replaces failed ones, given how
// many pods failed since the last success: none for 0, then 10 s doubling
// to at most 6 min.
func JobBackoff(failures int) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := jobBackoffBase
	for i := 1; i < failures && d < jobBackoffCap; i++ {
		d *= 2
	}
	return min(d, jobBackoffCap)
}

// JobStatus is a Job as the planner sees it, the counterpart of a batch/v1
// Job's status.
type JobStatus struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// CronJob is the CronJob that created the Job ("" for a Job of the
	// source); Manual marks a run created by `create job --from`.
	CronJob string `json:"cronJob,omitempty"`
	Manual  bool   `json:"manual,omitempty"`
	// Completions is nil for a work queue; Parallelism as in the spec.
	Completions  *int32 `json:"completions,omitempty"`
	Parallelism  int32  `json:"parallelism"`
	BackoffLimit int32  `json:"backoffLimit"`
	Active       int32  `json:"active"`
	Succeeded    int32  `json:"succeeded"`
	Failed       int32  `json:"failed"`
	// Status is kubectl's STATUS: Pending (not started yet), Running,
	// Suspended, Complete, Failed, or Error (see Error).
	Status         string         `json:"status"`
	Conditions     []JobCondition `json:"conditions,omitempty"`
	Created        time.Time      `json:"created,omitzero"`
	StartTime      time.Time      `json:"startTime,omitzero"`
	CompletionTime time.Time      `json:"completionTime,omitzero"`
	ScheduledTime  time.Time      `json:"scheduledTime,omitzero"`
	TemplateHash   string         `json:"templateHash"`
	// Labels are the Job's labels.
	Labels map[string]string `json:"labels,omitempty"`
	// Pods names the Job's pods, oldest first.
	Pods []string `json:"pods,omitempty"`
	// Error says why the Job is not run as declared: its template changed
	// under the same name (a Job is immutable), or its name is taken.
	Error string `json:"error,omitempty"`
}

// JobCondition is a Job condition: Complete, Failed or Suspended.
type JobCondition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	Reason             string    `json:"reason,omitempty"`
	Message            string    `json:"message,omitempty"`
	LastTransitionTime time.Time `json:"lastTransitionTime,omitzero"`
}

// Note is a finding that calls for no action, such as a CronJob slot
// skipped because the previous Job still runs. The executor records it
// as an event once while Key persists.
type Note struct {
	Object  string
	Warning bool
	Reason  string
	Message string
	Key     string
}

// jobRun is one Job being planned: its spec (from the source, or from its
// record for a CronJob's Job), its record and its pods.
type jobRun struct {
	key  config.Key
	spec *batchv1.JobSpec
	hash string
	rec  *runtime.JobRecord // nil until the Job is recorded
	pods []*runtime.Pod
	// fromSource: a Job of the desired state (else a CronJob's).
	fromSource bool
	labels     map[string]string
	// created is the record to write for a Job not recorded yet.
	created runtime.JobRecord
	wl      *config.Workload
}

// planJob plans one recorded or new Job that is not being deleted, and
// returns its status.
func planJob(r *Result, j *jobRun, now time.Time) JobStatus {
	c := j.census(now)
	st := c.status(j)
	switch {
	case j.rec == nil:
		rec := j.created
		rec.Created, rec.Succeeded, rec.Failed = now, c.succeeded, c.failed
		if !jobSuspended(j.spec) {
			rec.StartTime = now
		}
		r.Actions = append(r.Actions, putJob(j.key, rec, "job recorded; its pods start on the next pass", "JobCreated", false))
		st.Status = "Pending"
	case j.rec.Finished():
		planFinished(r, j, c, now)
	default:
		planRunning(r, j, c, now)
	}
	return st
}

// planFinished removes the pods of a finished Job that still run (the
// Job controller deletes them when a Job fails or completes), and after
// ttlSecondsAfterFinished all of a source Job's pods.
func planFinished(r *Result, j *jobRun, c jobCensus, now time.Time) {
	for _, p := range c.active {
		r.Actions = append(r.Actions, removePod(j.key, p, "the Job is "+j.rec.Condition+": removing its pod that still runs", CauseJob))
	}
	ttl := j.spec.TTLSecondsAfterFinished
	if ttl == nil || j.rec.CompletionTime.IsZero() || !j.fromSource {
		return // a CronJob's Job is deleted entirely by its CronJob (planCron)
	}
	at := j.rec.CompletionTime.Add(time.Duration(*ttl) * time.Second)
	if now.Before(at) {
		requeueAt(r, at)
		return
	}
	for _, p := range j.pods {
		if !p.Terminating && podOutcomeOf(p, &j.spec.Template.Spec) != outcomeActive {
			r.Actions = append(r.Actions, removePod(j.key, p, "ttlSecondsAfterFinished passed; the Job's record stays", CauseJob))
		}
	}
}

// planRunning plans a Job that has not finished: its record's counts and
// condition, then its pods.
func planRunning(r *Result, j *jobRun, c jobCensus, now time.Time) {
	rec := *j.rec
	rec.Succeeded, rec.Failed = c.succeeded, c.failed
	if cond, reason, msg := jobVerdict(j, c, now); cond != "" {
		rec.Condition, rec.Reason, rec.Message, rec.CompletionTime = cond, reason, msg, now
		event := reason
		if cond == runtime.JobComplete {
			event = "Completed"
		}
		r.Actions = append(r.Actions, putJob(j.key, rec, msg, event, cond == runtime.JobFailed))
		return
	}
	if jobSuspended(j.spec) {
		if !rec.StartTime.IsZero() {
			rec.StartTime = time.Time{}
			r.Actions = append(r.Actions, putJob(j.key, rec, "Job suspended", "Suspended", false))
			return
		}
		for _, p := range c.active {
			r.Actions = append(r.Actions, removePod(j.key, p, "the Job is suspended", CauseJob))
		}
		return
	}
	if rec.StartTime.IsZero() {
		rec.StartTime = now
		r.Actions = append(r.Actions, putJob(j.key, rec, "Job resumed", "Resumed", false))
		return
	}
	if rec.Succeeded != j.rec.Succeeded || rec.Failed != j.rec.Failed {
		r.Actions = append(r.Actions, putJob(j.key, rec, fmt.Sprintf("%d succeeded, %d failed", rec.Succeeded, rec.Failed), "", false))
	}
	if ads := j.spec.ActiveDeadlineSeconds; ads != nil {
		requeueAt(r, rec.StartTime.Add(time.Duration(*ads)*time.Second))
	}
	planJobPods(r, j, c, now)
}

// jobVerdict decides whether a running Job has finished, in the Job
// controller's order: the backoff limit, then the active deadline, then
// completion.
func jobVerdict(j *jobRun, c jobCensus, now time.Time) (cond, reason, msg string) {
	limit := int32(derefInt32(j.spec.BackoffLimit, 6))
	switch {
	case c.failed > limit:
		return runtime.JobFailed, ReasonBackoffLimitExceeded, "Job has reached the specified backoff limit"
	case !jobSuspended(j.spec) && j.spec.ActiveDeadlineSeconds != nil && !j.rec.StartTime.IsZero() &&
		!now.Before(j.rec.StartTime.Add(time.Duration(*j.spec.ActiveDeadlineSeconds)*time.Second)):
		return runtime.JobFailed, ReasonDeadlineExceeded, "Job was active longer than specified deadline"
	case jobComplete(j.spec.Completions, c.succeeded, len(c.active)+c.terminating):
		return runtime.JobComplete, "", "Job completed"
	}
	return "", "", ""
}

// jobComplete: with completions, when that many pods succeeded; for a work
// queue (no completions), when one pod succeeded and none is left running.
func jobComplete(completions *int32, succeeded int32, running int) bool {
	if completions != nil {
		return succeeded >= *completions
	}
	return succeeded > 0 && running == 0
}

// jobWantActive is how many pods should run, as the Job controller's
// manageJob computes it: with completions, the parallelism but no more
// than the completions still needed; for a work queue, the parallelism
// until a pod succeeded, then no new pod.
func jobWantActive(spec *batchv1.JobSpec, succeeded int32, active int) int {
	parallelism := int(derefInt32(spec.Parallelism, 1))
	if spec.Completions == nil {
		if succeeded > 0 {
			return active
		}
		return parallelism
	}
	return max(0, min(parallelism, int(*spec.Completions-succeeded)))
}

// planJobPods creates pods up to the wanted parallelism (after the
// failure back-off), removes pods beyond it, and keeps the containers of
// the running ones under the pod's restart policy.
func planJobPods(r *Result, j *jobRun, c jobCensus, now time.Time) {
	want := jobWantActive(j.spec, c.succeeded, len(c.active))
	active := c.active
	switch {
	case len(active) > want:
		victims := scaleDownOrder(active)[:len(active)-want]
		for _, p := range victims {
			r.Actions = append(r.Actions, removePod(j.key, p, "more pods run than the Job wants", CauseJob))
		}
		active = keepOthers(active, victims)
	case len(active)+c.terminating < want:
		if due := c.lastFailure.Add(JobBackoff(c.failuresSinceSuccess)); c.failuresSinceSuccess > 0 && now.Before(due) {
			requeueAt(r, due)
			break
		}
		wl := j.workload()
		reason := fmt.Sprintf("the Job wants %d running pods and has %d", want, len(active)+c.terminating)
		for _, name := range jobPodNames(j, want-len(active)-c.terminating) {
			r.Actions = append(r.Actions, Action{Type: CreatePod, Namespace: j.key.Namespace, Pod: name,
				Owner: j.key, Workload: wl, Reason: reason, Cause: CauseCreate})
		}
	}
	for _, p := range active {
		planContainers(r, j.workload(), p, now)
	}
}

// putJob is the action that writes a Job's record.
func putJob(key config.Key, rec runtime.JobRecord, reason, event string, warning bool) Action {
	return Action{Type: PutJobRecord, Namespace: key.Namespace, Owner: key, JobRecord: &rec,
		Reason: reason, Cause: CauseJob, Event: event, Warning: warning}
}

// jobSuspended reports whether a Job spec says suspend.
func jobSuspended(spec *batchv1.JobSpec) bool { return spec.Suspend != nil && *spec.Suspend }
