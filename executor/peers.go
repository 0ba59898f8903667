package executor

import (
	"fmt"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/lb"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/svcnet"
)

// Peers gives the executor what the other Ready nodes of its fleet report
// (see PeerReport): their ready endpoints, which this node's proxy
// balances over too, and their available pods, which a node waits for
// before it gives up replicas placed elsewhere.
type Peers interface {
	// Reports returns the latest report of every other Ready node; a node
	// that turns NotReady is left out at once.
	Reports() []PeerReport
}

// PeerReport is what one node tells the others about itself.
type PeerReport struct {
	Node string `json:"node"`
	// Endpoints are the node's ready endpoints per Service port, at
	// addresses the other nodes reach.
	Endpoints []PeerEndpoints `json:"endpoints,omitempty"`
	// Available counts the node's available pods per workload
	// ("namespace/Kind/name").
	Available map[string]int32 `json:"available,omitempty"`
}

// PeerEndpoints are one node's ready endpoints of one Service port.
type PeerEndpoints struct {
	Namespace string         `json:"namespace"`
	Service   string         `json:"service"`
	Port      int32          `json:"port"`
	Endpoints []PeerEndpoint `json:"endpoints"`
}

// PeerEndpoint is one ready pod behind a Service port.
type PeerEndpoint struct {
	// ID is the pod's engine ID, Pod its name.
	ID  string `json:"id"`
	Pod string `json:"pod"`
	// Addr is host:port, reachable from the other nodes.
	Addr string `json:"addr"`
}

// PeerReport returns this node's report for the other nodes.
func (e *Executor) PeerReport() PeerReport {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := PeerReport{Node: e.opt.Node, Available: map[string]int32{}}
	for _, w := range e.status.Workloads {
		if w.Available > 0 {
			r.Available[config.Key{Namespace: w.Namespace, Kind: w.Kind, Name: w.Name}.String()] = w.Available
		}
	}
	for _, s := range e.localStates {
		for _, p := range s.Ports {
			if len(p.Endpoints) == 0 {
				continue
			}
			pe := PeerEndpoints{Namespace: s.Namespace, Service: s.Name, Port: p.Port}
			for _, ep := range p.Endpoints {
				pe.Endpoints = append(pe.Endpoints, PeerEndpoint{ID: ep.Key, Pod: e.localNames[ep.Key], Addr: ep.Addr})
			}
			r.Endpoints = append(r.Endpoints, pe)
		}
	}
	return r
}

// peerReports returns the other nodes' reports, or nil outside a fleet.
func (e *Executor) peerReports() []PeerReport {
	if e.opt.Peers == nil {
		return nil
	}
	rs := e.opt.Peers.Reports()
	sort.Slice(rs, func(i, j int) bool { return rs[i].Node < rs[j].Node })
	return rs
}

// withRemoteEndpoints adds the other nodes' ready endpoints to the
// Services' ports, after the local ones; a Service with
// internalTrafficPolicy Local keeps its node-local endpoints only. The
// result shares no port list with states (PeerReport reads states).
//
// Remote endpoints are keyed "node/podID", and names gets their pods' names.
func withRemoteEndpoints(states []svcnet.Service, views []serviceView, reports []PeerReport, names map[string]string) []svcnet.Service {
	remote := map[string][]lb.Endpoint{}
	for _, r := range reports {
		for _, pe := range r.Endpoints {
			k := portKey(pe.Namespace, pe.Service, pe.Port)
			for _, ep := range pe.Endpoints {
				key := r.Node + "/" + ep.ID
				remote[k] = append(remote[k], lb.Endpoint{Key: key, Addr: ep.Addr})
				names[key] = ep.Pod
			}
		}
	}
	out := make([]svcnet.Service, len(states))
	for i, s := range states {
		out[i] = s
		local := false
		if p := views[i].svc.Spec.InternalTrafficPolicy; p != nil && *p == corev1.ServiceInternalTrafficPolicyLocal {
			local = true
		}
		out[i].Ports = make([]lb.Port, len(s.Ports))
		for j, p := range s.Ports {
			p.Endpoints = append([]lb.Endpoint(nil), p.Endpoints...)
			if !local {
				p.Endpoints = append(p.Endpoints, remote[portKey(s.Namespace, s.Name, p.Port)]...)
			}
			out[i].Ports[j] = p
		}
	}
	return out
}

func portKey(ns, svc string, port int32) string {
	return ns + "/" + svc + "/" + strconv.Itoa(int(port))
}

// handOver keeps, of a workload this node runs more replicas of than its
// share, as many as the fleet needs until the nodes that took the others
// over report them available: a rejoining or drained node's replicas are
// removed only after their replacements are ready elsewhere.
//
// kept gets one line per workload held back.
// pending counts each workload's replicas that fit nowhere: nobody takes
// those over, so they are not held back.
func handOver(full, mine []config.Workload, obs *runtime.Observed, reports []PeerReport, pending map[config.Key]int32, node string, kept *[]string) []config.Workload {
	if len(reports) == 0 {
		return mine
	}
	running := map[config.Key]int32{}
	for i := range obs.Pods {
		p := &obs.Pods[i]
		if !p.Terminating {
			running[config.Key{Namespace: p.Namespace, Kind: p.Owner.Kind, Name: p.Owner.Name}]++
		}
	}
	share := make(map[config.Key]int, len(mine))
	for i := range mine {
		share[mine[i].Key] = i
	}
	out := append([]config.Workload(nil), mine...)
	for i := range full {
		wl := &full[i]
		var elsewhere int32
		for _, r := range reports {
			elsewhere += r.Available[wl.Key.String()]
		}
		var target int32
		j, ok := share[wl.Key]
		if ok {
			target = out[j].Replicas
		}
		keep := max(target, min(running[wl.Key], wl.Replicas-pending[wl.Key]-elsewhere))
		if keep > target {
			*kept = append(*kept, fmt.Sprintf("%s: %d of %d replicas until the other nodes have theirs", wl.Key, keep-target, keep))
		}
		switch {
		case keep <= target:
		case ok:
			out[j].Replicas = keep
		default:
			w := *wl
			w.Replicas, w.PodNameSeed = keep, node
			out = append(out, w)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Key.Less(out[b].Key) })
	return out
}
