package main

import (
	"testing"
	"time"

	"github.com/reconciler/reconciler/runtime"
)

func TestPodStatusColumn(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	exited := func(policy string, code int32, restarts int, ago time.Duration) *runtime.Pod {
		return &runtime.Pod{RestartPolicy: policy, Containers: []runtime.Container{{Name: "c", State: runtime.StateExited,
			ExitCode: code, RestartCount: restarts, StartedAt: now.Add(-ago - time.Second), FinishedAt: now.Add(-ago)}}}
	}
	tests := []struct {
		name string
		pod  *runtime.Pod
		want string
	}{
		{"running", &runtime.Pod{Containers: []runtime.Container{{Name: "c", State: runtime.StateRunning}}}, "Running"},
		{"no container yet", &runtime.Pod{}, "ContainerCreating"},
		{"crash looping in back-off", exited("Always", 1, 3, 5*time.Second), "CrashLoopBackOff"},
		{"back-off over, restart due", exited("Always", 1, 1, time.Minute), "Error"},
		{"Never: failed", exited("Never", 2, 0, time.Second), "Error"},
		{"OnFailure: succeeded", exited("OnFailure", 0, 2, time.Second), "Completed"},
	}
	for _, tc := range tests {
		if got := podStatusOf(tc.pod, nil, now).status; got != tc.want {
			t.Errorf("%s: status %q, want %q", tc.name, got, tc.want)
		}
	}
}
