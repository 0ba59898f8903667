package svcnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// ClusterDomain is the DNS suffix of Services, as in Kubernetes.
const ClusterDomain = "cluster.local"

// recordTTL is short: a Service's address can change with a commit.
const recordTTL = 5

// Record is what one Service name resolves to: a cluster IP (A record) or,
// for an ExternalName Service, another name (CNAME record).
type Record struct {
	Addr  netip.Addr
	CNAME string
}

// DNS is the cluster DNS server of a node: it answers
// NAME.NAMESPACE.svc.cluster.local (and, through the search list pods get,
// NAME and NAME.NAMESPACE) from the Services' records and forwards every
// other question to the host's resolvers, as CoreDNS does in a cluster.
type DNS struct {
	addr      string
	upstreams []string
	log       *slog.Logger
	records   atomic.Pointer[map[string]Record]
	client    *dns.Client
}

// NewDNS returns a server for addr (ip:port); upstreams are the resolvers
// ("ip:port") other names are forwarded to. It starts nothing until Run.
func NewDNS(addr string, upstreams []string, log *slog.Logger) *DNS {
	d := &DNS{addr: addr, upstreams: upstreams, log: log, client: &dns.Client{Timeout: 2 * time.Second}}
	d.records.Store(&map[string]Record{})
	return d
}

// HostResolvers reads the host's resolvers from /etc/resolv.conf.
func HostResolvers() []string {
	cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(cfg.Servers))
	for _, s := range cfg.Servers {
		out = append(out, net.JoinHostPort(s, cfg.Port))
	}
	return out
}

// SetRecords replaces the Service records, keyed by "name.namespace".
func (d *DNS) SetRecords(recs map[string]Record) {
	m := make(map[string]Record, len(recs))
	for k, v := range recs {
		m[strings.ToLower(k)+".svc."+ClusterDomain+"."] = v
	}
	d.records.Store(&m)
}

// Run serves UDP and TCP on the address until ctx ends. It returns an
// error when the address cannot be bound.
func (d *DNS) Run(ctx context.Context) error {
	pc, err := net.ListenPacket("udp", d.addr)
	if err != nil {
		return fmt.Errorf("svcnet: dns: %w", err)
	}
	ln, err := net.Listen("tcp", d.addr)
	if err != nil {
		pc.Close()
		return fmt.Errorf("svcnet: dns: %w", err)
	}
	servers := []*dns.Server{
		{PacketConn: pc, Handler: dns.HandlerFunc(d.serve)},
		{Listener: ln, Handler: dns.HandlerFunc(d.serve)},
	}
	var wg sync.WaitGroup
	errc := make(chan error, len(servers))
	for _, s := range servers {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- s.ActivateAndServe() }()
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	for _, s := range servers {
		_ = s.Shutdown()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("svcnet: dns stopped: %w", err)
}

// serve answers one query.
func (d *DNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	defer w.Close()
	if len(req.Question) != 1 {
		m := new(dns.Msg)
		_ = w.WriteMsg(m.SetRcode(req, dns.RcodeFormatError))
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if !dns.IsSubDomain(ClusterDomain+".", name) {
		_ = w.WriteMsg(d.forward(req))
		return
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	rec, ok := (*d.records.Load())[name]
	switch {
	case !ok:
		m.Rcode = dns.RcodeNameError
	case rec.CNAME != "":
		m.Answer = append(m.Answer, &dns.CNAME{Hdr: hdr(q.Name, dns.TypeCNAME), Target: dns.Fqdn(rec.CNAME)})
	case q.Qtype == dns.TypeA && rec.Addr.Is4():
		m.Answer = append(m.Answer, &dns.A{Hdr: hdr(q.Name, dns.TypeA), A: net.IP(rec.Addr.AsSlice())})
	}
	_ = w.WriteMsg(m)
}

// forward asks the upstream resolvers in turn; SERVFAIL when none answers.
func (d *DNS) forward(req *dns.Msg) *dns.Msg {
	var last error = errors.New("no upstream resolver")
	for _, up := range d.upstreams {
		resp, _, err := d.client.Exchange(req, up)
		if err == nil {
			return resp
		}
		last = err
	}
	d.log.Debug("dns forward failed", "name", req.Question[0].Name, "err", last)
	m := new(dns.Msg)
	return m.SetRcode(req, dns.RcodeServerFailure)
}

func hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: recordTTL}
}
