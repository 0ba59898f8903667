package planner

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"pgregory.net/rapid"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// simulateJobs applies a plan, record actions included, as a perfect
// engine would.
func simulateJobs(obs *runtime.Observed, plan []Action, now time.Time) {
	for _, a := range plan {
		switch a.Type {
		case PutJobRecord:
			put := true
			for i := range obs.Jobs {
				if obs.Jobs[i].Name == a.JobRecord.Name {
					obs.Jobs[i], put = *a.JobRecord, false
				}
			}
			if put {
				obs.Jobs = append(obs.Jobs, *a.JobRecord)
			}
		case DeleteJobRecord:
			for i := range obs.Jobs {
				if obs.Jobs[i].Name == a.JobRecord.Name {
					obs.Jobs = append(obs.Jobs[:i], obs.Jobs[i+1:]...)
					break
				}
			}
		}
	}
	simulate(obs, plan, now)
	for i := range obs.Pods { // runs start when created
		for j := range obs.Pods[i].Containers {
			if c := &obs.Pods[i].Containers[j]; c.StartedAt.IsZero() {
				c.StartedAt = now
			}
		}
	}
}

// TestJobProperties runs random Jobs against a world whose containers exit
// at random, with time jumping ahead, and checks after every pass: no
// more pods run than parallelism; a finished Job never runs anything again
// and its condition never changes; counts never go down; and every Job
// finishes, Complete with its completions or Failed past its limit.
func TestJobProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var completions *int32
		if rapid.Bool().Draw(t, "fixed completions") {
			completions = i32(int32(rapid.IntRange(0, 6).Draw(t, "completions")))
		}
		parallelism := int32(rapid.IntRange(1, 4).Draw(t, "parallelism"))
		limit := int32(rapid.IntRange(0, 4).Draw(t, "backoffLimit"))
		policy := rapid.SampledFrom([]corev1.RestartPolicy{corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure}).Draw(t, "policy")
		job := srcJob("job", jobSpec(completions, parallelism, limit, policy))
		d := &config.Desired{Revision: "r", Jobs: []config.Job{job}}
		obs := &runtime.Observed{}
		now := t0
		var done *runtime.JobRecord
		var succeeded, failed int32
		for pass := 0; pass < 400 && (done == nil || pass < 5); pass++ {
			r := Plan(d, obs, now)
			active, creates := 0, 0
			for _, p := range obs.Pods {
				if podOutcomeOf(&p, &job.Spec.Template.Spec) == outcomeActive {
					active++
				}
			}
			for _, a := range r.Actions {
				switch a.Type {
				case CreatePod:
					creates++
				case CreateContainer:
					if done != nil {
						t.Fatalf("pass %d: a finished Job restarts a container: %v", pass, a)
					}
				}
			}
			if active+creates > int(parallelism) {
				t.Fatalf("pass %d: %d running and %d created, parallelism %d", pass, active, creates, parallelism)
			}
			if done != nil && creates > 0 {
				t.Fatalf("pass %d: a finished Job creates pods", pass)
			}
			simulateJobs(obs, r.Actions, now)
			if len(obs.Jobs) == 1 {
				rec := obs.Jobs[0]
				if rec.Succeeded < succeeded || rec.Failed < failed {
					t.Fatalf("pass %d: counts went down: %d/%d after %d/%d", pass, rec.Succeeded, rec.Failed, succeeded, failed)
				}
				succeeded, failed = rec.Succeeded, rec.Failed
				switch {
				case done != nil && (rec.Condition != done.Condition || !rec.CompletionTime.Equal(done.CompletionTime)):
					t.Fatalf("pass %d: a finished Job changed: %+v after %+v", pass, rec, *done)
				case done == nil && rec.Finished():
					done = &rec
				}
			}
			for i := range obs.Pods { // the world: running containers exit at random
				p := &obs.Pods[i]
				for j := range p.Containers {
					c := &p.Containers[j]
					if c.State == runtime.StateRunning && p.Current(c.Name) == c && rapid.Bool().Draw(t, "exits") {
						c.State, c.FinishedAt = runtime.StateExited, now
						c.ExitCode = int32(rapid.IntRange(0, 1).Draw(t, "exit code"))
					}
				}
			}
			now = now.Add(rapid.SampledFrom([]time.Duration{0, time.Second, 30 * time.Second, 7 * time.Minute}).Draw(t, "time passes"))
		}
		switch {
		case done == nil:
			t.Fatalf("the Job never finished: %+v", obs.Jobs)
		case done.Condition == runtime.JobComplete && completions != nil && done.Succeeded < *completions:
			t.Fatalf("Complete with %d of %d completions", done.Succeeded, *completions)
		case done.Condition == runtime.JobComplete && completions == nil && done.Succeeded < 1:
			t.Fatalf("a work queue Complete with no success")
		case done.Condition == runtime.JobFailed && done.Failed <= limit:
			t.Fatalf("Failed with %d failures, limit %d", done.Failed, limit)
		}
	})
}
