package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/planner"
	"github.com/reconciler/reconciler/runtime"
)

func TestJobMetrics(t *testing.T) {
	st := executor.Status{
		Jobs: []planner.JobStatus{
			{Namespace: "ns", Name: "dice", Status: "Complete", Succeeded: 1, Failed: 4},
			{Namespace: "ns", Name: "tick-1", CronJob: "tick", Status: "Complete", Succeeded: 1},
			{Namespace: "ns", Name: "tick-2", CronJob: "tick", Status: "Failed", Failed: 2},
			{Namespace: "ns", Name: "tick-3", CronJob: "tick", Status: "Running", Active: 1},
		},
		CronJobs: []planner.CronJobStatus{{Namespace: "ns", Name: "tick", Active: []string{"tick-3"},
			LastScheduleTime: time.Unix(1700000040, 0), NextScheduleTime: time.Unix(1700000100, 0)}},
	}
	pods := []runtime.Pod{
		{Namespace: "ns", Name: "tick-3-abcde", Owner: runtime.Owner{Kind: "Job", Name: "tick-3"},
			Containers: []runtime.Container{{Name: "c", RestartCount: 2}}},
		{Namespace: "ns", Name: "dice-fghij", Owner: runtime.Owner{Kind: "Job", Name: "dice"},
			Containers: []runtime.Container{{Name: "c", RestartCount: 1}}},
	}
	reg := prometheus.NewPedanticRegistry()
	if err := New(reg, Sources{Loop: func() executor.Status { return st }, Pods: func() []runtime.Pod { return pods }}); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP reconciler_cronjob_active_jobs A CronJob's Jobs that run.
# TYPE reconciler_cronjob_active_jobs gauge
reconciler_cronjob_active_jobs{cronjob="tick",namespace="ns"} 1
# HELP reconciler_cronjob_last_schedule_timestamp_seconds The slot a CronJob last started a Job for.
# TYPE reconciler_cronjob_last_schedule_timestamp_seconds gauge
reconciler_cronjob_last_schedule_timestamp_seconds{cronjob="tick",namespace="ns"} 1.70000004e+09
# HELP reconciler_job_pods Pods (restartPolicy Never) or runs (OnFailure) of the owner's recorded Jobs, by result: active, succeeded, failed.
# TYPE reconciler_job_pods gauge
reconciler_job_pods{namespace="ns",owner="dice",owner_kind="Job",result="active"} 0
reconciler_job_pods{namespace="ns",owner="dice",owner_kind="Job",result="failed"} 4
reconciler_job_pods{namespace="ns",owner="dice",owner_kind="Job",result="succeeded"} 1
reconciler_job_pods{namespace="ns",owner="tick",owner_kind="CronJob",result="active"} 1
reconciler_job_pods{namespace="ns",owner="tick",owner_kind="CronJob",result="failed"} 2
reconciler_job_pods{namespace="ns",owner="tick",owner_kind="CronJob",result="succeeded"} 1
# HELP reconciler_jobs Jobs still recorded, by owner and status (Pending, Running, Suspended, Complete, Failed, Error, Skipped).
# TYPE reconciler_jobs gauge
reconciler_jobs{namespace="ns",owner="dice",owner_kind="Job",status="Complete"} 1
reconciler_jobs{namespace="ns",owner="tick",owner_kind="CronJob",status="Complete"} 1
reconciler_jobs{namespace="ns",owner="tick",owner_kind="CronJob",status="Failed"} 1
reconciler_jobs{namespace="ns",owner="tick",owner_kind="CronJob",status="Running"} 1
# HELP reconciler_container_restarts Restarts of the current containers of a workload's pods, as the engine records them.
# TYPE reconciler_container_restarts gauge
reconciler_container_restarts{kind="CronJob",name="tick",namespace="ns"} 2
reconciler_container_restarts{kind="Job",name="dice",namespace="ns"} 1
`
	names := []string{"reconciler_cronjob_active_jobs", "reconciler_cronjob_last_schedule_timestamp_seconds", "reconciler_job_pods", "reconciler_jobs",
		"reconciler_container_restarts"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "reconciler_cronjob_next_schedule_timestamp_seconds", "reconciler_cronjob_last_successful_timestamp_seconds"); err != nil || n != 1 {
		t.Fatalf("next/last successful: %d, %v", n, err)
	}
}
