package svcnet

import (
	"hash/fnv"
	"net/netip"
	"sort"
)

// Node ports are allocated in Kubernetes' default service-node-port-range.
const (
	MinNodePort = 30000
	MaxNodePort = 32767
)

// DefaultCIDR is the default range of cluster IPs: Kubernetes' usual
// service range, which is not routed on ordinary hosts.
var DefaultCIDR = netip.MustParsePrefix("10.96.0.0/12")

// Request is one Service asking for a cluster IP and node ports.
type Request struct {
	Namespace, Name string
	// ClusterIP is spec.clusterIP: empty to allocate, "None" for a headless
	// Service (no address), or an address inside the allocator's range.
	ClusterIP string
	// Ports lists the Service's ports in spec order.
	Ports []PortRequest
}

// PortRequest is one Service port's node port wish.
type PortRequest struct {
	Name string
	// NodePort is spec.ports[].nodePort (0 to allocate when WantNodePort).
	NodePort int32
	// WantNodePort is set for NodePort and LoadBalancer Services.
	WantNodePort bool
}

// Assignment is what a Service got.
type Assignment struct {
	// ClusterIP is invalid (zero) for a headless Service.
	ClusterIP netip.Addr
	// NodePorts holds, per port in spec order, the node port or 0.
	NodePorts []int32
}

// Allocator assigns cluster IPs and node ports deterministically, so that
// a daemon restarted on the same commit gives every Service the addresses
// it had before, without storing them anywhere: a Service's cluster IP is a
// hash of the node, namespace and name inside Prefix, and a node port a
// hash of the namespace, name and port name inside the node-port range
// (the same on every node of a fleet, as in Kubernetes). Collisions are
// resolved by probing the next free value, in the order of the Services'
// names; only then can adding a Service move another one.
type Allocator struct {
	Node   string
	Prefix netip.Prefix
}

// DNSAddr is the node's cluster DNS server address, kept out of allocation.
func (a Allocator) DNSAddr() netip.Addr {
	return a.addrAt(a.slot(a.Node + "\x00dns"))
}

// Allocate assigns addresses to every request; the map is keyed by
// "namespace/name". Explicit cluster IPs and node ports inside the ranges
// are honoured first; an explicit value outside them, or taken by another
// Service, is replaced by an allocated one (config validation reports
// clashes between explicit values).
func (a Allocator) Allocate(reqs []Request) map[string]Assignment {
	sorted := append([]Request(nil), reqs...)
	sort.Slice(sorted, func(i, j int) bool {
		return sorted[i].Namespace+"/"+sorted[i].Name < sorted[j].Namespace+"/"+sorted[j].Name
	})
	usedIP := map[netip.Addr]bool{a.DNSAddr(): true}
	usedPort := map[int32]bool{}
	out := make(map[string]Assignment, len(reqs))
	for _, r := range sorted { // explicit values first
		as := Assignment{NodePorts: make([]int32, len(r.Ports))}
		if ip, err := netip.ParseAddr(r.ClusterIP); err == nil && a.usable(ip) && !usedIP[ip] {
			as.ClusterIP, usedIP[ip] = ip, true
		}
		for i, p := range r.Ports {
			if p.WantNodePort && p.NodePort >= MinNodePort && p.NodePort <= MaxNodePort && !usedPort[p.NodePort] {
				as.NodePorts[i], usedPort[p.NodePort] = p.NodePort, true
			}
		}
		out[key(r)] = as
	}
	for _, r := range sorted {
		as := out[key(r)]
		if !as.ClusterIP.IsValid() && r.ClusterIP != "None" {
			n := a.slot(a.Node + "\x00" + key(r))
			for usedIP[a.addrAt(n)] {
				n = (n + 1) % a.size()
			}
			as.ClusterIP = a.addrAt(n)
			usedIP[as.ClusterIP] = true
		}
		for i, p := range r.Ports {
			if !p.WantNodePort || as.NodePorts[i] != 0 {
				continue
			}
			n := hash(key(r) + "\x00" + p.Name)
			port := int32(MinNodePort + n%(MaxNodePort-MinNodePort+1))
			for usedPort[port] {
				port++
				if port > MaxNodePort {
					port = MinNodePort
				}
			}
			as.NodePorts[i], usedPort[port] = port, true
		}
		out[key(r)] = as
	}
	return out
}

func key(r Request) string { return r.Namespace + "/" + r.Name }

// usable reports whether ip is a host address of the range (not its
// network or broadcast address).
func (a Allocator) usable(ip netip.Addr) bool {
	p := a.Prefix.Masked()
	return ip.Is4() && p.Contains(ip) && ip != p.Addr() && ip != a.addrAt(a.size())
}

// size is the number of usable host addresses of the range.
func (a Allocator) size() uint64 { return 1<<(32-a.Prefix.Bits()) - 2 }

// slot maps a name to a host index of the range.
func (a Allocator) slot(name string) uint64 { return hash(name) % a.size() }

// addrAt returns the address n+1 past the network address: n in
// [0, size) is a usable host address, and n == size the broadcast address.
// Larger n wrap around the usable addresses.
func (a Allocator) addrAt(n uint64) netip.Addr {
	if n > a.size() {
		n %= a.size()
	}
	b := a.Prefix.Masked().Addr().As4()
	v := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3]) + 1 + n
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
