package config

import (
	"encoding/json"
	"fmt"
	"hash/fnv"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/util/rand"
)

// Job is a batch/v1 Job of the desired state: pods that run to completion,
// once. A Job a CronJob creates is not in the desired state: it exists only
// in the engine (see runtime.JobRecord).
type Job struct {
	Key    Key
	Source Source
	// Labels are the Job's own labels.
	Labels map[string]string
	// Spec is the defaulted Job spec: parallelism and backoffLimit are set,
	// completions is nil only for a work queue (parallelism set alone).
	Spec batchv1.JobSpec
	// TemplateHash identifies the part of the spec Kubernetes makes
	// immutable once the Job exists: the pod template and completions.
	TemplateHash string
	// Unhonoured lists the fields this build parses but does not run, as
	// Workload.Unhonoured does; a Job with any is skipped.
	Unhonoured []string
}

// CronJob is a batch/v1 CronJob of the desired state.
type CronJob struct {
	Key    Key
	Source Source
	// Labels are the CronJob's own labels.
	Labels map[string]string
	// Schedule is the parsed schedule, in the CronJob's time zone.
	Schedule                   Schedule
	ConcurrencyPolicy          batchv1.ConcurrencyPolicy
	Suspend                    bool
	StartingDeadlineSeconds    *int64
	SuccessfulJobsHistoryLimit int32
	FailedJobsHistoryLimit     int32
	// JobTemplate is what each Job is made from; its spec carries the Job
	// defaults (Kubernetes applies them when it creates the Job).
	JobTemplate batchv1.JobTemplateSpec
	// TemplateHash is JobTemplateHash of the job template's spec.
	TemplateHash string
	// Unhonoured is as for Job; a CronJob with any is skipped.
	Unhonoured []string
}

// JobTemplateHash hashes the immutable part of a Job spec (the pod
// template and completions) the way TemplateHash hashes a pod template.
func JobTemplateHash(s *batchv1.JobSpec) string {
	b, err := json.Marshal(struct {
		Template    any    `json:"template"`
		Completions *int32 `json:"completions"`
	}{s.Template, s.Completions})
	if err != nil {
		b = nil
	}
	h := fnv.New32a()
	h.Write(b)
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// DefaultJobSpec returns a copy of s with the batch/v1 Job defaults
// applied, as Kubernetes applies them to a Job a CronJob creates.
func DefaultJobSpec(s *batchv1.JobSpec) batchv1.JobSpec {
	j := batchv1.Job{Spec: *s.DeepCopy()}
	defaultJob(&j)
	return j.Spec
}

// batchOf builds the Jobs and CronJobs of the objects, in object order.
func batchOf(objs []Object) ([]Job, []CronJob) {
	var jobs []Job
	var crons []CronJob
	for _, o := range objs {
		switch obj := o.Obj.(type) {
		case *batchv1.Job:
			j := Job{Key: o.Key, Source: o.Source, Labels: obj.Labels, Spec: *obj.Spec.DeepCopy()}
			j.TemplateHash = JobTemplateHash(&j.Spec)
			j.Unhonoured = append(append([]string(nil), o.Unhonoured...), jobUnhonoured(&j.Spec, "spec")...)
			jobs = append(jobs, j)
		case *batchv1.CronJob:
			crons = append(crons, cronJobOf(o, obj))
		}
	}
	return jobs, crons
}

// cronJobOf builds the CronJob of a validated object.
func cronJobOf(o Object, obj *batchv1.CronJob) CronJob {
	s := &obj.Spec
	c := CronJob{Key: o.Key, Source: o.Source, Labels: obj.Labels, ConcurrencyPolicy: s.ConcurrencyPolicy,
		Suspend: s.Suspend != nil && *s.Suspend, StartingDeadlineSeconds: s.StartingDeadlineSeconds,
		SuccessfulJobsHistoryLimit: derefInt32(s.SuccessfulJobsHistoryLimit, 3),
		FailedJobsHistoryLimit:     derefInt32(s.FailedJobsHistoryLimit, 1),
		JobTemplate:                *s.JobTemplate.DeepCopy()}
	c.JobTemplate.Spec = DefaultJobSpec(&s.JobTemplate.Spec)
	c.TemplateHash = JobTemplateHash(&c.JobTemplate.Spec)
	c.Unhonoured = append(append([]string(nil), o.Unhonoured...), jobUnhonoured(&c.JobTemplate.Spec, "spec.jobTemplate.spec")...)
	tz := ""
	if s.TimeZone != nil {
		tz = *s.TimeZone
	}
	sched, err := ParseSchedule(s.Schedule, tz)
	if err != nil { // validation parsed it already; never run it half-right
		c.Unhonoured = append(c.Unhonoured, "spec.schedule: "+err.Error())
	}
	c.Schedule = sched
	return c
}

// jobUnhonoured lists the Job spec fields this build validates but does
// not run: indexed completion and the per-index and pod failure policies.
func jobUnhonoured(s *batchv1.JobSpec, path string) []string {
	var out []string
	note := func(field, feature string) {
		out = append(out, path+"."+field+": "+feature+" not run by this build yet")
	}
	if s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion {
		note("completionMode", "Indexed completion")
	}
	if s.PodFailurePolicy != nil {
		note("podFailurePolicy", "pod failure policies")
	}
	if s.BackoffLimitPerIndex != nil || s.MaxFailedIndexes != nil {
		note("backoffLimitPerIndex", "per-index backoff limits")
	}
	if s.SuccessPolicy != nil {
		note("successPolicy", "success policies")
	}
	if s.PodReplacementPolicy != nil {
		note("podReplacementPolicy", "pod replacement policies")
	}
	if s.ManagedBy != nil {
		note("managedBy", "external Job controllers")
	}
	return out
}

// CronJobOf returns the CronJob of a decoded CronJob object, as the
// desired state holds it; ok is false for other objects.
func CronJobOf(o Object) (c CronJob, ok bool) {
	obj, ok := o.Obj.(*batchv1.CronJob)
	if !ok {
		return CronJob{}, false
	}
	return cronJobOf(o, obj), true
}
