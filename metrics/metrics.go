// Package metrics exports the daemon's state to Prometheus. It is a
// read-only view: a collector reads the reconcile loop's and the source's
// status at scrape time, so nothing is counted on the hot path and the
// values can never drift from what /api/v1/status says. Names use the
// reconciler_ prefix and base units; labels carry workload names, never pod
// names or container IDs.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/fleet"
	"github.com/reconciler/reconciler/gitsync"
	"github.com/reconciler/reconciler/runtime"
)

// Sources are the views the collector reads; Source may return nil when the
// desired state comes from a plain directory.
type Sources struct {
	Loop   func() executor.Status
	Source func() *gitsync.Status
	// Pods returns the last observation's pods (optional).
	Pods func() []runtime.Pod
	// Members returns the fleet's members as this node sees them
	// (optional).
	Members func() []fleet.Member
}

// New registers the reconciler's metrics on reg.
func New(reg prometheus.Registerer, src Sources) error {
	if err := reg.Register(&collector{src: src}); err != nil {
		return err
	}
	if err := reg.Register(&jobCollector{src: src}); err != nil {
		return err
	}
	if err := reg.Register(&fleetCollector{src: src}); err != nil {
		return err
	}
	return reg.Register(&serviceCollector{src: src})
}

var (
	descEngineUp = prometheus.NewDesc("reconciler_engine_up",
		"1 when the container engine answered the last observation.", nil, nil)
	descInSync = prometheus.NewDesc("reconciler_in_sync",
		"1 when the last reconcile pass had nothing left to do.", nil, nil)
	descApplied = prometheus.NewDesc("reconciler_sync_applied_timestamp_seconds",
		"When the revision in force started to be applied.", nil, nil)
	descSourceError = prometheus.NewDesc("reconciler_source_error",
		"1 while the newest source revision is refused (reason=invalid) or the source cannot be reached (reason=unreachable).", []string{"reason"}, nil)
	descFetched = prometheus.NewDesc("reconciler_source_fetch_timestamp_seconds",
		"When the source was last fetched successfully.", nil, nil)
	descReplicas = prometheus.NewDesc("reconciler_workload_replicas",
		"Pods of a workload by state: desired, updated (current template), ready (probes passed), available.", []string{"namespace", "kind", "name", "state"}, nil)
	descRollout = prometheus.NewDesc("reconciler_rollout_failed",
		"1 when a workload's rollout missed its progress deadline or was automatically reverted.", []string{"namespace", "kind", "name"}, nil)
	descDrift = prometheus.NewDesc("reconciler_drift_objects",
		"Workloads that differ from a desired state they had reached, without a change in the source, by reason.", []string{"namespace", "kind", "reason"}, nil)
	descCorrections = prometheus.NewDesc("reconciler_drift_corrections_total",
		"Drift corrections applied since the daemon started, by reason.", []string{"reason"}, nil)
	descFetches = prometheus.NewDesc("reconciler_source_fetches_total",
		"Fetches of the Git repository tried since the daemon started, by result.", []string{"result"}, nil)
	descSyncInfo = prometheus.NewDesc("reconciler_sync_info",
		"Always 1; labels name the revision (git commit) applied and the last one fetched.", []string{"applied", "fetched"}, nil)
	descInProgress = prometheus.NewDesc("reconciler_rollouts_in_progress",
		"Workloads whose pods do not all run the desired template yet.", nil, nil)
	descRestarts = prometheus.NewDesc("reconciler_container_restarts",
		"Restarts of the current containers of a workload's pods, as the engine records them.", []string{"namespace", "kind", "name"}, nil)
	descWaiting = prometheus.NewDesc("reconciler_pods_waiting",
		"Pods that wait, by reason (ErrImagePull, ImagePullBackOff, ...).", []string{"reason"}, nil)
)

type collector struct{ src Sources }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEngineUp, descInSync, descApplied, descSourceError, descFetched, descReplicas, descRollout, descWaiting, descDrift, descCorrections, descFetches, descInProgress, descRestarts, descSyncInfo} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Loop()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descEngineUp, b2f(st.EngineUp))
	gauge(descInSync, b2f(st.InSync))
	if !st.RevisionTime.IsZero() {
		gauge(descApplied, float64(st.RevisionTime.UnixNano())/1e9)
	}
	invalid, unreachable := st.SourceError != "", false
	fetched := st.Revision
	if c.src.Source != nil {
		if s := c.src.Source(); s != nil {
			invalid, unreachable = s.LastError != "" && s.Refused, s.LastError != "" && !s.Refused
			if s.LastFetched != "" {
				fetched = s.LastFetched
			}
			if !s.LastFetchTime.IsZero() {
				gauge(descFetched, float64(s.LastFetchTime.UnixNano())/1e9)
			}
			ch <- prometheus.MustNewConstMetric(descFetches, prometheus.CounterValue, float64(s.Fetches-s.FetchFailures), "success")
			ch <- prometheus.MustNewConstMetric(descFetches, prometheus.CounterValue, float64(s.FetchFailures), "failure")
		}
	}
	if st.Revision != "" {
		gauge(descSyncInfo, 1, st.Revision, fetched)
	}
	gauge(descSourceError, b2f(invalid), "invalid")
	gauge(descSourceError, b2f(unreachable), "unreachable")
	inProgress := 0
	for _, w := range st.Workloads {
		if !w.Complete {
			inProgress++
		}
		gauge(descReplicas, float64(w.Ready), w.Namespace, w.Kind, w.Name, "ready")
		gauge(descReplicas, float64(w.Replicas), w.Namespace, w.Kind, w.Name, "desired")
		gauge(descReplicas, float64(w.Updated), w.Namespace, w.Kind, w.Name, "updated")
		gauge(descReplicas, float64(w.Available), w.Namespace, w.Kind, w.Name, "available")
		gauge(descRollout, b2f(w.DeadlineExceeded || w.Failed != ""), w.Namespace, w.Kind, w.Name)
	}
	gauge(descInProgress, float64(inProgress))
	c.restarts(gauge)
	drift := map[[3]string]int{}
	for _, d := range st.Drift {
		drift[[3]string{d.Namespace, d.Kind, d.Reason}]++
	}
	for k, n := range drift {
		gauge(descDrift, float64(n), k[0], k[1], k[2])
	}
	for reason, n := range st.DriftCorrections {
		ch <- prometheus.MustNewConstMetric(descCorrections, prometheus.CounterValue, float64(n), reason)
	}
	waiting := map[string]int{}
	for _, p := range st.Pods {
		waiting[p.Reason]++
	}
	for reason, n := range waiting {
		gauge(descWaiting, float64(n), reason)
	}
}

// restarts sums, per workload, the restart counts of its pods' current
// containers.
func (c *collector) restarts(gauge func(*prometheus.Desc, float64, ...string)) {
	if c.src.Pods == nil {
		return
	}
	sum := map[[3]string]int{}
	cronOf := cronJobOfJobs(c.src.Loop().Jobs)
	for _, p := range c.src.Pods() {
		k := [3]string{p.Namespace, p.Owner.Kind, p.Owner.Name}
		if cj, ok := cronOf[p.Namespace+"/"+p.Owner.Name]; ok && p.Owner.Kind == "Job" {
			k = [3]string{p.Namespace, "CronJob", cj} // never a generated name as a label value
		}
		seen := map[string]bool{}
		for i := range p.Containers {
			name := p.Containers[i].Name
			if !seen[name] {
				seen[name] = true
				sum[k] += p.Current(name).RestartCount
			}
		}
	}
	for k, n := range sum {
		gauge(descRestarts, float64(n), k[0], k[1], k[2])
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
