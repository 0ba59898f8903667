package executor

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/planner"
	"github.com/reconciler/reconciler/runtime"
)

// Fleet is the fleet this node belongs to, as placement sees it. Every
// node of a fleet places every workload over the same member list and runs
// its own share (planner.Share), so nothing is elected.
type Fleet interface {
	// Nodes returns the fleet's members, this node included; members that
	// left are not listed. ok is false while the node cannot place yet (it
	// has not joined the fleet it was told to join): the loop then changes
	// nothing rather than run every replica on one node.
	Nodes() (nodes []planner.Node, ok bool)
}

// share narrows the desired state to this node's share of the fleet, and
// records what runs nowhere. Without a Fleet the node runs everything; ok
// is false while the fleet cannot place yet.
func (e *Executor) share(d *config.Desired, obs *runtime.Observed, now time.Time) (*config.Desired, bool) {
	if e.opt.Fleet == nil {
		return d, true
	}
	nodes, ok := e.opt.Fleet.Nodes()
	if !ok {
		return nil, false
	}
	out := *d
	var unplaced, batch []planner.Unplaced
	out.Workloads, unplaced = planner.Share(d.Workloads, nodes, e.opt.Node)
	var kept []string
	pending := map[config.Key]int32{}
	for _, u := range unplaced {
		pending[u.Key] = int32(u.Pending)
	}
	out.Workloads = handOver(d.Workloads, out.Workloads, obs, e.peerReports(), pending, e.opt.Node, &kept)
	cordoned := slices.ContainsFunc(nodes, func(n planner.Node) bool { return n.Name == e.opt.Node && n.Cordoned })
	changed, lost := e.placement.note(out.Workloads, nodes)
	e.noteHandover(kept, now)
	movable := movablePods(d.Workloads, obs, e.opt.Node)
	e.setStatus(func(s *Status) {
		s.Handover, s.Cordoned, s.Movable = kept, cordoned, movable
		s.PlacementChanges += changed
		s.NodesLost += lost
	})
	out.Jobs, out.CronJobs, batch = planner.ShareBatch(d.Jobs, d.CronJobs, nodes, e.opt.Node)
	unplaced = append(unplaced, batch...)
	slices.SortFunc(unplaced, func(a, b planner.Unplaced) int {
		if a.Key.Less(b.Key) {
			return -1
		}
		if b.Key.Less(a.Key) {
			return 1
		}
		return 0
	})
	e.noteUnplaced(unplaced, now)
	return &out, true
}

// noteUnplaced publishes the replicas that run nowhere in the status and,
// when a workload's message changes, as a FailedScheduling or NodeLost
// event.
func (e *Executor) noteUnplaced(us []planner.Unplaced, now time.Time) {
	e.mu.Lock()
	prev := make(map[config.Key]string, len(e.status.Unplaced))
	for _, u := range e.status.Unplaced {
		prev[u.Key] = u.Reason
	}
	e.status.Unplaced = us
	e.mu.Unlock()
	for _, u := range us {
		if prev[u.Key] == u.Reason {
			continue
		}
		reason, msg := "FailedScheduling", fmt.Sprintf("%d replica(s) Pending: %s", u.Pending, u.Reason)
		if u.Pending == 0 {
			reason, msg = "NodeLost", fmt.Sprintf("%d replica(s) Unknown: %s", u.NodeLost, u.Reason)
		}
		e.events.record(now, Warning, reason, u.Key.String(), msg)
	}
}

// placementMemory remembers the last pass's share and Ready members, to
// count placement changes and members lost.
type placementMemory struct {
	share map[config.Key]int32
	ready map[string]bool
}

// note records this pass's share and members; it returns 1 when the share
// changed since the last pass (0 on the first), and how many members
// turned NotReady.
func (m *placementMemory) note(ws []config.Workload, nodes []planner.Node) (changed, lost int) {
	share := make(map[config.Key]int32, len(ws))
	for _, w := range ws {
		share[w.Key] = w.Replicas
	}
	ready := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		ready[n.Name] = n.Ready
		if m.ready[n.Name] && !n.Ready {
			lost++
		}
	}
	if m.share != nil && !maps.Equal(m.share, share) {
		changed = 1
	}
	m.share, m.ready = share, ready
	return changed, lost
}

// noteHandover records an event when the replicas held back change.
func (e *Executor) noteHandover(kept []string, now time.Time) {
	e.mu.Lock()
	prev := e.status.Handover
	e.mu.Unlock()
	if slices.Equal(prev, kept) {
		return
	}
	for _, k := range kept {
		if !slices.Contains(prev, k) {
			e.events.record(now, Normal, "HandingOver", "fleet", k)
		}
	}
	if len(kept) == 0 {
		e.events.record(now, Normal, "HandedOver", "fleet", "no replicas held back for other nodes")
	}
}

// movablePods counts the node's pods that placement may move: all but
// those of stateful workloads and those pinned to the node by
// spec.nodeName. Pods being stopped are not counted.
func movablePods(ws []config.Workload, obs *runtime.Observed, node string) int {
	fixed := map[config.Key]bool{}
	for i := range ws {
		spec := &ws[i].Template.Spec
		fixed[ws[i].Key] = planner.IsStateful(spec) || spec.NodeName == node
	}
	n := 0
	for i := range obs.Pods {
		p := &obs.Pods[i]
		if !p.Terminating && !fixed[config.Key{Namespace: p.Namespace, Kind: p.Owner.Kind, Name: p.Owner.Name}] {
			n++
		}
	}
	return n
}
