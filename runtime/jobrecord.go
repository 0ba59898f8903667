package runtime

import (
	"context"
	"time"
)

// Job conditions, as batch/v1 names them.
const (
	JobComplete = "Complete"
	JobFailed   = "Failed"
)

// JobRecord is the engine's memory of one Job: that it started, what it
// runs, how many of its pods succeeded and failed, and whether it finished.
// It lives in the engine beside the pods (the Podman implementation keeps
// it as an empty, labelled volume, as it keeps Deployment revisions), so it
// survives a SIGKILL of the daemon and the removal of the Job's pods
// (ttlSecondsAfterFinished): a finished Job is never run again. A Job that
// a CronJob creates exists only as its record and its pods.
type JobRecord struct {
	Namespace string
	Name      string
	Node      string
	// TemplateHash is config.JobTemplateHash of the spec the Job runs: a
	// Job from the source whose template changed under the same name is
	// refused, as Kubernetes refuses it.
	TemplateHash string
	// CronJob names the CronJob that created the Job ("" for a Job of the
	// source); Manual marks one created by `reconciler create job --from`.
	CronJob string
	Manual  bool
	// ScheduledTime is the CronJob slot the Job runs for (zero otherwise).
	ScheduledTime time.Time
	// Spec is the JSON of the batch/v1 JobTemplateSpec (labels and spec)
	// the Job runs: a CronJob's Job keeps its own when the CronJob's
	// template changes later, and a Job of the source whose template
	// changed under its name goes on with it (the change is refused).
	Spec []byte
	// Created is when the Job was first recorded; StartTime when it last
	// started running (reset when it is resumed after a suspension, as
	// Kubernetes resets it); CompletionTime when it finished.
	Created        time.Time
	StartTime      time.Time
	CompletionTime time.Time
	// Succeeded and Failed count the pods (restartPolicy Never) or runs
	// (OnFailure) that succeeded and failed.
	Succeeded int32
	Failed    int32
	// Condition is "" while the Job runs, then JobComplete or JobFailed,
	// with Reason (BackoffLimitExceeded, DeadlineExceeded) and Message.
	Condition string
	Reason    string
	Message   string
	// Deleting marks a Job being deleted (a CronJob's Replace policy): its
	// pods are removed, then the record.
	Deleting bool
}

// Finished reports whether the Job completed or failed.
func (r *JobRecord) Finished() bool { return r.Condition != "" }

// CronJobRecord is the engine's memory of one CronJob: when it was first
// seen (its creation time, from which slots count) and the last slot it
// started a Job for. Job names carry their slot, so with this record a
// slot never runs twice, even across a restart of the daemon.
type CronJobRecord struct {
	Namespace        string
	Name             string
	Node             string
	Created          time.Time
	LastScheduleTime time.Time
}

// JobRecordStore keeps Job and CronJob records in the engine.
type JobRecordStore interface {
	// JobRecords lists the node's Job and CronJob records (every node's
	// when node is empty).
	JobRecords(ctx context.Context, node string) ([]JobRecord, []CronJobRecord, error)
	// PutJobRecord creates or replaces the record of (namespace, name, node).
	PutJobRecord(ctx context.Context, r JobRecord) error
	// DeleteJobRecord removes it; a missing record is not an error.
	DeleteJobRecord(ctx context.Context, r JobRecord) error
	// PutCronJobRecord creates or replaces the record of (namespace, name, node).
	PutCronJobRecord(ctx context.Context, r CronJobRecord) error
	// DeleteCronJobRecord removes it; a missing record is not an error.
	DeleteCronJobRecord(ctx context.Context, r CronJobRecord) error
}
