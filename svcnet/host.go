package svcnet

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"syscall"

	"github.com/hashicorp/go-multierror"
	"github.com/vishvananda/netlink"
)

// Host keeps the node's cluster IPs on the host's loopback interface, so
// the proxy can listen on them and containers reach them through their
// default route (packets to a local address are delivered whatever
// interface they arrive on). The addresses carry a label derived from the
// node name: a daemon sees and removes only its own, so several daemons
// share a host, and a daemon killed with SIGKILL finds and reconciles its
// leftovers when it starts again.
type Host struct {
	label string
	link  netlink.Link
}

// NewHost returns the address keeper of node on the loopback interface.
func NewHost(node string) (*Host, error) {
	link, err := netlink.LinkByName("lo")
	if err != nil {
		return nil, fmt.Errorf("svcnet: loopback interface: %w", err)
	}
	return &Host{label: Label(node), link: link}, nil
}

// Label is the interface address label of a node's addresses: "lo:rc"
// and a hash of the node name (labels are at most 15 bytes and must begin
// with the interface name).
func Label(node string) string {
	h := fnv.New32a()
	h.Write([]byte(node))
	return fmt.Sprintf("lo:rc%08x", h.Sum32())
}

// Sync makes the node's labelled addresses exactly want: it adds the
// missing ones and deletes the others. An address another daemon or the
// administrator already holds is left alone and reported.
func (h *Host) Sync(want []netip.Addr) error {
	have, err := h.list()
	if err != nil {
		return err
	}
	wanted := make(map[netip.Addr]bool, len(want))
	var errs *multierror.Error
	for _, a := range want {
		wanted[a] = true
		if have[a] {
			continue
		}
		if err := netlink.AddrAdd(h.link, h.addr(a)); err != nil {
			if errors.Is(err, syscall.EEXIST) {
				err = errors.New("the address is already on the host and is not this node's")
			}
			errs = multierror.Append(errs, fmt.Errorf("svcnet: add %s to lo: %w", a, err))
		}
	}
	for a := range have {
		if !wanted[a] {
			if err := netlink.AddrDel(h.link, h.addr(a)); err != nil && !errors.Is(err, syscall.EADDRNOTAVAIL) {
				errs = multierror.Append(errs, fmt.Errorf("svcnet: remove %s from lo: %w", a, err))
			}
		}
	}
	return errs.ErrorOrNil()
}

// Close removes all of the node's addresses.
func (h *Host) Close() error { return h.Sync(nil) }

// list returns the node's labelled IPv4 addresses on the interface.
func (h *Host) list() (map[netip.Addr]bool, error) {
	addrs, err := netlink.AddrList(h.link, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("svcnet: list addresses of lo: %w", err)
	}
	out := map[netip.Addr]bool{}
	for _, a := range addrs {
		if a.Label != h.label {
			continue
		}
		if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok {
			out[ip] = true
		}
	}
	return out, nil
}

func (h *Host) addr(a netip.Addr) *netlink.Addr {
	b := a.As4()
	return &netlink.Addr{IPNet: &net.IPNet{IP: net.IP(b[:]), Mask: net.CIDRMask(32, 32)}, Label: h.label}
}
