package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/reconciler/reconciler/api"
	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/planner"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/runtime/podman"
)

// getOptions are the flags of `get`.
type getOptions struct {
	namespace  string
	all        bool
	selector   labels.Selector
	wide       bool
	output     string // "", wide, json, yaml or name
	showLabels bool
	server     string
	now        time.Time
	// endpoints are the daemon's Services as served, by "ns/name"
	// (filled for `get services`).
	endpoints map[string]executor.EndpointsStatus
	// claims are the daemon's claim bindings (filled for `get pvc|pv`).
	claims map[string]config.ClaimBinding
}

const getUsage = "usage: reconciler get pods|deployments|services|endpoints|nodes|configmaps|secrets|pvc|pv|jobs|cronjobs|events|all " +
	"[-n NS] [-A] [-l SELECTOR] [-o wide|json|yaml|name] [--show-labels]"

func cmdGet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ns := fs.String("n", "default", "namespace")
	all := fs.Bool("A", false, "all namespaces")
	sel := fs.String("l", "", "label selector (=, ==, !=, in, notin, key, !key)")
	out := fs.String("o", "", "output format: wide, json, yaml or name")
	showLabels := fs.Bool("show-labels", false, "add a LABELS column")
	watch := fs.Bool("w", false, "watch: print the table again whenever it changes, until Ctrl-C")
	uri := fs.String("podman", envOr("PODMAN_URI", podman.DefaultURI), "Podman API service address")
	server := fs.String("server", "http://127.0.0.1:9780", "daemon API: waiting reasons, desired replicas and the objects other than pods")
	if len(args) == 0 {
		return errors.New(getUsage)
	}
	what := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	selector, err := labels.Parse(*sel)
	if err != nil {
		return fmt.Errorf("-l: %w", err)
	}
	switch *out {
	case "", "wide", "json", "yaml", "name":
	default:
		return fmt.Errorf("-o %q: want wide, json, yaml or name", *out)
	}
	opt := getOptions{namespace: *ns, all: *all, selector: selector, wide: *out == "wide", output: *out,
		showLabels: *showLabels, server: *server, now: time.Now()}
	if what == "events" {
		ev := []string{"--server", *server}
		if *watch {
			ev = append(ev, "-w")
		}
		return cmdEvents(ctx, ev, stdout, stderr)
	}
	if *watch {
		return watchGet(ctx, what, *uri, opt, stdout)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	kinds := []string{what}
	if what == "all" {
		kinds = []string{"pods", "deployments", "services", "endpoints", "configmaps", "secrets", "jobs", "cronjobs"}
	}
	for i, k := range kinds {
		if i > 0 && opt.output == "" || i > 0 && opt.output == "wide" {
			fmt.Fprintln(stdout)
		}
		if err := getKind(ctx, k, *uri, opt, stdout); err != nil {
			return err
		}
	}
	return nil
}

// watchGet prints the table of one kind, then again each time it changes,
// until ctx ends.
func watchGet(ctx context.Context, what, uri string, opt getOptions, stdout io.Writer) error {
	var last string
	for {
		var buf bytes.Buffer
		opt.now = time.Now()
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := getKind(cctx, what, uri, opt, &buf)
		cancel()
		if err != nil && ctx.Err() == nil {
			return err
		}
		if cur := withoutAge(buf.String()); cur != last && ctx.Err() == nil {
			if last != "" {
				fmt.Fprintln(stdout)
			}
			_, _ = stdout.Write(buf.Bytes())
			last = cur
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// withoutAge drops the AGE column's values, so that time passing alone does
// not count as a change.
func withoutAge(table string) string {
	return ageCell.ReplaceAllString(table, " ")
}

var ageCell = regexp.MustCompile(` [0-9]+[smhd](\s|$)`)

// getKind prints one kind: pods and deployments from the engine (with the
// daemon's view when it answers), the other kinds from the daemon.
func getKind(ctx context.Context, kind, uri string, opt getOptions, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 8, 3, ' ', 0)
	defer tw.Flush()
	switch kind {
	case "pod", "pods", "po", "deployment", "deployments", "deploy":
		obs, err := podman.New(uri).Observe(ctx, "")
		if err != nil {
			return err
		}
		status := fetchStatus(ctx, opt.server)
		if kind[0] == 'p' {
			return printPodsAs(tw, obs, status, opt)
		}
		printDeployments(tw, obs, status, opt)
		return nil
	}
	if kind == "nodes" || kind == "node" || kind == "no" {
		return getNodes(ctx, tw, opt)
	}
	if kind == "endpoints" || kind == "ep" {
		return printEndpoints(tw, fetchStatus(ctx, opt.server), opt)
	}
	if k, ok := batchKinds[kind]; ok {
		return getBatch(ctx, tw, k, opt)
	}
	k, ok := kindNames[kind]
	if !ok {
		return fmt.Errorf("unknown resource type %q\n%s", kind, getUsage)
	}
	var objs []api.ObjectView
	if err := getJSON(ctx, strings.TrimRight(opt.server, "/")+"/api/v1/objects", &objs); err != nil {
		return fmt.Errorf("%s come from the daemon, which does not answer at %s: %w", kind, opt.server, err)
	}
	if k == "PersistentVolumeClaim" || k == "PersistentVolume" {
		if st := fetchStatus(ctx, opt.server); st != nil {
			opt.claims = st.Claims
		}
	}
	if k == "Service" {
		opt.endpoints = map[string]executor.EndpointsStatus{}
		if st := fetchStatus(ctx, opt.server); st != nil {
			for _, e := range st.Endpoints {
				opt.endpoints[e.Namespace+"/"+e.Name] = e
			}
		}
	}
	return printObjects(tw, k, objs, opt)
}

// fetchStatus asks the daemon for its status; nil when it does not answer.
func fetchStatus(ctx context.Context, server string) *executor.Status {
	if server == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server, "/")+"/api/v1/status", nil)
	if err != nil {
		return nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var s executor.Status
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&s) != nil {
		return nil
	}
	return &s
}

func (o getOptions) match(ns string, l map[string]string) bool {
	return (o.all || ns == o.namespace) && o.selector.Matches(labels.Set(l))
}

// printPodsAs prints pods as a table, as JSON or YAML (the observed
// pods), or as names.
func printPodsAs(w io.Writer, obs *runtime.Observed, st *executor.Status, o getOptions) error {
	var sel []runtime.Pod
	for _, p := range obs.Pods {
		if o.match(p.Namespace, p.Labels) {
			sel = append(sel, p)
		}
	}
	switch o.output {
	case "json", "yaml":
		return printStructured(w, o.output, sel)
	case "name":
		for _, p := range sel {
			fmt.Fprintf(w, "pod/%s\n", p.Name)
		}
		return nil
	}
	printPods(w, &runtime.Observed{Pods: sel}, st, o)
	return nil
}

func printPods(w io.Writer, obs *runtime.Observed, st *executor.Status, o getOptions) {
	head := "NAME\tREADY\tSTATUS\tRESTARTS\tAGE"
	if o.all {
		head = "NAMESPACE\t" + head
	}
	if o.wide {
		head += "\tNODE\tPORTS"
	}
	if o.showLabels {
		head += "\tLABELS"
	}
	fmt.Fprintln(w, head)
	for _, p := range obs.Pods {
		if !o.match(p.Namespace, p.Labels) {
			continue
		}
		ps := podStatusOf(&p, st, o.now)
		row := fmt.Sprintf("%s\t%d/%d\t%s\t%d\t%s", p.Name, ps.ready, ps.total, ps.status, ps.restarts, age(o.now, p.Created))
		if o.all {
			row = p.Namespace + "\t" + row
		}
		if o.wide {
			row += "\t" + p.Node + "\t" + portsString(p.Ports)
		}
		if o.showLabels {
			row += "\t" + labelsString(p.Labels)
		}
		fmt.Fprintln(w, row)
	}
}

// exitedStatus names an exited container's state as kubectl does:
// CrashLoopBackOff while its restart waits out the back-off, else Completed
// or Error by its exit code.
func exitedStatus(p *runtime.Pod, c *runtime.Container, now time.Time) string {
	policy := corev1.RestartPolicy(p.RestartPolicy)
	if c.RestartCount > 0 && planner.ShouldRestart(policy, c.ExitCode) &&
		now.Before(c.FinishedAt.Add(planner.RestartDelay(c.RestartCount, c.FinishedAt.Sub(c.StartedAt)))) {
		return "CrashLoopBackOff"
	}
	if c.OOMKilled {
		return "OOMKilled"
	}
	if c.ExitCode == 0 {
		return "Completed"
	}
	return "Error"
}

// initStatus names a pod that runs its init containers as kubectl does:
// Init:K/N with K of N done, Init:Error or Init:CrashLoopBackOff for a
// failed one; "" when the pod has none or is past them.
func initStatus(p *runtime.Pod, now time.Time) string {
	if p.InitCount == 0 || len(p.Containers) > 0 {
		return ""
	}
	done := 0
	for i := range p.InitContainers {
		c := &p.InitContainers[i]
		if p.CurrentInit(c.Name) != c {
			continue
		}
		switch {
		case c.State != runtime.StateExited:
		case c.ExitCode == 0:
			done++
		case exitedStatus(p, c, now) == "CrashLoopBackOff":
			return "Init:CrashLoopBackOff"
		default:
			return "Init:Error"
		}
	}
	return fmt.Sprintf("Init:%d/%d", done, p.InitCount)
}

// podSummary is a pod's kubectl-style status line.
type podSummary struct {
	ready, total, restarts int
	status                 string
}

// podStatusOf summarises a pod as kubectl does: the first waiting or
// terminated reason of its containers, else Running.
func podStatusOf(p *runtime.Pod, st *executor.Status, now time.Time) podSummary {
	s := podSummary{status: "Running"}
	seen := map[string]bool{}
	for _, c := range p.Containers {
		if seen[c.Name] {
			continue
		}
		seen[c.Name] = true
		cur := p.Current(c.Name)
		s.total++
		s.restarts += cur.RestartCount
		switch cur.State {
		case runtime.StateRunning:
			s.ready++
		case runtime.StateExited:
			s.status = exitedStatus(p, cur, now)
		case runtime.StateCreated:
			s.status = "ContainerCreating"
		default:
			s.status = string(cur.State)
		}
	}
	if s.total == 0 {
		s.status = "ContainerCreating"
		if init := initStatus(p, now); init != "" {
			s.status = init
		}
	}
	if st != nil {
		key := p.Namespace + "/" + p.Name
		if r, ok := st.Readiness[key]; ok && r.Total == s.total {
			s.ready = r.Ready // the probes' view, which the engine lacks
		}
		if ws, ok := st.Pods[key]; ok {
			s.status = ws.Reason
		}
	}
	return s
}

// deployRow is one line of `get deployments`.
type deployRow struct {
	ns, name                         string
	desired, current, updated, avail int32
	oldest                           time.Time
}

// printDeployments prints kubectl's classic deployment columns. Counts come
// from the daemon's rollout status when it answers; otherwise from the
// engine alone (desired then unknown: the count of pods is shown).
func printDeployments(w io.Writer, obs *runtime.Observed, st *executor.Status, o getOptions) {
	rows := map[string]*deployRow{}
	if st != nil {
		for _, wl := range st.Workloads {
			if wl.Kind == "Deployment" && (o.all || wl.Namespace == o.namespace) {
				rows[wl.Namespace+"/"+wl.Name] = &deployRow{ns: wl.Namespace, name: wl.Name, desired: wl.Replicas,
					current: wl.Current, updated: wl.Updated, avail: wl.Available}
			}
		}
	}
	for _, p := range obs.Pods {
		if p.Owner.Kind != "Deployment" || !o.match(p.Namespace, p.Labels) {
			continue
		}
		k := p.Namespace + "/" + p.Owner.Name
		r := rows[k]
		if r == nil && st != nil {
			continue // pods of a Deployment the daemon no longer wants
		}
		if r == nil {
			r = &deployRow{ns: p.Namespace, name: p.Owner.Name}
			rows[k] = r
		}
		if r.oldest.IsZero() || p.Created.Before(r.oldest) {
			r.oldest = p.Created
		}
		if st == nil {
			ps := podStatusOf(&p, nil, o.now)
			r.desired++
			r.current++
			r.updated++
			r.avail += b2i(ps.total > 0 && ps.ready == ps.total)
		}
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	head := "NAME\tDESIRED\tCURRENT\tUP-TO-DATE\tAVAILABLE\tAGE"
	if o.all {
		head = "NAMESPACE\t" + head
	}
	fmt.Fprintln(w, head)
	for _, k := range keys {
		r := rows[k]
		line := fmt.Sprintf("%s\t%d\t%d\t%d\t%d\t%s", r.name, r.desired, r.current, r.updated, r.avail, age(o.now, r.oldest))
		if o.all {
			line = r.ns + "\t" + line
		}
		fmt.Fprintln(w, line)
	}
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func portsString(ps []runtime.PortBinding) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%s:%d->%d/%s", p.HostIP, p.HostPort, p.ContainerPort, strings.ToLower(p.Protocol)))
	}
	if len(parts) == 0 {
		return "<none>"
	}
	return strings.Join(parts, ",")
}

// age renders a duration as kubectl does: 45s, 3m, 2h, 5d.
func age(now, t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
