package lb

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// dialTimeout bounds a dial to an endpoint; endpoints are local, so a
// longer wait means the pod is not answering.
const dialTimeout = 5 * time.Second

// endpoint is one ready pod behind one Service port. It outlives its
// presence in the port's set while anything is in flight to it, so that
// Drain can wait for it. Its fields are safe for concurrent use.
type endpoint struct {
	key, addr string
	// active counts requests and TCP connections in flight.
	active atomic.Int64
	// retired is set once the endpoint left its set; acquire fails then.
	retired atomic.Bool
	// watch counts Drain calls waiting on active reaching zero.
	watch atomic.Int32
	pool  pool
	// h2 is the endpoint's h2c transport, made on first use.
	h2once sync.Once
	h2     atomic.Pointer[http.Transport]

	mu      sync.Mutex
	conns   map[net.Conn]struct{} // every upstream connection open to it
	waiters []chan struct{}       // closed when active reaches zero
}

func newEndpoint(e Endpoint) *endpoint {
	return &endpoint{key: e.Key, addr: e.Addr, conns: map[net.Conn]struct{}{}}
}

// acquire counts one more request or connection in flight. It fails when
// the endpoint was retired meanwhile: the caller picks again, so that Drain,
// which runs after the endpoint was retired, never misses it.
func (e *endpoint) acquire() bool {
	e.active.Add(1)
	if e.retired.Load() {
		e.release()
		return false
	}
	return true
}

// release ends what acquire started and wakes Drain when nothing is left.
func (e *endpoint) release() {
	if e.active.Add(-1) == 0 && e.watch.Load() > 0 {
		e.mu.Lock()
		for _, ch := range e.waiters {
			close(ch)
		}
		e.waiters = nil
		e.mu.Unlock()
	}
}

// waitIdle returns true once nothing is in flight, false when ctx ends
// first.
func (e *endpoint) waitIdle(ctx context.Context) bool {
	for {
		ch := make(chan struct{})
		e.mu.Lock()
		e.waiters = append(e.waiters, ch)
		e.mu.Unlock()
		e.watch.Add(1)
		idle := e.active.Load() == 0
		if !idle {
			select {
			case <-ch:
			case <-ctx.Done():
			}
		}
		e.watch.Add(-1)
		e.forget(ch)
		if idle {
			return true
		}
		if ctx.Err() != nil {
			return e.active.Load() == 0
		}
	}
}

func (e *endpoint) forget(ch chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, c := range e.waiters {
		if c == ch {
			e.waiters = append(e.waiters[:i], e.waiters[i+1:]...)
			return
		}
	}
}

// dial opens a new upstream connection and tracks it until untrack.
func (e *endpoint) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return nil, fmt.Errorf("dial endpoint %s: %w", e.addr, err)
	}
	e.mu.Lock()
	e.conns[c] = struct{}{}
	e.mu.Unlock()
	return c, nil
}

// closeConn closes an upstream connection and stops tracking it.
func (e *endpoint) closeConn(c net.Conn) {
	e.mu.Lock()
	delete(e.conns, c)
	e.mu.Unlock()
	c.Close()
}

// closeAll closes the pool and every upstream connection, in use or idle:
// requests and streams still running to the endpoint fail.
func (e *endpoint) closeAll() {
	e.pool.close()
	if t := e.h2.Load(); t != nil {
		t.CloseIdleConnections()
	}
	e.mu.Lock()
	conns := make([]net.Conn, 0, len(e.conns))
	for c := range e.conns {
		conns = append(conns, c)
	}
	e.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// openConns is the number of upstream connections open to the endpoint.
func (e *endpoint) openConns() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.conns)
}
