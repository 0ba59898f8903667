package lb

import (
	"net/netip"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// portKey identifies a Service port across Updates. A port whose key stays
// keeps its counters, endpoints and pools.
type portKey struct {
	ns, name, port string
	number         int32
}

// port is the live state of one Service port: the current endpoint set, the
// balancing state and the metrics. Listeners point at it.
type port struct {
	key   portKey
	now   func() time.Time
	set   atomic.Pointer[epSet]
	rr    atomic.Uint64
	aff   affinity
	m     portMetrics
	unavl []byte // the body of the 503 answer

	// Guarded by Proxy.mu.
	byID map[string]*endpoint      // by key and address
	h2   atomic.Pointer[h2cServer] // set for h2c ports
}

func newPort(k portKey, now func() time.Time) *port {
	pt := &port{key: k, now: now, byID: map[string]*endpoint{}}
	pt.unavl = []byte("no ready endpoint for service " + k.ns + "/" + k.name + " port " + k.port + "\n")
	pt.set.Store(&epSet{})
	return pt
}

func portName(p Port) string {
	if p.Name != "" {
		return p.Name
	}
	return strconv.Itoa(int(p.Port))
}

func endpointID(e Endpoint) string { return e.Key + "\x00" + e.Addr }

// apply publishes the port's new endpoint set, reusing the endpoints that
// stay, and returns those that left. It does nothing when nothing changed.
func (pt *port) apply(s *Service, p *Port) (gone []*endpoint) {
	old := pt.set.Load()
	next := &epSet{protocol: p.Protocol, policy: s.Policy, affinity: max(s.AffinityTimeout, 0)}
	seen := make(map[string]bool, len(p.Endpoints))
	for _, e := range p.Endpoints {
		id := endpointID(e)
		if seen[id] {
			continue
		}
		seen[id] = true
		ep := pt.byID[id]
		if ep == nil {
			ep = newEndpoint(e)
			pt.byID[id] = ep
		}
		next.eps = append(next.eps, ep)
	}
	for id, ep := range pt.byID {
		if !seen[id] {
			delete(pt.byID, id)
			gone = append(gone, ep)
		}
	}
	if !sameSet(old, next) {
		pt.set.Store(next)
	}
	return gone
}

func sameSet(a, b *epSet) bool {
	if a.protocol != b.protocol || a.policy != b.policy || a.affinity != b.affinity || len(a.eps) != len(b.eps) {
		return false
	}
	for _, ep := range b.eps {
		if !slices.Contains(a.eps, ep) {
			return false
		}
	}
	return true
}

// removeAll empties the port and returns its endpoints.
func (pt *port) removeAll() []*endpoint {
	pt.set.Store(&epSet{})
	var gone []*endpoint
	for id, ep := range pt.byID {
		delete(pt.byID, id)
		gone = append(gone, ep)
	}
	return gone
}

// endpoints are those of the current set.
func (pt *port) endpoints() []*endpoint { return pt.set.Load().eps }

// listenAddrs are where the port listens for Service s.
func listenAddrs(s *Service, p *Port) []netip.AddrPort {
	out := make([]netip.AddrPort, 0, len(s.Addresses)+1)
	for _, a := range s.Addresses {
		out = append(out, netip.AddrPortFrom(a, uint16(p.Port)))
	}
	if p.NodePort != 0 {
		out = append(out, netip.AddrPortFrom(s.NodeAddress, uint16(p.NodePort)))
	}
	return out
}
