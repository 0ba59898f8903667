package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/runtime/podman"
)

// logsUsage is the one-line synopsis of `logs`, for errors and the help.
const logsUsage = "usage: reconciler logs POD|job/NAME [-n NS] [-c CONTAINER] [-f] [--tail N] [--since D] [-p|--previous]"

// logsOptions are the parsed arguments of `logs`.
type logsOptions struct {
	pod, namespace, container string
	// job, for `logs job/NAME`, names the Job whose newest pod is printed.
	job              string
	follow, previous bool
	tail             int
	since            time.Duration
	uri              string
}

// cmdLogs implements `logs POD`: it prints the output (stdout and stderr
// interleaved) of the current run of a pod's container, or with --previous
// of the run before it. With -f it keeps printing until ctx ends (Ctrl-C),
// which is then not an error, or the container exits.
func cmdLogs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseLogsFlags(args, stderr)
	if err != nil {
		return err
	}
	return showLogs(ctx, podman.New(o.uri), o, stdout, time.Now())
}

// parseLogsFlags parses the command line of `logs`; flags may come before
// or after the pod, and -f, -p, -c, -n have kubectl's long names too.
func parseLogsFlags(args []string, stderr io.Writer) (logsOptions, error) {
	var o logsOptions
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, logsUsage); fs.PrintDefaults() }
	fs.StringVar(&o.namespace, "n", "default", "namespace")
	fs.StringVar(&o.namespace, "namespace", "default", "namespace (same as -n)")
	fs.StringVar(&o.container, "c", "", "container name (needed when the pod has several)")
	fs.StringVar(&o.container, "container", "", "container name (same as -c)")
	fs.BoolVar(&o.follow, "f", false, "follow the output until interrupted or the container exits")
	fs.BoolVar(&o.follow, "follow", false, "same as -f")
	fs.BoolVar(&o.previous, "p", false, "print the previous run's output (the run before a restart)")
	fs.BoolVar(&o.previous, "previous", false, "same as -p")
	fs.IntVar(&o.tail, "tail", -1, "print only the last N lines (negative: all)")
	fs.DurationVar(&o.since, "since", 0, "print only lines newer than this Go duration, e.g. 5m (0: all)")
	fs.StringVar(&o.uri, "podman", envOr("PODMAN_URI", podman.DefaultURI), "Podman API service address")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return o, err
	}
	if len(pos) != 1 {
		return o, errors.New(logsUsage)
	}
	if o.since < 0 {
		return o, fmt.Errorf("--since %v: must not be negative", o.since)
	}
	if job, ok := strings.CutPrefix(pos[0], "job/"); ok && job != "" {
		o.job = job
		return o, nil
	}
	o.pod, err = podArg(pos[0])
	return o, err
}

// showLogs writes the chosen run's output to w; now anchors --since.
func showLogs(ctx context.Context, rt runtime.Runtime, o logsOptions, w io.Writer, now time.Time) error {
	c, err := logsContainer(ctx, rt, o)
	if err != nil {
		return err
	}
	opts := runtime.LogOptions{Follow: o.follow, Tail: o.tail}
	if o.since > 0 {
		opts.Since = now.Add(-o.since)
	}
	err = rt.Logs(ctx, c.ID, opts, w)
	if err != nil && o.follow && ctx.Err() != nil {
		return nil // an interrupted follow is how it normally ends
	}
	if err != nil {
		if o.job != "" {
			return fmt.Errorf("container %q of job/%s: %w", c.Name, o.job, err)
		}
		return fmt.Errorf("container %q of pod %q: %w", c.Name, o.pod, err)
	}
	return nil
}

// logsContainer finds the run whose logs `logs` prints: the current one, or
// the one before it (restart count one lower) with --previous.
func logsContainer(ctx context.Context, rt runtime.Runtime, o logsOptions) (*runtime.Container, error) {
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	var p *runtime.Pod
	var err error
	if o.job != "" {
		p, err = findJobPod(lctx, rt, o.namespace, o.job)
	} else {
		p, err = findPod(lctx, rt, o.namespace, o.pod)
	}
	if err != nil {
		return nil, err
	}
	name, err := pickContainer(p, o.container)
	if err != nil {
		return nil, err
	}
	cur, runs := p.Current(name), p.Containers
	if cur == nil {
		cur, runs = p.CurrentInit(name), p.InitContainers
	}
	if !o.previous {
		return cur, nil
	}
	for i := range runs {
		if c := &runs[i]; c.Name == name && c.RestartCount == cur.RestartCount-1 {
			return c, nil
		}
	}
	return nil, fmt.Errorf("previous terminated container %q in pod %q not found", name, p.Name)
}
