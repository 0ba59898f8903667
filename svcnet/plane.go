package svcnet

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/reconciler/reconciler/internal/backoff"
	"github.com/reconciler/reconciler/lb"
)

// Service is one Service as the executor hands it over: its allocated
// address and, per port, its ready endpoints.
type Service struct {
	Namespace, Name string
	// ClusterIP is invalid for a headless or ExternalName Service, which
	// gets no listener.
	ClusterIP netip.Addr
	// ExternalName, when set, makes the Service's name a CNAME.
	ExternalName    string
	Policy          lb.Policy
	AffinityTimeout time.Duration
	// Ports carry the node port (0 for none) and the ready endpoints.
	Ports []lb.Port
}

// Proxy is the part of lb.Proxy the plane drives.
type Proxy interface {
	Update(svcs []lb.Service) error
	Drain(ctx context.Context, keys ...string)
	Close() error
}

// PlaneOptions configure a Plane.
type PlaneOptions struct {
	Node string
	// Prefix is the range of cluster IPs (default DefaultCIDR).
	Prefix netip.Prefix
	// Loopback is the host address every Service port is also served on
	// (the zero value: none).
	Loopback netip.Addr
	// NodeAddress is where node ports listen (zero: all interfaces).
	NodeAddress netip.Addr
	// Upstreams are the resolvers for names outside the cluster domain
	// (default the host's).
	Upstreams []string
	Proxy     Proxy
	Log       *slog.Logger
}

// Plane is the data plane of a node's Services: cluster IPs on the host,
// the cluster DNS, and the proxy's listeners and endpoints. Update is
// called by the reconcile loop; Run owns the DNS server.
type Plane struct {
	opt   PlaneOptions
	alloc Allocator
	host  *Host
	dns   *DNS
	mu    sync.Mutex // serialises host address changes
}

// NewPlane returns the plane of a node; it changes nothing on the host
// until Run or Update.
func NewPlane(opt PlaneOptions) (*Plane, error) {
	if !opt.Prefix.IsValid() {
		opt.Prefix = DefaultCIDR
	}
	if !opt.Prefix.Addr().Is4() || opt.Prefix.Bits() > 24 {
		return nil, fmt.Errorf("svcnet: service range %s: want an IPv4 prefix of at most /24", opt.Prefix)
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Upstreams == nil {
		opt.Upstreams = HostResolvers()
	}
	host, err := NewHost(opt.Node)
	if err != nil {
		return nil, err
	}
	p := &Plane{opt: opt, alloc: Allocator{Node: opt.Node, Prefix: opt.Prefix}, host: host}
	p.dns = NewDNS(net.JoinHostPort(p.DNSServer().String(), "53"), opt.Upstreams, opt.Log)
	return p, nil
}

// DNSServer is the address pods use as their resolver.
func (p *Plane) DNSServer() netip.Addr { return p.alloc.DNSAddr() }

// Assign allocates cluster IPs and node ports (see Allocator).
func (p *Plane) Assign(reqs []Request) map[string]Assignment { return p.alloc.Allocate(reqs) }

// Run puts the DNS address on the host and serves DNS until ctx ends,
// retrying with back-off when the address cannot be bound; then it closes
// the proxy and removes the node's addresses from the host (the
// containers keep running, but Services are served only while the daemon
// runs).
func (p *Plane) Run(ctx context.Context) error {
	defer func() {
		if err := p.opt.Proxy.Close(); err != nil {
			p.opt.Log.Warn("closing the proxy", "err", err)
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if err := p.host.Close(); err != nil {
			p.opt.Log.Warn("removing service addresses", "err", err)
		}
	}()
	b := backoff.New(500*time.Millisecond, 30*time.Second)
	for ctx.Err() == nil {
		err := p.syncHost(nil, true)
		if err == nil {
			err = p.dns.Run(ctx)
		}
		if err == nil || ctx.Err() != nil {
			return nil
		}
		p.opt.Log.Error("cluster dns unavailable", "addr", p.DNSServer(), "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(b.Next()):
		}
	}
	return nil
}

// Update applies the full set of Services: host addresses, DNS records and
// the proxy. Errors name the Service and address that failed; the others
// are applied regardless.
func (p *Plane) Update(ctx context.Context, svcs []Service) error {
	var errs *multierror.Error
	var ips []netip.Addr
	recs := make(map[string]Record, len(svcs))
	lbs := make([]lb.Service, 0, len(svcs))
	for _, s := range svcs {
		name := s.Name + "." + s.Namespace
		switch {
		case s.ExternalName != "":
			recs[name] = Record{CNAME: s.ExternalName}
			continue
		case !s.ClusterIP.IsValid():
			continue // headless: no address, no listener
		}
		recs[name] = Record{Addr: s.ClusterIP}
		ips = append(ips, s.ClusterIP)
		addrs := []netip.Addr{s.ClusterIP}
		if p.opt.Loopback.IsValid() {
			addrs = append(addrs, p.opt.Loopback)
		}
		lbs = append(lbs, lb.Service{Namespace: s.Namespace, Name: s.Name, Addresses: addrs,
			NodeAddress: p.opt.NodeAddress, Policy: s.Policy, AffinityTimeout: s.AffinityTimeout, Ports: s.Ports})
	}
	if err := p.syncHost(ips, false); err != nil {
		errs = multierror.Append(errs, err)
	}
	p.dns.SetRecords(recs)
	if err := p.opt.Proxy.Update(lbs); err != nil {
		errs = multierror.Append(errs, err)
	}
	return errs.ErrorOrNil()
}

// Drain waits until nothing is in flight to the endpoints of the given
// keys (pods), or ctx ends.
func (p *Plane) Drain(ctx context.Context, keys ...string) { p.opt.Proxy.Drain(ctx, keys...) }

// syncHost sets the node's addresses to the DNS address and ips; with keep
// it only adds the DNS address to those already there.
func (p *Plane) syncHost(ips []netip.Addr, keep bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if keep {
		have, err := p.host.list()
		if err != nil {
			return err
		}
		for a := range have {
			ips = append(ips, a)
		}
	}
	want := append([]netip.Addr{p.DNSServer()}, ips...)
	sort.Slice(want, func(i, j int) bool { return want[i].Less(want[j]) })
	return p.host.Sync(dedup(want))
}

func dedup(a []netip.Addr) []netip.Addr {
	out := a[:0]
	for i, x := range a {
		if i == 0 || x != a[i-1] {
			out = append(out, x)
		}
	}
	return out
}
