package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/gitsync"
	"github.com/reconciler/reconciler/planner"
	"github.com/reconciler/reconciler/runtime"
)

func TestCollector(t *testing.T) {
	st := executor.Status{EngineUp: true, InSync: false, RevisionTime: time.Unix(1700000000, 0),
		Pods: map[string]executor.PodStatus{"ns/a": {Reason: "ErrImagePull"}, "ns/b": {Reason: "ErrImagePull"}},
		Workloads: []executor.WorkloadStatus{{Namespace: "ns", Kind: "Deployment", Name: "web",
			RolloutStatus: planner.RolloutStatus{Replicas: 3, Updated: 2, Available: 3, DeadlineExceeded: true}}}}
	src := &gitsync.Status{LastError: "commit refused: deploy.yaml#0: spec.replicas: bad", Refused: true, LastFetchTime: time.Unix(1700000100, 0)}
	reg := prometheus.NewPedanticRegistry()
	if err := New(reg, Sources{Loop: func() executor.Status { return st }, Source: func() *gitsync.Status { return src }}); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP reconciler_engine_up 1 when the container engine answered the last observation.
# TYPE reconciler_engine_up gauge
reconciler_engine_up 1
# HELP reconciler_pods_waiting Pods that wait, by reason (ErrImagePull, ImagePullBackOff, ...).
# TYPE reconciler_pods_waiting gauge
reconciler_pods_waiting{reason="ErrImagePull"} 2
# HELP reconciler_rollout_failed 1 when a workload's rollout missed its progress deadline or was automatically reverted.
# TYPE reconciler_rollout_failed gauge
reconciler_rollout_failed{kind="Deployment",name="web",namespace="ns"} 1
# HELP reconciler_source_error 1 while the newest source revision is refused (reason=invalid) or the source cannot be reached (reason=unreachable).
# TYPE reconciler_source_error gauge
reconciler_source_error{reason="invalid"} 1
reconciler_source_error{reason="unreachable"} 0
# HELP reconciler_workload_replicas Pods of a workload by state: desired, updated (current template), ready (probes passed), available.
# TYPE reconciler_workload_replicas gauge
reconciler_workload_replicas{kind="Deployment",name="web",namespace="ns",state="available"} 3
reconciler_workload_replicas{kind="Deployment",name="web",namespace="ns",state="desired"} 3
reconciler_workload_replicas{kind="Deployment",name="web",namespace="ns",state="ready"} 0
reconciler_workload_replicas{kind="Deployment",name="web",namespace="ns",state="updated"} 2
`
	names := []string{"reconciler_engine_up", "reconciler_pods_waiting", "reconciler_rollout_failed", "reconciler_source_error", "reconciler_workload_replicas"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "reconciler_sync_applied_timestamp_seconds", "reconciler_source_fetch_timestamp_seconds"); err != nil || n != 2 {
		t.Fatalf("timestamps: %d, %v", n, err)
	}
	src.Refused = false // the same error is now an unreachable repository
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP reconciler_source_error 1 while the newest source revision is refused (reason=invalid) or the source cannot be reached (reason=unreachable).
# TYPE reconciler_source_error gauge
reconciler_source_error{reason="invalid"} 0
reconciler_source_error{reason="unreachable"} 1
`), "reconciler_source_error"); err != nil {
		t.Fatal(err)
	}
}

func TestCountersAndEngineMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	c, err := NewCounters(reg)
	if err != nil {
		t.Fatal(err)
	}
	c.Pass(2*time.Millisecond, 30*time.Millisecond, 3)
	c.Pass(time.Millisecond, 0, 0)
	c.RolloutDone(12 * time.Second)
	if got := testutil.ToFloat64(c.actions); got != 3 {
		t.Errorf("actions applied %v, want 3", got)
	}
	if n := testutil.CollectAndCount(c.pass); n != 2 {
		t.Errorf("%d pass-duration series, want plan and apply", n)
	}
	if n, err := testutil.GatherAndCount(reg, "reconciler_rollout_duration_seconds"); err != nil || n != 1 {
		t.Errorf("rollout duration: %d, %v", n, err)
	}

	st := executor.Status{Workloads: []executor.WorkloadStatus{
		{Namespace: "ns", Kind: "Deployment", Name: "web", RolloutStatus: planner.RolloutStatus{Complete: false}},
		{Namespace: "ns", Kind: "Pod", Name: "solo", RolloutStatus: planner.RolloutStatus{Complete: true}}}}
	pods := []runtime.Pod{{Namespace: "ns", Name: "web-a", Owner: runtime.Owner{Kind: "Deployment", Name: "web"},
		Containers: []runtime.Container{{Name: "c", RestartCount: 1}, {Name: "c", RestartCount: 4}, {Name: "d", RestartCount: 2}}}}
	st.Revision = "c1"
	src := &gitsync.Status{Fetches: 10, FetchFailures: 3, LastFetched: "c2"}
	reg2 := prometheus.NewPedanticRegistry()
	if err := New(reg2, Sources{Loop: func() executor.Status { return st }, Source: func() *gitsync.Status { return src },
		Pods: func() []runtime.Pod { return pods }}); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP reconciler_container_restarts Restarts of the current containers of a workload's pods, as the engine records them.
# TYPE reconciler_container_restarts gauge
reconciler_container_restarts{kind="Deployment",name="web",namespace="ns"} 6
# HELP reconciler_rollouts_in_progress Workloads whose pods do not all run the desired template yet.
# TYPE reconciler_rollouts_in_progress gauge
reconciler_rollouts_in_progress 1
# HELP reconciler_sync_info Always 1; labels name the revision (git commit) applied and the last one fetched.
# TYPE reconciler_sync_info gauge
reconciler_sync_info{applied="c1",fetched="c2"} 1
# HELP reconciler_source_fetches_total Fetches of the Git repository tried since the daemon started, by result.
# TYPE reconciler_source_fetches_total counter
reconciler_source_fetches_total{result="failure"} 3
reconciler_source_fetches_total{result="success"} 7
`
	if err := testutil.GatherAndCompare(reg2, strings.NewReader(want), "reconciler_container_restarts",
		"reconciler_rollouts_in_progress", "reconciler_source_fetches_total", "reconciler_sync_info"); err != nil {
		t.Fatal(err)
	}
}
