package lb

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// listener accepts the connections of one address and port and hands each
// to the handler of its port's protocol. Its accept loop belongs to the
// Proxy's wait group.
type listener struct {
	p    *Proxy
	ap   netip.AddrPort
	ln   net.Listener
	port atomic.Pointer[port] // may change to another port of the same address
	done chan struct{}
}

// listenAddr is ap as net.Listen takes it: ":port" for all interfaces.
func listenAddr(ap netip.AddrPort) string {
	if !ap.Addr().IsValid() {
		return fmt.Sprintf(":%d", ap.Port())
	}
	return ap.String()
}

// listen binds ap and starts accepting for pt.
func (p *Proxy) listen(ap netip.AddrPort, pt *port) (*listener, error) {
	addr := listenAddr(ap)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	l := &listener{p: p, ap: ap, ln: ln, done: make(chan struct{})}
	l.port.Store(pt)
	p.wg.Add(1)
	go l.serve()
	return l, nil
}

// close stops accepting and closes the listener's idle connections; busy
// ones end after their current request.
func (l *listener) close() {
	close(l.done)
	l.ln.Close()
	l.p.conns.closeIdle(l)
}

func (l *listener) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// serve accepts until the listener closes, backing off on errors such as
// running out of file descriptors.
func (l *listener) serve() {
	defer l.p.wg.Done()
	var delay time.Duration
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if l.closed() || errors.Is(err, net.ErrClosed) {
				return
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			l.p.log.Warn("service accept failed", "addr", listenAddr(l.ap), "err", err)
			select {
			case <-l.done:
				return
			case <-time.After(delay):
			}
			continue
		}
		delay = 0
		l.handle(c)
	}
}

// handle starts the connection's handler.
func (l *listener) handle(c net.Conn) {
	pt := l.port.Load()
	proto := pt.set.Load().protocol
	if proto == ProtocolH2C { // the port's http.Server owns the connection
		if h2 := pt.h2.Load(); h2 == nil || !h2.hand(c) {
			c.Close()
		}
		return
	}
	cc := &clientConn{c: c, l: l}
	l.p.conns.add(cc)
	switch proto {
	case ProtocolHTTP:
		l.p.wg.Add(1)
		go func() {
			defer l.p.wg.Done()
			serveHTTP(l.p, cc, pt)
		}()
	default:
		l.p.wg.Add(1)
		go func() {
			defer l.p.wg.Done()
			serveTCP(l.p, cc, pt)
		}()
	}
}

// Client connection states, for closing idle connections without cutting a
// request short.
const (
	stateActive int32 = iota
	stateIdle
	stateClosed
)

// clientConn is a connection accepted from a client.
type clientConn struct {
	c     net.Conn
	l     *listener
	state atomic.Int32
}

// idle marks the connection as waiting for a request; false means it was
// closed or the proxy is closing and the handler should return.
func (cc *clientConn) idle() bool {
	cc.state.Store(stateIdle)
	return !cc.l.p.closing.Load() && !cc.l.closed()
}

// active marks the connection as serving a request; false means it was
// closed as idle meanwhile.
func (cc *clientConn) active() bool {
	return cc.state.CompareAndSwap(stateIdle, stateActive)
}

// connSet tracks client connections so that listeners and Close can close
// them.
type connSet struct {
	mu sync.Mutex
	m  map[*clientConn]struct{}
}

func (s *connSet) add(cc *clientConn) {
	s.mu.Lock()
	s.m[cc] = struct{}{}
	s.mu.Unlock()
}

func (s *connSet) remove(cc *clientConn) {
	s.mu.Lock()
	delete(s.m, cc)
	s.mu.Unlock()
}

// closeIdle closes the idle connections of l (of every listener for nil).
func (s *connSet) closeIdle(l *listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for cc := range s.m {
		if (l == nil || cc.l == l) && cc.state.CompareAndSwap(stateIdle, stateClosed) {
			cc.c.Close()
		}
	}
}

// closeAll closes every connection.
func (s *connSet) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for cc := range s.m {
		cc.state.Store(stateClosed)
		cc.c.Close()
	}
}
