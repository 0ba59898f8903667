package executor_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/planner"
	"github.com/reconciler/reconciler/runtime"
)

// These tests run Jobs and CronJobs on the real engine. The executor's
// clock is the real one plus an offset the test moves forward: a CronJob
// slot comes when the test says, and back-offs measured from the engine's
// own exit times are over at once, so no test waits for minutes.

// testClock is time.Now plus an offset that only grows.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// clockDaemon runs an executor on dir with clk until the test ends.
func clockDaemon(t *testing.T, rt runtime.Runtime, node, dir string, clk *testClock) *executor.Executor {
	t.Helper()
	testenv.DeclareNamespace(t, dir, node)
	e := executor.New(rt, &config.Dir{Path: dir, Settle: 50 * time.Millisecond}, executor.Options{
		Node: node, Resync: time.Second, RetryBase: 100 * time.Millisecond, RetryMax: time.Second, Now: clk.now,
		Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

func jobStatus(e *executor.Executor, ns, name string) (planner.JobStatus, bool) {
	for _, j := range e.Status().Jobs {
		if j.Namespace == ns && j.Name == name {
			return j, true
		}
	}
	return planner.JobStatus{}, false
}

// jobPods returns the node's pods of Job name.
func jobPods(t *testing.T, rt runtime.Runtime, node, name string) []runtime.Pod {
	t.Helper()
	obs, err := rt.Observe(context.Background(), node)
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	var out []runtime.Pod
	for _, p := range obs.Pods {
		if p.Owner.Kind == "Job" && p.Owner.Name == name {
			out = append(out, p)
		}
	}
	return out
}

const diceJobYAML = `apiVersion: batch/v1
kind: Job
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  completions: 1
  parallelism: 1
  backoffLimit: 100
  template:
    spec:
      restartPolicy: %[3]s
      terminationGracePeriodSeconds: 1
      containers:
      - {name: dice, image: "localhost/reconciler-hello:v1", imagePullPolicy: Never, args: [dice]}
`

// TestDiceJobRunsUntilItSucceeds runs the guides' dice Job (a six ends it,
// probability 1/6 a roll) under both restart policies: Never makes a new
// pod per roll, OnFailure rolls again in the same pod.
func TestDiceJobRunsUntilItSucceeds(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	dir := t.TempDir()
	writeFile(t, dir, "never.yaml", fmt.Sprintf(diceJobYAML, "dice-never", sc.Namespace, "Never"))
	writeFile(t, dir, "onfailure.yaml", fmt.Sprintf(diceJobYAML, "dice-onfailure", sc.Namespace, "OnFailure"))
	clk := &testClock{}
	clk.advance(time.Hour) // every back-off from the engine's exit times is over
	e := clockDaemon(t, rt, sc.Node, dir, clk)
	eventually(t, 55*time.Second, "both dice Jobs complete", func() bool {
		a, _ := jobStatus(e, sc.Namespace, "dice-never")
		b, _ := jobStatus(e, sc.Namespace, "dice-onfailure")
		return a.Status == "Complete" && b.Status == "Complete"
	})
	never, _ := jobStatus(e, sc.Namespace, "dice-never")
	onf, _ := jobStatus(e, sc.Namespace, "dice-onfailure")
	t.Logf("Never: %d failed rolls in %d pods; OnFailure: %d failed rolls", never.Failed, len(never.Pods), onf.Failed)
	if pods := jobPods(t, rt, sc.Node, "dice-never"); len(pods) != int(never.Failed)+1 || never.Succeeded != 1 {
		t.Errorf("Never: %d pods for %d failures and %d success", len(pods), never.Failed, never.Succeeded)
	}
	pods := jobPods(t, rt, sc.Node, "dice-onfailure")
	if len(pods) != 1 || onf.Succeeded != 1 || pods[0].Current("dice").RestartCount != int(onf.Failed) {
		t.Errorf("OnFailure: %d pods, status %+v", len(pods), onf)
	}
	var logs strings.Builder
	if err := rt.Logs(context.Background(), pods[0].Current("dice").ID, runtime.LogOptions{Tail: -1}, &logs); err != nil ||
		!strings.Contains(logs.String(), "rolled a 6: success") {
		t.Errorf("logs of the last roll: %q, %v", logs.String(), err)
	}
}

const parallelJobYAML = `apiVersion: batch/v1
kind: Job
metadata: {name: par, namespace: %s}
spec:
  completions: 5
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - {name: work, image: "localhost/reconciler-hello:v1", imagePullPolicy: Never, args: [sleep, 1s]}
`

// TestParallelJobBound runs 5 completions 2 at a time, sampling the
// engine: never more than 2 pods of the Job run at once.
func TestParallelJobBound(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	dir := t.TempDir()
	writeFile(t, dir, "par.yaml", fmt.Sprintf(parallelJobYAML, sc.Namespace))
	e := clockDaemon(t, rt, sc.Node, dir, &testClock{})
	most, samples := 0, 0
	deadline := time.Now().Add(45 * time.Second)
	for {
		running := 0
		for _, p := range jobPods(t, rt, sc.Node, "par") {
			if c := p.Current("work"); c == nil || c.State != runtime.StateExited {
				running++ // created, starting or running: not finished
			}
		}
		most, samples = max(most, running), samples+1
		if j, _ := jobStatus(e, sc.Namespace, "par"); j.Status == "Complete" {
			if j.Succeeded != 5 || j.Failed != 0 {
				t.Fatalf("job %+v", j)
			}
			break
		}
		if time.Now().After(deadline) {
			j, _ := jobStatus(e, sc.Namespace, "par")
			t.Fatalf("not complete: %+v", j)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d samples, at most %d pods running", samples, most)
	if most > 2 {
		t.Errorf("%d pods ran at once, parallelism is 2", most)
	}
	if most < 2 {
		t.Errorf("never 2 pods at once: the Job did not run in parallel")
	}
	if n := len(jobPods(t, rt, sc.Node, "par")); n != 5 {
		t.Errorf("%d pods, want 5", n)
	}
}

const failingJobYAML = `apiVersion: batch/v1
kind: Job
metadata: {name: doomed, namespace: %s}
spec:
  backoffLimit: 2
  ttlSecondsAfterFinished: 60
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - {name: c, image: "localhost/reconciler-hello:v1", imagePullPolicy: Never, args: [exit, "3"]}
`

// TestJobBackoffLimitExceededSurvivesTTLAndRestart: a Job that always
// fails ends Failed (BackoffLimitExceeded) after backoffLimit+1 pods; its
// TTL removes the pods, its record stays in the engine, and a new daemon
// does not run it again.
func TestJobBackoffLimitExceededSurvivesTTLAndRestart(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	dir := t.TempDir()
	writeFile(t, dir, "doomed.yaml", fmt.Sprintf(failingJobYAML, sc.Namespace))
	clk := &testClock{}
	clk.advance(time.Hour)
	e := clockDaemon(t, rt, sc.Node, dir, clk)
	eventually(t, 40*time.Second, "the Job failed", func() bool {
		j, _ := jobStatus(e, sc.Namespace, "doomed")
		return j.Status == "Failed"
	})
	j, _ := jobStatus(e, sc.Namespace, "doomed")
	if j.Failed != 3 || len(j.Conditions) != 1 || j.Conditions[0].Reason != planner.ReasonBackoffLimitExceeded {
		t.Fatalf("job %+v", j)
	}
	if n := len(jobPods(t, rt, sc.Node, "doomed")); n != 3 {
		t.Fatalf("%d pods, want 3", n)
	}
	clk.advance(2 * time.Minute) // past ttlSecondsAfterFinished
	e.Poke()
	eventually(t, 20*time.Second, "the TTL removed the pods", func() bool { return len(jobPods(t, rt, sc.Node, "doomed")) == 0 })
	jobs, _, err := rt.JobRecords(context.Background(), sc.Node)
	if err != nil || len(jobs) != 1 || jobs[0].Condition != runtime.JobFailed || jobs[0].Failed != 3 {
		t.Fatalf("records %+v, %v", jobs, err)
	}
	// Another daemon on the same node: the record says the Job is done.
	e2 := clockDaemon(t, rt, sc.Node, dir, clk)
	eventually(t, 10*time.Second, "the new daemon reports the failed Job", func() bool {
		j, _ := jobStatus(e2, sc.Namespace, "doomed")
		return j.Status == "Failed" && e2.Status().InSync
	})
	time.Sleep(1500 * time.Millisecond) // a resync or more
	if n := len(jobPods(t, rt, sc.Node, "doomed")); n != 0 {
		t.Fatalf("the finished Job ran again: %d pods", n)
	}
}

const cronYAML = `apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: %[1]s}
spec:
  schedule: "* * * * *"
  concurrencyPolicy: %[2]s
  successfulJobsHistoryLimit: 2
  failedJobsHistoryLimit: 1
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers:
          - {name: c, image: "localhost/reconciler-hello:v1", imagePullPolicy: Never, args: %[3]s}
`

// nextMinute moves clk to 2 s past the next minute boundary and returns
// that minute's slot.
func nextMinute(clk *testClock) time.Time {
	now := clk.now()
	slot := now.Truncate(time.Minute).Add(time.Minute)
	clk.advance(slot.Add(2 * time.Second).Sub(now))
	return slot
}

// TestCronJobEveryMinute runs a CronJob every (test) minute: each slot gets
// its Job, named after the slot, and once they succeeded only the last 2
// stay, with their pods.
func TestCronJobEveryMinute(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	dir := t.TempDir()
	writeFile(t, dir, "tick.yaml", fmt.Sprintf(cronYAML, sc.Namespace, "Allow", "[exit, \"0\"]"))
	clk := &testClock{}
	e := clockDaemon(t, rt, sc.Node, dir, clk)
	eventually(t, 10*time.Second, "the CronJob recorded", func() bool {
		cj := e.Status().CronJobs
		return len(cj) == 1 && !cj[0].Created.IsZero()
	})
	var names []string
	for i := 0; i < 3; i++ {
		slot := nextMinute(clk)
		e.Poke()
		name := planner.JobName("tick", slot)
		names = append(names, name)
		eventually(t, 20*time.Second, name+" started", func() bool {
			_, ok := jobStatus(e, sc.Namespace, name)
			return ok
		})
	}
	eventually(t, 30*time.Second, "the last 2 Jobs complete, the first deleted with its pod", func() bool {
		jobs, _, err := rt.JobRecords(context.Background(), sc.Node)
		if err != nil || len(jobs) != 2 {
			return false
		}
		for _, j := range jobs {
			if j.Name == names[0] || j.Condition != runtime.JobComplete {
				return false
			}
		}
		return len(jobPods(t, rt, sc.Node, names[0])) == 0 && len(jobPods(t, rt, sc.Node, names[1])) == 1 &&
			len(jobPods(t, rt, sc.Node, names[2])) == 1
	})
	cj := e.Status().CronJobs[0]
	if want := planner.JobName("tick", cj.LastScheduleTime); want != names[2] {
		t.Errorf("last schedule %v (%s), want the slot of %s", cj.LastScheduleTime, want, names[2])
	}
	created := 0
	for _, ev := range e.Events() {
		if ev.Reason == "SuccessfulCreate" && ev.Object == sc.Namespace+"/CronJob/tick" {
			created++
		}
	}
	if created != 3 {
		t.Errorf("%d SuccessfulCreate events, want 3", created)
	}
}

// TestCronJobForbidSkipsWhileRunning: with concurrencyPolicy Forbid, a
// slot that comes while the previous Job runs is skipped.
func TestCronJobForbidSkipsWhileRunning(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	dir := t.TempDir()
	writeFile(t, dir, "tick.yaml", fmt.Sprintf(cronYAML, sc.Namespace, "Forbid", "[sleep, 60s]"))
	clk := &testClock{}
	e := clockDaemon(t, rt, sc.Node, dir, clk)
	eventually(t, 10*time.Second, "the CronJob recorded", func() bool {
		cj := e.Status().CronJobs
		return len(cj) == 1 && !cj[0].Created.IsZero()
	})
	first := planner.JobName("tick", nextMinute(clk))
	e.Poke()
	eventually(t, 20*time.Second, first+" running", func() bool {
		pods := jobPods(t, rt, sc.Node, first)
		return len(pods) == 1 && pods[0].Current("c") != nil && pods[0].Current("c").State == runtime.StateRunning
	})
	skipped := nextMinute(clk)
	e.Poke()
	eventually(t, 10*time.Second, "the slot skipped", func() bool {
		for _, ev := range e.Events() {
			if ev.Reason == "JobAlreadyActive" && strings.Contains(ev.Message, skipped.UTC().Format(time.RFC1123Z)) {
				return true
			}
		}
		return false
	})
	time.Sleep(500 * time.Millisecond)
	jobs, _, err := rt.JobRecords(context.Background(), sc.Node)
	if err != nil || len(jobs) != 1 || jobs[0].Name != first {
		t.Fatalf("records %+v, %v: want only %s", jobs, err, first)
	}
	if cj := e.Status().CronJobs[0]; len(cj.Active) != 1 || cj.Active[0] != first {
		t.Errorf("active %v", cj.Active)
	}
}
