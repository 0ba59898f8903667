package fleet

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestTagsRoundTrip(t *testing.T) {
	id := identity{
		labels:  map[string]string{"zone": "a", HostnameLabel: "n1"},
		address: "192.0.2.1",
		data:    map[string]string{TagApplied: "abc", TagCPU: "4"},
	}
	enc := id.encode()
	want := map[string]string{"l:zone": "a", "l:" + HostnameLabel: "n1", "a": "192.0.2.1", "ca": "abc", "cpu": "4"}
	if !maps.Equal(enc, want) {
		t.Fatalf("encode = %v", enc)
	}
	got := decodeTags(enc)
	if !maps.Equal(got.labels, id.labels) || got.address != id.address || !maps.Equal(got.data, id.data) {
		t.Fatalf("decode(encode(x)) = %+v", got)
	}
}

func TestReservedDataKeys(t *testing.T) {
	err := checkDataKeys(map[string]string{"a": "x", "l:zone": "y", "ok": "z"})
	if err == nil || !strings.Contains(err.Error(), `"a", "l:zone"`) {
		t.Fatalf("reserved keys: %v", err)
	}
}

func TestTagSizeLimit(t *testing.T) {
	small := map[string]string{"ca": strings.Repeat("f", 40), "cf": strings.Repeat("f", 40)}
	if err := checkSize(small); err != nil {
		t.Fatalf("two commits do not fit: %v", err)
	}
	// Serf's own check agrees with ours: one byte over the limit is refused.
	big := map[string]string{"x": strings.Repeat("v", MaxTagBytes)}
	err := checkSize(big)
	if !errors.Is(err, ErrTagsTooLarge) || !strings.Contains(err.Error(), "the limit is 512") {
		t.Fatalf("oversized tags: %v", err)
	}
	for n := 400; n < 520; n++ {
		tags := map[string]string{"x": strings.Repeat("v", n)}
		if got := encodedSize(tags); got > MaxTagBytes != (checkSize(tags) != nil) {
			t.Fatalf("size %d: check disagrees with the encoded size %d", n, got)
		}
	}
}
