package planner

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/reconciler/reconciler/config"
)

// workloadOf turns a placement request built by deploy into a workload.
func workloadOf(r PlacementRequest, strategy appsv1.DeploymentStrategy) config.Workload {
	return config.Workload{Key: r.Key, Replicas: int32(r.Replicas), Template: *r.Template, TemplateHash: "h", Strategy: strategy}
}

func pvc(s *corev1.PodSpec) {
	s.Volumes = append(s.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}})
}

// shares runs Share on every node and returns the replicas per node, and
// the unplaced workloads as one node saw them.
func shares(ws []config.Workload, nodes []Node) (map[string]map[string]int32, []Unplaced) {
	out := map[string]map[string]int32{}
	var unplaced []Unplaced
	for _, n := range nodes {
		local, u := Share(ws, nodes, n.Name)
		unplaced = u
		for _, wl := range local {
			if out[wl.Key.Name] == nil {
				out[wl.Key.Name] = map[string]int32{}
			}
			out[wl.Key.Name][n.Name] = wl.Replicas
		}
	}
	return out, unplaced
}

func TestShare(t *testing.T) {
	three := []Node{fakeNode("a", "zone=x"), fakeNode("b", "zone=y"), fakeNode("c", "zone=y")}
	rolling := appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType}
	tests := []struct {
		name         string
		nodes        []Node
		ws           []config.Workload
		want         string
		wantUnplaced string
	}{
		{"replicas spread evenly", three, []config.Workload{workloadOf(deploy("web", 6), rolling)},
			"web map[a:2 b:2 c:2]", ""},
		{"a selector that one node matches takes every replica", three,
			[]config.Workload{workloadOf(deploy("web", 6, selector("zone", "x")), rolling)}, "web map[a:6]", ""},
		{"a pod too large for every node is Pending with the scheduler's message",
			[]Node{withAlloc(fakeNode("a"), "2", "1Gi"), withAlloc(fakeNode("b"), "2", "1Gi"), withAlloc(fakeNode("c", "zone=z"), "2", "8Gi")},
			[]config.Workload{workloadOf(deploy("big", 1, requests("1", "4Gi"), selector("kubernetes.io/hostname", "a")), rolling)}, "",
			"Deployment/big pending=1 lost=0: 0/3 nodes are available: 1 Insufficient memory, 2 node(s) didn't match Pod's node affinity/selector."},
		{"a NotReady node's replicas go to the others", []Node{three[0], three[1], notReady(three[2])},
			[]config.Workload{workloadOf(deploy("web", 6), rolling)}, "web map[a:3 b:3]", ""},
		{"a stateful pod on a NotReady node stays there, lost (and runs on if that node still lives)", []Node{notReady(three[0]), three[1], three[2]},
			[]config.Workload{workloadOf(deploy("db", 3, pvc), rolling)}, "db map[a:1 b:1 c:1]",
			"Deployment/db pending=0 lost=1: node a is unresponsive; the pod is not moved because it uses a volume on that node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, unplaced := shares(tt.ws, tt.nodes)
			var s string
			for _, wl := range tt.ws {
				if got[wl.Key.Name] != nil {
					s += fmt.Sprintf("%s %v", wl.Key.Name, got[wl.Key.Name])
				}
			}
			if s != tt.want {
				t.Errorf("shares: %q, want %q", s, tt.want)
			}
			var u string
			for _, x := range unplaced {
				u += fmt.Sprintf("%s/%s pending=%d lost=%d: %s", x.Key.Kind, x.Key.Name, x.Pending, x.NodeLost, x.Reason)
			}
			if u != tt.wantUnplaced {
				t.Errorf("unplaced: %q\nwant       %q", u, tt.wantUnplaced)
			}
		})
	}
}

func TestShareSplitsAbsoluteBudgets(t *testing.T) {
	nodes := []Node{fakeNode("a"), fakeNode("b"), fakeNode("c")}
	one, pct := intstr.FromInt32(1), intstr.FromString("50%")
	st := appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &one, MaxUnavailable: &pct}}
	ws := []config.Workload{workloadOf(deploy("web", 6), st)}
	total := 0
	for _, n := range nodes {
		local, _ := Share(ws, nodes, n.Name)
		ru := local[0].Strategy.RollingUpdate
		total += ru.MaxSurge.IntValue()
		if ru.MaxUnavailable.String() != "50%" {
			t.Errorf("node %s: a percentage changed to %s", n.Name, ru.MaxUnavailable.String())
		}
		if local[0].PodNameSeed != n.Name {
			t.Errorf("node %s: pod name seed %q", n.Name, local[0].PodNameSeed)
		}
	}
	if total != 1 {
		t.Errorf("maxSurge 1 split over three nodes sums to %d", total)
	}
	if ws[0].Strategy.RollingUpdate.MaxSurge.IntValue() != 1 {
		t.Error("Share changed its input")
	}
	alone, _ := Share(ws, nodes[:1], "a")
	if alone[0].Replicas != 6 || alone[0].PodNameSeed != "" || alone[0].Strategy.RollingUpdate.MaxSurge.IntValue() != 1 {
		t.Errorf("a fleet of one: %+v", alone[0])
	}
}

func TestShareBatchRunsEachJobOnce(t *testing.T) {
	nodes := []Node{fakeNode("a"), fakeNode("b"), fakeNode("c", "gpu=yes")}
	var jobs []config.Job
	for i := range 12 {
		jobs = append(jobs, config.Job{Key: config.Key{Namespace: "default", Kind: "Job", Name: fmt.Sprintf("j%d", i)}})
	}
	jobs[0].Spec.Template.Spec.NodeSelector = map[string]string{"gpu": "yes"}
	cron := []config.CronJob{{Key: config.Key{Namespace: "default", Kind: "CronJob", Name: "tick"}}}
	seen := map[string][]string{}
	for _, n := range nodes {
		js, cs, unplaced := ShareBatch(jobs, cron, nodes, n.Name)
		if len(unplaced) != 0 {
			t.Errorf("unplaced: %+v", unplaced)
		}
		for _, j := range js {
			seen[j.Key.Name] = append(seen[j.Key.Name], n.Name)
		}
		for _, c := range cs {
			seen[c.Key.Name] = append(seen[c.Key.Name], n.Name)
		}
	}
	for _, k := range append([]string{"tick"}, func() []string {
		var s []string
		for _, j := range jobs {
			s = append(s, j.Key.Name)
		}
		return s
	}()...) {
		if len(seen[k]) != 1 {
			t.Errorf("%s runs on %v, want exactly one node", k, seen[k])
		}
	}
	if seen["j0"][0] != "c" {
		t.Errorf("the job selecting gpu=yes runs on %v", seen["j0"])
	}
}
