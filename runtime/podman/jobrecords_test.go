package podman_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/runtime"
)

// TestJobRecordsRoundTrip writes Job and CronJob records, updates and
// deletes them, and reads every field back from the engine's labels, for
// this node only.
func TestJobRecordsRoundTrip(t *testing.T) {
	t.Parallel()
	rt := testenv.Podman(t)
	sc := testenv.NewScope(t, rt)
	other := testenv.NewScope(t, rt)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	at := time.Date(2026, 11, 23, 12, 1, 0, 123456789, time.UTC)
	job := runtime.JobRecord{Namespace: sc.Namespace, Name: "tick-29923921", Node: sc.Node, TemplateHash: "h1",
		CronJob: "tick", ScheduledTime: at.Truncate(time.Minute), Spec: []byte(`{"spec":{"completions":1}}`),
		Created: at, StartTime: at, Succeeded: 0, Failed: 2}
	cron := runtime.CronJobRecord{Namespace: sc.Namespace, Name: "tick", Node: sc.Node, Created: at.Add(-time.Hour)}
	for _, err := range []error{rt.PutJobRecord(ctx, job), rt.PutCronJobRecord(ctx, cron),
		rt.PutJobRecord(ctx, runtime.JobRecord{Namespace: other.Namespace, Name: "x", Node: other.Node})} {
		if err != nil {
			t.Fatal(err)
		}
	}
	job.Succeeded, job.Condition, job.Reason, job.Message, job.CompletionTime, job.Manual = 1, runtime.JobComplete, "", "Job completed", at.Add(time.Minute), true
	cron.LastScheduleTime = job.ScheduledTime
	if err := rt.PutJobRecord(ctx, job); err != nil {
		t.Fatal(err)
	}
	if err := rt.PutCronJobRecord(ctx, cron); err != nil {
		t.Fatal(err)
	}
	jobs, crons, err := rt.JobRecords(ctx, sc.Node)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || len(crons) != 1 {
		t.Fatalf("records %+v %+v: want one of each, the newest version", jobs, crons)
	}
	if !reflect.DeepEqual(jobs[0], job) {
		t.Errorf("job record\n got  %+v\n want %+v", jobs[0], job)
	}
	if !reflect.DeepEqual(crons[0], cron) {
		t.Errorf("cronjob record\n got  %+v\n want %+v", crons[0], cron)
	}
	if err := rt.DeleteJobRecord(ctx, job); err != nil {
		t.Fatal(err)
	}
	if err := rt.DeleteCronJobRecord(ctx, cron); err != nil {
		t.Fatal(err)
	}
	if jobs, crons, err := rt.JobRecords(ctx, sc.Node); err != nil || len(jobs)+len(crons) != 0 {
		t.Fatalf("after delete: %+v %+v %v", jobs, crons, err)
	}
	if jobs, _, err := rt.JobRecords(ctx, other.Node); err != nil || len(jobs) != 1 {
		t.Fatalf("the other node's record: %+v %v", jobs, err)
	}
}
