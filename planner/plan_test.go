package planner

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// workload builds a desired workload with one container "app".
// Deployments use Recreate unless a test makes them rolling.
func workload(kind, name string, replicas int32, hash string, policy corev1.RestartPolicy) config.Workload {
	return config.Workload{
		Strategy:     appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
		Key:          config.Key{Namespace: "ns", Kind: kind, Name: name},
		Replicas:     replicas,
		TemplateHash: hash,
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: policy,
			Containers:    []corev1.Container{{Name: "app", Image: "img:" + hash}},
		}},
	}
}

// pod builds an observed pod of a workload with one container in state.
func pod(kind, owner, name, hash string, state runtime.ContainerState, created time.Time) runtime.Pod {
	return runtime.Pod{
		ID: "id-" + name, Namespace: "ns", Name: name, Owner: runtime.Owner{Kind: kind, Name: owner},
		TemplateHash: hash, Created: created, GracePeriod: 30 * time.Second,
		Containers: []runtime.Container{{ID: "c-" + name, Name: "app", State: state,
			Ready: state == runtime.StateRunning, ReadySince: created, StartedAt: created}},
	}
}

func desired(wls ...config.Workload) *config.Desired {
	return &config.Desired{Revision: "r1", Workloads: wls}
}

// brief renders actions as "Type ns/pod[/container]" for compact expectations.
func brief(as []Action) []string {
	out := []string{}
	for _, a := range as {
		s := a.Type.String() + " " + a.Namespace + "/" + a.Pod
		if a.Container != "" {
			s += "/" + a.Container + fmt.Sprintf("#%d", a.RestartCount)
		}
		out = append(out, s)
	}
	return out
}

func TestPlanRules(t *testing.T) {
	running := runtime.StateRunning
	dep := workload("Deployment", "web", 3, "h1", "")
	names := newPodNames(&dep, nil, 5)
	tests := []struct {
		name     string
		desired  *config.Desired
		observed []runtime.Pod
		want     []string
	}{
		{
			name:    "a missing plain pod is created",
			desired: desired(workload("Pod", "solo", 1, "h1", "")),
			want:    []string{"CreatePod ns/solo"},
		},
		{
			name:     "a running pod with the current template needs nothing",
			desired:  desired(workload("Pod", "solo", 1, "h1", "")),
			observed: []runtime.Pod{pod("Pod", "solo", "solo", "h1", running, t0)},
			want:     []string{},
		},
		{
			name:     "a pod whose spec changed is removed first, then recreated on the next pass",
			desired:  desired(workload("Pod", "solo", 1, "h2", "")),
			observed: []runtime.Pod{pod("Pod", "solo", "solo", "h1", running, t0)},
			want:     []string{"RemovePod ns/solo"},
		},
		{
			name:    "a deployment gets its replicas with generated names",
			desired: desired(dep),
			want:    []string{"CreatePod ns/" + names[0], "CreatePod ns/" + names[1], "CreatePod ns/" + names[2]},
		},
		{
			name:    "scale down removes not-running pods first, then the newest",
			desired: desired(workload("Deployment", "web", 1, "h1", "")),
			observed: []runtime.Pod{
				pod("Deployment", "web", "web-a", "h1", running, t0),
				pod("Deployment", "web", "web-b", "h1", running, t0.Add(time.Minute)),
				pod("Deployment", "web", "web-c", "h1", runtime.StateCreated, t0),
			},
			want: []string{"RemovePod ns/web-b", "RemovePod ns/web-c", "StartContainer ns/web-a/app#0"}[:2],
		},
		{
			name:    "a changed template removes every old pod before creating new ones (Recreate)",
			desired: desired(workload("Deployment", "web", 2, "h2", "")),
			observed: []runtime.Pod{
				pod("Deployment", "web", "web-a", "h1", running, t0),
				pod("Deployment", "web", "web-b", "h1", running, t0),
			},
			want: []string{"RemovePod ns/web-a", "RemovePod ns/web-b"},
		},
		{
			name:     "pods of an object no longer desired are removed",
			desired:  desired(),
			observed: []runtime.Pod{pod("Deployment", "gone", "gone-a", "h1", running, t0)},
			want:     []string{"RemovePod ns/gone-a"},
		},
		{
			name:     "a pod and a deployment of the same name are different owners",
			desired:  desired(workload("Deployment", "x", 0, "h1", "")),
			observed: []runtime.Pod{pod("Pod", "x", "x", "h1", running, t0)},
			want:     []string{"RemovePod ns/x"},
		},
		{
			name:     "a container removed by hand is created again",
			desired:  desired(workload("Pod", "solo", 1, "h1", "")),
			observed: []runtime.Pod{withoutContainers(pod("Pod", "solo", "solo", "h1", running, t0))},
			want:     []string{"CreateContainer ns/solo/app#0"},
		},
		{
			name:     "an exited container restarts under Always as a new run",
			desired:  desired(workload("Pod", "solo", 1, "h1", corev1.RestartPolicyAlways)),
			observed: []runtime.Pod{exitedPod("solo", 0, 0)},
			want:     []string{"CreateContainer ns/solo/app#1"},
		},
		{
			name:     "OnFailure does not restart a container that succeeded",
			desired:  desired(workload("Pod", "solo", 1, "h1", corev1.RestartPolicyOnFailure)),
			observed: []runtime.Pod{exitedPod("solo", 0, 0)},
			want:     []string{},
		},
		{
			name:     "OnFailure restarts a container that failed",
			desired:  desired(workload("Pod", "solo", 1, "h1", corev1.RestartPolicyOnFailure)),
			observed: []runtime.Pod{exitedPod("solo", 2, 0)},
			want:     []string{"CreateContainer ns/solo/app#1"},
		},
		{
			name:     "Never leaves a failed container alone",
			desired:  desired(workload("Pod", "solo", 1, "h1", corev1.RestartPolicyNever)),
			observed: []runtime.Pod{exitedPod("solo", 1, 0)},
			want:     []string{},
		},
		{
			name:     "a crash-looping container waits for its back-off",
			desired:  desired(workload("Pod", "solo", 1, "h1", corev1.RestartPolicyAlways)),
			observed: []runtime.Pod{exitedPod("solo", 1, 3)},
			want:     []string{},
		},
		{
			name:     "runs older than the previous one are pruned",
			desired:  desired(workload("Pod", "solo", 1, "h1", "")),
			observed: []runtime.Pod{runs("solo", 0, 1, 2)},
			want:     []string{"RemoveContainer ns/solo/app#0"},
		},
		{
			name:     "an unhonoured workload is left alone, pods included",
			desired:  desired(unhonoured(workload("Deployment", "web", 5, "h2", ""))),
			observed: []runtime.Pod{pod("Deployment", "web", "web-a", "h1", running, t0)},
			want:     []string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := brief(Plan(tc.desired, &runtime.Observed{Pods: tc.observed}, t0).Actions)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("plan:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

func withoutContainers(p runtime.Pod) runtime.Pod { p.Containers = nil; return p }

// exitedPod is a pod whose container run #restarts exited with code just now.
func exitedPod(name string, code int32, restarts int) runtime.Pod {
	p := pod("Pod", name, name, "h1", runtime.StateExited, t0)
	c := &p.Containers[0]
	c.ExitCode, c.RestartCount = code, restarts
	c.StartedAt, c.FinishedAt = t0.Add(-2*time.Second), t0.Add(-time.Second)
	return p
}

// runs is a pod with several runs of "app"; the last one runs.
func runs(name string, counts ...int) runtime.Pod {
	p := pod("Pod", name, name, "h1", runtime.StateRunning, t0)
	p.Containers = nil
	for i, n := range counts {
		st := runtime.StateExited
		if i == len(counts)-1 {
			st = runtime.StateRunning
		}
		p.Containers = append(p.Containers, runtime.Container{ID: fmt.Sprintf("c%d", n), Name: "app", RestartCount: n, State: st})
	}
	return p
}

func unhonoured(w config.Workload) config.Workload {
	w.Unhonoured = []string{"spec.template.spec.volumes: volumes not run by this build yet"}
	return w
}

func TestPlanNilDesiredTouchesNothing(t *testing.T) {
	obs := &runtime.Observed{Pods: []runtime.Pod{pod("Pod", "a", "a", "h", runtime.StateRunning, t0)}}
	if r := Plan(nil, obs, t0); len(r.Actions) != 0 {
		t.Fatalf("plan without desired state: %v", r.Actions)
	}
}

func TestPlanSkipReason(t *testing.T) {
	r := Plan(desired(unhonoured(workload("Pod", "p", 1, "h", ""))), &runtime.Observed{}, t0)
	if len(r.Skipped) != 1 || !strings.Contains(r.Skipped[0].Reason, "volumes") {
		t.Fatalf("skipped = %+v", r.Skipped)
	}
}

func TestPlanRequeueAtBackoffEnd(t *testing.T) {
	p := exitedPod("solo", 1, 2) // third run ended 1 s ago: delay 20 s
	r := Plan(desired(workload("Pod", "solo", 1, "h1", "")), &runtime.Observed{Pods: []runtime.Pod{p}}, t0)
	want := p.Containers[0].FinishedAt.Add(20 * time.Second)
	if !r.Requeue.Equal(want) || len(r.Actions) != 0 {
		t.Fatalf("requeue %v actions %v, want %v and none", r.Requeue, r.Actions, want)
	}
	later := Plan(desired(workload("Pod", "solo", 1, "h1", "")), &runtime.Observed{Pods: []runtime.Pod{p}}, want)
	if got := brief(later.Actions); !reflect.DeepEqual(got, []string{"CreateContainer ns/solo/app#3"}) {
		t.Fatalf("at the end of the back-off: %v", got)
	}
}

func TestRestartDelay(t *testing.T) {
	tests := []struct {
		restarts int
		ran      time.Duration
		want     time.Duration
	}{
		{0, time.Second, 0},
		{1, time.Second, 10 * time.Second},
		{2, time.Second, 20 * time.Second},
		{3, time.Second, 40 * time.Second},
		{5, time.Second, 160 * time.Second},
		{6, time.Second, 5 * time.Minute},
		{60, time.Second, 5 * time.Minute},
		{6, 10 * time.Minute, 0},
	}
	for _, tc := range tests {
		if got := RestartDelay(tc.restarts, tc.ran); got != tc.want {
			t.Errorf("RestartDelay(%d, %v) = %v, want %v", tc.restarts, tc.ran, got, tc.want)
		}
	}
}

func TestNewPodNames(t *testing.T) {
	dep := workload("Deployment", "web", 3, "5d8f7c", "")
	a := newPodNames(&dep, nil, 3)
	b := newPodNames(&dep, nil, 3)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("names are not deterministic: %v vs %v", a, b)
	}
	seen := map[string]bool{}
	for _, n := range a {
		if !strings.HasPrefix(n, "web-5d8f7c-") || len(n) != len("web-5d8f7c-")+5 || seen[n] {
			t.Errorf("bad or duplicate name %q", n)
		}
		seen[n] = true
	}
	existing := []*runtime.Pod{{Name: a[0]}}
	c := newPodNames(&dep, existing, 1)
	if c[0] == a[0] {
		t.Errorf("a new name reuses an existing one: %v", c)
	}
	long := workload("Deployment", strings.Repeat("x", 80), 1, "abcdef", "")
	if n := newPodNames(&long, nil, 1)[0]; len(n) > 63 {
		t.Errorf("generated name %q is longer than 63", n)
	}
	rc := workload("ReplicationController", "kubia", 1, "abc", "")
	if n := newPodNames(&rc, nil, 1)[0]; !strings.HasPrefix(n, "kubia-") || len(n) != len("kubia-")+5 {
		t.Errorf("RC pod name %q", n)
	}
}

func TestPlanIsSortedAndDeterministic(t *testing.T) {
	d := desired(workload("Deployment", "b", 2, "h", ""), workload("Deployment", "a", 2, "h", ""))
	obs := &runtime.Observed{Pods: []runtime.Pod{
		pod("Deployment", "z", "z-1", "h", runtime.StateRunning, t0),
		pod("Deployment", "y", "y-1", "h", runtime.StateRunning, t0),
	}}
	first := brief(Plan(d, obs, t0).Actions)
	for i := 0; i < 20; i++ {
		if got := brief(Plan(d, obs, t0).Actions); !reflect.DeepEqual(got, first) {
			t.Fatalf("plan differs between runs:\n%v\n%v", first, got)
		}
	}
	if first[0] != "RemovePod ns/y-1" || first[1] != "RemovePod ns/z-1" {
		t.Fatalf("removals must come first, sorted: %v", first)
	}
}

func terminating(p runtime.Pod) runtime.Pod { p.Terminating = true; return p }

func TestPlanTerminatingPods(t *testing.T) {
	running := runtime.StateRunning
	tests := []struct {
		name     string
		desired  *config.Desired
		observed []runtime.Pod
		want     []string
	}{
		{
			name:     "a pod being stopped is not removed again",
			desired:  desired(),
			observed: []runtime.Pod{terminating(pod("Deployment", "gone", "gone-a", "h1", running, t0))},
			want:     []string{},
		},
		{
			name:    "scale-down victims being stopped are not counted",
			desired: desired(workload("Deployment", "web", 1, "h1", "")),
			observed: []runtime.Pod{
				pod("Deployment", "web", "web-a", "h1", running, t0),
				terminating(pod("Deployment", "web", "web-b", "h1", running, t0)),
			},
			want: []string{},
		},
		{
			name:     "new pods wait until old pods being stopped are gone (Recreate)",
			desired:  desired(workload("Deployment", "web", 2, "h2", "")),
			observed: []runtime.Pod{terminating(pod("Deployment", "web", "web-a", "h1", running, t0))},
			want:     []string{},
		},
		{
			name:     "a replaced plain pod waits for its predecessor of the same name",
			desired:  desired(workload("Pod", "solo", 1, "h2", "")),
			observed: []runtime.Pod{terminating(pod("Pod", "solo", "solo", "h1", running, t0))},
			want:     []string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := brief(Plan(tc.desired, &runtime.Observed{Pods: tc.observed}, t0).Actions)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("plan:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
	// A scale-up beside a current pod being stopped proceeds, with a fresh name.
	dep := workload("Deployment", "web", 2, "h1", "")
	names := newPodNames(&dep, nil, 2)
	obs := &runtime.Observed{Pods: []runtime.Pod{
		terminating(pod("Deployment", "web", names[0], "h1", running, t0)),
		pod("Deployment", "web", names[1], "h1", running, t0),
	}}
	got := Plan(desired(dep), obs, t0).Actions
	if len(got) != 1 || got[0].Type != CreatePod || got[0].Pod == names[0] || got[0].Pod == names[1] {
		t.Errorf("scale-up beside a terminating pod: %v", brief(got))
	}
}
