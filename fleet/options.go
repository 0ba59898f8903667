package fleet

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// DefaultBind is where a node gossips unless told otherwise (serf's port).
const DefaultBind = "0.0.0.0:7946"

// DefaultNotReadyAfter is how long a failed member still counts as Ready.
const DefaultNotReadyAfter = 30 * time.Second

// Options configure a Fleet.
type Options struct {
	// Node is this node's name: a DNS subdomain, unique in the fleet.
	Node string
	// Labels are this node's labels; HostnameLabel is added with the node's
	// name unless given.
	Labels map[string]string
	// Address is the address other nodes and clients use to reach this
	// node's proxy and published ports (--node-address). Empty: members
	// report their gossip IP instead.
	Address string
	// Bind is host:port to gossip on, UDP and TCP (default DefaultBind).
	// Port 0 picks a free port (see Fleet.Addr).
	Bind string
	// Advertise is host:port the other nodes should gossip to, when it is
	// not Bind's (NAT, or Bind on 0.0.0.0 with several interfaces).
	Advertise string
	// Join lists host:port of nodes already in the fleet. Empty: this node
	// starts a fleet of its own, which others may join.
	Join []string
	// Key encrypts and authenticates all gossip (16, 24 or 32 bytes, see
	// LoadKey). It is required; nodes with another key cannot join.
	Key []byte
	// NotReadyAfter is how long a member that stopped answering still
	// counts as Ready (default DefaultNotReadyAfter).
	NotReadyAfter time.Duration
	// Tags are this node's initial data tags (see SetTags).
	Tags map[string]string
	// Log receives the fleet's records, and serf's at debug level
	// (nil: discarded).
	Log *slog.Logger
	// Timing tunes failure detection and gossip; the zero value is
	// memberlist's LAN profile.
	Timing Timing
}

// Timing tunes gossip, failure detection and retries. A zero field takes
// the default in brackets.
type Timing struct {
	// ProbeInterval is how often a random member is probed [1s];
	// ProbeTimeout is how long a probe waits for an ack [500ms].
	ProbeInterval, ProbeTimeout time.Duration
	// SuspicionMult scales how long a member that missed a probe is
	// suspected before it is declared failed [4].
	SuspicionMult int
	// GossipInterval is how often gossip is sent [200ms]; PushPullInterval
	// is how often full state is exchanged with a random member [30s].
	GossipInterval, PushPullInterval time.Duration
	// LeaveDelay is how long a leaving node keeps answering so that its
	// leave reaches everyone [1s].
	LeaveDelay time.Duration
	// TCPTimeout bounds one join attempt to one address and a full state
	// exchange [10s].
	TCPTimeout time.Duration
	// Refresh is how often member statuses are re-evaluated for change
	// notifications [1s, or NotReadyAfter/4 if shorter].
	Refresh time.Duration
	// JoinRetry and JoinRetryMax are the first and longest delays between
	// join attempts [1s, 30s].
	JoinRetry, JoinRetryMax time.Duration
}

// LocalTiming is a fast profile for fleets whose nodes share one host or a
// quiet LAN (tests, demos): a killed node is declared failed within about
// a second.
func LocalTiming() Timing {
	return Timing{
		ProbeInterval: 200 * time.Millisecond, ProbeTimeout: 100 * time.Millisecond, SuspicionMult: 2,
		GossipInterval: 50 * time.Millisecond, PushPullInterval: 2 * time.Second,
		LeaveDelay: 100 * time.Millisecond, TCPTimeout: 2 * time.Second, Refresh: 50 * time.Millisecond,
		JoinRetry: 50 * time.Millisecond, JoinRetryMax: 500 * time.Millisecond,
	}
}

// withDefaults fills zero fields.
func (t Timing) withDefaults(notReadyAfter time.Duration) Timing {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.ProbeInterval, time.Second)
	def(&t.ProbeTimeout, 500*time.Millisecond)
	def(&t.GossipInterval, 200*time.Millisecond)
	def(&t.PushPullInterval, 30*time.Second)
	def(&t.LeaveDelay, time.Second)
	def(&t.TCPTimeout, 10*time.Second)
	def(&t.Refresh, min(time.Second, max(notReadyAfter/4, 10*time.Millisecond)))
	def(&t.JoinRetry, time.Second)
	def(&t.JoinRetryMax, 30*time.Second)
	if t.SuspicionMult <= 0 {
		t.SuspicionMult = 4
	}
	return t
}

// validate checks the options, fills defaults and returns what this node
// publishes. Independent problems are reported together.
func (o *Options) validate() (identity, error) {
	var errs []error
	if msgs := validation.IsDNS1123Subdomain(o.Node); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("node name %q: %s", o.Node, strings.Join(msgs, "; ")))
	}
	if o.Bind == "" {
		o.Bind = DefaultBind
	}
	if _, _, err := splitHostPort(o.Bind); err != nil {
		errs = append(errs, fmt.Errorf("bind: %w", err))
	}
	if o.Advertise != "" {
		if _, _, err := splitHostPort(o.Advertise); err != nil {
			errs = append(errs, fmt.Errorf("advertise: %w", err))
		}
	}
	if err := checkKey(o.Key); err != nil {
		errs = append(errs, err)
	}
	if o.NotReadyAfter < 0 {
		errs = append(errs, fmt.Errorf("not-ready timeout %v is negative", o.NotReadyAfter))
	} else if o.NotReadyAfter == 0 {
		o.NotReadyAfter = DefaultNotReadyAfter
	}
	o.Timing = o.Timing.withDefaults(o.NotReadyAfter)
	labels, err := nodeLabels(o.Node, o.Labels)
	if err != nil {
		errs = append(errs, err)
	}
	if err := checkDataKeys(o.Tags); err != nil {
		errs = append(errs, err)
	}
	id := identity{labels: labels, address: o.Address, data: copyMap(o.Tags)}
	if len(errs) == 0 {
		if err := checkSize(id.encode()); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return identity{}, fmt.Errorf("fleet: options: %w", errors.Join(errs...))
	}
	return id, nil
}

// nodeLabels validates labels as Kubernetes does and adds HostnameLabel.
func nodeLabels(node string, labels map[string]string) (map[string]string, error) {
	out := copyMap(labels)
	var errs []error
	for k, v := range out {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("label key %q: %s", k, strings.Join(msgs, "; ")))
		}
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("label %s value %q: %s", k, v, strings.Join(msgs, "; ")))
		}
	}
	if _, ok := out[HostnameLabel]; !ok {
		out[HostnameLabel] = node
	}
	return out, errors.Join(errs...)
}

// splitHostPort parses host:port with a numeric port.
func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", addr, err)
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: port %q is not a number from 0 to 65535", addr, p)
	}
	return host, int(port), nil
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
