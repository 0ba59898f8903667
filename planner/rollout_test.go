package planner

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"pgregory.net/rapid"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

func ios(s string) *intstr.IntOrString { v := intstr.Parse(s); return &v }

func TestBudget(t *testing.T) {
	tests := []struct {
		surge, unav  *intstr.IntOrString
		replicas     int32
		wantS, wantU int32
	}{
		{nil, nil, 4, 1, 1},             // 25 % of 4: surge up 1, unavailable down 1
		{nil, nil, 10, 3, 2},            // 2.5 → 3 up, 2 down
		{nil, nil, 1, 1, 1},             // 0.25 → surge 1, unavailable 0 → ... surge 1 so unavailable stays 0? no: 0 → see below
		{ios("0"), ios("0"), 5, 0, 1},   // both 0: unavailable 1
		{ios("0%"), ios("0%"), 5, 0, 1}, // both 0 %
		{ios("2"), ios("1"), 5, 2, 1},
		{ios("50%"), ios("50%"), 5, 3, 2},
		{ios("100%"), ios("0"), 3, 3, 0},
		{ios("1"), ios("0"), 0, 1, 0},
		{nil, nil, 0, 0, 1}, // 0 replicas: both 0, unavailable 1
		{ios("34%"), ios("34%"), 3, 2, 1},
	}
	// 25 % of 1 is 0.25: surge rounds up to 1, unavailable down to 0.
	tests[2].wantU = 0
	for _, tc := range tests {
		s, u, err := Budget(&appsv1.RollingUpdateDeployment{MaxSurge: tc.surge, MaxUnavailable: tc.unav}, tc.replicas)
		if err != nil || s != tc.wantS || u != tc.wantU {
			t.Errorf("Budget(%v, %v, %d) = %d, %d, %v; want %d, %d", tc.surge, tc.unav, tc.replicas, s, u, err, tc.wantS, tc.wantU)
		}
	}
	if _, _, err := Budget(&appsv1.RollingUpdateDeployment{MaxSurge: ios("x%")}, 3); err == nil {
		t.Error("a bad percentage must be an error")
	}
}

func rolling(wl config.Workload, surge, unav string) config.Workload {
	wl.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: ios(surge), MaxUnavailable: ios(unav)}}
	return wl
}

// engine simulates an engine in which a new pod becomes ready readyAfter
// passes after it is created and a removed pod terminates for one pass.
type engine struct {
	obs        runtime.Observed
	readyAfter int
	born       map[string]int
	pass       int
	seq        int
}

func (e *engine) apply(plan []Action, now time.Time) {
	for i := range e.obs.Pods { // last pass's removals are gone now
		if e.obs.Pods[i].Terminating {
			e.obs.Pods = append(e.obs.Pods[:i], e.obs.Pods[i+1:]...)
			e.apply(nil, now)
			return
		}
	}
	for _, a := range plan {
		switch a.Type {
		case RemovePod:
			for i := range e.obs.Pods {
				if e.obs.Pods[i].ID == a.PodID {
					e.obs.Pods[i].Terminating = true
				}
			}
		case CreatePod:
			e.seq++
			p := pod("Deployment", a.Owner.Name, a.Pod, a.Workload.TemplateHash, runtime.StateRunning, now)
			p.ID = fmt.Sprintf("new%d", e.seq)
			p.Containers[0].Ready = false
			e.born[p.ID] = e.pass
			e.obs.Pods = append(e.obs.Pods, p)
		}
	}
	e.pass++
	for i := range e.obs.Pods {
		c := &e.obs.Pods[i].Containers[0]
		if b, ok := e.born[e.obs.Pods[i].ID]; ok && !c.Ready && e.pass-b >= e.readyAfter {
			c.Ready, c.ReadySince = true, now
		}
	}
	e.obs.Sort()
}

// census counts all pods on the engine and the available ones (not
// terminating).
func census(obs *runtime.Observed, now time.Time) (total, available, updated int, hash string) {
	for i := range obs.Pods {
		p := &obs.Pods[i]
		total++
		if ok, _ := podAvailable(p, 0, now); ok && !p.Terminating {
			available++
		}
	}
	return
}

// runRollout rolls replicas pods from h1 to h2 and checks the bounds after
// every pass; it returns the number of passes.
// fataler is what runRollout needs of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func runRollout(t fataler, replicas int32, surge, unav string, readyAfter int) int {
	t.Helper()
	wl := rolling(workload("Deployment", "web", replicas, "h2", ""), surge, unav)
	s, u, _ := Budget(wl.Strategy.RollingUpdate, replicas)
	e := &engine{readyAfter: readyAfter, born: map[string]int{}}
	for i := int32(0); i < replicas; i++ {
		e.obs.Pods = append(e.obs.Pods, pod("Deployment", "web", fmt.Sprintf("old-%d", i), "h1", runtime.StateRunning, t0))
	}
	now := t0
	for pass := 0; pass < 200; pass++ {
		plan := Plan(desired(wl), &e.obs, now)
		e.apply(plan.Actions, now)
		now = now.Add(time.Second)
		total, avail, _, _ := census(&e.obs, now)
		if int32(total) > replicas+s {
			t.Fatalf("pass %d: %d pods on the engine, bound %d+%d", pass, total, replicas, s)
		}
		if int32(avail) < replicas-u {
			t.Fatalf("pass %d: %d available, bound %d-%d", pass, avail, replicas, u)
		}
		if done(&e.obs, "h2", replicas) {
			return pass
		}
	}
	t.Fatalf("rollout of %d (surge %s, unavailable %s) did not finish: %+v", replicas, surge, unav, e.obs.Pods)
	return 0
}

func done(obs *runtime.Observed, hash string, replicas int32) bool {
	n := 0
	for _, p := range obs.Pods {
		if p.TemplateHash != hash || p.Terminating || !p.Containers[0].Ready {
			return false
		}
		n++
	}
	return int32(n) == replicas
}

func TestRollingUpdateSequences(t *testing.T) {
	for _, replicas := range []int32{1, 3, 5, 10} {
		for _, b := range [][2]string{{"25%", "25%"}, {"1", "0"}, {"0", "1"}, {"2", "1"}, {"100%", "0"}, {"0", "100%"}, {"50%", "50%"}} {
			for _, readyAfter := range []int{1, 3} {
				name := fmt.Sprintf("replicas=%d/surge=%s/unavailable=%s/readyAfter=%d", replicas, b[0], b[1], readyAfter)
				t.Run(name, func(t *testing.T) { runRollout(t, replicas, b[0], b[1], readyAfter) })
			}
		}
	}
}

// TestRollingUpdateProperty checks the bounds over random settings.
func TestRollingUpdateProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		replicas := int32(rapid.IntRange(0, 12).Draw(t, "replicas"))
		surge := rapid.SampledFrom([]string{"0", "1", "2", "5", "25%", "50%", "100%"}).Draw(t, "surge")
		unav := rapid.SampledFrom([]string{"0", "1", "3", "25%", "50%", "100%"}).Draw(t, "unavailable")
		runRollout(t, replicas, surge, unav, rapid.IntRange(0, 4).Draw(t, "readyAfter"))
	})
}

func TestRollingUpdateHoldsWhileNewPodsAreNotReady(t *testing.T) {
	wl := rolling(workload("Deployment", "web", 5, "h2", ""), "2", "1")
	e := &engine{readyAfter: 1 << 30, born: map[string]int{}} // never ready
	for i := 0; i < 5; i++ {
		e.obs.Pods = append(e.obs.Pods, pod("Deployment", "web", fmt.Sprintf("old-%d", i), "h1", runtime.StateRunning, t0))
	}
	now := t0
	for pass := 0; pass < 20; pass++ {
		e.apply(Plan(desired(wl), &e.obs, now).Actions, now)
		now = now.Add(time.Second)
	}
	total, avail, _, _ := census(&e.obs, now)
	// It stops at the bound: 7 pods (5+2), 4 old still serving (5-1).
	if total != 7 || avail != 4 {
		t.Fatalf("stuck rollout: %d pods, %d available; want 7 and 4", total, avail)
	}
}

func TestMinReadySecondsCountsTowardsAvailable(t *testing.T) {
	wl := rolling(workload("Deployment", "web", 1, "h2", ""), "1", "0")
	wl.MinReadySeconds = 30
	old := pod("Deployment", "web", "old", "h1", runtime.StateRunning, t0.Add(-time.Hour))
	fresh := pod("Deployment", "web", "new", "h2", runtime.StateRunning, t0)
	obs := &runtime.Observed{Pods: []runtime.Pod{fresh, old}}
	r := Plan(desired(wl), obs, t0.Add(10*time.Second))
	if len(r.Actions) != 0 || !r.Requeue.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("before minReadySeconds: %v, requeue %v", brief(r.Actions), r.Requeue)
	}
	r = Plan(desired(wl), obs, t0.Add(30*time.Second))
	if got := brief(r.Actions); len(got) != 1 || got[0] != "RemovePod ns/old" {
		t.Fatalf("after minReadySeconds: %v", got)
	}
}

func TestScaleDownDuringRolloutIsProportional(t *testing.T) {
	wl := rolling(workload("Deployment", "web", 4, "h2", ""), "0", "1")
	var pods []runtime.Pod
	for i := 0; i < 6; i++ {
		pods = append(pods, pod("Deployment", "web", fmt.Sprintf("old-%d", i), "h1", runtime.StateRunning, t0))
	}
	for i := 0; i < 4; i++ {
		pods = append(pods, pod("Deployment", "web", fmt.Sprintf("new-%d", i), "h2", runtime.StateRunning, t0))
	}
	r := Plan(desired(wl), &runtime.Observed{Pods: pods}, t0)
	oldGone, newGone := 0, 0
	for _, a := range r.Actions {
		if a.Type == RemovePod && a.Pod[:3] == "old" {
			oldGone++
		} else if a.Type == RemovePod {
			newGone++
		}
	}
	// 10 pods, replicas 4 + surge 0: 6 too many, 3/5 of them old (6 of 10) → 4 old (rounded), 2 new.
	if oldGone+newGone != 6 || oldGone < 3 || newGone < 2 {
		t.Fatalf("proportional scale-down removed %d old and %d new: %v", oldGone, newGone, brief(r.Actions))
	}
}

func TestRolloutStatusAndDeadline(t *testing.T) {
	wl := rolling(workload("Deployment", "web", 2, "h2", ""), "1", "0")
	wl.ProgressDeadlineSeconds = 60
	stuck := pod("Deployment", "web", "new", "h2", runtime.StateRunning, t0)
	stuck.Containers[0].Ready = false // never becomes ready
	obs := &runtime.Observed{Pods: []runtime.Pod{
		pod("Deployment", "web", "old-a", "h1", runtime.StateRunning, t0.Add(-time.Hour)),
		pod("Deployment", "web", "old-b", "h1", runtime.StateRunning, t0.Add(-time.Hour)),
		stuck,
	}}
	r := Plan(desired(wl), obs, t0.Add(30*time.Second))
	st := r.Rollouts[0]
	if st.Complete || st.DeadlineExceeded || st.Updated != 1 || st.Available != 2 || st.Current != 3 {
		t.Fatalf("mid-rollout status %+v", st)
	}
	if st.Message != "1 out of 2 new replicas have been updated" {
		t.Errorf("message %q", st.Message)
	}
	if want := t0.Add(61 * time.Second); !r.Requeue.Equal(want) {
		t.Errorf("requeue %v, want the deadline %v", r.Requeue, want)
	}
	r = Plan(desired(wl), obs, t0.Add(61*time.Second))
	if st := r.Rollouts[0]; !st.DeadlineExceeded || st.Complete {
		t.Fatalf("after the deadline: %+v", st)
	}
	// The old pods keep serving: nothing is removed.
	for _, a := range r.Actions {
		if a.Type == RemovePod {
			t.Fatalf("a stuck rollout removed %s", a.Pod)
		}
	}
	done := &runtime.Observed{Pods: []runtime.Pod{
		pod("Deployment", "web", "n1", "h2", runtime.StateRunning, t0),
		pod("Deployment", "web", "n2", "h2", runtime.StateRunning, t0),
	}}
	if st := Plan(desired(wl), done, t0.Add(time.Hour)).Rollouts[0]; !st.Complete || st.DeadlineExceeded ||
		st.Message != "successfully rolled out" {
		t.Fatalf("complete rollout status %+v", st)
	}
}
