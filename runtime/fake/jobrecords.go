package fake

import (
	"context"
	"sort"

	"github.com/reconciler/reconciler/runtime"
)

func recordKey(ns, name, node string) string { return ns + "/" + name + "/" + node }

// JobRecords lists the stored Job and CronJob records of node (all when
// empty), sorted by key.
func (r *Runtime) JobRecords(_ context.Context, node string) ([]runtime.JobRecord, []runtime.CronJobRecord, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("JobRecords"); err != nil {
		return nil, nil, err
	}
	var jobs []runtime.JobRecord
	for _, j := range r.jobs {
		if node == "" || j.Node == node {
			jobs = append(jobs, j)
		}
	}
	sort.Slice(jobs, func(i, k int) bool {
		return recordKey(jobs[i].Namespace, jobs[i].Name, jobs[i].Node) < recordKey(jobs[k].Namespace, jobs[k].Name, jobs[k].Node)
	})
	var crons []runtime.CronJobRecord
	for _, c := range r.crons {
		if node == "" || c.Node == node {
			crons = append(crons, c)
		}
	}
	sort.Slice(crons, func(i, k int) bool {
		return recordKey(crons[i].Namespace, crons[i].Name, crons[i].Node) < recordKey(crons[k].Namespace, crons[k].Name, crons[k].Node)
	})
	return jobs, crons, nil
}

// PutJobRecord stores a Job record.
func (r *Runtime) PutJobRecord(_ context.Context, j runtime.JobRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("PutJobRecord " + j.Namespace + "/" + j.Name); err != nil {
		return err
	}
	if r.jobs == nil {
		r.jobs = map[string]runtime.JobRecord{}
	}
	j.Spec = append([]byte(nil), j.Spec...)
	r.jobs[recordKey(j.Namespace, j.Name, j.Node)] = j
	return nil
}

// DeleteJobRecord forgets a Job record.
func (r *Runtime) DeleteJobRecord(_ context.Context, j runtime.JobRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("DeleteJobRecord " + j.Namespace + "/" + j.Name); err != nil {
		return err
	}
	delete(r.jobs, recordKey(j.Namespace, j.Name, j.Node))
	return nil
}

// PutCronJobRecord stores a CronJob record.
func (r *Runtime) PutCronJobRecord(_ context.Context, c runtime.CronJobRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("PutCronJobRecord " + c.Namespace + "/" + c.Name); err != nil {
		return err
	}
	if r.crons == nil {
		r.crons = map[string]runtime.CronJobRecord{}
	}
	r.crons[recordKey(c.Namespace, c.Name, c.Node)] = c
	return nil
}

// DeleteCronJobRecord forgets a CronJob record.
func (r *Runtime) DeleteCronJobRecord(_ context.Context, c runtime.CronJobRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.call("DeleteCronJobRecord " + c.Namespace + "/" + c.Name); err != nil {
		return err
	}
	delete(r.crons, recordKey(c.Namespace, c.Name, c.Node))
	return nil
}
