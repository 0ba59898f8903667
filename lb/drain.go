package lb

import (
	"context"
	"slices"
)

// Drain waits until no request, upgraded connection or TCP connection is
// in flight to the endpoints of the given keys (pods), or until ctx ends;
// then it closes what is still open to them: TCP streams, upgraded
// connections, requests still running (their clients get 502 or a closed
// connection) and pooled connections. The executor calls it after an
// Update that removed the endpoints, with the pod's termination grace
// period as the deadline; an endpoint still in a set is waited for too.
func (p *Proxy) Drain(ctx context.Context, keys ...string) {
	eps := p.endpointsOf(keys)
	for _, ep := range eps {
		if !ep.waitIdle(ctx) {
			break
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ep := range eps {
		if !ep.retired.Load() {
			continue // back in a set (or never left): keep its pool
		}
		ep.closeAll()
		if ep.active.Load() == 0 {
			delete(p.retired, ep)
		}
	}
}

// endpointsOf returns the endpoints, in sets or retired, of the keys.
func (p *Proxy) endpointsOf(keys []string) []*endpoint {
	p.mu.Lock()
	defer p.mu.Unlock()
	var eps []*endpoint
	for ep := range p.retired {
		if slices.Contains(keys, ep.key) {
			eps = append(eps, ep)
		}
	}
	for _, pt := range p.ports {
		for _, ep := range pt.endpoints() {
			if slices.Contains(keys, ep.key) {
				eps = append(eps, ep)
			}
		}
	}
	return eps
}
