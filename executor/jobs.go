package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/planner"
	"github.com/reconciler/reconciler/runtime"
)

// Errors of CreateJobFrom, for the API to map to status codes.
var (
	// ErrInvalidJob is a Job name that is not a valid name.
	ErrInvalidJob = errors.New("invalid job")
	// ErrNoCronJob is a CronJob that the desired state lacks (or skips).
	ErrNoCronJob = errors.New("cronjob not found")
	// ErrJobExists is a Job name already in use in the namespace.
	ErrJobExists = errors.New("job already exists")
)

// jobState is what the loop keeps about Jobs between passes; all of it can
// be lost (the records in the engine are the Jobs' memory).
type jobState struct {
	// notesSeen holds the keys of the plan notes already recorded as events.
	notesSeen map[string]bool
	// records are the Job records of the last observation; crons counts
	// the CronJob records; listed is set once records were listed.
	records []runtime.JobRecord
	crons   int
	listed  bool
	// templates caches the pod templates decoded from records, by template
	// key; a template never changes under its hash.
	templates map[string]*corev1.PodTemplateSpec
}

// loadJobRecords adds the node's Job and CronJob records to an
// observation: the planner reads them beside the pods. A node that has no
// Job or CronJob, desired or recorded, is spared the listing after the
// first (only this loop writes records for Jobs it plans, and `create job`
// needs a desired CronJob).
func (e *Executor) loadJobRecords(ctx context.Context, obs *runtime.Observed) error {
	if e.jobs.listed && len(e.jobs.records) == 0 && e.jobs.crons == 0 &&
		len(e.desired.Jobs) == 0 && len(e.desired.CronJobs) == 0 {
		return nil
	}
	jobs, crons, err := e.rt.JobRecords(ctx, e.opt.Node)
	if err != nil {
		return err
	}
	obs.Jobs, obs.CronJobs = jobs, crons
	e.jobs.records, e.jobs.crons, e.jobs.listed = jobs, len(crons), true
	return nil
}

// jobTemplates returns the pod templates of the Jobs, by template key, so
// their pods are probed as any other: a Job of the source runs the
// template of its record when the source's changed (the change is
// refused), and a CronJob's Job always runs its record's.
func (e *Executor) jobTemplates(d *config.Desired) map[string]*corev1.PodTemplateSpec {
	out := make(map[string]*corev1.PodTemplateSpec, len(d.Jobs)+len(e.jobs.records))
	for i := range d.Jobs {
		j := &d.Jobs[i]
		out[templateKey(j.Key.Namespace, "Job", j.Key.Name, j.TemplateHash)] = &j.Spec.Template
	}
	if e.jobs.templates == nil {
		e.jobs.templates = map[string]*corev1.PodTemplateSpec{}
	}
	keep := make(map[string]*corev1.PodTemplateSpec, len(e.jobs.records))
	for _, rec := range e.jobs.records {
		k := templateKey(rec.Namespace, "Job", rec.Name, rec.TemplateHash)
		t, ok := e.jobs.templates[k]
		if !ok {
			var jt batchv1.JobTemplateSpec
			if json.Unmarshal(rec.Spec, &jt) != nil {
				continue
			}
			t = &jt.Spec.Template
		}
		keep[k] = t
		if _, ok := out[k]; !ok {
			out[k] = t
		}
	}
	e.jobs.templates = keep
	return out
}

// isRecordAction reports whether an action writes or deletes a record.
func isRecordAction(t planner.ActionType) bool {
	switch t {
	case planner.PutJobRecord, planner.DeleteJobRecord, planner.PutCronJobRecord, planner.DeleteCronJobRecord:
		return true
	}
	return false
}

// applyRecord writes or deletes a Job or CronJob record, on this node.
func (e *Executor) applyRecord(ctx context.Context, a planner.Action) error {
	switch {
	case a.JobRecord != nil:
		rec := *a.JobRecord
		rec.Node = e.opt.Node
		if a.Type == planner.DeleteJobRecord {
			return e.rt.DeleteJobRecord(ctx, rec)
		}
		return e.rt.PutJobRecord(ctx, rec)
	case a.CronJobRecord != nil:
		rec := *a.CronJobRecord
		rec.Node = e.opt.Node
		if a.Type == planner.DeleteCronJobRecord {
			return e.rt.DeleteCronJobRecord(ctx, rec)
		}
		return e.rt.PutCronJobRecord(ctx, rec)
	}
	return fmt.Errorf("executor: %v without a record", a.Type)
}

// actionEvent is the event an applied action leaves: its Event reason (a
// Warning when the action says so) or its type; a record action without
// an Event reason (a count written) leaves none.
func actionEvent(a planner.Action) (typ, reason string, ok bool) {
	typ = Normal
	if a.Warning {
		typ = Warning
	}
	switch {
	case a.Event != "":
		return typ, a.Event, true
	case isRecordAction(a.Type):
		return "", "", false
	}
	return typ, a.Type.String(), true
}

// recordNotes records the plan's notes (slots skipped or missed) as events,
// each once for as long as it is noted pass after pass.
func (e *Executor) recordNotes(notes []planner.Note, now time.Time) {
	seen := make(map[string]bool, len(notes))
	for _, n := range notes {
		seen[n.Key] = true
		if e.jobs.notesSeen[n.Key] {
			continue
		}
		typ := Normal
		if n.Warning {
			typ = Warning
		}
		e.events.record(now, typ, n.Reason, n.Object, n.Message)
	}
	e.jobs.notesSeen = seen
}

// CreateJobFrom runs a CronJob's job template now, as a Job named name
// (`reconciler create job NAME --from=cronjob/CJ`, kubectl's manual run).
// The Job is recorded in the engine at once; the loop, which it pokes,
// starts its pods. It belongs to the CronJob: it counts in its history
// and goes when the CronJob goes.
func (e *Executor) CreateJobFrom(ctx context.Context, namespace, name, cronJob string) error {
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 || len(name) > validation.DNS1123LabelMaxLength {
		if len(msgs) == 0 {
			msgs = []string{fmt.Sprintf("must be no more than %d characters", validation.DNS1123LabelMaxLength)}
		}
		return fmt.Errorf("%w: name %q: %s", ErrInvalidJob, name, strings.Join(msgs, "; "))
	}
	var cj *config.CronJob
	for _, o := range e.Objects() {
		switch {
		case o.Key.Namespace != namespace:
		case o.Key.Kind == "Job" && o.Key.Name == name:
			return fmt.Errorf("%w: %s/%s is a Job of the source", ErrJobExists, namespace, name)
		case o.Key.Kind == "CronJob" && o.Key.Name == cronJob:
			if c, ok := config.CronJobOf(o); ok {
				cj = &c
			}
		}
	}
	if cj == nil {
		return fmt.Errorf("%w: %s/%s is not in the desired state", ErrNoCronJob, namespace, cronJob)
	}
	if len(cj.Unhonoured) > 0 {
		return fmt.Errorf("%w: %s/%s is skipped by this build: %s", ErrNoCronJob, namespace, cronJob, cj.Unhonoured[0])
	}
	jobs, _, err := e.rt.JobRecords(ctx, e.opt.Node)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j.Namespace == namespace && j.Name == name {
			return fmt.Errorf("%w: %s/%s", ErrJobExists, namespace, name)
		}
	}
	now := e.opt.Now()
	rec := planner.ManualJob(cj, name, now)
	rec.Node = e.opt.Node
	if err := e.rt.PutJobRecord(ctx, rec); err != nil {
		return err
	}
	e.events.record(now, Normal, "SuccessfulCreate", cj.Key.String(), "Created job "+name+" (manual run)")
	e.poke()
	return nil
}
