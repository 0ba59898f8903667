package planner

import (
	"fmt"
	"sort"
	"time"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// planJobs plans every Job and CronJob: those of the desired state, and
// the records of Jobs and CronJobs no longer desired, which are deleted
// with their pods. Pods it plans are taken out of owned.
func planJobs(r *Result, d *config.Desired, o *runtime.Observed, owned map[config.Key][]*runtime.Pod, now time.Time) {
	b := newBatch(o, owned)
	for i := range d.Jobs {
		b.planSourceJob(r, &d.Jobs[i], now)
	}
	for i := range d.CronJobs {
		b.planCron(r, &d.CronJobs[i], now)
	}
	b.dropUndesired(r)
	sort.SliceStable(r.Jobs, func(i, k int) bool {
		if r.Jobs[i].Namespace != r.Jobs[k].Namespace {
			return r.Jobs[i].Namespace < r.Jobs[k].Namespace
		}
		return r.Jobs[i].Name < r.Jobs[k].Name
	})
}

// batch indexes the records and pods of one pass.
type batch struct {
	recs    map[string]*runtime.JobRecord // by "ns/name"
	crons   map[string]*runtime.CronJobRecord
	owned   map[config.Key][]*runtime.Pod
	claimed map[string]bool // records planned ("job/ns/name", "cron/ns/name")
}

// newBatch indexes the records of o; owned holds the pods by owner.
func newBatch(o *runtime.Observed, owned map[config.Key][]*runtime.Pod) *batch {
	b := &batch{recs: map[string]*runtime.JobRecord{}, crons: map[string]*runtime.CronJobRecord{},
		owned: owned, claimed: map[string]bool{}}
	for i := range o.Jobs {
		j := &o.Jobs[i]
		b.recs[j.Namespace+"/"+j.Name] = j
	}
	for i := range o.CronJobs {
		c := &o.CronJobs[i]
		b.crons[c.Namespace+"/"+c.Name] = c
	}
	return b
}

// takePods returns the pods of the Job ns/name and takes them out of the
// pods left for orphan removal.
func (b *batch) takePods(ns, name string) []*runtime.Pod {
	k := config.Key{Namespace: ns, Kind: "Job", Name: name}
	pods := b.owned[k]
	delete(b.owned, k)
	return pods
}

// planSourceJob plans a Job of the desired state.
func (b *batch) planSourceJob(r *Result, j *config.Job, now time.Time) {
	id := j.Key.Namespace + "/" + j.Key.Name
	b.claimed["job/"+id] = true
	rec := b.recs[id]
	run := &jobRun{key: j.Key, spec: &j.Spec, hash: j.TemplateHash, rec: rec, fromSource: true,
		labels: j.Labels, pods: b.takePods(j.Key.Namespace, j.Key.Name)}
	run.created = runtime.JobRecord{Namespace: j.Key.Namespace, Name: j.Key.Name, TemplateHash: j.TemplateHash,
		Spec: encodeJobTemplate(j.Labels, &j.Spec)}
	switch {
	case len(j.Unhonoured) > 0:
		r.Skipped = append(r.Skipped, Skip{Key: j.Key, Reason: j.Unhonoured[0]})
		st := run.census(now).status(run)
		st.Status = "Skipped"
		r.Jobs = append(r.Jobs, st)
	case rec != nil && rec.CronJob != "":
		b.claimed["job/"+id] = false // the CronJob's Job keeps its pods and record
		b.owned[j.Key] = run.pods
		r.Jobs = append(r.Jobs, JobStatus{Namespace: j.Key.Namespace, Name: j.Key.Name, Status: "Error",
			TemplateHash: j.TemplateHash, Error: fmt.Sprintf("metadata.name: the name is taken by a Job of CronJob %q", rec.CronJob)})
	case rec != nil && rec.TemplateHash != j.TemplateHash:
		// As Kubernetes rejects the update, the Job goes on as it was
		// created: with the spec in its record.
		st := JobStatus{Namespace: j.Key.Namespace, Name: j.Key.Name, TemplateHash: rec.TemplateHash}
		if t, err := recordedTemplate(rec); err == nil {
			run.spec, run.hash = &t.Spec, rec.TemplateHash
			st = planJob(r, run, now)
		}
		st.Error = fmt.Sprintf("spec.template: field is immutable: the Job runs template %s and the source now has %s; "+
			"the change is refused (delete the Job, or give it a new name, to run the new template)", rec.TemplateHash, j.TemplateHash)
		r.Jobs = append(r.Jobs, st)
	default:
		r.Jobs = append(r.Jobs, planJob(r, run, now))
	}
}

// dropUndesired deletes the Jobs (pods, then record) of the source that
// are no longer desired and those of CronJobs no longer desired, then the
// records of those CronJobs.
func (b *batch) dropUndesired(r *Result) {
	for _, id := range sortedRecordKeys(b.recs) {
		rec := b.recs[id]
		if b.claimed["job/"+id] || b.claimed["cronjob/"+rec.Namespace+"/"+rec.CronJob] {
			continue
		}
		why := "Job no longer desired"
		if rec.CronJob != "" {
			why = "its CronJob " + rec.CronJob + " is no longer desired"
		}
		run := &jobRun{key: config.Key{Namespace: rec.Namespace, Kind: "Job", Name: rec.Name}, rec: rec,
			pods: b.takePods(rec.Namespace, rec.Name)}
		deleteJob(r, run, why)
	}
	for _, id := range sortedRecordKeys(b.crons) {
		c := b.crons[id]
		if b.claimed["cronjob/"+id] {
			continue
		}
		key := config.Key{Namespace: c.Namespace, Kind: "CronJob", Name: c.Name}
		r.Actions = append(r.Actions, Action{Type: DeleteCronJobRecord, Namespace: c.Namespace, Owner: key,
			CronJobRecord: c, Reason: "CronJob no longer desired", Cause: CauseJob})
	}
}

// deleteJob removes a Job: its pods first, then, once none is left, its
// record.
func deleteJob(r *Result, j *jobRun, why string) {
	for _, p := range j.pods {
		if !p.Terminating {
			r.Actions = append(r.Actions, removePod(j.key, p, "deleting the Job: "+why, CauseJob))
		}
	}
	if len(j.pods) == 0 && j.rec != nil {
		a := Action{Type: DeleteJobRecord, Namespace: j.key.Namespace, Owner: j.key, JobRecord: j.rec,
			Reason: "deleted the Job: " + why, Cause: CauseJob, Event: "SuccessfulDelete"}
		r.Actions = append(r.Actions, a)
	}
}

// derefInt32 reads an optional int32, with a fallback for nil.
func derefInt32(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// sortedRecordKeys returns a map's keys in order.
func sortedRecordKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}
