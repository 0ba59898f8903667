package planner

import (
	"fmt"
	"testing"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// benchWorld is n pods in Deployments of 10, all observed running and up to
// date except the last Deployment, which is missing one pod — so Plan does
// the full comparison and emits one action.
func benchWorld(n int) (*config.Desired, *runtime.Observed) {
	d := &config.Desired{Revision: "r"}
	obs := &runtime.Observed{Pods: make([]runtime.Pod, 0, n)}
	for i := 0; i < n/10; i++ {
		wl := workload("Deployment", fmt.Sprintf("dep-%06d", i), 10, "h1", "")
		d.Workloads = append(d.Workloads, wl)
		have := 10
		if i == n/10-1 {
			have = 9
		}
		for _, name := range newPodNames(&wl, nil, have) {
			obs.Pods = append(obs.Pods, pod("Deployment", wl.Key.Name, name, "h1", runtime.StateRunning, t0))
		}
	}
	obs.Sort()
	return d, obs
}

func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		d, obs := benchWorld(n)
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r := Plan(d, obs, t0); len(r.Actions) != 1 {
					b.Fatalf("%d actions, want 1", len(r.Actions))
				}
			}
		})
	}
}
