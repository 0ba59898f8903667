package svcnet

import (
	"net/netip"
	"slices"
	"testing"
)

// TestHostSync adds and removes addresses on the real loopback interface,
// and never touches another node's.
func TestHostSync(t *testing.T) {
	h, err := NewHost(t.Name() + "-a")
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewHost(t.Name() + "-b")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(); _ = other.Close() })
	x, y, z := netip.MustParseAddr("10.111.7.1"), netip.MustParseAddr("10.111.7.2"), netip.MustParseAddr("10.111.7.3")
	if err := other.Sync([]netip.Addr{z}); err != nil {
		t.Fatal(err)
	}
	if err := h.Sync([]netip.Addr{x, y}); err != nil {
		t.Fatal(err)
	}
	if err := h.Sync([]netip.Addr{y}); err != nil {
		t.Fatal(err)
	}
	mine, _ := h.list()
	theirs, _ := other.list()
	if !mine[y] || mine[x] || len(mine) != 1 {
		t.Errorf("own addresses %v, want only %s", keys(mine), y)
	}
	if !theirs[z] || len(theirs) != 1 {
		t.Errorf("the other node's addresses changed: %v", keys(theirs))
	}
	if err := h.Sync([]netip.Addr{z}); err == nil {
		t.Error("taking another node's address was not reported")
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if mine, _ := h.list(); len(mine) != 0 {
		t.Errorf("addresses left after Close: %v", keys(mine))
	}
}

func keys(m map[netip.Addr]bool) []netip.Addr {
	var out []netip.Addr
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return out
}
