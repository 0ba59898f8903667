package planner

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"pgregory.net/rapid"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// simulate applies a plan to an observed state the way a perfect engine would.
func simulate(obs *runtime.Observed, plan []Action, now time.Time) {
	for _, a := range plan {
		switch a.Type {
		case RemovePod:
			for i := range obs.Pods {
				if obs.Pods[i].ID == a.PodID {
					obs.Pods = append(obs.Pods[:i], obs.Pods[i+1:]...)
					break
				}
			}
		case CreatePod:
			p := runtime.Pod{ID: "id-" + a.Namespace + "-" + a.Pod, Namespace: a.Namespace, Name: a.Pod,
				Owner: runtime.Owner{Kind: a.Owner.Kind, Name: a.Owner.Name}, TemplateHash: a.Workload.TemplateHash, Created: now}
			for _, c := range a.Workload.Template.Spec.Containers {
				p.Containers = append(p.Containers, runtime.Container{ID: p.ID + c.Name, Name: c.Name, State: runtime.StateRunning})
			}
			obs.Pods = append(obs.Pods, p)
		default:
			applyContainerAction(obs, a)
		}
	}
	obs.Sort()
}

func applyContainerAction(obs *runtime.Observed, a Action) {
	for i := range obs.Pods {
		p := &obs.Pods[i]
		if p.ID != a.PodID {
			continue
		}
		switch a.Type {
		case CreateContainer:
			p.Containers = append(p.Containers, runtime.Container{
				ID: fmt.Sprintf("%s-%s-%d", p.ID, a.Container, a.RestartCount), Name: a.Container,
				RestartCount: a.RestartCount, State: runtime.StateRunning})
		case StartContainer:
			for j := range p.Containers {
				if p.Containers[j].ID == a.ContainerID {
					p.Containers[j].State = runtime.StateRunning
				}
			}
		case RemoveContainer:
			for j := range p.Containers {
				if p.Containers[j].ID == a.ContainerID {
					p.Containers = append(p.Containers[:j], p.Containers[j+1:]...)
					break
				}
			}
		}
	}
}

var kinds = []string{"Pod", "Deployment", "ReplicationController"}
var states = []runtime.ContainerState{runtime.StateRunning, runtime.StateExited, runtime.StateCreated}
var policies = []corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}

func genWorld(t *rapid.T) (*config.Desired, *runtime.Observed) {
	d := &config.Desired{Revision: "r"}
	n := rapid.IntRange(0, 4).Draw(t, "workloads")
	for i := 0; i < n; i++ {
		kind := rapid.SampledFrom(kinds).Draw(t, "kind")
		replicas := int32(1)
		if kind != "Pod" {
			replicas = int32(rapid.IntRange(0, 6).Draw(t, "replicas"))
		}
		wl := workload(kind, fmt.Sprintf("w%d", i), replicas, rapid.SampledFrom([]string{"h1", "h2"}).Draw(t, "hash"), "")
		wl.Template.Spec.RestartPolicy = rapid.SampledFrom(policies).Draw(t, "policy")
		d.Workloads = append(d.Workloads, wl)
	}
	obs := &runtime.Observed{}
	m := rapid.IntRange(0, 12).Draw(t, "pods")
	for i := 0; i < m; i++ {
		owner := fmt.Sprintf("w%d", rapid.IntRange(0, 5).Draw(t, "owner"))
		p := pod(rapid.SampledFrom(kinds).Draw(t, "okind"), owner, fmt.Sprintf("p%d", i),
			rapid.SampledFrom([]string{"h1", "h2"}).Draw(t, "ohash"), rapid.SampledFrom(states).Draw(t, "state"), t0)
		p.Containers[0].ExitCode = int32(rapid.IntRange(0, 1).Draw(t, "exit"))
		obs.Pods = append(obs.Pods, p)
	}
	obs.Sort()
	return d, obs
}

// TestPlanConverges checks, over random worlds, that repeated plans reach
// the desired state within a few passes and keep Recreate's rules on the way:
// no pass both removes and creates pods of one workload, a workload never has
// more pods than max(replicas, what it had), and no created name is in use.
func TestPlanConverges(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d, obs := genWorld(t)
		now := t0
		for pass := 0; pass < 6; pass++ {
			before := countByOwner(obs)
			plan := Plan(d, obs, now)
			checkPassInvariants(t, d, obs, plan.Actions)
			if len(plan.Actions) == 0 {
				checkConverged(t, d, obs)
				return
			}
			simulate(obs, plan.Actions, now)
			after := countByOwner(obs)
			for _, wl := range d.Workloads {
				if limit := max(int(wl.Replicas), before[wl.Key]); after[wl.Key] > limit {
					t.Fatalf("%s has %d pods after a pass, limit %d", wl.Key, after[wl.Key], limit)
				}
			}
			now = now.Add(10 * time.Minute)
		}
		t.Fatalf("no convergence after 6 passes; last plan %v", Plan(d, obs, now).Actions)
	})
}

func countByOwner(obs *runtime.Observed) map[config.Key]int {
	m := map[config.Key]int{}
	for _, p := range obs.Pods {
		m[config.Key{Namespace: p.Namespace, Kind: p.Owner.Kind, Name: p.Owner.Name}]++
	}
	return m
}

func checkPassInvariants(t *rapid.T, d *config.Desired, obs *runtime.Observed, actions []Action) {
	used := map[string]bool{}
	for _, p := range obs.Pods {
		used[p.Namespace+"/"+p.Name] = true
	}
	removes, creates := map[config.Key]bool{}, map[config.Key]bool{}
	for _, a := range actions {
		switch a.Type {
		case RemovePod:
			removes[a.Owner] = true
		case CreatePod:
			creates[a.Owner] = true
			if used[a.Namespace+"/"+a.Pod] {
				t.Fatalf("CreatePod %s/%s: name in use", a.Namespace, a.Pod)
			}
			used[a.Namespace+"/"+a.Pod] = true
		}
	}
	for k := range creates {
		if removes[k] {
			t.Fatalf("%s: one pass both removes and creates pods", k)
		}
	}
}

func checkConverged(t *rapid.T, d *config.Desired, obs *runtime.Observed) {
	have := countByOwner(obs)
	for _, wl := range d.Workloads {
		if have[wl.Key] != int(wl.Replicas) {
			t.Fatalf("converged with %d pods of %s, want %d", have[wl.Key], wl.Key, wl.Replicas)
		}
		delete(have, wl.Key)
	}
	for k, n := range have {
		if n > 0 {
			t.Fatalf("converged with %d orphan pods of %s", n, k)
		}
	}
	for _, p := range obs.Pods {
		for _, wl := range d.Workloads {
			if wl.Key.Kind == p.Owner.Kind && wl.Key.Name == p.Owner.Name && p.TemplateHash != wl.TemplateHash {
				t.Fatalf("converged with out-of-date pod %s", p.Name)
			}
		}
	}
}
