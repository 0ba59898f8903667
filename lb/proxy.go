package lb

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-multierror"
)

// ErrClosed is returned by Update after Close.
var ErrClosed = errors.New("lb: proxy closed")

// Proxy serves Services: it owns their listeners, endpoint sets, upstream
// connection pools and every goroutine that handles a connection. Its
// methods are safe for concurrent use.
type Proxy struct {
	log        *slog.Logger
	now        func() time.Time
	closeGrace time.Duration

	mu        sync.Mutex // serialises Update, Drain's lookups, Close and scrapes
	ports     map[portKey]*port
	listeners map[netip.AddrPort]*listener
	retired   map[*endpoint]struct{} // left their set, maybe still busy
	closed    bool

	closing atomic.Bool    // set by Close: connections end after their request
	wg      sync.WaitGroup // accept loops and connection handlers
	conns   connSet        // client connections
}

// New returns a Proxy serving nothing until Update. It starts no goroutine.
// With a Registerer it registers the reconciler_proxy_* metrics there.
func New(opts Options) (*Proxy, error) {
	p := &Proxy{
		log:        opts.Logger,
		now:        time.Now,
		closeGrace: opts.CloseGrace,
		ports:      map[portKey]*port{},
		listeners:  map[netip.AddrPort]*listener{},
		retired:    map[*endpoint]struct{}{},
	}
	p.conns.m = map[*clientConn]struct{}{}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.closeGrace <= 0 {
		p.closeGrace = 5 * time.Second
	}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(newCollector(p)); err != nil {
			return nil, fmt.Errorf("lb: register metrics: %w", err)
		}
	}
	return p, nil
}

// Update makes the proxy serve exactly svcs. Endpoint sets are swapped
// atomically: a request sees the old set or the new one, never a mix.
// Listeners that stay are kept open (their connections survive), new ones
// are bound, the others closed: their idle HTTP connections close at once,
// busy ones after the request in flight, and TCP streams run on until they
// end or their endpoints are drained. A listener that cannot be bound is
// reported in the returned error (a go-multierror), which names the Service
// and the address, and is tried again on the next Update; the other
// Services are served regardless. Update may be called with an unchanged
// set as often as wanted: it then changes nothing.
func (p *Proxy) Update(svcs []Service) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	var errs *multierror.Error
	ports := make(map[portKey]*port, len(p.ports))
	want := map[netip.AddrPort]*port{}
	for i := range svcs {
		s := &svcs[i]
		for j := range s.Ports {
			sp := &s.Ports[j]
			k := portKey{ns: s.Namespace, name: s.Name, port: portName(*sp), number: sp.Port}
			if _, dup := ports[k]; dup {
				errs = multierror.Append(errs, fmt.Errorf("lb: %s/%s: port %s listed twice", s.Namespace, s.Name, k.port))
				continue
			}
			pt := p.ports[k]
			if pt == nil {
				pt = newPort(k, p.now)
			}
			ports[k] = pt
			p.retire(pt.apply(s, sp))
			for _, ap := range listenAddrs(s, sp) {
				if other, taken := want[ap]; taken {
					errs = multierror.Append(errs, fmt.Errorf("lb: %s/%s: listen %s: already served by %s/%s", s.Namespace, s.Name, listenAddr(ap), other.key.ns, other.key.name))
					continue
				}
				want[ap] = pt
			}
		}
	}
	for k, pt := range p.ports {
		if _, ok := ports[k]; !ok {
			p.retire(pt.removeAll())
		}
	}
	old := p.ports
	p.ports = ports
	errs = multierror.Append(errs, p.syncListeners(want)...)
	p.syncH2C(old)
	p.sweep()
	return errs.ErrorOrNil()
}

// syncListeners closes the listeners not wanted, points the others at
// their port and binds the missing ones, in address order.
func (p *Proxy) syncListeners(want map[netip.AddrPort]*port) []error {
	for ap, l := range p.listeners {
		if pt, ok := want[ap]; ok {
			l.port.Store(pt)
			continue
		}
		l.close()
		delete(p.listeners, ap)
	}
	var missing []netip.AddrPort
	for ap := range want {
		if p.listeners[ap] == nil {
			missing = append(missing, ap)
		}
	}
	slices.SortFunc(missing, func(a, b netip.AddrPort) int { return a.Compare(b) })
	var errs []error
	for _, ap := range missing {
		pt := want[ap]
		l, err := p.listen(ap, pt)
		if err != nil {
			p.log.Warn("service listener unavailable", "ns", pt.key.ns, "name", pt.key.name, "addr", listenAddr(ap), "err", err)
			errs = append(errs, fmt.Errorf("lb: %s/%s: %w", pt.key.ns, pt.key.name, err))
			continue
		}
		p.listeners[ap] = l
	}
	return errs
}

// retire takes endpoints out of service: no new request picks them, their
// idle connections close, and they stay known to Drain while busy.
func (p *Proxy) retire(eps []*endpoint) {
	for _, ep := range eps {
		ep.retired.Store(true)
		ep.pool.close()
		p.retired[ep] = struct{}{}
	}
}

// sweep forgets retired endpoints that are idle, closing what they still
// hold, and clients whose affinity expired.
func (p *Proxy) sweep() {
	for ep := range p.retired {
		if ep.active.Load() == 0 {
			ep.closeAll()
			delete(p.retired, ep)
		}
	}
	now := p.now()
	for _, pt := range p.ports {
		if pt.set.Load().affinity > 0 {
			pt.aff.sweep(now)
		}
	}
}

// Close closes every listener, lets requests in flight finish within the
// grace period (Options.CloseGrace), then closes every connection and waits
// for the handlers to return. After Close, Update returns ErrClosed.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.closing.Store(true)
	for ap, l := range p.listeners {
		l.close()
		delete(p.listeners, ap)
	}
	var eps []*endpoint
	for k, pt := range p.ports {
		p.stopH2C(pt, p.closeGrace)
		eps = append(eps, pt.removeAll()...)
		delete(p.ports, k)
	}
	for ep := range p.retired {
		eps = append(eps, ep)
	}
	clear(p.retired)
	p.mu.Unlock()

	p.conns.closeIdle(nil)
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-time.After(p.closeGrace):
		p.conns.closeAll()
		for _, ep := range eps {
			ep.closeAll()
		}
		select {
		case <-done:
		case <-time.After(time.Second):
			err = errors.New("lb: close: connection handlers still running")
		}
	}
	for _, ep := range eps {
		ep.retired.Store(true)
		ep.closeAll()
	}
	return err
}
