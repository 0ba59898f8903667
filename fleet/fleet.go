package fleet

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/serf/serf"
)

// Fleet is this node's membership. Its methods are safe for concurrent
// use.
type Fleet struct {
	opt     Options
	log     *slog.Logger
	now     func() time.Time // injectable for tests
	changes chan struct{}    // to the caller, coalesced
	wake    chan struct{}    // from events and SetTags to the refresher

	mu      sync.Mutex
	id      identity
	serf    *serf.Serf // while Run runs
	started bool
	stopped bool
	track   *tracker
	joinErr error
	joined  bool
	addr    string
}

// New checks the options and returns a Fleet that has not started: it
// neither listens nor gossips until Run.
func New(opt Options) (*Fleet, error) {
	id, err := opt.validate()
	if err != nil {
		return nil, err
	}
	opt.Key = append([]byte(nil), opt.Key...)
	opt.Join = append([]string(nil), opt.Join...)
	log := opt.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Fleet{
		opt:     opt,
		log:     log.With("node", opt.Node),
		now:     time.Now,
		changes: make(chan struct{}, 1),
		wake:    make(chan struct{}, 1),
		id:      id,
		track:   newTracker(opt.NotReadyAfter),
	}, nil
}

// Changes returns a channel that receives a value after the member list
// changes: a member joins, leaves, fails, becomes NotReady or Ready, or
// changes its tags (this node's own SetTags included). Notifications are
// coalesced; read Members to see the new state.
func (f *Fleet) Changes() <-chan struct{} { return f.changes }

// Members returns every member serf knows, this node included, sorted by
// name; before Run has started and after it has ended, only this node.
// Maps in the result are the caller's.
func (f *Fleet) Members() []Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if f.serf == nil {
		return []Member{f.self(now)}
	}
	ms := f.serf.Members()
	out := make([]Member, 0, len(ms))
	present := make(map[string]bool, len(ms))
	for i := range ms {
		m := &ms[i]
		present[m.Name] = true
		status, seen := f.track.observe(m.Name, healthOf(m.Status), now)
		out = append(out, memberOf(m, status, seen))
	}
	f.track.forget(present)
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// self describes this node while it is not gossiping: Ready before Run,
// Left after.
func (f *Fleet) self(now time.Time) Member {
	status := Ready
	if f.stopped {
		status = Left
	}
	addr := f.id.address
	if addr == "" {
		addr, _, _ = splitHostPort(f.opt.Bind)
	}
	return Member{Name: f.opt.Node, Address: addr, Gossip: f.opt.Bind, Labels: maps.Clone(f.id.labels),
		Tags: maps.Clone(f.id.data), Status: status, LastSeen: now}
}

// SetTags sets this node's data tags: each given key to its value, or
// removes it when the value is empty; other tags are kept. The change is
// gossiped to every member. It returns an error, and changes nothing, when
// a key is reserved (the prefix "l:" or "a") or when the node's tags would
// no longer fit in MaxTagBytes (ErrTagsTooLarge).
func (f *Fleet) SetTags(tags map[string]string) error {
	if err := checkDataKeys(withoutEmpty(tags)); err != nil {
		return fmt.Errorf("fleet: set tags: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	next := f.id
	next.data = maps.Clone(f.id.data)
	for k, v := range tags {
		if v == "" {
			delete(next.data, k)
		} else {
			next.data[k] = v
		}
	}
	enc := next.encode()
	if err := checkSize(enc); err != nil {
		return fmt.Errorf("fleet: set tags: %w", err)
	}
	if f.serf != nil {
		if err := f.serf.SetTags(enc); err != nil {
			return fmt.Errorf("fleet: set tags: %w", err)
		}
	}
	f.id = next
	poke(f.wake)
	return nil
}

// withoutEmpty drops removals, whose keys need no check.
func withoutEmpty(tags map[string]string) map[string]string {
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// Addr returns the host:port this node gossips on, once Run has started
// (the port chosen when Bind's port is 0); empty before.
func (f *Fleet) Addr() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addr
}

// Joined reports whether this node has found its fleet: a join
// succeeded, or it was given no address to join (it starts the fleet).
func (f *Fleet) Joined() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.joined || len(f.opt.Join) == 0
}

// JoinError returns why the last attempt to join the fleet failed, while
// Run keeps retrying; nil once a join has succeeded, and when there is
// nothing to join.
func (f *Fleet) JoinError() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.joinErr
}

// poke sends on a one-slot channel without blocking: a pending value
// already says "something changed".
func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
