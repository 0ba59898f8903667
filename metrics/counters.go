package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reconciler/reconciler/executor"
)

var (
	_ executor.Observer      = (*Counters)(nil)
	_ executor.ProbeObserver = (*Counters)(nil)
)

// Counters holds the measurements the loop reports as they happen (source
// loads, pass durations, applied actions, container restarts, rollout
// durations); it is the executor's Observer. Its labels are fixed sets
// (result, phase), never workload or pod names.
type Counters struct {
	syncs       *prometheus.CounterVec
	lastSuccess prometheus.Gauge
	pass        *prometheus.HistogramVec
	actions     prometheus.Counter
	restarts    prometheus.Counter
	rollout     prometheus.Histogram
	probes      *prometheus.CounterVec
	probeTime   *prometheus.HistogramVec
	now         func() time.Time
}

// NewCounters registers the event-driven metrics on reg. Every labelled
// series exists from the start, at zero.
func NewCounters(reg prometheus.Registerer) (*Counters, error) {
	c := &Counters{
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reconciler_sync_attempts_total",
			Help: "Loads of the desired state from the source, by result (success or failure).",
		}, []string{"result"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "reconciler_sync_last_success_timestamp_seconds",
			Help: "When the desired state was last loaded from the source successfully.",
		}),
		pass: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "reconciler_pass_duration_seconds",
			Help:    "Time of each reconcile pass's phases: plan (observe included) and apply.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"phase"}),
		actions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "reconciler_actions_applied_total",
			Help: "Actions the loop applied successfully (pods and containers created, started, stopped, removed).",
		}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "reconciler_containers_restarted_total",
			Help: "Containers the loop restarted after they exited, under their pod's restart policy.",
		}),
		rollout: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "reconciler_rollout_duration_seconds",
			Help:    "Time from a new template's first pass to its rollout's completion.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12),
		}),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reconciler_probe_results_total",
			Help: "Probe attempts by probe (Startup, Liveness, Readiness) and result (success, failure, error: the probe could not be carried out).",
		}, []string{"probe", "result"}),
		probeTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "reconciler_probe_duration_seconds",
			Help:    "Time each probe attempt took, by probe.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 9),
		}, []string{"probe"}),
		now: time.Now,
	}
	c.syncs.WithLabelValues("success")
	c.syncs.WithLabelValues("failure")
	c.pass.WithLabelValues("plan")
	c.pass.WithLabelValues("apply")
	for _, p := range []string{"Startup", "Liveness", "Readiness"} {
		for _, r := range []string{"success", "failure", "error"} {
			c.probes.WithLabelValues(p, r)
		}
		c.probeTime.WithLabelValues(p)
	}
	for _, m := range []prometheus.Collector{c.syncs, c.lastSuccess, c.pass, c.actions, c.restarts, c.rollout, c.probes, c.probeTime} {
		if err := reg.Register(m); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// SyncAttempt counts one load of the source and, on success, sets the
// last-success timestamp.
func (c *Counters) SyncAttempt(ok bool) {
	if !ok {
		c.syncs.WithLabelValues("failure").Inc()
		return
	}
	c.syncs.WithLabelValues("success").Inc()
	c.lastSuccess.Set(float64(c.now().UnixNano()) / 1e9)
}

// Pass records one pass's phase durations and its applied actions.
func (c *Counters) Pass(plan, apply time.Duration, actions int) {
	c.pass.WithLabelValues("plan").Observe(plan.Seconds())
	c.pass.WithLabelValues("apply").Observe(apply.Seconds())
	c.actions.Add(float64(actions))
}

// ContainerRestart counts one restart of an exited container.
func (c *Counters) ContainerRestart() { c.restarts.Inc() }

// RolloutDone records a completed rollout.
func (c *Counters) RolloutDone(d time.Duration) { c.rollout.Observe(d.Seconds()) }

// ProbeResult counts one probe attempt and records its duration; it is
// safe for concurrent use (executor.ProbeObserver).
func (c *Counters) ProbeResult(probe, result string, took time.Duration) {
	c.probes.WithLabelValues(probe, result).Inc()
	c.probeTime.WithLabelValues(probe).Observe(took.Seconds())
}
