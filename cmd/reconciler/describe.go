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
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/runtime/podman"
)

// cmdDescribe implements `describe pod|deployment NAME`: the object, its
// conditions and its recent events.
func cmdDescribe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) >= 1 && (args[0] == "quota" || args[0] == "quotas" || args[0] == "resourcequota") {
		return describeQuota(ctx, args[1:], stdout, stderr)
	}
	if len(args) < 2 {
		return errors.New("usage: reconciler describe pod|deployment|job|cronjob NAME [-n NS], or describe quota [NAME] [-n NS]")
	}
	fs := flag.NewFlagSet("describe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ns := fs.String("n", "default", "namespace")
	uri := fs.String("podman", envOr("PODMAN_URI", podman.DefaultURI), "Podman API service address")
	server := fs.String("server", "http://127.0.0.1:9780", "daemon API (conditions, readiness and events)")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st := fetchStatus(ctx, *server)
	var events []executor.Event
	_ = getJSON(ctx, strings.TrimRight(*server, "/")+"/api/v1/events", &events)
	switch args[0] {
	case "pod", "pods", "po":
		p, err := findPod(ctx, podman.New(*uri), *ns, args[1])
		if err != nil {
			return err
		}
		describePod(stdout, p, st, events)
	case "deployment", "deployments", "deploy":
		if st == nil {
			return fmt.Errorf("deployments are described from the daemon, which does not answer at %s", *server)
		}
		ws, ok := findDeploymentIn(st, *ns, args[1])
		if !ok {
			return fmt.Errorf("deployment %q not found in namespace %q", args[1], *ns)
		}
		describeDeployment(stdout, ws, events)
	case "job", "jobs", "cronjob", "cronjobs", "cj":
		if st == nil {
			return fmt.Errorf("%ss are described from the daemon, which does not answer at %s", args[0], *server)
		}
		if batchKinds[args[0]] == "Job" {
			return describeJob(stdout, st, *ns, args[1], events)
		}
		return describeCronJob(stdout, st, *ns, args[1], events)
	default:
		return fmt.Errorf("describe %q: pod, deployment, job or cronjob", args[0])
	}
	return nil
}

func findDeploymentIn(st *executor.Status, ns, name string) (executor.WorkloadStatus, bool) {
	for _, w := range st.Workloads {
		if w.Kind == "Deployment" && w.Namespace == ns && w.Name == name {
			return w, true
		}
	}
	return executor.WorkloadStatus{}, false
}

func describePod(w io.Writer, p *runtime.Pod, st *executor.Status, events []executor.Event) {
	ps := podStatusOf(p, st, time.Now())
	fmt.Fprintf(w, "Name:          %s\nNamespace:     %s\nNode:          %s\n", p.Name, p.Namespace, p.Node)
	fmt.Fprintf(w, "Controlled By: %s/%s\nLabels:        %s\n", p.Owner.Kind, p.Owner.Name, labelsString(p.Labels))
	fmt.Fprintf(w, "Revision:      %s (template %s)\nStatus:        %s\nStarted:       %s\n", p.Revision, p.TemplateHash, ps.status, p.Created.Local().Format(time.RFC1123))
	fmt.Fprintf(w, "Ports:         %s\nContainers:\n", portsString(p.Ports))
	for i := range p.Containers {
		c := &p.Containers[i]
		if p.Current(c.Name) != c {
			continue
		}
		fmt.Fprintf(w, "  %s:\n    Image:         %s\n    State:         %s", c.Name, c.Image, c.State)
		if c.State == runtime.StateExited {
			fmt.Fprintf(w, " (exit code %d at %s)", c.ExitCode, c.FinishedAt.Local().Format(time.RFC1123))
		}
		fmt.Fprintf(w, "\n    Restart Count: %d\n", c.RestartCount)
	}
	fmt.Fprintln(w, "Conditions:\n  Type            Status")
	fmt.Fprintf(w, "  ContainersReady %v\n  Ready           %v\n", ps.total > 0 && ps.ready == ps.total, ps.total > 0 && ps.ready == ps.total)
	printEventsFor(w, events, "pod/"+p.Namespace+"/"+p.Name)
}

func describeDeployment(w io.Writer, ws executor.WorkloadStatus, events []executor.Event) {
	fmt.Fprintf(w, "Name:          %s\nNamespace:     %s\nTemplate:      %s\n", ws.Name, ws.Namespace, ws.TemplateHash)
	fmt.Fprintf(w, "Replicas:      %d desired | %d updated | %d total | %d available | %d unavailable\n",
		ws.Replicas, ws.Updated, ws.Current, ws.Available, max(ws.Replicas-ws.Available, 0))
	if ws.Pinned != "" {
		fmt.Fprintf(w, "Pinned:        %s\n", ws.Pinned)
	}
	progressing := "True (" + ws.Message + ")"
	if ws.DeadlineExceeded || ws.Failed != "" {
		progressing = "False (ProgressDeadlineExceeded: " + firstNonEmpty(ws.Failed, ws.Message) + ")"
	}
	fmt.Fprintln(w, "Conditions:\n  Type           Status")
	fmt.Fprintf(w, "  Available      %v\n  Progressing    %s\n", ws.Available >= ws.Replicas, progressing)
	printEventsFor(w, events, ws.Namespace+"/Deployment/"+ws.Name, "pod/"+ws.Namespace+"/"+ws.Name+"-")
}

// printEventsFor prints the events whose object starts with one of the
// prefixes, as kubectl's describe does.
func printEventsFor(w io.Writer, events []executor.Event, prefixes ...string) {
	fmt.Fprintln(w, "Events:")
	n := 0
	for _, e := range events {
		for _, p := range prefixes {
			if strings.HasPrefix(e.Object, p) {
				fmt.Fprintf(w, "  %-8s %-24s %6s ago  %s: %s\n", e.Type, e.Reason, age(time.Now(), e.Time), e.Object, e.Message)
				n++
				break
			}
		}
	}
	if n == 0 {
		fmt.Fprintln(w, "  <none>")
	}
}
