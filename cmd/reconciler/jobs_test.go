package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/planner"
	"github.com/reconciler/reconciler/runtime"
)

const cronDaemonYAML = `apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: %s}
spec:
  schedule: "* * * * *"
  startingDeadlineSeconds: 600
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers: [{name: c, image: "localhost/reconciler-hello:v1", imagePullPolicy: Never, args: [sleep, 2s]}]
`

// TestCronJobSlotSurvivesSIGKILL runs the daemon binary on a CronJob that
// was first seen five minutes ago (its record in the engine says so), as
// after downtime: the most recent missed slot runs at once. The daemon is
// killed with SIGKILL while that slot's Job runs, and again after it
// finished; neither restart runs the slot a second time. The CLI's Job
// verbs are checked on the way.
func TestCronJobSlotSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	writeAtomic(t, filepath.Join(dir, "tick.yaml"), fmt.Sprintf(cronDaemonYAML, sc.Namespace))
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	seen := time.Now().Add(-5 * time.Minute)
	if err := rt.PutCronJobRecord(ctx, runtime.CronJobRecord{Namespace: sc.Namespace, Name: "tick", Node: sc.Node, Created: seen}); err != nil {
		t.Fatal(err)
	}
	listen := freePort(t)
	d := startDaemon(t, bin, dir, sc.Node, listen, "--token-file", token)

	// The slot of the current minute (or, across a minute boundary, the
	// next one) starts at once; kill the daemon while its Job runs.
	var slotJob string
	waitFor(t, 30*time.Second, "a slot's Job runs", d.log, func() bool {
		for _, pods := range jobPodsOf(t, rt, sc.Node) {
			for _, p := range pods {
				if c := p.Current("c"); c != nil && c.State == runtime.StateRunning {
					slotJob = p.Owner.Name
					return true
				}
			}
		}
		return false
	})
	d.signal(t, syscall.SIGKILL)
	d = startDaemon(t, bin, dir, sc.Node, listen, "--token-file", token)
	waitFor(t, 30*time.Second, slotJob+" complete", d.log, func() bool { return jobStatusOf(listen, sc.Namespace, slotJob) == "Complete" })
	d.signal(t, syscall.SIGKILL)
	d = startDaemon(t, bin, dir, sc.Node, listen, "--token-file", token)
	waitInSync(t, listen, d.log)
	time.Sleep(1500 * time.Millisecond) // a resync or more
	if pods := jobPodsOf(t, rt, sc.Node)[slotJob]; len(pods) != 1 {
		t.Fatalf("%s has %d pods after two SIGKILLs, want 1", slotJob, len(pods))
	}
	jobs, crons, err := rt.JobRecords(ctx, sc.Node)
	if err != nil || len(crons) != 1 || planner.JobName("tick", crons[0].LastScheduleTime) < slotJob {
		t.Fatalf("records %+v %+v %v", jobs, crons, err)
	}
	for _, j := range jobs {
		if j.Name == slotJob && (j.Condition != runtime.JobComplete || j.Succeeded != 1 || j.Failed != 0) {
			t.Errorf("the slot's record %+v", j)
		}
	}

	cli := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	server := "http://" + listen
	if out := cli("get", "jobs", "-n", sc.Namespace, "--server", server); !hasRow(out, slotJob, "Complete", "1/1") ||
		!strings.HasPrefix(out, "NAME") || !strings.Contains(out, "COMPLETIONS") || !strings.Contains(out, "DURATION") {
		t.Errorf("get jobs:\n%s", out)
	}
	if out := cli("get", "cronjobs", "-n", sc.Namespace, "--server", server); !strings.Contains(out, "LAST SCHEDULE") ||
		!hasRow(out, "tick", "*", "*", "*", "*", "*", "false") || strings.Contains(out, "<none>") {
		t.Errorf("get cronjobs:\n%s", out)
	}
	if out := cli("logs", "job/"+slotJob, "-n", sc.Namespace); !strings.Contains(out, "sleeping 2s") {
		t.Errorf("logs job/%s: %q", slotJob, out)
	}
	if out := cli("create", "job", "by-hand", "--from=cronjob/tick", "-n", sc.Namespace, "--server", server, "--token-file", token); !strings.Contains(out, "job/by-hand created") {
		t.Errorf("create job: %q", out)
	}
	waitFor(t, 30*time.Second, "the manual run completes", d.log, func() bool { return jobStatusOf(listen, sc.Namespace, "by-hand") == "Complete" })
	if out := cli("describe", "job", "by-hand", "-n", sc.Namespace, "--server", server); !strings.Contains(out, "Created By:     CronJob/tick (manual run)") ||
		!strings.Contains(out, "Pods Statuses:  0 Active / 1 Succeeded / 0 Failed") || !strings.Contains(out, "Complete") {
		t.Errorf("describe job:\n%s", out)
	}
	if out := cli("describe", "cronjob", "tick", "-n", sc.Namespace, "--server", server); !strings.Contains(out, "Concurrency Policy:    Forbid") ||
		!strings.Contains(out, slotJob) || !strings.Contains(out, "SuccessfulCreate") {
		t.Errorf("describe cronjob:\n%s", out)
	}
	out, err := exec.Command(bin, "create", "job", "by-hand", "--from=cronjob/tick", "-n", sc.Namespace, "--server", server).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--token-file is required") {
		t.Errorf("create job without a token: %v %s", err, out)
	}
	d.signal(t, syscall.SIGINT)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, log fmt.Stringer, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s\ndaemon log:\n%s", within, what, log)
		}
	}
}

// jobPodsOf groups the node's Job pods by Job.
func jobPodsOf(t *testing.T, rt runtime.Runtime, node string) map[string][]runtime.Pod {
	t.Helper()
	out := map[string][]runtime.Pod{}
	for owner, pods := range podsByOwner(t, rt, node) {
		for _, p := range pods {
			if p.Owner.Kind == "Job" {
				out[owner] = append(out[owner], p)
			}
		}
	}
	return out
}

// jobStatusOf is a Job's status as the daemon's API reports it.
func jobStatusOf(listen, ns, name string) string {
	var st *executor.Status
	if st = fetchStatus(context.Background(), "http://"+listen); st == nil {
		return ""
	}
	for _, j := range st.Jobs {
		if j.Namespace == ns && j.Name == name {
			return j.Status
		}
	}
	return ""
}

// hasRow reports whether a table has a row starting with the given cells.
func hasRow(table string, cells ...string) bool {
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) >= len(cells) && strings.Join(f[:len(cells)], " ") == strings.Join(cells, " ") {
			return true
		}
	}
	return false
}

func TestJobTables(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	five := int32(5)
	jobs := []planner.JobStatus{
		{Namespace: "ns", Name: "par", Status: "Running", Completions: &five, Parallelism: 2, Succeeded: 3,
			Created: now.Add(-90 * time.Second), StartTime: now.Add(-80 * time.Second)},
		{Namespace: "ns", Name: "queue", Status: "Complete", Parallelism: 3, Succeeded: 1,
			Created: now.Add(-time.Hour), StartTime: now.Add(-time.Hour), CompletionTime: now.Add(-time.Hour + 95*time.Second)},
		{Namespace: "ns", Name: "new", Status: "Pending", Parallelism: 1},
	}
	var b strings.Builder
	tw := tabwriterFor(&b)
	if err := printJobs(tw, jobs, getOptions{now: now}); err != nil {
		t.Fatal(err)
	}
	tw.Flush()
	want := "NAME    STATUS     COMPLETIONS   DURATION   AGE\n" +
		"par     Running    3/5           80s        1m\n" +
		"queue   Complete   1/1 of 3      95s        1h\n" +
		"new     Pending    0/1                      <unknown>\n"
	if b.String() != want {
		t.Errorf("get jobs:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	tw = tabwriterFor(&b)
	crons := []planner.CronJobStatus{{Namespace: "ns", Name: "tick", Schedule: "*/5 * * * *", Active: []string{"tick-1"},
		LastScheduleTime: now.Add(-2 * time.Minute), Created: now.Add(-3 * time.Hour)}}
	if err := printCronJobs(tw, crons, getOptions{now: now, all: true}); err != nil {
		t.Fatal(err)
	}
	tw.Flush()
	want = "NAMESPACE   NAME   SCHEDULE      SUSPEND   ACTIVE   LAST SCHEDULE   AGE\n" +
		"ns          tick   */5 * * * *   false     1        2m              3h\n"
	if b.String() != want {
		t.Errorf("get cronjobs:\n%q\nwant\n%q", b.String(), want)
	}
}

func tabwriterFor(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 8, 3, ' ', 0) }
