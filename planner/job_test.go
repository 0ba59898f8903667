package planner

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

func i32(v int32) *int32 { return &v }
func i64(v int64) *int64 { return &v }

// jobSpec is a defaulted Job spec with one container "app".
func jobSpec(completions *int32, parallelism, backoff int32, policy corev1.RestartPolicy) batchv1.JobSpec {
	return batchv1.JobSpec{Completions: completions, Parallelism: i32(parallelism), BackoffLimit: i32(backoff),
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: policy,
			Containers: []corev1.Container{{Name: "app", Image: "img"}}}}}
}

func srcJob(name string, spec batchv1.JobSpec) config.Job {
	return config.Job{Key: config.Key{Namespace: "ns", Kind: "Job", Name: name}, Spec: spec,
		TemplateHash: config.JobTemplateHash(&spec)}
}

// recorded is the record of a source Job that started a minute before t0.
func recorded(j config.Job) runtime.JobRecord {
	return runtime.JobRecord{Namespace: "ns", Name: j.Key.Name, Node: "n", TemplateHash: j.TemplateHash,
		Spec: encodeJobTemplate(nil, &j.Spec), Created: t0.Add(-time.Minute), StartTime: t0.Add(-time.Minute)}
}

func finished(r runtime.JobRecord, cond, reason string, at time.Time) runtime.JobRecord {
	r.Condition, r.Reason, r.CompletionTime = cond, reason, at
	return r
}

// jobPod is a pod of Job job whose container "app" is in state; an exited
// one exited with code at finished, after restarts earlier runs.
func jobPod(job, name string, state runtime.ContainerState, code int32, restarts int, finished time.Time) runtime.Pod {
	p := pod("Job", job, name, "", state, finished.Add(-10*time.Second))
	c := &p.Containers[0]
	c.ExitCode, c.RestartCount, c.StartedAt = code, restarts, finished.Add(-5*time.Second)
	if state == runtime.StateExited {
		c.FinishedAt = finished
	}
	return p
}

type batchCase struct {
	jobs  []config.Job
	crons []config.CronJob
	recs  []runtime.JobRecord
	crecs []runtime.CronJobRecord
	pods  []runtime.Pod
}

func (c batchCase) plan(now time.Time) Result {
	d := &config.Desired{Revision: "r1", Jobs: c.jobs, CronJobs: c.crons}
	o := &runtime.Observed{Pods: c.pods, Jobs: c.recs, CronJobs: c.crecs}
	return Plan(d, o, now)
}

// summary renders actions compactly: pod actions as brief does, record
// actions with what they write.
func summary(as []Action) []string {
	out := []string{}
	for _, a := range as {
		switch {
		case a.JobRecord != nil:
			r := a.JobRecord
			s := fmt.Sprintf("%s %s/%s", a.Type, r.Namespace, r.Name)
			if a.Type == PutJobRecord {
				s += fmt.Sprintf(" %d/%d", r.Succeeded, r.Failed)
				if r.Condition != "" {
					s += " " + r.Condition + strings.TrimSuffix("/"+r.Reason, "/")
				}
				if r.Deleting {
					s += " deleting"
				}
				if r.StartTime.IsZero() {
					s += " unstarted"
				}
			}
			out = append(out, s)
		case a.CronJobRecord != nil:
			r := a.CronJobRecord
			s := fmt.Sprintf("%s %s/%s", a.Type, r.Namespace, r.Name)
			if !r.LastScheduleTime.IsZero() {
				s += " last " + r.LastScheduleTime.UTC().Format("15:04")
			}
			out = append(out, s)
		default:
			out = append(out, brief([]Action{a})...)
		}
	}
	return out
}

func TestJobBackoff(t *testing.T) {
	want := map[int]time.Duration{0: 0, 1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second,
		4: 80 * time.Second, 5: 160 * time.Second, 6: 320 * time.Second, 7: 6 * time.Minute, 30: 6 * time.Minute}
	for n, d := range want {
		if got := JobBackoff(n); got != d {
			t.Errorf("JobBackoff(%d) = %v, want %v", n, got, d)
		}
	}
}

func TestJobRules(t *testing.T) {
	one := srcJob("dice", jobSpec(i32(1), 1, 6, corev1.RestartPolicyNever))
	onf := srcJob("dice", jobSpec(i32(1), 1, 2, corev1.RestartPolicyOnFailure))
	par := srcJob("par", jobSpec(i32(5), 2, 6, corev1.RestartPolicyNever))
	queue := srcJob("queue", jobSpec(nil, 3, 6, corev1.RestartPolicyNever))
	deadline := srcJob("slow", jobSpec(i32(1), 1, 6, corev1.RestartPolicyNever))
	deadline.Spec.ActiveDeadlineSeconds = i64(30)
	ttl := srcJob("ttl", jobSpec(i32(1), 1, 6, corev1.RestartPolicyNever))
	ttl.Spec.TTLSecondsAfterFinished = i32(60)
	suspended := srcJob("dice", jobSpec(i32(1), 1, 6, corev1.RestartPolicyNever))
	suspended.Spec.Suspend = new(bool)
	*suspended.Spec.Suspend = true
	changed := srcJob("dice", jobSpec(i32(2), 1, 6, corev1.RestartPolicyNever))
	skipped := one
	skipped.Unhonoured = []string{"spec.template.spec.volumes: volumes not run by this build yet"}
	ago := func(d time.Duration) time.Time { return t0.Add(-d) }
	names := jobPodNames(&jobRun{key: one.Key, rec: ptr(recorded(one))}, 2)
	parNames := jobPodNames(&jobRun{key: par.Key, rec: ptr(recorded(par)), pods: []*runtime.Pod{
		ptr(jobPod("par", "par-s1", runtime.StateExited, 0, 0, ago(9*time.Second))),
		ptr(jobPod("par", "par-s2", runtime.StateExited, 0, 0, ago(8*time.Second))),
		ptr(jobPod("par", "par-r1", runtime.StateRunning, 0, 0, ago(0)))}}, 1)

	tests := []struct {
		name string
		c    batchCase
		now  time.Time
		want []string
	}{
		{name: "a new Job is recorded first, and nothing else",
			c: batchCase{jobs: []config.Job{one}}, want: []string{"PutJobRecord ns/dice 0/0"}},
		{name: "a recorded Job gets its pod",
			c:    batchCase{jobs: []config.Job{one}, recs: []runtime.JobRecord{recorded(one)}},
			want: []string{"CreatePod ns/" + names[0]}},
		{name: "a running pod is left to run",
			c: batchCase{jobs: []config.Job{one}, recs: []runtime.JobRecord{recorded(one)},
				pods: []runtime.Pod{jobPod("dice", "dice-a", runtime.StateRunning, 0, 0, t0)}},
			want: []string{}},
		{name: "a succeeded pod completes the Job, nothing else on that pass",
			c: batchCase{jobs: []config.Job{one}, recs: []runtime.JobRecord{recorded(one)},
				pods: []runtime.Pod{jobPod("dice", "dice-a", runtime.StateExited, 0, 0, ago(time.Second))}},
			want: []string{"PutJobRecord ns/dice 1/0 Complete"}},
		{name: "a finished Job is never run again",
			c:    batchCase{jobs: []config.Job{one}, recs: []runtime.JobRecord{finished(recorded(one), runtime.JobComplete, "", ago(time.Hour))}},
			want: []string{}},
		{name: "Never: a failed pod is counted and replaced only after the back-off",
			c: batchCase{jobs: []config.Job{one}, recs: []runtime.JobRecord{recorded(one)},
				pods: []runtime.Pod{jobPod("dice", "dice-a", runtime.StateExited, 1, 0, ago(5*time.Second))}},
			want: []string{"PutJobRecord ns/dice 0/1"}},
		{name: "Never: after the 10 s back-off a new pod replaces the failed one",
			c: batchCase{jobs: []config.Job{one}, recs: []runtime.JobRecord{func() runtime.JobRecord { r := recorded(one); r.Failed = 1; return r }()},
				pods: []runtime.Pod{jobPod("dice", "dice-a", runtime.StateExited, 1, 0, ago(10*time.Second))}},
			want: []string{"CreatePod ns/" + jobPodNames(&jobRun{key: one.Key, rec: ptr(recorded(one)),
				pods: []*runtime.Pod{ptr(jobPod("dice", "dice-a", runtime.StateExited, 1, 0, t0))}}, 1)[0]}},
		{name: "Never: failed pods beyond backoffLimit fail the Job",
			c: batchCase{jobs: []config.Job{one}, recs: []runtime.JobRecord{func() runtime.JobRecord { r := recorded(one); r.Failed = 6; return r }()},
				pods: failedPods("dice", 7)},
			want: []string{"PutJobRecord ns/dice 0/7 Failed/BackoffLimitExceeded"}},
		{name: "OnFailure: a failed container is rerun in the same pod",
			c: batchCase{jobs: []config.Job{onf}, recs: []runtime.JobRecord{recorded(onf)},
				pods: []runtime.Pod{jobPod("dice", "dice-a", runtime.StateExited, 1, 0, ago(time.Second))}},
			want: []string{"CreateContainer ns/dice-a/app#1", "PutJobRecord ns/dice 0/1"}},
		{name: "OnFailure: reruns wait for the kubelet's back-off",
			c: batchCase{jobs: []config.Job{onf}, recs: []runtime.JobRecord{func() runtime.JobRecord { r := recorded(onf); r.Failed = 2; return r }()},
				pods: []runtime.Pod{jobPod("dice", "dice-a", runtime.StateExited, 1, 1, ago(time.Second))}},
			want: []string{}},
		{name: "OnFailure: failed runs beyond backoffLimit fail the Job",
			c: batchCase{jobs: []config.Job{onf}, recs: []runtime.JobRecord{recorded(onf)},
				pods: []runtime.Pod{jobPod("dice", "dice-a", runtime.StateExited, 1, 2, ago(time.Second))}},
			want: []string{"PutJobRecord ns/dice 0/3 Failed/BackoffLimitExceeded"}},
		{name: "OnFailure: a container that succeeds completes the Job",
			c: batchCase{jobs: []config.Job{onf}, recs: []runtime.JobRecord{recorded(onf)},
				pods: []runtime.Pod{jobPod("dice", "dice-a", runtime.StateExited, 0, 2, ago(time.Second))}},
			want: []string{"PutJobRecord ns/dice 1/2 Complete"}},
		{name: "a failed Job's running pods are removed on the next pass",
			c: batchCase{jobs: []config.Job{deadline}, recs: []runtime.JobRecord{finished(recorded(deadline), runtime.JobFailed, ReasonDeadlineExceeded, t0)},
				pods: []runtime.Pod{jobPod("slow", "slow-a", runtime.StateRunning, 0, 0, t0)}},
			want: []string{"RemovePod ns/slow-a"}},
		{name: "activeDeadlineSeconds fails a Job that runs too long",
			c: batchCase{jobs: []config.Job{deadline}, recs: []runtime.JobRecord{recorded(deadline)},
				pods: []runtime.Pod{jobPod("slow", "slow-a", runtime.StateRunning, 0, 0, t0)}},
			want: []string{"PutJobRecord ns/slow 0/0 Failed/DeadlineExceeded"}},
		{name: "parallel: no more than parallelism pods at once",
			c:    batchCase{jobs: []config.Job{par}, recs: []runtime.JobRecord{recorded(par)}},
			want: []string{"CreatePod ns/" + jobPodNames(&jobRun{key: par.Key, rec: ptr(recorded(par))}, 2)[0], "CreatePod ns/" + jobPodNames(&jobRun{key: par.Key, rec: ptr(recorded(par))}, 2)[1]}},
		{name: "parallel: a finished pod makes room for the next one",
			c: batchCase{jobs: []config.Job{par}, recs: []runtime.JobRecord{func() runtime.JobRecord { r := recorded(par); r.Succeeded = 2; return r }()},
				pods: []runtime.Pod{jobPod("par", "par-s1", runtime.StateExited, 0, 0, ago(9*time.Second)),
					jobPod("par", "par-s2", runtime.StateExited, 0, 0, ago(8*time.Second)),
					jobPod("par", "par-r1", runtime.StateRunning, 0, 0, t0)}},
			want: []string{"CreatePod ns/" + parNames[0]}},
		{name: "parallel: the last completions need fewer pods than parallelism",
			c: batchCase{jobs: []config.Job{par}, recs: []runtime.JobRecord{func() runtime.JobRecord { r := recorded(par); r.Succeeded = 4; return r }()},
				pods: []runtime.Pod{jobPod("par", "par-r1", runtime.StateRunning, 0, 0, t0)}},
			want: []string{}},
		{name: "work queue: parallelism pods until one succeeds",
			c:    batchCase{jobs: []config.Job{queue}, recs: []runtime.JobRecord{recorded(queue)}},
			want: []string{"CreatePod ns/queue-", "CreatePod ns/queue-", "CreatePod ns/queue-"}},
		{name: "work queue: once one succeeded no new pod starts and the others finish",
			c: batchCase{jobs: []config.Job{queue}, recs: []runtime.JobRecord{func() runtime.JobRecord { r := recorded(queue); r.Succeeded = 1; return r }()},
				pods: []runtime.Pod{jobPod("queue", "queue-a", runtime.StateExited, 0, 0, ago(time.Second)),
					jobPod("queue", "queue-b", runtime.StateRunning, 0, 0, t0)}},
			want: []string{}},
		{name: "work queue: complete when one succeeded and none runs",
			c: batchCase{jobs: []config.Job{queue}, recs: []runtime.JobRecord{func() runtime.JobRecord { r := recorded(queue); r.Succeeded = 1; return r }()},
				pods: []runtime.Pod{jobPod("queue", "queue-a", runtime.StateExited, 0, 0, ago(time.Second)),
					jobPod("queue", "queue-b", runtime.StateExited, 0, 0, t0)}},
			want: []string{"PutJobRecord ns/queue 2/0 Complete"}},
		{name: "ttlSecondsAfterFinished removes a source Job's pods and keeps its record",
			c: batchCase{jobs: []config.Job{ttl}, recs: []runtime.JobRecord{finished(recorded(ttl), runtime.JobComplete, "", ago(time.Minute))},
				pods: []runtime.Pod{jobPod("ttl", "ttl-a", runtime.StateExited, 0, 0, ago(time.Minute))}},
			want: []string{"RemovePod ns/ttl-a"}},
		{name: "before its TTL a finished Job's pods stay",
			c: batchCase{jobs: []config.Job{ttl}, recs: []runtime.JobRecord{finished(recorded(ttl), runtime.JobComplete, "", ago(59*time.Second))},
				pods: []runtime.Pod{jobPod("ttl", "ttl-a", runtime.StateExited, 0, 0, ago(time.Minute))}},
			want: []string{}},
		{name: "a changed template under the same name is refused; the Job goes on as recorded",
			c: batchCase{jobs: []config.Job{changed}, recs: []runtime.JobRecord{recorded(one)},
				pods: []runtime.Pod{jobPod("dice", "dice-a", runtime.StateRunning, 0, 0, t0)}},
			want: []string{}},
		{name: "a Job removed from the source loses its pods, then its record",
			c: batchCase{recs: []runtime.JobRecord{recorded(one)},
				pods: []runtime.Pod{jobPod("dice", "dice-a", runtime.StateRunning, 0, 0, t0)}},
			want: []string{"RemovePod ns/dice-a"}},
		{name: "a removed Job's record goes once its pods are gone",
			c:    batchCase{recs: []runtime.JobRecord{recorded(one)}},
			want: []string{"DeleteJobRecord ns/dice"}},
		{name: "suspending a Job resets its start time first",
			c: batchCase{jobs: []config.Job{suspended}, recs: []runtime.JobRecord{recorded(suspended)},
				pods: []runtime.Pod{jobPod("dice", "dice-a", runtime.StateRunning, 0, 0, t0)}},
			want: []string{"PutJobRecord ns/dice 0/0 unstarted"}},
		{name: "a suspended Job's pods are removed",
			c: batchCase{jobs: []config.Job{suspended}, recs: []runtime.JobRecord{func() runtime.JobRecord { r := recorded(suspended); r.StartTime = time.Time{}; return r }()},
				pods: []runtime.Pod{jobPod("dice", "dice-a", runtime.StateRunning, 0, 0, t0)}},
			want: []string{"RemovePod ns/dice-a"}},
		{name: "a resumed Job starts again from now",
			c:    batchCase{jobs: []config.Job{one}, recs: []runtime.JobRecord{func() runtime.JobRecord { r := recorded(one); r.StartTime = time.Time{}; return r }()}},
			want: []string{"PutJobRecord ns/dice 0/0"}},
		{name: "an unhonoured Job is left alone, its pods included",
			c: batchCase{jobs: []config.Job{skipped}, recs: []runtime.JobRecord{recorded(skipped)},
				pods: []runtime.Pod{jobPod("dice", "dice-a", runtime.StateRunning, 0, 0, t0)}},
			want: []string{}},
		{name: "pods of a Job nobody recorded or wants are orphans",
			c:    batchCase{pods: []runtime.Pod{jobPod("ghost", "ghost-a", runtime.StateRunning, 0, 0, t0)}},
			want: []string{"RemovePod ns/ghost-a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = t0
			}
			got := summary(tc.c.plan(now).Actions)
			if !matchPrefixes(got, tc.want) {
				t.Errorf("plan:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

// matchPrefixes compares action summaries, each wanted one a prefix of the
// one got (generated pod names are checked elsewhere).
func matchPrefixes(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !strings.HasPrefix(got[i], want[i]) {
			return false
		}
	}
	return true
}

func ptr[T any](v T) *T { return &v }

// failedPods are n pods of job that failed one after the other, the last
// a second ago.
func failedPods(job string, n int) []runtime.Pod {
	var out []runtime.Pod
	for i := range n {
		out = append(out, jobPod(job, fmt.Sprintf("%s-%c", job, 'a'+i), runtime.StateExited, 1, 0, t0.Add(-time.Duration(n-i)*time.Second)))
	}
	return out
}

func TestJobStatusAndRequeue(t *testing.T) {
	j := srcJob("dice", jobSpec(i32(1), 1, 6, corev1.RestartPolicyNever))
	rec := recorded(j)
	rec.Failed = 1
	failedAt := t0.Add(-3 * time.Second)
	c := batchCase{jobs: []config.Job{j}, recs: []runtime.JobRecord{rec},
		pods: []runtime.Pod{jobPod("dice", "dice-a", runtime.StateExited, 1, 0, failedAt)}}
	r := c.plan(t0)
	if len(r.Actions) != 0 || !r.Requeue.Equal(failedAt.Add(10*time.Second)) {
		t.Fatalf("actions %v requeue %v, want none and the end of the 10 s back-off", summary(r.Actions), r.Requeue)
	}
	if len(r.Jobs) != 1 {
		t.Fatalf("jobs %+v", r.Jobs)
	}
	st := r.Jobs[0]
	if st.Status != "Running" || st.Failed != 1 || st.Succeeded != 0 || st.Active != 0 || *st.Completions != 1 ||
		!reflect.DeepEqual(st.Pods, []string{"dice-a"}) || !st.StartTime.Equal(rec.StartTime) {
		t.Errorf("status %+v", st)
	}
	// The changed template is reported, with the recorded hash.
	changed := srcJob("dice", jobSpec(i32(3), 1, 6, corev1.RestartPolicyNever))
	r = batchCase{jobs: []config.Job{changed}, recs: []runtime.JobRecord{finished(recorded(j), runtime.JobComplete, "", t0)}}.plan(t0)
	if len(r.Jobs) != 1 || !strings.Contains(r.Jobs[0].Error, "field is immutable") || r.Jobs[0].TemplateHash != j.TemplateHash ||
		r.Jobs[0].Status != runtime.JobComplete {
		t.Errorf("immutability: %+v", r.Jobs)
	}
	// The deadline asks for a pass when it passes.
	dl := srcJob("slow", jobSpec(i32(1), 1, 6, corev1.RestartPolicyNever))
	dl.Spec.ActiveDeadlineSeconds = i64(120)
	r = batchCase{jobs: []config.Job{dl}, recs: []runtime.JobRecord{recorded(dl)},
		pods: []runtime.Pod{jobPod("slow", "slow-a", runtime.StateRunning, 0, 0, t0)}}.plan(t0)
	if want := recorded(dl).StartTime.Add(2 * time.Minute); !r.Requeue.Equal(want) {
		t.Errorf("requeue %v, want the deadline %v", r.Requeue, want)
	}
}

func TestJobPodNames(t *testing.T) {
	j := srcJob("a-very-long-job-name-that-goes-on-and-on-beyond-what-a-label-holds-x", jobSpec(i32(1), 1, 6, corev1.RestartPolicyNever))
	run := &jobRun{key: j.Key, rec: ptr(recorded(j))}
	names := jobPodNames(run, 3)
	seen := map[string]bool{}
	for _, n := range names {
		if len(n) > 63 || seen[n] || !strings.HasPrefix(n, j.Key.Name[:maxBase]+"-") {
			t.Errorf("pod name %q", n)
		}
		seen[n] = true
	}
	if again := jobPodNames(run, 3); !reflect.DeepEqual(names, again) {
		t.Errorf("names are not deterministic: %v vs %v", names, again)
	}
	other := *run.rec
	other.Created = other.Created.Add(time.Second) // the same name, created again
	if n := jobPodNames(&jobRun{key: j.Key, rec: &other}, 1); n[0] == names[0] {
		t.Errorf("a Job created again reuses pod name %s", n[0])
	}
}
