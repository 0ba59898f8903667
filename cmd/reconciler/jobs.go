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
	"sort"
	"strings"
	"time"
	// Time zones for CronJob schedules, whatever the host's zoneinfo holds
	// (package config embeds them too; this keeps the binary's promise
	// explicit).
	_ "time/tzdata"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/reconciler/reconciler/api"
	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/gitsync"
	"github.com/reconciler/reconciler/planner"
	"github.com/reconciler/reconciler/runtime"
)

// batchKinds maps the names `get` and `describe` accept for Jobs and
// CronJobs to their kind.
var batchKinds = map[string]string{
	"job": "Job", "jobs": "Job",
	"cronjob": "CronJob", "cronjobs": "CronJob", "cj": "CronJob",
}

// getBatch prints the daemon's Jobs or CronJobs: as kubectl's tables
// (Jobs: NAME STATUS COMPLETIONS DURATION AGE; CronJobs: NAME SCHEDULE
// SUSPEND ACTIVE LAST SCHEDULE AGE), as JSON or YAML status, or as names.
func getBatch(ctx context.Context, w io.Writer, kind string, opt getOptions) error {
	path, what := "/api/v1/jobs", "jobs"
	if kind == "CronJob" {
		path, what = "/api/v1/cronjobs", "cronjobs"
	}
	url := strings.TrimRight(opt.server, "/") + path
	if kind == "Job" {
		var jobs []planner.JobStatus
		if err := getJSON(ctx, url, &jobs); err != nil {
			return fmt.Errorf("%s come from the daemon, which does not answer at %s: %w", what, opt.server, err)
		}
		var sel []planner.JobStatus
		for _, j := range jobs {
			if opt.match(j.Namespace, j.Labels) {
				sel = append(sel, j)
			}
		}
		return printJobs(w, sel, opt)
	}
	var crons []planner.CronJobStatus
	if err := getJSON(ctx, url, &crons); err != nil {
		return fmt.Errorf("%s come from the daemon, which does not answer at %s: %w", what, opt.server, err)
	}
	var sel []planner.CronJobStatus
	for _, c := range crons {
		if opt.match(c.Namespace, c.Labels) {
			sel = append(sel, c)
		}
	}
	return printCronJobs(w, sel, opt)
}

// printJobs prints Jobs in one of get's formats.
func printJobs(w io.Writer, jobs []planner.JobStatus, o getOptions) error {
	switch o.output {
	case "json", "yaml":
		return printStructured(w, o.output, nonNil(jobs))
	case "name":
		for _, j := range jobs {
			fmt.Fprintf(w, "job/%s\n", j.Name)
		}
		return nil
	}
	head := "NAME\tSTATUS\tCOMPLETIONS\tDURATION\tAGE"
	if o.wide {
		head += "\tACTIVE\tFAILED\tCRONJOB\tPODS"
	}
	printRows(w, head, o, len(jobs), func(i int) (string, string, map[string]string) {
		j := jobs[i]
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", j.Name, j.Status, completionsOf(j), jobDuration(j, o.now), age(o.now, j.Created))
		if o.wide {
			line += fmt.Sprintf("\t%d\t%d\t%s\t%s", j.Active, j.Failed, orNone(j.CronJob), orNone(strings.Join(j.Pods, ",")))
		}
		return j.Namespace, line, j.Labels
	})
	return nil
}

// printCronJobs prints CronJobs in one of get's formats.
func printCronJobs(w io.Writer, crons []planner.CronJobStatus, o getOptions) error {
	switch o.output {
	case "json", "yaml":
		return printStructured(w, o.output, nonNil(crons))
	case "name":
		for _, c := range crons {
			fmt.Fprintf(w, "cronjob/%s\n", c.Name)
		}
		return nil
	}
	head := "NAME\tSCHEDULE\tSUSPEND\tACTIVE\tLAST SCHEDULE\tAGE"
	if o.wide {
		head += "\tTIMEZONE\tNEXT SCHEDULE\tJOBS"
	}
	printRows(w, head, o, len(crons), func(i int) (string, string, map[string]string) {
		c := crons[i]
		last := "<none>"
		if !c.LastScheduleTime.IsZero() {
			last = age(o.now, c.LastScheduleTime)
		}
		line := fmt.Sprintf("%s\t%s\t%v\t%d\t%s\t%s", c.Name, c.Schedule, c.Suspend, len(c.Active), last, age(o.now, c.Created))
		if o.wide {
			next := "<none>"
			if !c.NextScheduleTime.IsZero() {
				next = c.NextScheduleTime.Local().Format(time.RFC3339)
			}
			line += fmt.Sprintf("\t%s\t%s\t%s", orNone(c.TimeZone), next, orNone(strings.Join(c.Active, ",")))
		}
		return c.Namespace, line, c.Labels
	})
	return nil
}

// printRows prints a table: the header, then each row, with the
// NAMESPACE column for -A and LABELS for --show-labels.
func printRows(w io.Writer, head string, o getOptions, n int, row func(i int) (ns, line string, labels map[string]string)) {
	if o.all {
		head = "NAMESPACE\t" + head
	}
	if o.showLabels {
		head += "\tLABELS"
	}
	fmt.Fprintln(w, head)
	for i := range n {
		ns, line, l := row(i)
		if o.all {
			line = ns + "\t" + line
		}
		if o.showLabels {
			line += "\t" + labelsString(l)
		}
		fmt.Fprintln(w, line)
	}
}

// completionsOf is kubectl's COMPLETIONS: succeeded/completions, or for a
// work queue succeeded/1 (of parallelism when that is above 1).
func completionsOf(j planner.JobStatus) string {
	if j.Completions != nil {
		return fmt.Sprintf("%d/%d", j.Succeeded, *j.Completions)
	}
	if j.Parallelism > 1 {
		return fmt.Sprintf("%d/1 of %d", j.Succeeded, j.Parallelism)
	}
	return fmt.Sprintf("%d/1", j.Succeeded)
}

// jobDuration is kubectl's DURATION: from start to completion, or to now
// while the Job runs; empty before it starts.
func jobDuration(j planner.JobStatus, now time.Time) string {
	switch {
	case j.StartTime.IsZero():
		return ""
	case j.CompletionTime.IsZero():
		return duration.HumanDuration(now.Sub(j.StartTime))
	}
	return duration.HumanDuration(j.CompletionTime.Sub(j.StartTime))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// describeJob prints a Job as `kubectl describe job` does.
func describeJob(w io.Writer, st *executor.Status, ns, name string, events []executor.Event) error {
	var j *planner.JobStatus
	for i := range st.Jobs {
		if st.Jobs[i].Namespace == ns && st.Jobs[i].Name == name {
			j = &st.Jobs[i]
		}
	}
	if j == nil {
		return fmt.Errorf("job %q not found in namespace %q", name, ns)
	}
	created := "the source"
	if j.CronJob != "" {
		created = "CronJob/" + j.CronJob
		if j.Manual {
			created += " (manual run)"
		} else {
			created += " (slot " + j.ScheduledTime.Local().Format(time.RFC1123) + ")"
		}
	}
	completions := "<unset>"
	if j.Completions != nil {
		completions = fmt.Sprint(*j.Completions)
	}
	fmt.Fprintf(w, "Name:           %s\nNamespace:      %s\nCreated By:     %s\nLabels:         %s\n", j.Name, j.Namespace, created, labelsString(j.Labels))
	fmt.Fprintf(w, "Status:         %s\nParallelism:    %d\nCompletions:    %s\nBackoff Limit:  %d\nTemplate:       %s\n",
		j.Status, j.Parallelism, completions, j.BackoffLimit, j.TemplateHash)
	fmt.Fprintf(w, "Start Time:     %s\n", orNone(when(j.StartTime)))
	if !j.CompletionTime.IsZero() {
		fmt.Fprintf(w, "Completed At:   %s\nDuration:       %s\n", orNone(when(j.CompletionTime)), jobDuration(*j, time.Now()))
	}
	fmt.Fprintf(w, "Pods Statuses:  %d Active / %d Succeeded / %d Failed\n", j.Active, j.Succeeded, j.Failed)
	if j.Error != "" {
		fmt.Fprintf(w, "Error:          %s\n", j.Error)
	}
	fmt.Fprintf(w, "Pods:           %s\n", orNone(strings.Join(j.Pods, ", ")))
	fmt.Fprintln(w, "Conditions:\n  Type        Status  Reason                Message")
	if len(j.Conditions) == 0 {
		fmt.Fprintln(w, "  <none>")
	}
	for _, c := range j.Conditions {
		fmt.Fprintf(w, "  %-11s %-7s %-21s %s\n", c.Type, c.Status, orNone(c.Reason), c.Message)
	}
	printEventsFor(w, events, ns+"/Job/"+name, "pod/"+ns+"/"+name+"-")
	return nil
}

// describeCronJob prints a CronJob as `kubectl describe cronjob` does.
func describeCronJob(w io.Writer, st *executor.Status, ns, name string, events []executor.Event) error {
	var c *planner.CronJobStatus
	for i := range st.CronJobs {
		if st.CronJobs[i].Namespace == ns && st.CronJobs[i].Name == name {
			c = &st.CronJobs[i]
		}
	}
	if c == nil {
		return fmt.Errorf("cronjob %q not found in namespace %q", name, ns)
	}
	fmt.Fprintf(w, "Name:                  %s\nNamespace:             %s\nLabels:                %s\n", c.Name, c.Namespace, labelsString(c.Labels))
	fmt.Fprintf(w, "Schedule:              %s\nTime Zone:             %s\nConcurrency Policy:    %s\nSuspend:               %v\n",
		c.Schedule, firstNonEmpty(c.TimeZone, "<unset> (the daemon's local time)"), c.ConcurrencyPolicy, c.Suspend)
	fmt.Fprintf(w, "First Seen:            %s\nLast Schedule Time:    %s\nLast Successful Time:  %s\nNext Schedule Time:    %s\n",
		orNone(when(c.Created)), orNone(when(c.LastScheduleTime)), orNone(when(c.LastSuccessfulTime)), orNone(when(c.NextScheduleTime)))
	fmt.Fprintf(w, "Active Jobs:           %s\n", orNone(strings.Join(c.Active, ", ")))
	if c.Error != "" {
		fmt.Fprintf(w, "Error:                 %s\n", c.Error)
	}
	var jobs []string
	for _, j := range st.Jobs {
		if j.Namespace == ns && j.CronJob == name {
			jobs = append(jobs, j.Name+" ("+j.Status+")")
		}
	}
	fmt.Fprintf(w, "Jobs:                  %s\n", orNone(strings.Join(jobs, ", ")))
	printEventsFor(w, events, ns+"/CronJob/"+name, ns+"/Job/"+name+"-", "pod/"+ns+"/"+name+"-")
	return nil
}

// findJobPod returns the newest pod of Job ns/name (what `logs job/NAME`
// prints), from every node's pods on the engine.
func findJobPod(ctx context.Context, rt runtime.Runtime, ns, name string) (*runtime.Pod, error) {
	obs, err := rt.Observe(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("observe pods: %w", err)
	}
	var pods []*runtime.Pod
	for i := range obs.Pods {
		if p := &obs.Pods[i]; p.Namespace == ns && p.Owner.Kind == "Job" && p.Owner.Name == name {
			pods = append(pods, p)
		}
	}
	if len(pods) == 0 {
		return nil, fmt.Errorf("job %q in namespace %q has no pod", name, ns)
	}
	sort.SliceStable(pods, func(i, k int) bool {
		if !pods[i].Created.Equal(pods[k].Created) {
			return pods[i].Created.After(pods[k].Created)
		}
		return pods[i].Name > pods[k].Name
	})
	return pods[0], nil
}

const createUsage = "usage: reconciler create job NAME --from=cronjob/NAME [-n NS] [--token-file F] [--server URL]"

// cmdCreate implements `create job NAME --from=cronjob/CJ`: the daemon runs
// the CronJob's job template now as the Job NAME (kubectl's manual run).
// It changes state, so it needs the daemon's bearer token.
func cmdCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 || args[0] != "job" {
		return errors.New(createUsage)
	}
	fs := flag.NewFlagSet("create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ns := fs.String("n", "default", "namespace")
	from := fs.String("from", "", "the CronJob whose job template to run: cronjob/NAME")
	server := fs.String("server", "http://127.0.0.1:9780", "daemon API")
	tokenFile := fs.String("token-file", envOr("RECONCILER_TOKEN_FILE", ""), "file holding the daemon's bearer token")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 || !strings.HasPrefix(*from, "cronjob/") {
		return errors.New(createUsage)
	}
	if *tokenFile == "" {
		return errors.New("--token-file is required: changes through the API need the daemon's token")
	}
	token, err := gitsync.LoadSecret(*tokenFile)
	if err != nil {
		return err
	}
	body, err := json.Marshal(api.CreateJobRequest{Namespace: *ns, Name: pos[0], From: *from})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(*server, "/")+"/api/v1/jobs", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+string(token))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	fmt.Fprintf(stdout, "job/%s created\n", pos[0])
	return nil
}
