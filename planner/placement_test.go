package planner

import (
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"pgregory.net/rapid"

	"github.com/reconciler/reconciler/config"
)

// fakeNode is a Ready, uncordoned member with the given labels ("k=v").
func fakeNode(name string, labels ...string) Node {
	n := Node{Name: name, Ready: true, Labels: map[string]string{"kubernetes.io/hostname": name}}
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		n.Labels[k] = v
	}
	return n
}

// withAlloc sets allocatable cpu and memory ("" leaves one unlimited).
func withAlloc(n Node, cpu, mem string) Node {
	n.Allocatable = corev1.ResourceList{}
	if cpu != "" {
		n.Allocatable[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		n.Allocatable[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return n
}

func notReady(n Node) Node { n.Ready = false; return n }
func cordoned(n Node) Node { n.Cordoned = true; return n }

// deploy is a Deployment request with a one-container template; edit
// changes the spec.
func deploy(name string, replicas int, edit ...func(*corev1.PodSpec)) PlacementRequest {
	t := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "img"}}}}
	for _, e := range edit {
		e(&t.Spec)
	}
	return PlacementRequest{Key: config.Key{Namespace: "default", Kind: "Deployment", Name: name}, Replicas: replicas, Template: t}
}

func selector(kv ...string) func(*corev1.PodSpec) {
	return func(s *corev1.PodSpec) {
		s.NodeSelector = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			s.NodeSelector[kv[i]] = kv[i+1]
		}
	}
}

func requests(cpu, mem string) func(*corev1.PodSpec) {
	return func(s *corev1.PodSpec) {
		r := corev1.ResourceList{}
		if cpu != "" {
			r[corev1.ResourceCPU] = resource.MustParse(cpu)
		}
		if mem != "" {
			r[corev1.ResourceMemory] = resource.MustParse(mem)
		}
		s.Containers[0].Resources.Requests = r
	}
}

func pinned(node string) func(*corev1.PodSpec) {
	return func(s *corev1.PodSpec) { s.NodeName = node }
}

func hostPortOn(port int32) func(*corev1.PodSpec) {
	return func(s *corev1.PodSpec) {
		s.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: port}}
	}
}

// affinity sets required node affinity with one term per argument.
func affinity(terms ...[]corev1.NodeSelectorRequirement) func(*corev1.PodSpec) {
	return func(s *corev1.PodSpec) {
		ns := &corev1.NodeSelector{}
		for _, t := range terms {
			ns.NodeSelectorTerms = append(ns.NodeSelectorTerms, corev1.NodeSelectorTerm{MatchExpressions: t})
		}
		s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: ns}}
	}
}

func expr(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

// counts renders an assignment as "node=count ..." in node order, then
// "pending=N" and "lost=N" when there are any.
func counts(a Assignment) string {
	m := map[string]int{}
	pending, lost := 0, 0
	for _, s := range a.Slots {
		switch s.State {
		case SlotPlaced:
			m[s.Node]++
		case SlotPending:
			pending++
		case SlotNodeLost:
			lost++
			m[s.Node]++
		}
	}
	var names []string
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	out := ""
	for _, n := range names {
		out += fmt.Sprintf("%s=%d ", n, m[n])
	}
	if pending > 0 {
		out += fmt.Sprintf("pending=%d ", pending)
	}
	if lost > 0 {
		out += fmt.Sprintf("lost=%d ", lost)
	}
	return out
}

// firstReason is the reason of the first slot that has one.
func firstReason(a Assignment) string {
	for _, s := range a.Slots {
		if s.Reason != "" {
			return s.Reason
		}
	}
	return ""
}

func TestPlacementRules(t *testing.T) {
	abc := []Node{fakeNode("a", "zone=x", "disk=ssd", "gen=3"), fakeNode("b", "zone=y", "gen=5"), fakeNode("c", "zone=y", "disk=hdd")}
	cases := []struct {
		name   string
		nodes  []Node
		req    PlacementRequest
		want   string // counts()
		reason string // the first slot's reason, when not ""
	}{
		{name: "replicas spread evenly over all nodes", nodes: abc, req: deploy("web", 5), want: "a=2 b=1 c=2 "},
		{name: "fewer replicas than nodes go to distinct nodes", nodes: abc, req: deploy("web", 2), want: "a=1 c=1 "},
		{name: "zero replicas place nothing", nodes: abc, req: deploy("web", 0), want: ""},
		{name: "nodeSelector filters", nodes: abc, req: deploy("web", 4, selector("zone", "y")), want: "b=2 c=2 "},
		{name: "nodeSelector on the automatic hostname label", nodes: abc, req: deploy("web", 3, selector("kubernetes.io/hostname", "c")), want: "c=3 "},
		{name: "affinity In", nodes: abc, req: deploy("web", 2, affinity([]corev1.NodeSelectorRequirement{expr("zone", corev1.NodeSelectorOpIn, "x", "z")})), want: "a=2 "},
		{name: "affinity NotIn matches nodes without the label", nodes: abc, req: deploy("web", 2, affinity([]corev1.NodeSelectorRequirement{expr("disk", corev1.NodeSelectorOpNotIn, "ssd")})), want: "b=1 c=1 "},
		{name: "affinity Exists", nodes: abc, req: deploy("web", 4, affinity([]corev1.NodeSelectorRequirement{expr("disk", corev1.NodeSelectorOpExists)})), want: "a=2 c=2 "},
		{name: "affinity DoesNotExist", nodes: abc, req: deploy("web", 2, affinity([]corev1.NodeSelectorRequirement{expr("disk", corev1.NodeSelectorOpDoesNotExist)})), want: "b=2 "},
		{name: "affinity Gt compares integers", nodes: abc, req: deploy("web", 1, affinity([]corev1.NodeSelectorRequirement{expr("gen", corev1.NodeSelectorOpGt, "4")})), want: "b=1 "},
		{name: "affinity Lt compares integers", nodes: abc, req: deploy("web", 1, affinity([]corev1.NodeSelectorRequirement{expr("gen", corev1.NodeSelectorOpLt, "4")})), want: "a=1 "},
		{name: "affinity expressions in a term are ANDed", nodes: abc, req: deploy("web", 2, affinity([]corev1.NodeSelectorRequirement{
			expr("zone", corev1.NodeSelectorOpIn, "y"), expr("disk", corev1.NodeSelectorOpExists)})), want: "c=2 "},
		{name: "affinity terms are ORed", nodes: abc, req: deploy("web", 2, affinity(
			[]corev1.NodeSelectorRequirement{expr("zone", corev1.NodeSelectorOpIn, "x")},
			[]corev1.NodeSelectorRequirement{expr("gen", corev1.NodeSelectorOpIn, "5")})), want: "a=1 b=1 "},
		{name: "an empty affinity term matches nothing", nodes: abc, req: deploy("web", 1, affinity([]corev1.NodeSelectorRequirement{})),
			want: "pending=1 ", reason: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."},
		{name: "selector and affinity must both match", nodes: abc, req: deploy("web", 1, selector("zone", "y"),
			affinity([]corev1.NodeSelectorRequirement{expr("zone", corev1.NodeSelectorOpIn, "x")})),
			want: "pending=1 ", reason: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."},
		{name: "not-ready nodes take nothing new", nodes: []Node{fakeNode("a"), notReady(fakeNode("b")), fakeNode("c")}, req: deploy("web", 4), want: "a=2 c=2 "},
		{name: "cordoned nodes take nothing new", nodes: []Node{cordoned(fakeNode("a")), fakeNode("b")}, req: deploy("web", 2), want: "b=2 "},
		{name: "a pod tolerating unschedulable goes to a cordoned node", nodes: []Node{cordoned(fakeNode("a"))}, req: deploy("web", 1, func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Key: "node.kubernetes.io/unschedulable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
		}), want: "a=1 "},
		{name: "nodeName pins every replica", nodes: abc, req: deploy("web", 3, pinned("b")), want: "b=3 "},
		{name: "nodeName ignores the cordon", nodes: []Node{cordoned(fakeNode("a")), fakeNode("b")}, req: deploy("web", 1, pinned("a")), want: "a=1 "},
		{name: "nodeName to an unknown node stays pending", nodes: abc, req: deploy("web", 1, pinned("zz")),
			want: "pending=1 ", reason: "0/3 nodes are available: 3 node(s) didn't match the requested node name."},
		{name: "nodeName to an unresponsive node is NodeLost, not moved", nodes: []Node{fakeNode("a"), notReady(fakeNode("b"))}, req: deploy("web", 2, pinned("b")),
			want: "b=2 lost=2 ", reason: "node b is unresponsive; the pod is not moved because it is pinned by spec.nodeName"},
		{name: "requests must fit", nodes: []Node{withAlloc(fakeNode("a"), "2", "1Gi"), withAlloc(fakeNode("b"), "2", "4Gi")},
			req: deploy("web", 3, requests("500m", "1Gi")), want: "a=1 b=2 "},
		{name: "requests of all replicas add up", nodes: []Node{withAlloc(fakeNode("a"), "1", "")},
			req: deploy("web", 3, requests("400m", "")), want: "a=2 pending=1 ", reason: "0/1 nodes are available: 1 Insufficient cpu."},
		{name: "one node short of two resources counts both", nodes: []Node{withAlloc(fakeNode("a"), "1", "1Gi")},
			req: deploy("web", 1, requests("2", "2Gi")), want: "pending=1 ", reason: "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory."},
		{name: "the issue's message", nodes: []Node{withAlloc(fakeNode("a", "zone=x"), "", "1Gi"), fakeNode("b", "zone=y"), fakeNode("c", "zone=y")},
			req: deploy("web", 1, selector("zone", "x"), requests("", "2Gi")), want: "pending=1 ",
			reason: "0/3 nodes are available: 1 Insufficient memory, 2 node(s) didn't match Pod's node affinity/selector."},
		{name: "first failing filter per node, in the scheduler's order", nodes: []Node{cordoned(fakeNode("a")), notReady(fakeNode("b")), fakeNode("c", "zone=y"), withAlloc(fakeNode("d", "zone=x"), "", "1")},
			req: deploy("web", 1, selector("zone", "x"), requests("", "1Gi")), want: "pending=1 ",
			reason: "0/4 nodes are available: 1 Insufficient memory, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 1 node(s) were unschedulable."},
		{name: "reasons sort as strings, like the scheduler's", nodes: append(tenNodes("zone=y"), withAlloc(fakeNode("m", "zone=x"), "", "1"), withAlloc(fakeNode("n", "zone=x"), "", "1")),
			req: deploy("web", 1, selector("zone", "x"), requests("", "1Gi")), want: "pending=1 ",
			reason: "0/12 nodes are available: 10 node(s) didn't match Pod's node affinity/selector, 2 Insufficient memory."},
		{name: "host ports allow one replica per node", nodes: []Node{fakeNode("a"), fakeNode("b")}, req: deploy("web", 3, hostPortOn(8080)),
			want: "a=1 b=1 pending=1 ", reason: "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports."},
		{name: "pods allocatable limits the count", nodes: []Node{{Name: "a", Ready: true, Allocatable: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("2")}}},
			req: deploy("web", 3), want: "a=2 pending=1 ", reason: "0/1 nodes are available: 1 Too many pods."},
		{name: "extended resources need a node that lists them", nodes: []Node{fakeNode("a"), {Name: "g", Ready: true, Allocatable: corev1.ResourceList{"example.com/gpu": resource.MustParse("1")}}},
			req: deploy("train", 2, func(s *corev1.PodSpec) {
				s.Containers[0].Resources.Limits = corev1.ResourceList{"example.com/gpu": resource.MustParse("1")}
			}), want: "g=1 pending=1 ", reason: "0/2 nodes are available: 2 Insufficient example.com/gpu."},
		{name: "no nodes at all", nodes: nil, req: deploy("web", 1), want: "pending=1 ", reason: "no nodes available to schedule pods"},
		{name: "a nil template is unconstrained", nodes: abc, req: PlacementRequest{Key: config.Key{Kind: "Pod", Name: "p"}, Replicas: 1}, want: "c=1 "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Place(c.nodes, []PlacementRequest{c.req})[c.req.Key]
			if len(got.Slots) != max(c.req.Replicas, 0) {
				t.Fatalf("%d slots, want %d", len(got.Slots), c.req.Replicas)
			}
			if s := counts(got); s != c.want {
				t.Errorf("placed %q, want %q", s, c.want)
			}
			if c.reason != "" {
				if r := firstReason(got); r != c.reason {
					t.Errorf("reason\n got %q\nwant %q", r, c.reason)
				}
			}
		})
	}
}

func tenNodes(labels ...string) []Node {
	var out []Node
	for i := range 10 {
		out = append(out, fakeNode(fmt.Sprintf("n%02d", i), labels...))
	}
	return out
}

func TestPlacementStateful(t *testing.T) {
	nodes := []Node{fakeNode("a"), notReady(fakeNode("b")), fakeNode("c")}
	db := deploy("db", 3, func(s *corev1.PodSpec) {
		s.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv"}}}}
	})
	db.Stateful = IsStateful(&db.Template.Spec)
	if !db.Stateful {
		t.Fatal("a hostPath volume makes a pod stateful")
	}
	// Slot 0 runs on the lost node, slot 1 on a, slot 2 on a node that
	// has left the member list for good.
	db.Current = map[int]string{0: "b", 1: "a", 2: "gone"}
	got := Place(nodes, []PlacementRequest{db})[db.Key]
	want := []Slot{
		{Node: "b", State: SlotNodeLost, Reason: "node b is unresponsive; the pod is not moved because it uses a volume on that node"},
		{Node: "a", State: SlotPlaced},
		{Node: "c", State: SlotPlaced}, // a already has one: the spread picks c
	}
	if !slices.Equal(got.Slots, want) {
		t.Fatalf("slots %+v\nwant  %+v", got.Slots, want)
	}
	if got.Count("b") != 1 || got.Count("a") != 1 || got.Pending() != 0 {
		t.Fatalf("Count/Pending disagree with %+v", got.Slots)
	}

	// A stateless request ignores Current: placement depends on members only.
	web := deploy("web", 1)
	web.Current = map[int]string{0: "a"}
	free := Place(nodes, []PlacementRequest{deploy("web", 1)})[web.Key]
	if g := Place(nodes, []PlacementRequest{web})[web.Key]; !slices.Equal(g.Slots, free.Slots) {
		t.Fatalf("stateless placement read Current: %+v vs %+v", g.Slots, free.Slots)
	}
}

func TestPlacementStatefulHoldsCapacityFirst(t *testing.T) {
	// The stateful pod already runs on a; it keeps its place and its
	// memory, although "aaa" sorts before "db".
	nodes := []Node{withAlloc(fakeNode("a"), "", "1Gi")}
	db := deploy("db", 1, requests("", "1Gi"))
	db.Stateful, db.Current = true, map[int]string{0: "a"}
	first := deploy("aaa", 1, requests("", "1Gi"))
	got := Place(nodes, []PlacementRequest{first, db})
	if s := counts(got[db.Key]); s != "a=1 " {
		t.Errorf("stateful pod placed %q", s)
	}
	if s := counts(got[first.Key]); s != "pending=1 " {
		t.Errorf("other pod placed %q, want pending", s)
	}
}

func TestPlacementPinnedBeforeOthers(t *testing.T) {
	nodes := []Node{withAlloc(fakeNode("a"), "1", ""), withAlloc(fakeNode("b"), "1", "")}
	free := deploy("aaa", 2, requests("1", ""))
	pin := deploy("zzz", 1, requests("1", ""), pinned("a"))
	got := Place(nodes, []PlacementRequest{free, pin})
	if s := counts(got[pin.Key]); s != "a=1 " {
		t.Errorf("pinned pod placed %q", s)
	}
	if s := counts(got[free.Key]); s != "b=1 pending=1 " {
		t.Errorf("free pods placed %q", s)
	}
}

func TestPodRequests(t *testing.T) {
	q := resource.MustParse
	always := corev1.ContainerRestartPolicyAlways
	spec := corev1.PodSpec{
		InitContainers: []corev1.Container{
			{Name: "big-init", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{"cpu": q("3")}}},
			{Name: "sidecar", RestartPolicy: &always, Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{"memory": q("100Mi")}}},
			{Name: "late-init", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{"memory": q("1Gi")}}},
		},
		Containers: []corev1.Container{
			{Name: "a", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{"cpu": q("500m")}}},
			{Name: "b", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"cpu": q("250m"), "memory": q("200Mi")}}},
		},
		Overhead: corev1.ResourceList{"cpu": q("10m")},
	}
	got := podRequests(&spec)
	// cpu: max(3000 init, 750 containers) + 10 overhead; memory: max(1Gi
	// late init + 100Mi sidecar, 200Mi + 100Mi).
	want := map[corev1.ResourceName]int64{"cpu": 3010, "memory": 1<<30 + 100<<20}
	if len(got) != len(want) || got["cpu"] != want["cpu"] || got["memory"] != want["memory"] {
		t.Fatalf("requests %v, want %v", got, want)
	}
}

// genFleet draws a member list with unique names and a set of requests.
// With ample, capacity is unlimited and no pod uses host ports, so owners do
// not interact.
func genFleet(t *rapid.T, ample bool) ([]Node, []PlacementRequest) {
	zones := []string{"x", "y", "z"}
	n := rapid.IntRange(1, 8).Draw(t, "nodes")
	nodes := make([]Node, n)
	for i := range nodes {
		nodes[i] = fakeNode(fmt.Sprintf("node-%d", i), "zone="+rapid.SampledFrom(zones).Draw(t, "zone"))
		if !ample {
			nodes[i] = withAlloc(nodes[i], rapid.SampledFrom([]string{"1", "2", "4"}).Draw(t, "cpu"), "")
			nodes[i].Ready = rapid.Float64Range(0, 1).Draw(t, "ready") < 0.8
			nodes[i].Cordoned = rapid.Float64Range(0, 1).Draw(t, "cordon") < 0.1
		}
	}
	m := rapid.IntRange(0, 8).Draw(t, "requests")
	reqs := make([]PlacementRequest, m)
	for i := range reqs {
		var edits []func(*corev1.PodSpec)
		if rapid.Bool().Draw(t, "select") {
			edits = append(edits, selector("zone", rapid.SampledFrom(zones).Draw(t, "want zone")))
		}
		if !ample {
			edits = append(edits, requests(rapid.SampledFrom([]string{"", "250m", "1"}).Draw(t, "req"), ""))
			if rapid.Float64Range(0, 1).Draw(t, "ports") < 0.2 {
				edits = append(edits, hostPortOn(9000))
			}
		}
		reqs[i] = deploy(fmt.Sprintf("w%d", i), rapid.IntRange(0, 12).Draw(t, "replicas"), edits...)
	}
	return nodes, reqs
}

func TestPlacementProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nodes, reqs := genFleet(t, rapid.Bool().Draw(t, "ample"))
		got := Place(nodes, reqs)
		checkFeasible(t, nodes, reqs, got)
		checkPendingIsForced(t, nodes, reqs, got)

		// Determinism: any order of nodes and requests, same assignment.
		pn, pr := slices.Clone(nodes), slices.Clone(reqs)
		rapid.Permutation(pn).Draw(t, "node order")
		rapid.Permutation(pr).Draw(t, "request order")
		again := Place(pn, pr)
		for _, r := range reqs {
			if !slices.Equal(got[r.Key].Slots, again[r.Key].Slots) {
				t.Fatalf("%s: order changed the placement:\n%+v\n%+v", r.Key, got[r.Key].Slots, again[r.Key].Slots)
			}
		}
	})
}

// checkFeasible: every placed slot is on a node that passes the filters, and
// no node is given more than its allocatable.
func checkFeasible(t *rapid.T, nodes []Node, reqs []PlacementRequest, got map[config.Key]Assignment) {
	used := map[string]int64{}
	byName := map[string]Node{}
	for _, n := range nodes {
		byName[n.Name] = n
	}
	for _, r := range reqs {
		for i, s := range got[r.Key].Slots {
			if s.State != SlotPlaced {
				continue
			}
			n := byName[s.Node]
			if !n.Ready || n.Cordoned || !matchesNode(&r.Template.Spec, &n) {
				t.Fatalf("%s slot %d on infeasible node %+v", r.Key, i, n)
			}
			used[n.Name] += podRequests(&r.Template.Spec)[corev1.ResourceCPU]
		}
	}
	for name, u := range used {
		if q, ok := byName[name].Allocatable[corev1.ResourceCPU]; ok && u > q.MilliValue() {
			t.Fatalf("node %s given %dm cpu of %s", name, u, q.String())
		}
	}
}

// checkPendingIsForced: a pending slot has a scheduler message, and no node
// that passes its filters has room for it.
func checkPendingIsForced(t *rapid.T, nodes []Node, reqs []PlacementRequest, got map[config.Key]Assignment) {
	for _, r := range reqs {
		a := got[r.Key]
		if a.Pending() == 0 {
			continue
		}
		if firstReason(a) == "" {
			t.Fatalf("%s: pending without a reason", r.Key)
		}
		// Replay everything placed, then ask whether the pod fits anywhere.
		pl := newPlacer(nodes)
		for _, o := range reqs {
			p := needsOf(o.Template)
			for _, s := range got[o.Key].Slots {
				if s.State == SlotPlaced {
					pl.byName[s.Node].take(&p)
				}
			}
		}
		p := needsOf(r.Template)
		for _, n := range pl.nodes {
			if n.reject(&p) == nil {
				t.Fatalf("%s is pending but fits on %s", r.Key, n.Name)
			}
		}
	}
}

func TestPlacementSpreadIsBalanced(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nodes, reqs := genFleet(t, true)
		for i := range reqs {
			reqs[i].Template.Spec.NodeSelector = nil
		}
		got := Place(nodes, reqs)
		for _, r := range reqs {
			lo, hi := r.Replicas, 0
			for _, n := range nodes {
				c := got[r.Key].Count(n.Name)
				lo, hi = min(lo, c), max(hi, c)
			}
			if hi-lo > 1 {
				t.Fatalf("%s: counts range %d..%d: %s", r.Key, lo, hi, counts(got[r.Key]))
			}
		}
	})
}

// moved counts the replicas that stop on one node to start on another: the
// sum of the per-node decreases, over the nodes of before.
func moved(nodes []Node, before, after Assignment) int {
	n := 0
	for _, node := range nodes {
		n += max(0, before.Count(node.Name)-after.Count(node.Name))
	}
	return n
}

// feasibleCount is the number of nodes a request may use (ample capacity).
func feasibleCount(nodes []Node, r PlacementRequest) int {
	n := 0
	for i := range nodes {
		if matchesNode(&r.Template.Spec, &nodes[i]) {
			n++
		}
	}
	return n
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func TestPlacementRendezvousStability(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nodes, reqs := genFleet(t, true)
		if len(nodes) < 2 {
			return
		}
		victim := rapid.IntRange(0, len(nodes)-1).Draw(t, "removed")
		fewer := slices.Delete(slices.Clone(nodes), victim, victim+1)
		all, less := Place(nodes, reqs), Place(fewer, reqs)
		for _, r := range reqs {
			f := feasibleCount(nodes, r)
			if f == 0 {
				continue
			}
			// Removing a node: only its replicas move (the survivors never
			// lose one), so at most ceil(R/N).
			if m := moved(nodes, all[r.Key], less[r.Key]); m > ceilDiv(r.Replicas, f) {
				t.Fatalf("%s: removing %s moved %d of %d replicas (%d feasible nodes): %s -> %s",
					r.Key, nodes[victim].Name, m, r.Replicas, f, counts(all[r.Key]), counts(less[r.Key]))
			}
			if m := moved(nodes, all[r.Key], less[r.Key]); m != all[r.Key].Count(nodes[victim].Name) {
				t.Fatalf("%s: survivors lost replicas: %s -> %s", r.Key, counts(all[r.Key]), counts(less[r.Key]))
			}
			// Adding it back: only the new node gains, at most ceil(R/N).
			if m := moved(fewer, less[r.Key], all[r.Key]); m > ceilDiv(r.Replicas, f) {
				t.Fatalf("%s: adding %s moved %d of %d replicas: %s -> %s",
					r.Key, nodes[victim].Name, m, r.Replicas, counts(less[r.Key]), counts(all[r.Key]))
			}
		}
	})
}

func TestRendezvousSpreadsOwners(t *testing.T) {
	// Single-replica owners land on every node about equally often.
	nodes := tenNodes()
	var reqs []PlacementRequest
	for i := range 2000 {
		reqs = append(reqs, deploy(fmt.Sprintf("svc-%d", i), 1))
	}
	got := Place(nodes, reqs)
	per := map[string]int{}
	for _, a := range got {
		per[a.Slots[0].Node]++
	}
	for _, n := range nodes {
		if c := per[n.Name]; c < 140 || c > 260 {
			t.Errorf("node %s got %d of 2000 single-replica owners (expected about 200)", n.Name, c)
		}
	}
	if bits.OnesCount64(rendezvous(config.Key{Name: "a"}, "n1")^rendezvous(config.Key{Name: "a"}, "n2")) < 16 {
		t.Error("rendezvous ranks of similar names are correlated")
	}
}

func BenchmarkPlace(b *testing.B) {
	var nodes []Node
	for i := range 20 {
		nodes = append(nodes, withAlloc(fakeNode(fmt.Sprintf("node-%02d", i), fmt.Sprintf("zone=%c", 'a'+i%3)), "64", "256Gi"))
	}
	var reqs []PlacementRequest
	for i := range 500 {
		var edits []func(*corev1.PodSpec)
		edits = append(edits, requests("100m", "128Mi"))
		if i%4 == 0 {
			edits = append(edits, selector("zone", "b"))
		}
		reqs = append(reqs, deploy(fmt.Sprintf("w%03d", i), 1+i%5, edits...))
	}
	b.ReportAllocs()
	for b.Loop() {
		Place(nodes, reqs)
	}
}

func TestPlacementStatefulNeverMoves(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nodes, reqs := genFleet(t, rapid.Bool().Draw(t, "ample"))
		names := []string{"gone"}
		for _, n := range nodes {
			names = append(names, n.Name)
		}
		for i := range reqs {
			if !rapid.Bool().Draw(t, "stateful") {
				continue
			}
			reqs[i].Stateful = true
			reqs[i].Current = map[int]string{}
			for s := range reqs[i].Replicas {
				if rapid.Bool().Draw(t, "running") {
					reqs[i].Current[s] = rapid.SampledFrom(names).Draw(t, "on")
				}
			}
		}
		got := Place(nodes, reqs)
		for _, r := range reqs {
			for s, node := range r.Current {
				slot := got[r.Key].Slots[s]
				if node != "gone" && slot.Node != node {
					t.Fatalf("%s slot %d moved from %s to %+v", r.Key, s, node, slot)
				}
			}
		}
	})
}
