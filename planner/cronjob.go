package planner

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// CronJobs start Jobs on a schedule, as Kubernetes' CronJob controller
// (pkg/controller/cronjob, v2) starts them. A slot's Job is named
// "<cronjob>-<slot in Unix minutes>" and recorded in the engine before any
// of its pods runs, so the name itself says the slot was taken: a slot is
// never run twice, across restarts of the daemon too. The CronJob's own
// record keeps when it was first seen (Kubernetes' creationTimestamp, the
// earliest slot) and its last scheduled slot (status.lastScheduleTime),
// which survives the history limits deleting old Jobs.

// maxMissedSlots is Kubernetes' bound: beyond it a CronJob is warned about
// (TooManyMissedTimes), but still starts its most recent slot.
const maxMissedSlots = 100

// maxLookBackYears bounds how far back slots are looked for (a record
// whose times were lost looks back to the year 1).
const maxLookBackYears = 100

// CronJobStatus is a CronJob as the planner sees it, the counterpart of a
// batch/v1 CronJob's status.
type CronJobStatus struct {
	Namespace         string `json:"namespace"`
	Name              string `json:"name"`
	Schedule          string `json:"schedule"`
	TimeZone          string `json:"timeZone,omitempty"`
	Suspend           bool   `json:"suspend"`
	ConcurrencyPolicy string `json:"concurrencyPolicy"`
	// Labels are the CronJob's labels.
	Labels map[string]string `json:"labels,omitempty"`
	// Active names the Jobs that run, oldest first.
	Active             []string  `json:"active,omitempty"`
	LastScheduleTime   time.Time `json:"lastScheduleTime,omitzero"`
	LastSuccessfulTime time.Time `json:"lastSuccessfulTime,omitzero"`
	NextScheduleTime   time.Time `json:"nextScheduleTime,omitzero"`
	// Created is when the CronJob was first seen (its record).
	Created time.Time `json:"created,omitzero"`
	// Error says why the CronJob is not run (a field this build skips).
	Error string `json:"error,omitempty"`
}

// JobName is the name of the Job a CronJob starts for a slot, as
// Kubernetes names it: the CronJob's name and the slot in Unix minutes.
func JobName(cronJob string, slot time.Time) string {
	return fmt.Sprintf("%s-%d", cronJob, slot.Unix()/60)
}

// errScheduleTooDense is Kubernetes' refusal of a schedule whose slots come
// less than a second apart (or that has a slot and then none).
var errScheduleTooDense = errors.New("time difference between two schedules is less than 1 second")

// MostRecentSlot returns the most recent slot of s in (earliest, now], or
// the zero time when there is none, and about how many slots were missed
// there. It follows Kubernetes' mostRecentScheduleTime: the count is an
// estimate from the first interval, which also gives a starting point near
// now, so a CronJob missed for years costs no more than one missed for a
// minute. Where the estimate overshoots (slots grow sparser after the first
// interval) the slots are walked from the first, which Kubernetes does not.
func MostRecentSlot(s config.Schedule, earliest, now time.Time) (time.Time, int64, error) {
	if bound := now.AddDate(-maxLookBackYears, 0, 0); earliest.Before(bound) {
		earliest = bound // keeps the arithmetic below within a time.Duration
	}
	t1 := s.Next(earliest)
	if t1.IsZero() || now.Before(t1) {
		return time.Time{}, 0, nil
	}
	t2 := s.Next(t1)
	if t2.IsZero() || now.Before(t2) {
		return t1, 1, nil
	}
	between := int64(t2.Sub(t1).Round(time.Second).Seconds())
	if between < 1 {
		return time.Time{}, 0, errScheduleTooDense
	}
	missed := int64(now.Sub(t1).Seconds())/between + 1
	start := t1.Add(time.Duration((missed-2)*between) * time.Second)
	var most time.Time
	for t := s.Next(start); !t.IsZero() && !t.After(now); t = s.Next(t) {
		most = t
	}
	if most.IsZero() { // the estimate overshot: walk from the first slot
		for t := t1; !t.IsZero() && !t.After(now); t = s.Next(t) {
			most = t
		}
	}
	return most, missed, nil
}

// planCron plans one CronJob: its Jobs (deleting those beyond the history
// limits, past their TTL or replaced), then the schedule.
func (b *batch) planCron(r *Result, cj *config.CronJob, now time.Time) {
	id := cj.Key.Namespace + "/" + cj.Key.Name
	b.claimed["cronjob/"+id] = true
	crec := b.crons[id]
	runs := b.cronRuns(cj)
	st := CronJobStatus{Namespace: cj.Key.Namespace, Name: cj.Key.Name, Schedule: cj.Schedule.String(),
		TimeZone: cj.Schedule.TimeZone(), Suspend: cj.Suspend, ConcurrencyPolicy: string(cj.ConcurrencyPolicy), Labels: cj.Labels}
	if crec != nil {
		st.Created, st.LastScheduleTime = crec.Created, crec.LastScheduleTime
	}
	if len(cj.Unhonoured) > 0 { // leave its Jobs, pods and records as they are
		r.Skipped = append(r.Skipped, Skip{Key: cj.Key, Reason: cj.Unhonoured[0]})
		st.Error = cj.Unhonoured[0]
		r.CronJobs = append(r.CronJobs, st)
		return
	}
	del := cronDeletions(r, cj, crec, runs, now)
	var active []*jobRun
	for _, run := range runs {
		if why, ok := del[run]; ok {
			deleteJob(r, run, why)
			continue
		}
		if run.spec == nil {
			r.Jobs = append(r.Jobs, JobStatus{Namespace: run.key.Namespace, Name: run.key.Name, CronJob: cj.Key.Name,
				Status: "Error", TemplateHash: run.hash, Error: "the Job's record holds no readable spec; it is left alone"})
			continue
		}
		js := planJob(r, run, now)
		r.Jobs = append(r.Jobs, js)
		if !run.rec.Finished() {
			active = append(active, run)
			st.Active = append(st.Active, run.key.Name)
		} else if run.rec.Condition == runtime.JobComplete {
			st.LastSuccessfulTime = latest(st.LastSuccessfulTime, run.rec.CompletionTime)
		}
	}
	if crec == nil {
		rec := runtime.CronJobRecord{Namespace: cj.Key.Namespace, Name: cj.Key.Name, Created: now}
		r.Actions = append(r.Actions, Action{Type: PutCronJobRecord, Namespace: cj.Key.Namespace, Owner: cj.Key,
			CronJobRecord: &rec, Reason: "CronJob recorded; its slots count from now", Cause: CauseJob})
		r.CronJobs = append(r.CronJobs, st)
		return
	}
	planSchedule(r, b, cj, crec, active, now, &st)
	r.CronJobs = append(r.CronJobs, st)
}

// cronRuns collects the Jobs of a CronJob from their records, oldest
// first, with their pods, and claims them.
func (b *batch) cronRuns(cj *config.CronJob) []*jobRun {
	var runs []*jobRun
	for _, rid := range sortedRecordKeys(b.recs) {
		rec := b.recs[rid]
		if rec.Namespace != cj.Key.Namespace || rec.CronJob != cj.Key.Name || b.claimed["job/"+rid] {
			continue
		}
		b.claimed["job/"+rid] = true
		run := &jobRun{key: config.Key{Namespace: rec.Namespace, Kind: "Job", Name: rec.Name}, rec: rec,
			hash: rec.TemplateHash, pods: b.takePods(rec.Namespace, rec.Name)}
		if t, err := recordedTemplate(rec); err == nil {
			run.spec, run.labels = &t.Spec, t.Labels
		}
		runs = append(runs, run)
	}
	sort.SliceStable(runs, func(i, k int) bool {
		a, c := runs[i].rec, runs[k].rec
		if !a.Created.Equal(c.Created) {
			return a.Created.Before(c.Created)
		}
		return a.Name < c.Name
	})
	return runs
}

// cronDeletions picks the CronJob's Jobs to delete, with the reason: those
// marked (replaced), those finished longer ago than their
// ttlSecondsAfterFinished, and the oldest finished ones beyond
// successfulJobsHistoryLimit and failedJobsHistoryLimit (Kubernetes'
// cleanupFinishedJobs). A Job whose slot the CronJob's record does not
// show yet is kept: its record is the only proof the slot ran.
func cronDeletions(r *Result, cj *config.CronJob, crec *runtime.CronJobRecord, runs []*jobRun, now time.Time) map[*jobRun]string {
	del := map[*jobRun]string{}
	var complete, failed []*jobRun
	for _, run := range runs {
		rec := run.rec
		if rec.Deleting {
			del[run] = "replaced (concurrencyPolicy Replace)"
			continue
		}
		if !rec.Finished() || crec == nil || rec.ScheduledTime.After(crec.LastScheduleTime) {
			continue
		}
		if run.spec != nil && run.spec.TTLSecondsAfterFinished != nil && !rec.CompletionTime.IsZero() {
			at := rec.CompletionTime.Add(time.Duration(*run.spec.TTLSecondsAfterFinished) * time.Second)
			if !now.Before(at) {
				del[run] = "ttlSecondsAfterFinished passed"
				continue
			}
			requeueAt(r, at)
		}
		if rec.Condition == runtime.JobComplete {
			complete = append(complete, run)
		} else {
			failed = append(failed, run)
		}
	}
	for _, h := range []struct {
		runs  []*jobRun
		limit int32
		why   string
	}{{complete, cj.SuccessfulJobsHistoryLimit, "beyond successfulJobsHistoryLimit"},
		{failed, cj.FailedJobsHistoryLimit, "beyond failedJobsHistoryLimit"}} {
		for i := 0; i < len(h.runs)-int(max(h.limit, 0)); i++ {
			del[h.runs[i]] = h.why // runs are oldest first
		}
	}
	return del
}

// planSchedule starts the Job of the most recent unmet slot, if the
// concurrency policy allows, as Kubernetes' syncCronJob does, and asks for
// a pass at the next slot.
func planSchedule(r *Result, b *batch, cj *config.CronJob, crec *runtime.CronJobRecord, active []*jobRun, now time.Time, st *CronJobStatus) {
	if cj.Suspend {
		return
	}
	if next := cj.Schedule.Next(now); !next.IsZero() {
		st.NextScheduleTime = next
		requeueAt(r, next)
	}
	slot, ok := dueSlot(r, cj, crec, now)
	if !ok {
		return
	}
	obj, at := cj.Key.String(), slot.UTC().Format(time.RFC1123Z)
	name := JobName(cj.Key.Name, slot)
	if rec, ok := b.recs[cj.Key.Namespace+"/"+name]; ok || crec.LastScheduleTime.Equal(slot) {
		if ok && rec.CronJob == cj.Key.Name && crec.LastScheduleTime.Before(slot) {
			upd := *crec
			upd.LastScheduleTime = slot
			r.Actions = append(r.Actions, Action{Type: PutCronJobRecord, Namespace: cj.Key.Namespace, Owner: cj.Key,
				CronJobRecord: &upd, Reason: "last schedule " + at, Cause: CauseJob})
		}
		return // the slot is taken
	}
	switch {
	case len(active) > 0 && cj.ConcurrencyPolicy == batchv1.ForbidConcurrent:
		r.Notes = append(r.Notes, Note{Object: obj, Reason: "JobAlreadyActive", Key: obj + "/forbid/" + at,
			Message: "Not starting job because prior execution is running and concurrency policy is Forbid (slot " + at + ")"})
		return
	case len(active) > 0 && cj.ConcurrencyPolicy == batchv1.ReplaceConcurrent:
		for _, run := range active { // deleted first; the new Job starts on a later pass
			rec := *run.rec
			rec.Deleting = true
			r.Actions = append(r.Actions, putJob(run.key, rec, "replaced by the Job of slot "+at, "", false))
		}
		return
	}
	rec := runtime.JobRecord{Namespace: cj.Key.Namespace, Name: name, TemplateHash: cj.TemplateHash,
		CronJob: cj.Key.Name, ScheduledTime: slot, Created: now,
		Spec: encodeJobTemplate(cj.JobTemplate.Labels, &cj.JobTemplate.Spec)}
	if !jobSuspended(&cj.JobTemplate.Spec) {
		rec.StartTime = now
	}
	r.Actions = append(r.Actions, putJob(cj.Key, rec, "Created job "+name, "SuccessfulCreate", false))
}

// dueSlot finds the most recent slot since the CronJob was first seen or
// last scheduled, within startingDeadlineSeconds when set. A slot missed
// for the deadline, too many missed slots and a schedule Kubernetes refuses
// become notes.
func dueSlot(r *Result, cj *config.CronJob, crec *runtime.CronJobRecord, now time.Time) (time.Time, bool) {
	obj := cj.Key.String()
	base := latest(crec.Created, crec.LastScheduleTime)
	earliest := base
	sds := cj.StartingDeadlineSeconds
	if sds != nil { // no slot older than the deadline is even looked at
		earliest = latest(earliest, now.Add(-time.Duration(*sds)*time.Second))
	}
	slot, missed, err := MostRecentSlot(cj.Schedule, earliest, now)
	if err != nil {
		r.Notes = append(r.Notes, Note{Object: obj, Warning: true, Reason: "InvalidSchedule", Message: err.Error(), Key: obj + "/invalid"})
		return time.Time{}, false
	}
	if slot.IsZero() {
		if sds != nil { // say so when a slot was missed for the deadline
			if late, _, _ := MostRecentSlot(cj.Schedule, base, now); !late.IsZero() {
				at := late.UTC().Format(time.RFC1123Z)
				r.Notes = append(r.Notes, Note{Object: obj, Warning: true, Reason: "MissSchedule", Key: obj + "/miss/" + at,
					Message: fmt.Sprintf("Missed scheduled time to start a job: %s (startingDeadlineSeconds %d)", at, *sds)})
			}
		}
		return time.Time{}, false
	}
	if missed > maxMissedSlots {
		at := slot.UTC().Format(time.RFC1123Z)
		r.Notes = append(r.Notes, Note{Object: obj, Warning: true, Reason: "TooManyMissedTimes", Key: obj + "/many/" + at,
			Message: fmt.Sprintf("too many missed start times (%d); set or decrease .spec.startingDeadlineSeconds or check clock skew", missed)})
	}
	return slot, true
}

// encodeJobTemplate is the JSON of a Job's labels and spec, as a record
// keeps it; a JobTemplateSpec always encodes.
func encodeJobTemplate(labels map[string]string, spec *batchv1.JobSpec) []byte {
	b, _ := json.Marshal(batchv1.JobTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: *spec})
	return b
}

// recordedTemplate decodes the Job labels and spec a record keeps.
func recordedTemplate(rec *runtime.JobRecord) (*batchv1.JobTemplateSpec, error) {
	if len(rec.Spec) == 0 {
		return nil, errors.New("no spec recorded")
	}
	var t batchv1.JobTemplateSpec
	if err := json.Unmarshal(rec.Spec, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// ManualJob is the record of a Job run by hand from a CronJob's template
// (`reconciler create job NAME --from=cronjob/CJ`): owned by the CronJob,
// counted in its history, not tied to a slot.
func ManualJob(cj *config.CronJob, name string, now time.Time) runtime.JobRecord {
	rec := runtime.JobRecord{Namespace: cj.Key.Namespace, Name: name, TemplateHash: cj.TemplateHash,
		CronJob: cj.Key.Name, Manual: true, Created: now,
		Spec: encodeJobTemplate(cj.JobTemplate.Labels, &cj.JobTemplate.Spec)}
	if !jobSuspended(&cj.JobTemplate.Spec) {
		rec.StartTime = now
	}
	return rec
}
