package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/fleet"
	"github.com/reconciler/reconciler/planner"
)

// fleetFlags are the flags of `run` that make the daemon a node of a fleet.
type fleetFlags struct {
	labels        string
	bind          string
	join          listFlag
	keyFile       string
	notReadyAfter time.Duration
	localTiming   bool
}

// listFlag is a repeatable flag; each value may also hold a comma-separated
// list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

func (ff *fleetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&ff.labels, "node-labels", "", "this node's labels, k=v,... (kubernetes.io/hostname=NODE is added)")
	fs.StringVar(&ff.bind, "fleet-bind", fleet.DefaultBind, "address:port this node gossips on (with --fleet-key-file)")
	fs.Var(&ff.join, "join", "host:port of a fleet member to join (repeatable); needs --fleet-key-file")
	fs.StringVar(&ff.keyFile, "fleet-key-file", "", "file with the fleet's gossip key (base64 of 32 random bytes: `reconciler fleet-key`); without it and --join the node is a fleet of one")
	fs.DurationVar(&ff.notReadyAfter, "node-not-ready-after", fleet.DefaultNotReadyAfter, "how long a member that stopped answering stays Ready")
	fs.BoolVar(&ff.localTiming, "fleet-local-timing", false, "fast failure detection for fleets on one host or a quiet LAN (tests, demos)")
}

// check refuses a fleet node whose API the other nodes cannot reach: they
// read its endpoints and available pods there.
func (ff *fleetFlags) check(listen, nodeAddress string) error {
	if !ff.gossips() {
		return nil
	}
	if listen == "" || strings.HasPrefix(listen, unixPrefix) {
		return fmt.Errorf("a fleet node needs --listen host:port: the other nodes read its endpoints there")
	}
	if isLoopback(listen) && nodeAddress != "" && !isLoopbackAddr(nodeAddress) {
		return fmt.Errorf("--listen %s is reachable from this host only, but --node-address %s is not loopback: the other nodes could not read this node's endpoints (listen on the node address, with --token-file)", listen, nodeAddress)
	}
	return nil
}

func isLoopbackAddr(s string) bool {
	ip := net.ParseIP(s)
	return ip != nil && ip.IsLoopback()
}

// gossips reports whether the node takes part in a fleet.
func (ff *fleetFlags) gossips() bool { return ff.keyFile != "" || len(ff.join) > 0 }

// newFleet builds this node's membership. A node with neither a key nor
// --join is a fleet of one: the Fleet is never run and lists itself only.
func newFleet(f *runFlags, log *slog.Logger) (*fleet.Fleet, error) {
	ff := &f.fleet
	nodeLabels, err := parseNodeLabels(ff.labels)
	if err != nil {
		return nil, fmt.Errorf("--node-labels: %w", err)
	}
	opt := fleet.Options{Node: f.node, Labels: nodeLabels, Address: f.nodeAddress, Bind: ff.bind,
		Join: ff.join, NotReadyAfter: ff.notReadyAfter, Log: log}
	if ff.localTiming {
		opt.Timing = fleet.LocalTiming()
	}
	switch {
	case ff.keyFile != "":
		if opt.Key, err = fleet.LoadKey(ff.keyFile); err != nil {
			return nil, err
		}
	case len(ff.join) > 0:
		return nil, fmt.Errorf("--join needs --fleet-key-file: gossip is always encrypted")
	default: // a fleet of one never gossips; a key only satisfies New
		opt.Key = make([]byte, 32)
		if _, err := rand.Read(opt.Key); err != nil {
			return nil, err
		}
	}
	return fleet.New(opt)
}

// parseNodeLabels reads "k=v,k2=v2" as a label set (validated by
// fleet.New).
func parseNodeLabels(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	set, err := labels.ConvertSelectorToLabelsMap(s)
	if err != nil {
		return nil, err
	}
	return map[string]string(set), nil
}

// nodeState is what this node publishes about itself as data tags: the
// API address, the fetched and applied commits, its pod count and its
// allocatable capacity.
type nodeState struct {
	exec     *executor.Executor
	src      *agreedSource
	api      string
	cpu, mem string
}

func newNodeState(exec *executor.Executor, src *agreedSource, apiAddr string) *nodeState {
	cpu, mem := hostCapacity()
	return &nodeState{exec: exec, src: src, api: apiAddr, cpu: cpu, mem: mem}
}

// tags returns the node's current data tags.
func (n *nodeState) tags() map[string]string {
	st := n.exec.Status()
	return map[string]string{fleet.TagAPI: n.api, fleet.TagApplied: st.Revision, fleet.TagFetched: n.src.Latest(),
		fleet.TagPods: strconv.Itoa(len(n.exec.Pods())), fleet.TagCPU: n.cpu, fleet.TagMemory: n.mem}
}

// members lists the fleet with this node's own entry brought up to date
// (gossip carries it to the others about once a second).
func (n *nodeState) members(fl *fleet.Fleet, self string) []fleet.Member {
	ms := fl.Members()
	for i := range ms {
		if ms[i].Name == self {
			if ms[i].Tags == nil {
				ms[i].Tags = map[string]string{}
			}
			maps.Copy(ms[i].Tags, n.tags())
		}
	}
	return ms
}

// publish keeps this node's data tags current until ctx ends.
func (n *nodeState) publish(ctx context.Context, fl *fleet.Fleet, log *slog.Logger) error {
	var last map[string]string
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if tags := n.tags(); !maps.Equal(tags, last) {
			if err := fl.SetTags(tags); err != nil {
				log.Warn("fleet: publishing this node's state failed", "err", err)
			} else {
				last = tags
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// hostCapacity is the host's CPU count and memory as Kubernetes
// quantities; the memory is "" when /proc/meminfo cannot be read.
func hostCapacity() (cpu, mem string) {
	cpu = strconv.Itoa(goruntime.NumCPU())
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return cpu, ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		if _, err := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); err == nil {
			return cpu, resource.NewQuantity(kb*1024, resource.BinarySI).String()
		}
	}
	return cpu, ""
}

// fleetPlacement hands the live member list to the executor's placement.
type fleetPlacement struct {
	fl    *fleet.Fleet
	start time.Time
	// alone is how long a node that cannot join any member waits before
	// it places on its own, as the survivor of a fleet that is gone.
	alone time.Duration
	log   *slog.Logger
	// warned is set once the node placed alone, so the warning is logged
	// once.
	warned bool
}

// Nodes returns the members that have not left, as placement nodes; ok is
// false until the node has joined its fleet (or given up waiting).
func (p *fleetPlacement) Nodes() ([]planner.Node, bool) {
	if !p.fl.Joined() {
		if time.Since(p.start) < p.alone {
			return nil, false
		}
		if !p.warned {
			p.warned = true
			p.log.Warn("fleet: no member answers; placing on this node alone", "waited", p.alone)
		}
	}
	return placementNodes(p.fl.Members()), true
}

// placementNodes converts members to placement nodes: Left members are
// dropped, NotReady ones kept (their pinned and stateful pods are
// NodeLost), capacity read from the cpu and mem tags.
func placementNodes(ms []fleet.Member) []planner.Node {
	out := make([]planner.Node, 0, len(ms))
	for _, m := range ms {
		if m.Status == fleet.Left {
			continue
		}
		n := planner.Node{Name: m.Name, Labels: m.Labels, Ready: m.Status == fleet.Ready,
			Cordoned: m.Tags[fleet.TagCordoned] == "1", Allocatable: corev1.ResourceList{}}
		for tag, res := range map[string]corev1.ResourceName{fleet.TagCPU: corev1.ResourceCPU, fleet.TagMemory: corev1.ResourceMemory} {
			if q, err := resource.ParseQuantity(m.Tags[tag]); err == nil {
				n.Allocatable[res] = q
			}
		}
		out = append(out, n)
	}
	return out
}

// cordon makes this node take no new pods (on) or take them again. The
// state survives restarts as a file in the state directory, as a
// Kubernetes node's spec.unschedulable does in the API server.
type cordon struct {
	fl   *fleet.Fleet
	path string
}

func newCordon(fl *fleet.Fleet, stateDir, node string) (*cordon, error) {
	c := &cordon{fl: fl, path: filepath.Join(stateDir, "cordoned-"+node)}
	if _, err := os.Stat(c.path); err == nil {
		return c, c.publish(true)
	}
	return c, nil
}

// set records and publishes the cordon.
func (c *cordon) set(on bool) error {
	if on {
		if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(c.path, []byte("cordoned by the API\n"), 0o600); err != nil {
			return err
		}
	} else if err := os.Remove(c.path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return c.publish(on)
}

func (c *cordon) publish(on bool) error {
	v := ""
	if on {
		v = "1"
	}
	return c.fl.SetTags(map[string]string{fleet.TagCordoned: v})
}
