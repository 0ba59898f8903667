package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/gitsync"
)

// cmdStatus prints the daemon's sync state: the source, the revision in
// force, and per workload whether it runs that revision.
func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "http://127.0.0.1:9780", "daemon API")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st := fetchStatus(ctx, *server)
	if st == nil {
		return fmt.Errorf("no daemon answers at %s", *server)
	}
	var src *gitsync.Status
	if err := getJSON(ctx, *server+"/api/v1/source", &src); err != nil {
		src = nil // a directory source has no such route
	}
	printStatus(stdout, st, src)
	return nil
}

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func printStatus(w io.Writer, st *executor.Status, src *gitsync.Status) {
	if src != nil {
		fmt.Fprintf(w, "Repository:      %s (%s%s)\n", src.URL, src.Ref, pathNote(src.Path))
		fmt.Fprintf(w, "Last fetched:    %s %s\n", orNone(src.LastFetched), when(src.LastFetchTime))
		if src.LastError != "" {
			fmt.Fprintf(w, "Source error:    %s\n", src.LastError)
		}
	}
	fmt.Fprintf(w, "Applied:         %s %s\n", orNone(st.Revision), when(st.RevisionTime))
	if st.SourceError != "" && (src == nil || src.LastError == "") {
		fmt.Fprintf(w, "Source error:    %s\n", st.SourceError)
	}
	engine := "up"
	if !st.EngineUp {
		engine = "DOWN: " + st.EngineError
	}
	node := st.Node
	if st.Cordoned {
		node += " (cordoned: takes no new pods)"
	}
	fmt.Fprintf(w, "Engine:          %s\nNode:            %s\n", engine, node)
	for _, h := range st.Handover {
		fmt.Fprintf(w, "Handing over:    %s\n", h)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintln(tw, "NAMESPACE\tKIND\tNAME\tREADY\tSYNCED\tMESSAGE")
	for _, wl := range st.Workloads {
		synced := "yes"
		switch {
		case wl.Failed != "" || wl.DeadlineExceeded:
			synced = "FAILED"
		case wl.Pinned != "":
			synced = "no (pinned)"
		case !wl.Complete:
			synced = "rolling"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\n", wl.Namespace, wl.Kind, wl.Name, wl.Available, wl.Replicas,
			synced, firstNonEmpty(wl.Failed, wl.Pinned, wl.Message))
	}
	for _, key := range sortedPodKeys(st.Pods) {
		ws := st.Pods[key]
		if ns, name, ok := strings.Cut(key, "/"); ok && ws.Message != "" {
			fmt.Fprintf(tw, "%s\tpod\t%s\t-\t%s\t%s\n", ns, name, ws.Reason, ws.Message)
		}
	}
	for _, u := range st.Unplaced {
		state := fmt.Sprintf("%d Pending", u.Pending)
		if u.Pending == 0 {
			state = fmt.Sprintf("%d NodeLost", u.NodeLost)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t-\t%s\t%s\n", u.Key.Namespace, u.Key.Kind, u.Key.Name, state, u.Reason)
	}
	for _, s := range st.Skipped {
		parts := strings.SplitN(s.Object, "/", 3)
		if len(parts) == 3 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\tskipped\t%s\n", parts[0], parts[1], parts[2], s.Reason)
		}
	}
}

func pathNote(p string) string {
	if p == "" {
		return ""
	}
	return ", path " + p
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return "at " + t.Local().Format(time.RFC3339) + " (" + age(time.Now(), t) + " ago)"
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func sortedPodKeys(m map[string]executor.PodStatus) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
