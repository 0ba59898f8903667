package executor

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/planner"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/runtime/fake"
)

// These tests drive the executor's Jobs and CronJobs on the fake engine
// with a settable clock: minutes pass in microseconds.

// loadManifests loads YAML documents as the desired state.
func loadManifests(t *testing.T, rev string, docs ...string) *config.Desired {
	t.Helper()
	fsys := fstest.MapFS{"m.yaml": {Data: []byte(strings.Join(docs, "---\n"))}}
	if !strings.Contains(string(fsys["m.yaml"].Data), "kind: Namespace") {
		fsys["ns.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\n")}
	}
	d, err := config.Load(fsys, rev)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// jobRig is an executor on the fake engine with its own clock.
type jobRig struct {
	t   *testing.T
	rt  *fake.Runtime
	src *stubSource
	clk *clock
	e   *Executor
}

func newJobRig(t *testing.T, d *config.Desired) *jobRig {
	t.Helper()
	r := &jobRig{t: t, rt: fake.New("img"), src: &stubSource{d: d},
		clk: &clock{t: time.Date(2026, 11, 23, 12, 0, 30, 0, time.UTC)}}
	r.rt.Now = r.clk.now
	r.restart()
	return r
}

// restart replaces the executor by a new one on the same engine, as a
// daemon killed and started again: nothing but the engine carries over.
func (r *jobRig) restart() {
	r.e = New(r.rt, r.src, Options{Node: "n1", Now: r.clk.now, Reload: time.Nanosecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// settle steps until the loop asks for no immediate pass.
func (r *jobRig) settle() {
	r.t.Helper()
	for range 30 {
		r.clk.add(time.Millisecond)
		d := r.e.Step(context.Background())
		r.e.rm.wg.Wait()
		if d > 0 && len(r.e.rm.pending) == 0 {
			return
		}
	}
	r.t.Fatal("no convergence in 30 steps")
}

// pods returns the engine's pods of Job job.
func (r *jobRig) pods(job string) []runtime.Pod {
	obs, _ := r.rt.Observe(context.Background(), "n1")
	var out []runtime.Pod
	for _, p := range obs.Pods {
		if p.Owner.Kind == "Job" && p.Owner.Name == job {
			out = append(out, p)
		}
	}
	return out
}

// exitRunning makes every running container of job's pods exit with code.
func (r *jobRig) exitRunning(job string, code int32) int {
	n := 0
	for _, p := range r.pods(job) {
		if c := p.Current("app"); c != nil && c.State == runtime.StateRunning {
			r.rt.Exit(p.Name, "app", code)
			n++
		}
	}
	return n
}

func (r *jobRig) job(name string) (planner.JobStatus, bool) {
	for _, j := range r.e.Status().Jobs {
		if j.Name == name {
			return j, true
		}
	}
	return planner.JobStatus{}, false
}

func (r *jobRig) records() []runtime.JobRecord {
	jobs, _, _ := r.rt.JobRecords(context.Background(), "n1")
	return jobs
}

const fakeJob = `apiVersion: batch/v1
kind: Job
metadata: {name: dice, namespace: ns}
spec:
  backoffLimit: 3
  template:
    spec:
      restartPolicy: Never
      containers: [{name: app, image: img, imagePullPolicy: Never}]
`

func TestFakeJobRetriesWithBackoffThenCompletesOnce(t *testing.T) {
	t.Parallel()
	r := newJobRig(t, loadManifests(t, "r1", fakeJob))
	r.settle()
	if n := len(r.pods("dice")); n != 1 {
		t.Fatalf("%d pods, want 1", n)
	}
	r.exitRunning("dice", 1)
	r.settle()
	if n := len(r.pods("dice")); n != 1 {
		t.Fatalf("a new pod before the back-off: %d pods", n)
	}
	if j, _ := r.job("dice"); j.Failed != 1 || j.Status != "Running" {
		t.Fatalf("after one failure: %+v", j)
	}
	r.clk.add(10 * time.Second)
	r.settle()
	if n := len(r.pods("dice")); n != 2 {
		t.Fatalf("%d pods after the 10 s back-off, want 2", n)
	}
	r.exitRunning("dice", 0)
	r.settle()
	j, _ := r.job("dice")
	if j.Status != "Complete" || j.Succeeded != 1 || j.Failed != 1 || j.CompletionTime.IsZero() {
		t.Fatalf("job %+v", j)
	}
	if !hasEvent(r.e, "Completed") {
		t.Error("no Completed event")
	}
	// A restarted daemon and later syncs never run it again.
	r.restart()
	r.clk.add(time.Hour)
	r.settle()
	r.settle()
	if n := len(r.pods("dice")); n != 2 {
		t.Fatalf("%d pods after a restart, want the 2 of the finished Job", n)
	}
	if j, _ := r.job("dice"); j.Status != "Complete" {
		t.Fatalf("after a restart: %+v", j)
	}
}

func TestFakeJobBackoffLimitExceeded(t *testing.T) {
	t.Parallel()
	r := newJobRig(t, loadManifests(t, "r1", strings.Replace(fakeJob, "backoffLimit: 3", "backoffLimit: 1", 1)))
	r.settle()
	for i := 0; i < 2; i++ {
		r.exitRunning("dice", 1)
		r.clk.add(time.Minute)
		r.settle()
	}
	j, _ := r.job("dice")
	if j.Status != "Failed" || j.Failed != 2 || len(j.Conditions) != 1 || j.Conditions[0].Reason != planner.ReasonBackoffLimitExceeded {
		t.Fatalf("job %+v", j)
	}
	var warned bool
	for _, ev := range r.e.Events() {
		warned = warned || (ev.Reason == planner.ReasonBackoffLimitExceeded && ev.Type == Warning && ev.Object == "ns/Job/dice")
	}
	if !warned {
		t.Error("no BackoffLimitExceeded warning")
	}
}

func TestFakeJobRemovedFromSource(t *testing.T) {
	t.Parallel()
	r := newJobRig(t, loadManifests(t, "r1", fakeJob))
	r.settle()
	r.src.set(loadManifests(t, "r2", "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\n"), nil)
	r.settle()
	if n := len(r.pods("dice")); n != 0 || len(r.records()) != 0 {
		t.Fatalf("after removal: %d pods, records %+v", n, r.records())
	}
}

func TestFakeJobTemplateChangeRefused(t *testing.T) {
	t.Parallel()
	r := newJobRig(t, loadManifests(t, "r1", fakeJob))
	r.settle()
	r.exitRunning("dice", 0)
	r.settle()
	r.src.set(loadManifests(t, "r2", strings.Replace(fakeJob, "imagePullPolicy: Never", "imagePullPolicy: IfNotPresent", 1)), nil)
	r.settle()
	j, _ := r.job("dice")
	if !strings.Contains(j.Error, "field is immutable") || j.Status != "Complete" || len(r.pods("dice")) != 1 {
		t.Fatalf("job %+v, %d pods", j, len(r.pods("dice")))
	}
}

const fakeCron = `apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: ns}
spec:
  schedule: "* * * * *"
  timeZone: Etc/UTC
  concurrencyPolicy: %s
  successfulJobsHistoryLimit: 2
  failedJobsHistoryLimit: 1
  jobTemplate:
    spec:
      backoffLimit: 0
      template:
        spec:
          restartPolicy: Never
          containers: [{name: app, image: img, imagePullPolicy: Never}]
`

func TestFakeCronJobEveryMinuteWithHistoryLimits(t *testing.T) {
	t.Parallel()
	r := newJobRig(t, loadManifests(t, "r1", strings.Replace(fakeCron, "%s", "Allow", 1)))
	r.settle() // the CronJob is first seen at 12:00:30
	var names []string
	for i := 1; i <= 5; i++ {
		r.clk.add(time.Minute) // 12:0i:30: slot 12:0i:00
		r.settle()
		name := planner.JobName("tick", time.Date(2026, 11, 23, 12, i, 0, 0, time.UTC))
		names = append(names, name)
		code := int32(0)
		if i == 4 {
			code = 1 // one failure
		}
		if n := r.exitRunning(name, code); n != 1 {
			t.Fatalf("slot %d: %d running pods of %s", i, n, name)
		}
		r.settle()
	}
	var kept []string
	for _, rec := range r.records() {
		kept = append(kept, rec.Name+"="+rec.Condition)
	}
	want := []string{names[2] + "=Complete", names[3] + "=Failed", names[4] + "=Complete"}
	if strings.Join(kept, " ") != strings.Join(want, " ") {
		t.Fatalf("records %v, want %v", kept, want)
	}
	st := r.e.Status().CronJobs
	if len(st) != 1 || !st[0].LastScheduleTime.Equal(time.Date(2026, 11, 23, 12, 5, 0, 0, time.UTC)) || len(st[0].Active) != 0 {
		t.Fatalf("cronjob status %+v", st)
	}
	// A restart in the same minute does not run the slot again.
	r.restart()
	r.settle()
	if got := len(r.records()); got != 3 || len(r.pods(names[4])) != 1 {
		t.Fatalf("after a restart: %d records, %d pods of %s", got, len(r.pods(names[4])), names[4])
	}
}

func TestFakeCronJobForbidSkipsWhileRunning(t *testing.T) {
	t.Parallel()
	r := newJobRig(t, loadManifests(t, "r1", strings.Replace(fakeCron, "%s", "Forbid", 1)))
	r.settle()
	r.clk.add(time.Minute)
	r.settle()
	first := planner.JobName("tick", time.Date(2026, 11, 23, 12, 1, 0, 0, time.UTC))
	if len(r.pods(first)) != 1 {
		t.Fatalf("no pod for %s", first)
	}
	r.clk.add(time.Minute) // slot 12:02 while the first Job runs
	r.settle()
	r.settle()
	if got := len(r.records()); got != 1 {
		t.Fatalf("%d Job records while Forbid holds, want 1", got)
	}
	skips := 0
	for _, ev := range r.e.Events() {
		if ev.Reason == "JobAlreadyActive" && ev.Object == "ns/CronJob/tick" {
			skips++
		}
	}
	if skips != 1 {
		t.Fatalf("%d JobAlreadyActive events, want 1", skips)
	}
}

func TestFakeCreateJobFrom(t *testing.T) {
	t.Parallel()
	r := newJobRig(t, loadManifests(t, "r1", strings.Replace(fakeCron, "%s", "Allow", 1), fakeJob))
	r.settle()
	ctx := context.Background()
	for _, tc := range []struct {
		ns, name, from string
		want           error
	}{
		{"ns", "Bad_Name", "tick", ErrInvalidJob},
		{"ns", "manual", "nope", ErrNoCronJob},
		{"other", "manual", "tick", ErrNoCronJob},
		{"ns", "dice", "tick", ErrJobExists},
	} {
		if err := r.e.CreateJobFrom(ctx, tc.ns, tc.name, tc.from); !errors.Is(err, tc.want) {
			t.Errorf("CreateJobFrom(%s, %s, %s) = %v, want %v", tc.ns, tc.name, tc.from, err, tc.want)
		}
	}
	if err := r.e.CreateJobFrom(ctx, "ns", "manual", "tick"); err != nil {
		t.Fatal(err)
	}
	if err := r.e.CreateJobFrom(ctx, "ns", "manual", "tick"); !errors.Is(err, ErrJobExists) {
		t.Errorf("a second manual run of the same name: %v", err)
	}
	r.settle()
	j, ok := r.job("manual")
	if !ok || !j.Manual || j.CronJob != "tick" || len(r.pods("manual")) != 1 {
		t.Fatalf("manual job %+v, %d pods", j, len(r.pods("manual")))
	}
}

func TestFakeJobPodsAreProbed(t *testing.T) {
	t.Parallel()
	d := loadManifests(t, "r1", fakeJob, strings.Replace(fakeCron, "%s", "Allow", 1))
	r := newJobRig(t, d)
	r.settle()
	r.clk.add(time.Minute)
	r.settle()
	tmpls := r.e.templates(d, nil)
	obs, _ := r.rt.Observe(context.Background(), "n1")
	if len(obs.Pods) != 2 {
		t.Fatalf("%d pods, want the Job's and the CronJob's", len(obs.Pods))
	}
	for _, p := range obs.Pods {
		if tmpls[templateKey(p.Namespace, p.Owner.Kind, p.Owner.Name, p.TemplateHash)] == nil {
			t.Errorf("no template for pod %s of %s/%s: its probes would not run", p.Name, p.Owner.Kind, p.Owner.Name)
		}
	}
}

func TestFakeRecordsListedOnlyWhenJobsExist(t *testing.T) {
	t.Parallel()
	r := newJobRig(t, loadManifests(t, "r1", "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\n"))
	r.settle()
	r.rt.ResetCalls()
	r.clk.add(time.Minute)
	r.settle()
	if n := countPrefix(r.rt.Calls(), "JobRecords"); n != 0 {
		t.Fatalf("%d record listings on a node without Jobs", n)
	}
	r.src.set(loadManifests(t, "r2", fakeJob), nil)
	r.settle()
	if n := len(r.pods("dice")); n != 1 || countPrefix(r.rt.Calls(), "JobRecords") == 0 {
		t.Fatalf("a Job added: %d pods, calls %v", n, r.rt.Calls())
	}
	// A restarted daemon lists once, finds the record, and keeps listing
	// while it has records.
	r.src.set(loadManifests(t, "r3", "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\n"), nil)
	r.restart()
	r.settle()
	if n := len(r.pods("dice")); n != 0 || len(r.records()) != 0 {
		t.Fatalf("the Job removed from the source: %d pods, records %+v", n, r.records())
	}
}
