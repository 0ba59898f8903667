package svcnet

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestDNSAnswersAndForwards runs the server on loopback with a real
// upstream server and asks it with a real client over UDP and TCP.
func TestDNSAnswersAndForwards(t *testing.T) {
	upstream := startUpstream(t, "127.0.83.2:5353")
	d := NewDNS("127.0.83.1:5353", []string{upstream}, slog.Default())
	d.SetRecords(map[string]Record{
		"web.shop":  {Addr: netip.MustParseAddr("10.96.3.4")},
		"ext.shop":  {CNAME: "example.org"},
		"Mixed.Ns1": {Addr: netip.MustParseAddr("10.96.3.5")},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	for _, netw := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: netw, Timeout: time.Second}
		ask := func(name string, qt uint16) *dns.Msg {
			t.Helper()
			m := new(dns.Msg).SetQuestion(name, qt)
			var resp *dns.Msg
			var err error
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if resp, _, err = c.Exchange(m, "127.0.83.1:5353"); err == nil || time.Now().After(deadline) {
					break
				}
			}
			if err != nil {
				t.Fatalf("%s %s: %v", netw, name, err)
			}
			return resp
		}
		r := ask("web.shop.svc.cluster.local.", dns.TypeA)
		if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.96.3.4" || !r.Authoritative {
			t.Errorf("%s A: %v", netw, r)
		}
		if r := ask("mixed.ns1.svc.cluster.local.", dns.TypeA); len(r.Answer) != 1 {
			t.Errorf("%s: names are not case-insensitive: %v", netw, r)
		}
		if r := ask("web.shop.svc.cluster.local.", dns.TypeAAAA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
			t.Errorf("%s AAAA of an IPv4 Service: %v", netw, r)
		}
		if r := ask("nope.shop.svc.cluster.local.", dns.TypeA); r.Rcode != dns.RcodeNameError {
			t.Errorf("%s unknown Service: rcode %d", netw, r.Rcode)
		}
		if r := ask("ext.shop.svc.cluster.local.", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.CNAME).Target != "example.org." {
			t.Errorf("%s ExternalName: %v", netw, r)
		}
		if r := ask("outside.test.", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.7" {
			t.Errorf("%s forwarded name: %v", netw, r)
		}
	}
}

// startUpstream serves outside.test. -> 192.0.2.7 on UDP.
func startUpstream(t *testing.T, addr string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg).SetReply(r)
		if r.Question[0].Name == "outside.test." {
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr("outside.test.", dns.TypeA), A: net.ParseIP("192.0.2.7")})
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = s.ActivateAndServe() }()
	t.Cleanup(func() { _ = s.Shutdown() })
	return addr
}
