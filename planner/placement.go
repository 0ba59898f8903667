package planner

// Placement: which node of a small fleet runs which replica, decided the
// same way on every node.
//
// Every daemon of a fleet calls Place with the same member list and the same
// requests (those of the commit the fleet agreed on) and runs only the slots
// assigned to itself. Nothing is elected and nothing is exchanged but the
// member list: Place is a pure function, so equal inputs give equal
// assignments on every node, whatever the order of the inputs.
//
// For each pod, nodes are filtered the way Kubernetes' scheduler filters
// them, in the scheduler's plugin order (NodeUnschedulable, NodeName,
// TaintToleration for unreachable nodes, NodeAffinity, NodePorts,
// NodeResourcesFit). Among the nodes that pass, a replica goes to the node
// with the fewest replicas of the same owner (an even spread, as the
// default topology spread aims for), ties broken by rendezvous hashing of
// the owner and the node. With rendezvous ranks deciding which nodes get
// the remainder, adding or removing one node of N changes each owner's
// per-node counts by at most about 1/N of its replicas: survivors never
// lose replicas when a node goes, and existing nodes never gain any when
// one comes.

import (
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/reconciler/reconciler/config"
)

// Node is one member of the fleet as placement sees it: plain data, built by
// the caller from the live member list.
type Node struct {
	// Name is unique in the fleet; spec.nodeName and the
	// kubernetes.io/hostname label refer to it.
	Name string
	// Labels are matched by nodeSelector and node affinity.
	Labels map[string]string
	// Ready is false for a node that stopped answering: nothing new is
	// placed on it, and the pods bound to it (pinned by spec.nodeName, or
	// stateful) stay there and are reported NodeLost.
	Ready bool
	// Cordoned nodes take no new pods, except pods pinned to them by
	// spec.nodeName and pods that tolerate node.kubernetes.io/unschedulable,
	// as in Kubernetes. Pods already bound to them stay.
	Cordoned bool
	// Allocatable is what pods may request in total on this node. A
	// resource it does not list is not limited, except extended resources
	// (names with a domain, such as example.com/gpu), of which a node that
	// does not list them has none. "pods" limits the number of pods.
	Allocatable corev1.ResourceList
}

// PlacementRequest asks for the replicas of one owner to be placed.
type PlacementRequest struct {
	// Key is the owner (Pod, Deployment, ReplicationController, Job). Keys
	// are unique within one call.
	Key config.Key
	// Replicas is the number of slots to place, numbered 0..Replicas-1.
	Replicas int
	// Template is the pod template; its nodeName, nodeSelector, required
	// node affinity, tolerations, host ports and resource requests decide
	// where a replica may go. Nil is an unconstrained pod.
	Template *corev1.PodTemplateSpec
	// Stateful marks pods whose data lives on their node (a
	// PersistentVolumeClaim or hostPath volume, see IsStateful): a slot in
	// Current stays on its node as long as the node is a member, even when
	// it is not Ready, cordoned, short of capacity or no longer matches the
	// pod's selector (Kubernetes never evicts for those either).
	Stateful bool
	// Current maps a slot to the node that runs it now. It is read only for
	// Stateful requests, whose slots must not move; stateless placement is
	// a function of the member list alone, so that nodes agree without
	// exchanging pod lists. Every node must pass the same Current.
	Current map[int]string
}

// SlotState is the outcome of placing one replica slot.
type SlotState string

const (
	// SlotPlaced: the slot runs on Slot.Node.
	SlotPlaced SlotState = "Placed"
	// SlotPending: the slot fits on no node; Slot.Reason is the
	// scheduler's FailedScheduling message.
	SlotPending SlotState = "Pending"
	// SlotNodeLost: the slot is bound to Slot.Node (by spec.nodeName, or
	// as a stateful pod), which is not Ready; it is not moved, and shows
	// as Unknown with reason NodeLost.
	SlotNodeLost SlotState = "NodeLost"
)

// Slot is where one replica goes.
type Slot struct {
	// Node is the node that runs the slot; empty when Pending.
	Node  string
	State SlotState
	// Reason explains a Pending or NodeLost slot; empty when Placed.
	Reason string
}

// Assignment is the placement of one request's slots, indexed by slot.
// For a stateless request only the number of slots per node is
// meaningful (Count): a node runs that many replicas, whichever pods they
// are; slot numbers identify pods only through Current, for stateful
// requests.
type Assignment struct {
	Slots []Slot
}

// Count returns how many slots are bound to node, Placed or NodeLost: the
// number of replicas that node runs (or ran, before it was lost).
func (a Assignment) Count(node string) int {
	n := 0
	for _, s := range a.Slots {
		if s.Node == node && s.State != SlotPending {
			n++
		}
	}
	return n
}

// Pending returns how many slots fit nowhere.
func (a Assignment) Pending() int {
	n := 0
	for _, s := range a.Slots {
		if s.State == SlotPending {
			n++
		}
	}
	return n
}

// The scheduler's reasons, word for word (kube-scheduler's filter plugins
// and FitError), so that `get pods` and events read as in Kubernetes.
const (
	reasonUnschedulable = "node(s) were unschedulable"
	reasonNodeName      = "node(s) didn't match the requested node name"
	reasonUnreachable   = "node(s) had untolerated taint {" + taintUnreachable + ": }"
	reasonAffinity      = "node(s) didn't match Pod's node affinity/selector"
	reasonPorts         = "node(s) didn't have free ports for the requested pod ports"
	reasonTooManyPods   = "Too many pods"
	msgNoNodes          = "no nodes available to schedule pods"

	taintUnreachable   = "node.kubernetes.io/unreachable"
	taintUnschedulable = "node.kubernetes.io/unschedulable"
)

// Place assigns every slot of every request to a node, or leaves it
// Pending with the scheduler's message. It is pure and deterministic: the
// order of nodes and requests, and map iteration, do not change the result.
// Node names must be unique and non-empty (a node without a name, or with
// a name seen before, is ignored).
//
// Capacity is shared in this order: stateful slots on their current nodes
// first (they run already, and are kept even beyond capacity), then pods
// pinned by spec.nodeName, then everything else, each group by Key.
func Place(nodes []Node, reqs []PlacementRequest) map[config.Key]Assignment {
	pl := newPlacer(nodes)
	order := placementOrder(reqs)
	needs := make([]podNeeds, len(reqs))
	slots := make([][]Slot, len(reqs))
	for _, i := range order {
		needs[i] = needsOf(reqs[i].Template)
		slots[i] = make([]Slot, max(reqs[i].Replicas, 0))
		pl.placeSticky(&reqs[i], &needs[i], slots[i])
	}
	for _, i := range order {
		pl.placeRest(&reqs[i], &needs[i], slots[i])
	}
	out := make(map[config.Key]Assignment, len(reqs))
	for i := range reqs {
		out[reqs[i].Key] = Assignment{Slots: slots[i]}
	}
	return out
}

// placementOrder returns the indexes of reqs with pinned pods first, each
// group sorted by Key.
func placementOrder(reqs []PlacementRequest) []int {
	order := make([]int, len(reqs))
	for i := range order {
		order[i] = i
	}
	pinned := func(r *PlacementRequest) bool { return r.Template != nil && r.Template.Spec.NodeName != "" }
	sort.SliceStable(order, func(a, b int) bool {
		ra, rb := &reqs[order[a]], &reqs[order[b]]
		if pa, pb := pinned(ra), pinned(rb); pa != pb {
			return pa
		}
		return ra.Key.Less(rb.Key)
	})
	return order
}

// placer holds the nodes and what has been placed on them so far.
type placer struct {
	nodes  []*nodeState // sorted by name
	byName map[string]*nodeState
}

func newPlacer(nodes []Node) *placer {
	pl := &placer{byName: make(map[string]*nodeState, len(nodes))}
	for i := range nodes {
		n := &nodes[i]
		if _, dup := pl.byName[n.Name]; dup || n.Name == "" {
			continue
		}
		ns := newNodeState(n)
		pl.byName[n.Name] = ns
		pl.nodes = append(pl.nodes, ns)
	}
	sort.Slice(pl.nodes, func(a, b int) bool { return pl.nodes[a].Name < pl.nodes[b].Name })
	for i, n := range pl.nodes {
		n.index = i
	}
	return pl
}

// placeSticky keeps a stateful request's slots on the nodes in Current.
// A slot whose node is no longer a member is left for placeRest.
func (pl *placer) placeSticky(r *PlacementRequest, p *podNeeds, slots []Slot) {
	if !r.Stateful {
		return
	}
	for i := range slots {
		n := pl.byName[r.Current[i]]
		if n == nil {
			continue
		}
		n.take(p)
		slots[i] = boundSlot(n, "it uses a volume on that node")
	}
}

// boundSlot is a slot that stays on n: Placed, or NodeLost when n is not
// Ready.
func boundSlot(n *nodeState, why string) Slot {
	if n.Ready {
		return Slot{Node: n.Name, State: SlotPlaced}
	}
	return Slot{Node: n.Name, State: SlotNodeLost,
		Reason: fmt.Sprintf("node %s is unresponsive; the pod is not moved because %s", n.Name, why)}
}

// placeRest places the slots placeSticky left: pinned pods on an
// unresponsive node stay there as NodeLost; the others go, one by one, to
// the feasible node with the fewest replicas of this owner, ties to the
// highest rendezvous rank.
func (pl *placer) placeRest(r *PlacementRequest, p *podNeeds, slots []Slot) {
	if pin := pl.byName[p.spec.NodeName]; pin != nil && !pin.Ready {
		for i := range slots {
			if slots[i].State == "" {
				slots[i] = boundSlot(pin, "it is pinned by spec.nodeName")
			}
		}
		return
	}
	counts := make([]int, len(pl.nodes)) // replicas of this owner, in node order
	for _, s := range slots {
		if s.State != "" {
			counts[pl.byName[s.Node].index]++
		}
	}
	var ranks []uint64
	var static []bool
	pending := false
	for i := range slots {
		if slots[i].State != "" {
			continue
		}
		if ranks == nil {
			ranks, static = pl.ranks(r.Key), pl.staticFit(p)
		}
		n := pl.pick(p, static, counts, ranks)
		if n == nil {
			pending = true
			continue
		}
		n.take(p)
		counts[n.index]++
		slots[i] = Slot{Node: n.Name, State: SlotPlaced}
	}
	if pending {
		msg := pl.fitError(p)
		for i := range slots {
			if slots[i].State == "" {
				slots[i] = Slot{State: SlotPending, Reason: msg}
			}
		}
	}
}

// pick returns the feasible node with the fewest replicas of this owner,
// ties to the highest rank; nil when no node can take the pod. Only nodes
// marked in static (those passing the filters that placements do not
// change) are considered.
func (pl *placer) pick(p *podNeeds, static []bool, counts []int, ranks []uint64) *nodeState {
	best, bestCount := -1, 0
	for i, n := range pl.nodes {
		if !static[i] || n.rejectDynamic(p) != nil {
			continue
		}
		c := counts[i]
		if best < 0 || c < bestCount || c == bestCount && ranks[i] > ranks[best] {
			best, bestCount = i, c
		}
	}
	if best < 0 {
		return nil
	}
	return pl.nodes[best]
}

// staticFit marks, in node order, the nodes that pass the filters no
// placement changes (cordon, node name, readiness, affinity).
func (pl *placer) staticFit(p *podNeeds) []bool {
	out := make([]bool, len(pl.nodes))
	for i, n := range pl.nodes {
		out[i] = n.rejectStatic(p) == nil
	}
	return out
}

// ranks returns the rendezvous rank of every node for one owner, in node
// order.
func (pl *placer) ranks(k config.Key) []uint64 {
	out := make([]uint64, len(pl.nodes))
	for i, n := range pl.nodes {
		out[i] = rendezvous(k, n.Name)
	}
	return out
}

// rendezvous is the highest-random-weight hash of an owner and a node: the
// same in every process (FNV-1a, then a 64-bit finalizer so that similar
// names rank independently).
func rendezvous(k config.Key, node string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(k.String()))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(node))
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// fitError is kube-scheduler's FitError message for a pod that fits on no
// node: "0/3 nodes are available: 1 Insufficient memory, 2 node(s) didn't
// match Pod's node affinity/selector." Each node counts the reasons of the
// first filter it fails; the "count reason" strings are sorted as strings,
// as the scheduler sorts them.
func (pl *placer) fitError(p *podNeeds) string {
	if len(pl.nodes) == 0 {
		return msgNoNodes
	}
	hist := map[string]int{}
	for _, n := range pl.nodes {
		for _, reason := range n.reject(p) {
			hist[reason]++
		}
	}
	parts := make([]string, 0, len(hist))
	for reason, count := range hist {
		parts = append(parts, strconv.Itoa(count)+" "+reason)
	}
	sort.Strings(parts)
	return fmt.Sprintf("0/%d nodes are available: %s.", len(pl.nodes), strings.Join(parts, ", "))
}

// nodeState is a node and what the pods placed so far use of it.
type nodeState struct {
	*Node
	// free is what is left of each limited resource (may go negative for
	// stateful pods kept beyond capacity).
	free  map[corev1.ResourceName]int64
	ports []hostPort
	index int // position in placer.nodes
}

func newNodeState(n *Node) *nodeState {
	ns := &nodeState{Node: n, free: make(map[corev1.ResourceName]int64, len(n.Allocatable))}
	for name, q := range n.Allocatable {
		ns.free[name] = units(name, q)
	}
	return ns
}

// take records one pod of p on the node.
func (n *nodeState) take(p *podNeeds) {
	for _, r := range p.requests {
		if _, limited := n.free[r.name]; limited {
			n.free[r.name] -= r.amount
		}
	}
	n.ports = append(n.ports, p.ports...)
}

// reject returns why the node cannot take one more pod of p: the reasons of
// the first filter it fails, in kube-scheduler's filter order; nil when it
// can. The returned slice must not be modified.
func (n *nodeState) reject(p *podNeeds) []string {
	if r := n.rejectStatic(p); r != nil {
		return r
	}
	return n.rejectDynamic(p)
}

// rejectStatic applies the filters that depend on the node and the pod
// alone: NodeUnschedulable, NodeName, TaintToleration (unreachable nodes)
// and NodeAffinity.
func (n *nodeState) rejectStatic(p *podNeeds) []string {
	spec := p.spec
	switch {
	case n.Cordoned && spec.NodeName == "" && !tolerates(spec.Tolerations, taintUnschedulable):
		return reasonsUnschedulable
	case spec.NodeName != "" && spec.NodeName != n.Name:
		return reasonsNodeName
	case !n.Ready:
		return reasonsUnreachable
	case !matchesNode(spec, n.Node):
		return reasonsAffinity
	}
	return nil
}

// rejectDynamic applies the filters that depend on what is already placed
// on the node: NodePorts and NodeResourcesFit.
func (n *nodeState) rejectDynamic(p *podNeeds) []string {
	if portsConflict(n.ports, p.ports) {
		return reasonsPorts
	}
	return n.insufficient(p)
}

var (
	reasonsUnschedulable = []string{reasonUnschedulable}
	reasonsNodeName      = []string{reasonNodeName}
	reasonsUnreachable   = []string{reasonUnreachable}
	reasonsAffinity      = []string{reasonAffinity}
	reasonsPorts         = []string{reasonPorts}
)

// insufficient lists the resources the node has too little of for one more
// pod of p ("Insufficient memory", "Too many pods"); nil when it fits.
func (n *nodeState) insufficient(p *podNeeds) []string {
	var out []string
	for _, r := range p.requests {
		free, limited := n.free[r.name]
		if !limited && !isExtended(r.name) {
			continue
		}
		if r.amount > free {
			if r.name == corev1.ResourcePods {
				out = append(out, reasonTooManyPods)
			} else {
				out = append(out, "Insufficient "+string(r.name))
			}
		}
	}
	return out
}

// isExtended reports whether a resource is an extended resource (a name
// with a domain that is not kubernetes.io's), which a node has none of
// unless it lists it.
func isExtended(name corev1.ResourceName) bool {
	s := string(name)
	return strings.Contains(s, "/") && !strings.HasPrefix(s, "kubernetes.io/")
}

// units converts a quantity to the integer the fit check compares:
// millicores for cpu, whole units (rounded up) for everything else.
func units(name corev1.ResourceName, q resource.Quantity) int64 {
	if name == corev1.ResourceCPU {
		return q.MilliValue()
	}
	return q.Value()
}

// tolerates reports whether tolerations allow scheduling onto a node with a
// NoSchedule taint of key and no value.
func tolerates(tols []corev1.Toleration, key string) bool {
	for _, t := range tols {
		keyOK := t.Key == key || t.Key == "" && t.Operator == corev1.TolerationOpExists
		effectOK := t.Effect == "" || t.Effect == corev1.TaintEffectNoSchedule
		valueOK := t.Operator == corev1.TolerationOpExists || t.Value == ""
		if keyOK && effectOK && valueOK {
			return true
		}
	}
	return false
}

// podNeeds is what one pod of a template asks of a node.
type podNeeds struct {
	spec *corev1.PodSpec
	// requests holds the non-zero effective requests, "pods": 1 included,
	// sorted by name.
	requests []request
	ports    []hostPort
}

type request struct {
	name   corev1.ResourceName
	amount int64
}

var emptySpec corev1.PodSpec

// needsOf derives the needs of one pod of t (nil: none).
func needsOf(t *corev1.PodTemplateSpec) podNeeds {
	if t == nil {
		return podNeeds{spec: &emptySpec, requests: []request{{corev1.ResourcePods, 1}}}
	}
	p := podNeeds{spec: &t.Spec, ports: hostPortsOf(&t.Spec)}
	for name, amount := range podRequests(&t.Spec) {
		if amount > 0 {
			p.requests = append(p.requests, request{name, amount})
		}
	}
	p.requests = append(p.requests, request{corev1.ResourcePods, 1})
	sort.Slice(p.requests, func(a, b int) bool { return p.requests[a].name < p.requests[b].name })
	return p
}

// podRequests is the pod's effective request of each resource, as
// Kubernetes computes it: the sum over containers plus restartable init
// containers (sidecars), or the largest init container's request with the
// sidecars started before it, whichever is more, plus the pod overhead. A
// container that sets a limit but no request requests its limit, as API
// defaulting does.
func podRequests(spec *corev1.PodSpec) map[corev1.ResourceName]int64 {
	sum := map[corev1.ResourceName]int64{}
	for i := range spec.Containers {
		addResources(sum, containerRequests(&spec.Containers[i]))
	}
	sidecars := map[corev1.ResourceName]int64{}
	peak := map[corev1.ResourceName]int64{}
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		r := containerRequests(c)
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			addResources(sidecars, r)
			maxResources(peak, sidecars)
			continue
		}
		addResources(r, sidecars)
		maxResources(peak, r)
	}
	addResources(sum, sidecars)
	maxResources(sum, peak)
	for name, q := range spec.Overhead {
		sum[name] += units(name, q)
	}
	return sum
}

// containerRequests is a container's request of each resource, its limit
// where it sets no request.
func containerRequests(c *corev1.Container) map[corev1.ResourceName]int64 {
	out := make(map[corev1.ResourceName]int64, len(c.Resources.Limits))
	for name, q := range c.Resources.Limits {
		out[name] = units(name, q)
	}
	for name, q := range c.Resources.Requests {
		out[name] = units(name, q)
	}
	return out
}

func addResources(dst, src map[corev1.ResourceName]int64) {
	for name, v := range src {
		dst[name] += v
	}
}

func maxResources(dst, src map[corev1.ResourceName]int64) {
	for name, v := range src {
		dst[name] = max(dst[name], v)
	}
}

// hostPort is a port a pod binds on its node.
type hostPort struct {
	ip       string
	protocol corev1.Protocol
	port     int32
}

// hostPortsOf lists the host ports the pod's containers publish.
func hostPortsOf(spec *corev1.PodSpec) []hostPort {
	var out []hostPort
	for i := range spec.Containers {
		for _, p := range spec.Containers[i].Ports {
			if p.HostPort == 0 {
				continue
			}
			hp := hostPort{ip: p.HostIP, protocol: p.Protocol, port: p.HostPort}
			if hp.ip == "" {
				hp.ip = "0.0.0.0"
			}
			if hp.protocol == "" {
				hp.protocol = corev1.ProtocolTCP
			}
			out = append(out, hp)
		}
	}
	return out
}

// portsConflict reports whether any wanted port is taken on the node: the
// same protocol and port on the same address, or with either on 0.0.0.0.
func portsConflict(used, want []hostPort) bool {
	for _, w := range want {
		for _, u := range used {
			if w.port == u.port && w.protocol == u.protocol &&
				(w.ip == u.ip || w.ip == "0.0.0.0" || u.ip == "0.0.0.0") {
				return true
			}
		}
	}
	return false
}

// matchesNode reports whether the node satisfies the pod's nodeSelector
// and its required node affinity (terms ORed, expressions within a term
// ANDed), as the NodeAffinity filter does.
func matchesNode(spec *corev1.PodSpec, n *Node) bool {
	for k, v := range spec.NodeSelector {
		if got, ok := n.Labels[k]; !ok || got != v {
			return false
		}
	}
	a := spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	for i := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if matchesTerm(&a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[i], n) {
			return true
		}
	}
	return false
}

// matchesTerm reports whether every expression of a term matches; an empty
// term matches no node, as in Kubernetes. matchFields may name
// metadata.name only.
func matchesTerm(t *corev1.NodeSelectorTerm, n *Node) bool {
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return false
	}
	for i := range t.MatchExpressions {
		e := &t.MatchExpressions[i]
		v, ok := n.Labels[e.Key]
		if !matchesRequirement(e, v, ok) {
			return false
		}
	}
	for i := range t.MatchFields {
		e := &t.MatchFields[i]
		if e.Key != "metadata.name" || !matchesRequirement(e, n.Name, true) {
			return false
		}
	}
	return true
}

// matchesRequirement applies one operator to a label's value (ok is false
// when the node has no such label). Gt and Lt compare integers; a value
// that is not one never matches.
func matchesRequirement(e *corev1.NodeSelectorRequirement, v string, ok bool) bool {
	switch e.Operator {
	case corev1.NodeSelectorOpIn:
		return ok && slices.Contains(e.Values, v)
	case corev1.NodeSelectorOpNotIn:
		return !ok || !slices.Contains(e.Values, v)
	case corev1.NodeSelectorOpExists:
		return ok
	case corev1.NodeSelectorOpDoesNotExist:
		return !ok
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if !ok || len(e.Values) != 1 {
			return false
		}
		have, err1 := strconv.ParseInt(v, 10, 64)
		want, err2 := strconv.ParseInt(e.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if e.Operator == corev1.NodeSelectorOpGt {
			return have > want
		}
		return have < want
	}
	return false
}

// IsStateful reports whether a pod keeps data on its node: it mounts a
// PersistentVolumeClaim or a hostPath volume. Such pods are never moved
// to another node.
func IsStateful(spec *corev1.PodSpec) bool {
	for _, v := range spec.Volumes {
		if v.PersistentVolumeClaim != nil || v.HostPath != nil {
			return true
		}
	}
	return false
}

// PlacementRequestFor is the request for a workload's replicas, with
// current the slots its stateful pods run in now (nil for none).
func PlacementRequestFor(wl *config.Workload, current map[int]string) PlacementRequest {
	return PlacementRequest{
		Key:      wl.Key,
		Replicas: int(wl.Replicas),
		Template: &wl.Template,
		Stateful: IsStateful(&wl.Template.Spec),
		Current:  current,
	}
}
