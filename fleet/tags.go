package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/memberlist"
)

// How a node's identity is laid out in its serf tags. Tags are gossiped in
// every alive message, so they are kept short: labels carry the prefix
// "l:", the node address is "a", and everything else is a data tag.
const (
	labelPrefix = "l:"
	tagAddress  = "a"
)

// HostnameLabel is the label every node carries with its own name, as
// Kubernetes' nodes do.
const HostnameLabel = "kubernetes.io/hostname"

// Data tags that reconciler nodes publish by convention (fleet itself only
// carries them). Values are strings; keys are short because all of a
// node's tags share MaxTagBytes.
const (
	// TagFetched is the full commit this node has fetched and validated.
	TagFetched = "cf"
	// TagApplied is the full commit this node has applied.
	TagApplied = "ca"
	// TagAPI is host:port of the node's HTTP API.
	TagAPI = "api"
	// TagCPU and TagMemory are the node's allocatable resources, as
	// Kubernetes quantities ("4", "7858Mi").
	TagCPU    = "cpu"
	TagMemory = "mem"
	// TagPods is the number of pods the node runs.
	TagPods = "pods"
	// TagCordoned is "1" on a cordoned node.
	TagCordoned = "cordon"
)

// MaxTagBytes is the most a node's encoded tags (labels, address and data
// tags together) may take: memberlist's limit on node metadata.
const MaxTagBytes = memberlist.MetaMaxSize

// ErrTagsTooLarge is returned (wrapped) by New and SetTags when a node's
// tags would not fit in MaxTagBytes.
var ErrTagsTooLarge = errors.New("tags too large")

// identity is what a node publishes about itself.
type identity struct {
	labels  map[string]string
	address string
	data    map[string]string
}

// encode lays the identity out as serf tags.
func (id identity) encode() map[string]string {
	tags := make(map[string]string, len(id.labels)+len(id.data)+1)
	for k, v := range id.data {
		tags[k] = v
	}
	for k, v := range id.labels {
		tags[labelPrefix+k] = v
	}
	if id.address != "" {
		tags[tagAddress] = id.address
	}
	return tags
}

// decodeTags splits a member's serf tags into labels, address and data
// tags.
func decodeTags(tags map[string]string) identity {
	id := identity{labels: map[string]string{}, data: map[string]string{}}
	for k, v := range tags {
		switch {
		case k == tagAddress:
			id.address = v
		case strings.HasPrefix(k, labelPrefix):
			id.labels[strings.TrimPrefix(k, labelPrefix)] = v
		default:
			id.data[k] = v
		}
	}
	return id
}

// checkDataKeys rejects data tag keys that would be read back as a label
// or as the address.
func checkDataKeys(data map[string]string) error {
	var bad []string
	for k := range data {
		if k == "" || k == tagAddress || strings.HasPrefix(k, labelPrefix) {
			bad = append(bad, fmt.Sprintf("%q", k))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("reserved tag keys %s (%q and the prefix %q are fleet's own)",
			strings.Join(bad, ", "), tagAddress, labelPrefix)
	}
	return nil
}

// checkSize returns ErrTagsTooLarge, with the sizes, when tags would not
// fit in memberlist's node metadata.
func checkSize(tags map[string]string) error {
	if n := encodedSize(tags); n > MaxTagBytes {
		return fmt.Errorf("%w: %d bytes encoded, the limit is %d (shorten labels or data tags)", ErrTagsTooLarge, n, MaxTagBytes)
	}
	return nil
}

// encodedSize is the size serf gives tags on the wire: a magic byte and a
// msgpack map, encoded as serf encodes it.
func encodedSize(tags map[string]string) int {
	var buf bytes.Buffer
	buf.WriteByte(0xff)
	if err := codec.NewEncoder(&buf, &codec.MsgpackHandle{}).Encode(tags); err != nil {
		return MaxTagBytes + 1 // a map of strings always encodes
	}
	return buf.Len()
}
