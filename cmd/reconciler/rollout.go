package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/reconciler/reconciler/executor"
)

const rolloutUsage = `usage: reconciler rollout status|history|undo deploy/NAME [-n NS]
  status [--timeout D]      wait for the rollout; exit 1 if it fails
  history                   list the stored revisions
  undo [--to-revision N]    run revision N (default: the previous one) until git changes the template`

// cmdRollout implements `rollout status|history|undo deploy/NAME`.
func cmdRollout(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		return errors.New(rolloutUsage)
	}
	switch args[0] {
	case "status":
		return rolloutStatus(ctx, args, stdout, stderr)
	case "history", "undo":
		return rolloutRevisions(ctx, args, stdout, stderr)
	}
	return errors.New(rolloutUsage)
}

func rolloutStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rollout status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ns := fs.String("n", "default", "namespace")
	server := fs.String("server", "http://127.0.0.1:9780", "daemon API")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long (0: wait for ever)")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	name, err := deploymentName(args[1])
	if err != nil {
		return err
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	return watchRollout(ctx, *server, *ns, name, stdout)
}

// watchRollout prints the rollout's progress as kubectl does until it
// completes (nil) or fails its progress deadline (an error).
func watchRollout(ctx context.Context, server, ns, name string, w io.Writer) error {
	last := ""
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		if ws, ok := findDeployment(ctx, server, ns, name); ok {
			switch {
			case ws.Failed != "":
				return fmt.Errorf("deployment %q failed: %s", name, ws.Failed)
			case ws.Complete:
				fmt.Fprintf(w, "deployment %q successfully rolled out\n", name)
				return nil
			case ws.DeadlineExceeded:
				return fmt.Errorf("deployment %q exceeded its progress deadline: %s", name, ws.Message)
			case ws.Message != last:
				fmt.Fprintf(w, "Waiting for deployment %q rollout to finish: %s...\n", name, ws.Message)
				last = ws.Message
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("deployment %q: %w", name, ctx.Err())
		case <-tick.C:
		}
	}
}

// findDeployment looks the Deployment up in the daemon's status.
func findDeployment(ctx context.Context, server, ns, name string) (executor.WorkloadStatus, bool) {
	st := fetchStatus(ctx, server)
	if st == nil {
		return executor.WorkloadStatus{}, false
	}
	for _, wl := range st.Workloads {
		if wl.Kind == "Deployment" && wl.Namespace == ns && wl.Name == name {
			return wl, true
		}
	}
	return executor.WorkloadStatus{}, false
}

// deploymentName parses "deploy/NAME" or "deployment/NAME".
func deploymentName(arg string) (string, error) {
	name, ok := strings.CutPrefix(arg, "deploy/")
	if !ok {
		name, ok = strings.CutPrefix(arg, "deployment/")
	}
	if !ok || name == "" {
		return "", fmt.Errorf("%q: want deploy/NAME", arg)
	}
	return name, nil
}
