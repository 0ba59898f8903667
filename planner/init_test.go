package planner

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// withInits gives a workload the init containers "first" and "second".
func withInits(w config.Workload) config.Workload {
	w.Template.Spec.InitContainers = []corev1.Container{{Name: "first", Image: "init"}, {Name: "second", Image: "init"}}
	return w
}

// initRun is a run of an init container.
func initRun(name string, restarts int, state runtime.ContainerState, code int32, finished time.Time) runtime.Container {
	return runtime.Container{ID: name + "-" + string(rune('0'+restarts)), Name: name, RestartCount: restarts, State: state,
		ExitCode: code, StartedAt: finished.Add(-time.Second), FinishedAt: finished}
}

// initPod is the pod "solo" with the given init runs and no app container.
func initPod(runs ...runtime.Container) runtime.Pod {
	p := withoutContainers(pod("Pod", "solo", "solo", "h1", runtime.StateRunning, t0))
	p.InitContainers = runs
	return p
}

func TestPlanInitContainers(t *testing.T) {
	exited := runtime.StateExited
	done := t0.Add(time.Second)
	tests := []struct {
		name   string
		policy corev1.RestartPolicy
		pod    runtime.Pod
		now    time.Time
		want   []string
	}{
		{"a new pod starts with the first init container only", corev1.RestartPolicyAlways,
			initPod(), t0, []string{"CreateContainer ns/solo/first#0"}},
		{"a running init container is waited for", corev1.RestartPolicyAlways,
			initPod(initRun("first", 0, runtime.StateRunning, 0, time.Time{})), t0, []string{}},
		{"a created init container is started", corev1.RestartPolicyAlways,
			initPod(initRun("first", 0, runtime.StateCreated, 0, time.Time{})), t0, []string{"StartContainer ns/solo/first#0"}},
		{"the next one runs after the first succeeded", corev1.RestartPolicyAlways,
			initPod(initRun("first", 0, exited, 0, done)), t0, []string{"CreateContainer ns/solo/second#0"}},
		{"app containers start once all succeeded", corev1.RestartPolicyAlways,
			initPod(initRun("first", 0, exited, 0, done), initRun("second", 0, exited, 0, done)), t0,
			[]string{"CreateContainer ns/solo/app#0"}},
		{"a failed init container is retried at once the first time (Always acts as OnFailure)", corev1.RestartPolicyAlways,
			initPod(initRun("first", 0, exited, 1, done)), done, []string{"CreateContainer ns/solo/first#1"}},
		{"later retries back off", corev1.RestartPolicyOnFailure,
			initPod(initRun("first", 0, exited, 1, done), initRun("first", 1, exited, 1, done)), done.Add(5 * time.Second), []string{}},
		{"after the back-off it runs again", corev1.RestartPolicyOnFailure,
			initPod(initRun("first", 0, exited, 1, done), initRun("first", 1, exited, 1, done)), done.Add(11 * time.Second),
			[]string{"CreateContainer ns/solo/first#2"}},
		{"under Never a failed init container fails the pod: nothing more runs", corev1.RestartPolicyNever,
			initPod(initRun("first", 0, exited, 0, done), initRun("second", 0, exited, 2, done)), t0.Add(time.Hour), []string{}},
		{"old runs are pruned, the last one kept", corev1.RestartPolicyOnFailure,
			initPod(initRun("first", 0, exited, 1, done), initRun("first", 1, exited, 1, done), initRun("first", 2, runtime.StateRunning, 0, time.Time{})),
			done, []string{"RemoveContainer ns/solo/first#0"}},
		{"once an app container exists, init containers are never run again", corev1.RestartPolicyAlways,
			pod("Pod", "solo", "solo", "h1", runtime.StateRunning, t0), t0, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wl := withInits(workload("Pod", "solo", 1, "h1", tc.policy))
			obs := &runtime.Observed{Pods: []runtime.Pod{tc.pod}}
			got := brief(Plan(desired(wl), obs, tc.now).Actions)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestInitFailureFailsAJobPod(t *testing.T) {
	spec := &corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
		InitContainers: []corev1.Container{{Name: "first"}}, Containers: []corev1.Container{{Name: "app"}}}
	p := initPod(initRun("first", 0, runtime.StateExited, 3, t0))
	if got := podOutcomeOf(&p, spec); got != outcomeFailed {
		t.Errorf("outcome %v, want failed", got)
	}
	if podFinished(&p) != t0 {
		t.Errorf("finished at %v, want %v", podFinished(&p), t0)
	}
	spec.RestartPolicy = corev1.RestartPolicyOnFailure
	if got := podOutcomeOf(&p, spec); got != outcomeActive {
		t.Errorf("OnFailure outcome %v, want active (it is retried)", got)
	}
	if n := failedRuns(&p, spec); n != 1 {
		t.Errorf("failed runs %d, want 1", n)
	}
}
