package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/runtime/podman"
)

// execUsage is the one-line synopsis of `exec`, for errors and the help.
const execUsage = "usage: reconciler exec POD [-n NS] [-c CONTAINER] -- CMD [ARGS...] (stdin is not attached, no TTY)"

// execOptions are the parsed arguments of `exec`.
type execOptions struct {
	pod, namespace, container string
	cmd                       []string
	uri                       string
}

// cmdExec implements `exec POD -- CMD ARGS...`: it runs CMD in the current
// run of the pod's container, which must be running, writes the command's
// stdout and stderr to stdout and stderr once it has finished, and returns
// its exit code for main to exit with, as kubectl does (a non-zero code is
// also reported on stderr as "command terminated with exit code N"). stdin
// is not attached: the command reads end of file. When err is non-nil the
// command did not run to its end and exitCode is 1.
func cmdExec(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (exitCode int, err error) {
	o, err := parseExecFlags(args, stderr)
	if err != nil {
		return 1, err
	}
	res, err := execIn(ctx, podman.New(o.uri), o)
	if err != nil {
		return 1, err
	}
	if _, err := stdout.Write(res.Stdout); err != nil {
		return 1, fmt.Errorf("write stdout: %w", err)
	}
	if _, err := stderr.Write(res.Stderr); err != nil {
		return 1, fmt.Errorf("write stderr: %w", err)
	}
	if res.ExitCode != 0 {
		fmt.Fprintf(stderr, "command terminated with exit code %d\n", res.ExitCode)
	}
	return res.ExitCode, nil
}

// parseExecFlags parses `POD [flags] -- CMD ARGS...`; the flags may come
// before or after the pod, and everything after "--" is the command.
func parseExecFlags(args []string, stderr io.Writer) (execOptions, error) {
	var o execOptions
	dash := slices.Index(args, "--")
	if dash < 0 || dash == len(args)-1 {
		return o, errors.New(execUsage)
	}
	o.cmd = args[dash+1:]
	var stdinFlag, tty bool
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, execUsage); fs.PrintDefaults() }
	fs.StringVar(&o.namespace, "n", "default", "namespace")
	fs.StringVar(&o.namespace, "namespace", "default", "namespace (same as -n)")
	fs.StringVar(&o.container, "c", "", "container name (needed when the pod has several)")
	fs.StringVar(&o.container, "container", "", "container name (same as -c)")
	fs.BoolVar(&stdinFlag, "i", false, "not supported: stdin is not attached")
	fs.BoolVar(&tty, "t", false, "not supported: there is no TTY")
	fs.StringVar(&o.uri, "podman", envOr("PODMAN_URI", podman.DefaultURI), "Podman API service address")
	pos, err := parseInterspersed(fs, args[:dash])
	if err != nil {
		return o, err
	}
	if stdinFlag || tty {
		return o, errors.New("-i and -t are not supported: stdin is not attached and there is no TTY")
	}
	if len(pos) != 1 {
		return o, errors.New(execUsage)
	}
	o.pod, err = podArg(pos[0])
	return o, err
}

// execIn runs the command in the current run of the chosen container.
func execIn(ctx context.Context, rt runtime.Runtime, o execOptions) (runtime.ExecResult, error) {
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	p, err := findPod(lctx, rt, o.namespace, o.pod)
	if err != nil {
		return runtime.ExecResult{}, err
	}
	name, err := pickContainer(p, o.container)
	if err != nil {
		return runtime.ExecResult{}, err
	}
	c := p.Current(name)
	if c.State != runtime.StateRunning {
		return runtime.ExecResult{}, fmt.Errorf("container %q is not running (state %s) in pod %q", name, c.State, p.Name)
	}
	res, err := rt.Exec(ctx, c.ID, o.cmd)
	if err != nil {
		return res, fmt.Errorf("exec in container %q of pod %q: %w", name, p.Name, err)
	}
	return res, nil
}
