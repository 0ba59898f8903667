package fleet

import (
	"maps"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/serf/serf"
)

// Status is a member's condition as the rest of the daemon sees it.
type Status string

const (
	// Ready members take part in placement.
	Ready Status = "Ready"
	// NotReady members stopped answering more than NotReadyAfter ago: their
	// movable pods are placed elsewhere, their pinned and stateful pods
	// show as NodeLost.
	NotReady Status = "NotReady"
	// Left members left the fleet gracefully; serf forgets them after a day.
	Left Status = "Left"
)

// Member is one node of the fleet, as this node sees it.
type Member struct {
	// Name is the node's name.
	Name string
	// Address is where clients reach the node's proxy and published ports:
	// its --node-address, or its gossip IP if it set none.
	Address string
	// Gossip is the node's gossip host:port.
	Gossip string
	// Labels are the node's labels, HostnameLabel included.
	Labels map[string]string
	// Tags are the node's data tags (TagApplied, TagCPU, ...).
	Tags   map[string]string
	Status Status
	// LastSeen is when this node last knew the member to be answering: now
	// for an answering member, the time it was first found unresponsive or
	// leaving otherwise.
	LastSeen time.Time
}

// tracker remembers since when each member has been unresponsive or gone,
// which serf does not record.
type tracker struct {
	notReadyAfter time.Duration
	down          map[string]time.Time
}

func newTracker(notReadyAfter time.Duration) *tracker {
	return &tracker{notReadyAfter: notReadyAfter, down: map[string]time.Time{}}
}

// health is what serf says of one member.
type health int

const (
	healthAlive health = iota
	// healthFailed: memberlist stopped getting answers and, after its
	// suspicion timeout, declared the member dead.
	healthFailed
	healthLeft
)

// healthOf reads serf's status.
func healthOf(s serf.MemberStatus) health {
	switch s {
	case serf.StatusAlive:
		return healthAlive
	case serf.StatusLeaving, serf.StatusLeft:
		return healthLeft
	}
	return healthFailed
}

// observe records a member's health at now and returns its Status and
// LastSeen. A member is NotReady once it has been failed, without a break,
// for notReadyAfter, counted from the first observation of the failure.
func (t *tracker) observe(name string, h health, now time.Time) (Status, time.Time) {
	if h == healthAlive {
		delete(t.down, name)
		return Ready, now
	}
	since, ok := t.down[name]
	if !ok {
		since = now
		t.down[name] = now
	}
	switch {
	case h == healthLeft:
		return Left, since
	case now.Sub(since) >= t.notReadyAfter:
		return NotReady, since
	}
	return Ready, since
}

// forget drops members serf no longer lists.
func (t *tracker) forget(present map[string]bool) {
	for name := range t.down {
		if !present[name] {
			delete(t.down, name)
		}
	}
}

// memberOf converts a serf member.
func memberOf(m *serf.Member, status Status, lastSeen time.Time) Member {
	id := decodeTags(m.Tags)
	out := Member{
		Name:     m.Name,
		Address:  id.address,
		Gossip:   net.JoinHostPort(m.Addr.String(), strconv.Itoa(int(m.Port))),
		Labels:   id.labels,
		Tags:     id.data,
		Status:   status,
		LastSeen: lastSeen,
	}
	if out.Address == "" {
		out.Address = m.Addr.String()
	}
	return out
}

// sameMembers reports whether two member lists are equal but for
// LastSeen.
func sameMembers(a, b []Member) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.Address != y.Address || x.Gossip != y.Gossip || x.Status != y.Status ||
			!maps.Equal(x.Labels, y.Labels) || !maps.Equal(x.Tags, y.Tags) {
			return false
		}
	}
	return true
}
