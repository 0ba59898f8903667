package lb

import (
	"net/netip"
	"slices"
	"sync"
	"time"
)

// epSet is the immutable state of a port that requests read: its ready
// endpoints and how to choose among them. A new set replaces the old one
// atomically; nothing in a set changes after it is published.
type epSet struct {
	eps      []*endpoint
	protocol Protocol
	policy   Policy
	affinity time.Duration
}

// acquire chooses an endpoint for a client, other than skip, and counts it
// in flight; nil means there is none.
func (pt *port) acquire(client netip.Addr, skip *endpoint) *endpoint {
	for range 4 { // an endpoint retired meanwhile is skipped; the next set has it gone
		set := pt.set.Load()
		ep := pt.choose(set, client, skip)
		if ep == nil {
			return nil
		}
		if ep.acquire() {
			return ep
		}
	}
	return nil
}

// choose applies the set's policy and affinity.
func (pt *port) choose(set *epSet, client netip.Addr, skip *endpoint) *endpoint {
	n := len(set.eps)
	if n == 0 || (n == 1 && set.eps[0] == skip) {
		return nil
	}
	if set.affinity > 0 && client.IsValid() {
		return pt.aff.choose(pt, set, client, skip)
	}
	return pt.balance(set, skip)
}

// balance chooses by policy alone: in turn, or the fewest requests in flight
// starting at the next in turn so that ties rotate.
func (pt *port) balance(set *epSet, skip *endpoint) *endpoint {
	n := uint64(len(set.eps))
	roundRobin := set.policy != PolicyLeastRequests || set.protocol == ProtocolTCP
	if roundRobin && skip != nil {
		// A retry takes the endpoint after the one that failed, leaving
		// the turn as it is: a dead endpoint costs one dial per round.
		if j := slices.Index(set.eps, skip); j >= 0 {
			return set.eps[(uint64(j)+1)%n]
		}
	}
	i := pt.rr.Add(1)
	if roundRobin {
		return set.eps[i%n]
	}
	var best *endpoint
	var least int64
	for j := range n {
		ep := set.eps[(i+j)%n]
		if ep == skip {
			continue
		}
		if a := ep.active.Load(); best == nil || a < least {
			best, least = ep, a
		}
	}
	return best
}

// affinity maps client addresses to their endpoint for sessionAffinity
// ClientIP. It takes a lock, so it is used only by Services that ask for it.
type affinity struct {
	mu sync.Mutex
	m  map[netip.Addr]affEntry
}

type affEntry struct {
	ep    *endpoint
	until time.Time
}

// choose keeps a client on its endpoint while that stays in the set and the
// client returns within the timeout; otherwise it balances and remembers.
func (a *affinity) choose(pt *port, set *epSet, client netip.Addr, skip *endpoint) *endpoint {
	now := pt.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.m[client]; ok && e.ep != skip && !e.ep.retired.Load() && now.Before(e.until) {
		a.m[client] = affEntry{e.ep, now.Add(set.affinity)}
		return e.ep
	}
	ep := pt.balance(set, skip)
	if ep != nil {
		if a.m == nil {
			a.m = map[netip.Addr]affEntry{}
		}
		a.m[client] = affEntry{ep, now.Add(set.affinity)}
	}
	return ep
}

// sweep forgets clients that timed out or whose endpoint left.
func (a *affinity) sweep(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for c, e := range a.m {
		if e.ep.retired.Load() || !now.Before(e.until) {
			delete(a.m, c)
		}
	}
}
