package svcnet

import (
	"fmt"
	"net/netip"
	"testing"
)

func TestAllocateIsStableAndDistinct(t *testing.T) {
	a := Allocator{Node: "n1", Prefix: netip.MustParsePrefix("10.96.0.0/24")}
	var reqs []Request
	for i := range 200 {
		reqs = append(reqs, Request{Namespace: "ns", Name: fmt.Sprintf("svc-%d", i), Ports: []PortRequest{{Name: "http", WantNodePort: i%2 == 0}}})
	}
	first := a.Allocate(reqs)
	// Reversed input order gives the same answer: only names count.
	rev := make([]Request, len(reqs))
	for i, r := range reqs {
		rev[len(reqs)-1-i] = r
	}
	second := a.Allocate(rev)
	seenIP := map[netip.Addr]string{a.DNSAddr(): "dns"}
	seenPort := map[int32]string{}
	for k, as := range first {
		if as.ClusterIP != second[k].ClusterIP || as.NodePorts[0] != second[k].NodePorts[0] {
			t.Errorf("%s: %v then %v", k, as, second[k])
		}
		if !a.usable(as.ClusterIP) {
			t.Errorf("%s: %s is not a host address of %s", k, as.ClusterIP, a.Prefix)
		}
		if o, dup := seenIP[as.ClusterIP]; dup {
			t.Errorf("%s and %s share %s", k, o, as.ClusterIP)
		}
		seenIP[as.ClusterIP] = k
		if p := as.NodePorts[0]; p != 0 {
			if p < MinNodePort || p > MaxNodePort {
				t.Errorf("%s: node port %d out of range", k, p)
			}
			if o, dup := seenPort[p]; dup {
				t.Errorf("%s and %s share node port %d", k, o, p)
			}
			seenPort[p] = k
		}
	}
	if len(seenPort) != 100 {
		t.Errorf("%d node ports, want 100", len(seenPort))
	}
}

func TestAllocateExplicitAndHeadless(t *testing.T) {
	a := Allocator{Node: "n1", Prefix: DefaultCIDR}
	got := a.Allocate([]Request{
		{Namespace: "a", Name: "fixed", ClusterIP: "10.96.0.10", Ports: []PortRequest{{NodePort: 30080, WantNodePort: true}}},
		{Namespace: "a", Name: "headless", ClusterIP: "None", Ports: []PortRequest{{}}},
		{Namespace: "a", Name: "outside", ClusterIP: "192.168.1.1", Ports: []PortRequest{{}}},
		{Namespace: "a", Name: "plain", Ports: []PortRequest{{NodePort: 30080}}},
	})
	if ip := got["a/fixed"].ClusterIP; ip != netip.MustParseAddr("10.96.0.10") || got["a/fixed"].NodePorts[0] != 30080 {
		t.Errorf("explicit values not honoured: %+v", got["a/fixed"])
	}
	if got["a/headless"].ClusterIP.IsValid() {
		t.Errorf("headless Service got %s", got["a/headless"].ClusterIP)
	}
	if ip := got["a/outside"].ClusterIP; !DefaultCIDR.Contains(ip) {
		t.Errorf("an address outside the range was used: %s", ip)
	}
	if got["a/plain"].NodePorts[0] != 0 {
		t.Errorf("a ClusterIP Service got node port %d", got["a/plain"].NodePorts[0])
	}
}

func TestAllocateDependsOnNodeForIPsOnly(t *testing.T) {
	r := []Request{{Namespace: "a", Name: "web", Ports: []PortRequest{{Name: "http", WantNodePort: true}}}}
	x := Allocator{Node: "n1", Prefix: DefaultCIDR}.Allocate(r)["a/web"]
	y := Allocator{Node: "n2", Prefix: DefaultCIDR}.Allocate(r)["a/web"]
	if x.ClusterIP == y.ClusterIP {
		t.Errorf("two nodes sharing a host would share cluster IP %s", x.ClusterIP)
	}
	if x.NodePorts[0] != y.NodePorts[0] {
		t.Errorf("node ports differ between nodes: %d, %d", x.NodePorts[0], y.NodePorts[0])
	}
}

func TestAddrAtStaysInRange(t *testing.T) {
	a := Allocator{Prefix: netip.MustParsePrefix("10.96.0.0/24")}
	if got := a.addrAt(0); got != netip.MustParseAddr("10.96.0.1") {
		t.Errorf("addrAt(0) = %s", got)
	}
	if got := a.addrAt(a.size() - 1); got != netip.MustParseAddr("10.96.0.254") {
		t.Errorf("last host = %s", got)
	}
	if a.usable(netip.MustParseAddr("10.96.0.255")) || a.usable(netip.MustParseAddr("10.96.0.0")) {
		t.Error("network or broadcast address usable")
	}
	if got := a.addrAt(a.size() + 1); !a.usable(got) {
		t.Errorf("wrapped address %s not usable", got)
	}
}
