package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/reconciler/reconciler/executor"
)

// maxEndpointsShown is how many addresses a table row lists, as kubectl.
const maxEndpointsShown = 3

// printEndpoints prints the Services' ready endpoints as the daemon's proxy
// serves them: NAME and ENDPOINTS (and PODS with -o wide), like
// `kubectl get endpoints`.
func printEndpoints(w io.Writer, st *executor.Status, o getOptions) error {
	if st == nil {
		return fmt.Errorf("endpoints come from the daemon, which does not answer at %s", o.server)
	}
	var rows []executor.EndpointsStatus
	for _, e := range st.Endpoints {
		if o.match(e.Namespace, nil) {
			rows = append(rows, e)
		}
	}
	switch o.output {
	case "json", "yaml":
		if rows == nil {
			rows = []executor.EndpointsStatus{}
		}
		return printStructured(w, o.output, rows)
	case "name":
		for _, e := range rows {
			fmt.Fprintf(w, "endpoints/%s\n", e.Name)
		}
		return nil
	}
	head := "NAME\tENDPOINTS"
	if o.all {
		head = "NAMESPACE\t" + head
	}
	if o.wide {
		head += "\tPODS"
	}
	fmt.Fprintln(w, head)
	for _, e := range rows {
		var addrs, pods []string
		for _, p := range e.Ports {
			addrs = append(addrs, p.Endpoints...)
			pods = append(pods, p.Pods...)
		}
		line := e.Name + "\t" + shortList(addrs)
		if o.all {
			line = e.Namespace + "\t" + line
		}
		if o.wide {
			line += "\t" + shortList(dedupSorted(pods))
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

// shortList renders at most maxEndpointsShown items and how many more.
func shortList(items []string) string {
	switch {
	case len(items) == 0:
		return "<none>"
	case len(items) <= maxEndpointsShown:
		return strings.Join(items, ",")
	}
	return fmt.Sprintf("%s + %d more...", strings.Join(items[:maxEndpointsShown], ","), len(items)-maxEndpointsShown)
}

func dedupSorted(items []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range items {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
