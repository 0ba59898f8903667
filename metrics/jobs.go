package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reconciler/reconciler/planner"
)

// The Job and CronJob metrics. A CronJob's Jobs have generated names (one
// per slot), so they are counted under their CronJob, never by their own
// name: owner_kind is Job for a Job of the source (owner is its name) and
// CronJob for a CronJob's Jobs.
var (
	descJobs = prometheus.NewDesc("reconciler_jobs",
		"Jobs still recorded, by owner and status (Pending, Running, Suspended, Complete, Failed, Error, Skipped).",
		[]string{"namespace", "owner_kind", "owner", "status"}, nil)
	descJobPods = prometheus.NewDesc("reconciler_job_pods",
		"Pods (restartPolicy Never) or runs (OnFailure) of the owner's recorded Jobs, by result: active, succeeded, failed.",
		[]string{"namespace", "owner_kind", "owner", "result"}, nil)
	descCronLast = prometheus.NewDesc("reconciler_cronjob_last_schedule_timestamp_seconds",
		"The slot a CronJob last started a Job for.", []string{"namespace", "cronjob"}, nil)
	descCronNext = prometheus.NewDesc("reconciler_cronjob_next_schedule_timestamp_seconds",
		"A CronJob's next slot (absent while it is suspended).", []string{"namespace", "cronjob"}, nil)
	descCronSuccess = prometheus.NewDesc("reconciler_cronjob_last_successful_timestamp_seconds",
		"When the newest of a CronJob's recorded Jobs completed.", []string{"namespace", "cronjob"}, nil)
	descCronActive = prometheus.NewDesc("reconciler_cronjob_active_jobs",
		"A CronJob's Jobs that run.", []string{"namespace", "cronjob"}, nil)
)

// jobCollector exports the Jobs' and CronJobs' status from the loop.
type jobCollector struct{ src Sources }

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descJobs, descJobPods, descCronLast, descCronNext, descCronSuccess, descCronActive} {
		ch <- d
	}
}

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Loop()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	type owner struct{ ns, kind, name string }
	jobs := map[owner]map[string]int{}
	pods := map[owner][3]int32{}
	for _, j := range st.Jobs {
		o := owner{j.Namespace, "Job", j.Name}
		if j.CronJob != "" {
			o = owner{j.Namespace, "CronJob", j.CronJob}
		}
		if jobs[o] == nil {
			jobs[o] = map[string]int{}
		}
		jobs[o][j.Status]++
		p := pods[o]
		p[0], p[1], p[2] = p[0]+j.Active, p[1]+j.Succeeded, p[2]+j.Failed
		pods[o] = p
	}
	for o, by := range jobs {
		for status, n := range by {
			gauge(descJobs, float64(n), o.ns, o.kind, o.name, status)
		}
		p := pods[o]
		gauge(descJobPods, float64(p[0]), o.ns, o.kind, o.name, "active")
		gauge(descJobPods, float64(p[1]), o.ns, o.kind, o.name, "succeeded")
		gauge(descJobPods, float64(p[2]), o.ns, o.kind, o.name, "failed")
	}
	for _, cj := range st.CronJobs {
		if !cj.LastScheduleTime.IsZero() {
			gauge(descCronLast, float64(cj.LastScheduleTime.UnixNano())/1e9, cj.Namespace, cj.Name)
		}
		if !cj.NextScheduleTime.IsZero() {
			gauge(descCronNext, float64(cj.NextScheduleTime.UnixNano())/1e9, cj.Namespace, cj.Name)
		}
		if !cj.LastSuccessfulTime.IsZero() {
			gauge(descCronSuccess, float64(cj.LastSuccessfulTime.UnixNano())/1e9, cj.Namespace, cj.Name)
		}
		gauge(descCronActive, float64(len(cj.Active)), cj.Namespace, cj.Name)
	}
}

// cronJobOfJobs maps "namespace/job" to the CronJob that created the Job,
// for the Jobs a CronJob created.
func cronJobOfJobs(jobs []planner.JobStatus) map[string]string {
	out := map[string]string{}
	for _, j := range jobs {
		if j.CronJob != "" {
			out[j.Namespace+"/"+j.Name] = j.CronJob
		}
	}
	return out
}
