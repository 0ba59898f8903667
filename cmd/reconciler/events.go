package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/planner"
	"github.com/reconciler/reconciler/runtime/podman"
)

// cmdEvents prints the daemon's recent events; -w keeps printing new ones.
func cmdEvents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "http://127.0.0.1:9780", "daemon API")
	watch := fs.Bool("w", false, "watch: keep printing new events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	url := strings.TrimRight(*server, "/") + "/api/v1/events"
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE")
	var last time.Time
	for {
		var evs []executor.Event
		if err := getJSON(ctx, url, &evs); err != nil {
			return err
		}
		for _, e := range evs {
			if e.Time.After(last) {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", age(time.Now(), e.Time), e.Type, e.Reason, e.Object, e.Message)
				last = e.Time
			}
		}
		tw.Flush()
		if !*watch {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// cmdDiff prints what the next sync would change, as the ordered actions
// of a plan, without applying anything: for --source DIR, planned here
// from the directory and the engine; otherwise the daemon's pending plan.
func cmdDiff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	source := fs.String("source", "", "plan this directory of manifests against the engine (default: the daemon's pending plan)")
	node := fs.String("node-name", hostname(), "the node to plan for")
	uri := fs.String("podman", envOr("PODMAN_URI", podman.DefaultURI), "Podman API service address")
	server := fs.String("server", "http://127.0.0.1:9780", "daemon API")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var actions []string
	if *source == "" {
		st := fetchStatus(ctx, *server)
		if st == nil {
			return fmt.Errorf("no daemon answers at %s (or give --source DIR)", *server)
		}
		actions = st.Pending
	} else {
		d, err := config.LoadDir(*source)
		if err != nil {
			return err
		}
		rt := podman.New(*uri)
		obs, err := rt.Observe(ctx, *node)
		if err != nil {
			return err
		}
		if obs.Jobs, obs.CronJobs, err = rt.JobRecords(ctx, *node); err != nil {
			return err
		}
		for i := range obs.Pods { // the engine alone: running counts as ready
			for j := range obs.Pods[i].Containers {
				c := &obs.Pods[i].Containers[j]
				c.Ready, c.ReadySince = c.State == "running", c.StartedAt
			}
		}
		for _, a := range planner.Plan(d, obs, time.Now()).Actions {
			actions = append(actions, a.String())
		}
	}
	if len(actions) == 0 {
		fmt.Fprintln(stdout, "no changes: the engine matches the desired state")
		return nil
	}
	for i, a := range actions {
		fmt.Fprintf(stdout, "%d. %s\n", i+1, a)
	}
	return nil
}
