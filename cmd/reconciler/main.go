// Command reconciler runs Kubernetes manifests on a host's Podman engine and
// keeps them running.
//
//	reconciler run --source DIR      run the reconcile loop on a directory of manifests
//	reconciler run --repo URL        ... or on a Git repository
//	reconciler status                the daemon's sync state
//	reconciler validate DIR          load and validate manifests; exit 1 with every error
//	reconciler get pods|deployments  list live objects, kubectl-style
//	reconciler rollout status deploy/NAME  follow a rollout to its end
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: reconciler <command> [flags]

commands:
  run --source DIR          run the reconcile loop on a directory of manifests
  run --repo URL            ... or on a Git repository (push to deploy, revert to roll back)
  status                    the daemon's source, applied commit and per-object sync state
  sync pause|resume         stop or restart applying changes (needs --token-file)
  events [-w]               the daemon's recent events; -w follows them
  logs POD [-c C] [-f] [--tail N] [--since D] [-p]  print a container's output; -p: the run before its last restart
  exec POD [-c C] -- CMD [ARGS...]   run a command in a running container (stdin not attached, no TTY); exit with its code
  port-forward POD [LOCAL:]REMOTE... forward local TCP ports (--address, default 127.0.0.1) to the pod's published ports
  diff [--source DIR]       what the next sync would change, as ordered actions (a dry run)
  version                   the build's version and commit
  fleet-key                 print a new gossip key for --fleet-key-file
  cordon|uncordon NODE      stop or restart placing pods on a node of the fleet (needs --token-file)
  drain NODE                cordon, then wait until its movable pods run elsewhere (needs --token-file)
  validate DIR              validate manifests; exit 1 and list every error
  get KIND                  pods, deployments, services, endpoints, nodes, configmaps, secrets, pvc, pv, jobs, cronjobs, events, all
                            (-n NS, -A, -l SELECTOR, -o wide|json|yaml|name, --show-labels, -w)
  describe pod|deployment|job|cronjob NAME  the object, its conditions and its recent events
  create job NAME --from=cronjob/CJ  run a CronJob's job template now (needs --token-file)
  rollout status deploy/NAME  wait for a Deployment's rollout; exit 1 if it fails its deadline

run 'reconciler <command> -h' for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(runMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// runMain dispatches a command line and returns the exit code.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(ctx, args[1:], stderr)
	case "validate":
		return cmdValidate(args[1:], stdout, stderr)
	case "get":
		err = cmdGet(ctx, args[1:], stdout, stderr)
	case "fleet-key":
		err = cmdFleetKey(args[1:], stdout)
	case "cordon", "uncordon", "drain":
		err = cmdCordon(ctx, args[0], args[1:], stdout, stderr)
	case "rollout":
		err = cmdRollout(ctx, args[1:], stdout, stderr)
	case "status":
		err = cmdStatus(ctx, args[1:], stdout, stderr)
	case "sync":
		err = cmdSync(ctx, args[1:], stdout, stderr)
	case "events":
		err = cmdEvents(ctx, args[1:], stdout, stderr)
	case "describe":
		err = cmdDescribe(ctx, args[1:], stdout, stderr)
	case "create":
		err = cmdCreate(ctx, args[1:], stdout, stderr)
	case "logs":
		err = cmdLogs(ctx, args[1:], stdout, stderr)
	case "exec":
		code, err := cmdExec(ctx, args[1:], nil, stdout, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "reconciler exec: %v\n", err)
			return 1
		}
		return code
	case "port-forward":
		err = cmdPortForward(ctx, args[1:], stdout, stderr)
	case "diff":
		err = cmdDiff(ctx, args[1:], stdout, stderr)
	case "version":
		cmdVersion(stdout)
		return 0
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "reconciler: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "reconciler %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
