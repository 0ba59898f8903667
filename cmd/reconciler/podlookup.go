package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/reconciler/reconciler/runtime"
)

// lookupTimeout bounds finding the pod, so an engine that does not answer
// fails the command instead of hanging it; what the verbs do afterwards
// (following logs, forwarding ports) is bounded only by their context.
const lookupTimeout = 30 * time.Second

// findPod observes every node's pods and returns the one with the given
// namespace and Kubernetes name. A missing pod is an error saying so; a name
// that several nodes run on this engine is an error naming the nodes.
func findPod(ctx context.Context, rt runtime.Runtime, ns, name string) (*runtime.Pod, error) {
	obs, err := rt.Observe(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("observe pods: %w", err)
	}
	var found []*runtime.Pod
	for i := range obs.Pods {
		if p := &obs.Pods[i]; p.Namespace == ns && p.Name == name {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("pod %q not found in namespace %q", name, ns)
	case 1:
		return found[0], nil
	}
	nodes := make([]string, len(found))
	for i, p := range found {
		nodes[i] = p.Node
	}
	return nil, fmt.Errorf("pod %q in namespace %q is run by several nodes on this engine: %v", name, ns, nodes)
}

// pickContainer returns the Kubernetes name of the pod's container to act
// on: name when the pod has it; with name empty, the pod's only container,
// or an error listing the choices as kubectl does.
func pickContainer(p *runtime.Pod, name string) (string, error) {
	names := containerNames(p)
	if name != "" {
		if p.CurrentInit(name) != nil { // logs -c of an init container
			return name, nil
		}
		for _, n := range names {
			if n == name {
				return name, nil
			}
		}
		return "", fmt.Errorf("container %q not found in pod %q, choose one of: [%s]", name, p.Name, strings.Join(names, " "))
	}
	switch len(names) {
	case 0:
		return "", fmt.Errorf("pod %q has no containers", p.Name)
	case 1:
		return names[0], nil
	}
	return "", fmt.Errorf("a container name must be specified for pod %s, choose one of: [%s]", p.Name, strings.Join(names, " "))
}

// containerNames lists the pod's Kubernetes container names, sorted and
// each once (every run of a container is a separate engine container).
func containerNames(p *runtime.Pod) []string {
	seen := map[string]bool{}
	var names []string
	for _, c := range p.Containers {
		if !seen[c.Name] {
			seen[c.Name] = true
			names = append(names, c.Name)
		}
	}
	sort.Strings(names)
	return names
}

// podArg parses a pod argument, NAME or pod/NAME as kubectl accepts it.
func podArg(arg string) (string, error) {
	name := arg
	if kind, rest, ok := strings.Cut(arg, "/"); ok {
		if kind != "pod" && kind != "pods" && kind != "po" {
			return "", fmt.Errorf("%q: want POD or pod/POD", arg)
		}
		name = rest
	}
	if name == "" || strings.HasPrefix(name, "-") {
		return "", fmt.Errorf("%q: want POD or pod/POD", arg)
	}
	return name, nil
}

// parseInterspersed parses flags placed before, between or after the
// positional arguments (kubectl accepts `logs POD -n NS` as well as
// `logs -n NS POD`) and returns the positional ones. Everything after a
// "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
