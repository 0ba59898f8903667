package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/reconciler/reconciler/api"
	"github.com/reconciler/reconciler/fleet"
)

// getNodes prints the fleet's members as the daemon at o.server sees them,
// kubectl-style: NAME STATUS ADDRESS PODS CPU MEMORY COMMIT AGE-less, with
// -l matching node labels and --show-labels / -o wide adding the labels.
func getNodes(ctx context.Context, w io.Writer, o getOptions) error {
	var nodes []api.NodeView
	if err := getJSON(ctx, strings.TrimRight(o.server, "/")+"/api/v1/nodes", &nodes); err != nil {
		return fmt.Errorf("nodes come from the daemon, which does not answer at %s: %w", o.server, err)
	}
	rows := nodes[:0:0]
	for _, n := range nodes {
		if o.selector.Matches(labels.Set(n.Labels)) {
			rows = append(rows, n)
		}
	}
	switch o.output {
	case "json", "yaml":
		return printStructured(w, o.output, rows)
	case "name":
		for _, n := range rows {
			fmt.Fprintf(w, "node/%s\n", n.Name)
		}
		return nil
	}
	head := "NAME\tSTATUS\tADDRESS\tPODS\tCPU\tMEMORY\tCOMMIT"
	if o.wide || o.showLabels {
		head += "\tLABELS"
	}
	fmt.Fprintln(w, head)
	for _, n := range rows {
		fmt.Fprintln(w, nodeRow(n, o.wide || o.showLabels))
	}
	return nil
}

// nodeRow is one line of `get nodes`.
func nodeRow(n api.NodeView, withLabels bool) string {
	status := n.Status
	if n.Cordoned {
		status += ",SchedulingDisabled"
	}
	pods := "<unknown>"
	if n.Pods >= 0 {
		pods = strconv.Itoa(n.Pods)
	}
	addr := n.Address
	if ip := net.ParseIP(addr); ip != nil && ip.IsUnspecified() {
		addr = "" // a fleet of one without --node-address
	}
	line := strings.Join([]string{n.Name, status, orNone(addr), pods, orNone(n.CPU), orNone(n.Memory),
		orNone(shortCommit(n.Applied))}, "\t")
	if withLabels {
		line += "\t" + labelString(n.Labels)
	}
	return line
}

// shortCommit abbreviates a git commit to 12 characters; other revisions
// (a directory's content hash) are kept as they are.
func shortCommit(s string) string {
	if len(s) == 40 {
		return s[:12]
	}
	return s
}

// labelString renders labels as k=v,... sorted by key.
func labelString(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + l[k]
	}
	if len(keys) == 0 {
		return "<none>"
	}
	return strings.Join(keys, ",")
}

// cmdFleetKey prints a new gossip key for --fleet-key-file.
func cmdFleetKey(_ []string, stdout io.Writer) error {
	key, err := fleet.GenerateKey()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, key)
	return err
}
