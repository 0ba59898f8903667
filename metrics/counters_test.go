package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// newTestCounters registers Counters on a pedantic registry with a fixed
// clock.
func newTestCounters(t *testing.T) (*Counters, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	c, err := NewCounters(reg)
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return time.Unix(1767225600, 500_000_000) }
	return c, reg
}

func TestCountersSyncAttempts(t *testing.T) {
	c, reg := newTestCounters(t)
	if got := testutil.ToFloat64(c.lastSuccess); got != 0 {
		t.Errorf("last success %v before any load, want 0", got)
	}
	c.SyncAttempt(true)
	c.SyncAttempt(false)
	c.SyncAttempt(true)
	want := `
# HELP reconciler_sync_attempts_total Loads of the desired state from the source, by result (success or failure).
# TYPE reconciler_sync_attempts_total counter
reconciler_sync_attempts_total{result="failure"} 1
reconciler_sync_attempts_total{result="success"} 2
# HELP reconciler_sync_last_success_timestamp_seconds When the desired state was last loaded from the source successfully.
# TYPE reconciler_sync_last_success_timestamp_seconds gauge
reconciler_sync_last_success_timestamp_seconds 1.7672256005e+09
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"reconciler_sync_attempts_total", "reconciler_sync_last_success_timestamp_seconds"); err != nil {
		t.Fatal(err)
	}
}

func TestCountersStartAtZero(t *testing.T) {
	c, reg := newTestCounters(t)
	if n := testutil.CollectAndCount(c.syncs); n != 2 {
		t.Errorf("%d sync-attempt series, want success and failure", n)
	}
	if n := testutil.CollectAndCount(c.pass); n != 2 {
		t.Errorf("%d pass-duration series, want plan and apply", n)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
}

func TestCountersPassesAndActions(t *testing.T) {
	c, reg := newTestCounters(t)
	c.Pass(2*time.Millisecond, 30*time.Millisecond, 3)
	c.Pass(time.Millisecond, 0, 0)
	if got := testutil.ToFloat64(c.actions); got != 3 {
		t.Errorf("actions applied %v, want 3", got)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]float64{}
	counts := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "reconciler_pass_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			phase := m.GetLabel()[0].GetValue()
			sums[phase], counts[phase] = m.GetHistogram().GetSampleSum(), m.GetHistogram().GetSampleCount()
		}
	}
	if counts["plan"] != 2 || counts["apply"] != 2 {
		t.Errorf("pass observations %v, want 2 per phase", counts)
	}
	if !near(sums["plan"], 0.003) || !near(sums["apply"], 0.030) {
		t.Errorf("pass duration sums %v, want plan 0.003 s and apply 0.030 s", sums)
	}
}

func TestCountersRestartsAndRollouts(t *testing.T) {
	c, reg := newTestCounters(t)
	c.ContainerRestart()
	c.ContainerRestart()
	c.RolloutDone(12 * time.Second)
	if got := testutil.ToFloat64(c.restarts); got != 2 {
		t.Errorf("container restarts %v, want 2", got)
	}
	if n, err := testutil.GatherAndCount(reg, "reconciler_containers_restarted_total", "reconciler_rollout_duration_seconds"); err != nil || n != 2 {
		t.Errorf("restarts and rollout series: %d, %v", n, err)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
