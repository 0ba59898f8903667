package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/reconciler/reconciler/api"
	"github.com/reconciler/reconciler/gitsync"
	"github.com/reconciler/reconciler/runtime"
)

// cmdCordon runs `cordon NODE`, `uncordon NODE` and `drain NODE`: the
// daemon at --server finds NODE's API among the fleet's members, and the
// change is made there (a node owns its own state).
func cmdCordon(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "http://127.0.0.1:9780", "API of any node of the fleet")
	tokenFile := fs.String("token-file", envOr("RECONCILER_TOKEN_FILE", ""), "file holding the nodes' bearer token")
	timeout := fs.Duration("timeout", 5*time.Minute, "drain: how long to wait for the node's pods to move")
	node, rest := "", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		node, rest = args[0], args[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if node == "" || fs.NArg() > 0 {
		return fmt.Errorf("usage: reconciler %s NODE [--server URL] [--token-file F]", verb)
	}
	if *tokenFile == "" {
		return errors.New("--token-file is required: cordoning a node needs its token")
	}
	token, err := gitsync.LoadSecret(*tokenFile)
	if err != nil {
		return err
	}
	target, err := nodeAPI(ctx, *server, node)
	if err != nil {
		return err
	}
	if verb == "uncordon" {
		if err := postToken(ctx, target+"/api/v1/uncordon", token); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "node/%s uncordoned\n", node)
		return nil
	}
	before := podNames(ctx, target)
	if err := postToken(ctx, target+"/api/v1/cordon", token); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "node/%s cordoned\n", node)
	if verb == "cordon" {
		return nil
	}
	if err := waitDrained(ctx, target, *timeout); err != nil {
		return fmt.Errorf("node/%s: %w", node, err)
	}
	after := podNames(ctx, target)
	for _, p := range before {
		if !slices.Contains(after, p) {
			fmt.Fprintf(stdout, "pod/%s evicted\n", p)
		}
	}
	for _, p := range after {
		fmt.Fprintf(stdout, "pod/%s stays: pinned to the node or keeps its data there\n", p)
	}
	fmt.Fprintf(stdout, "node/%s drained\n", node)
	return nil
}

// nodeAPI finds a member's API address through the daemon at server.
func nodeAPI(ctx context.Context, server, node string) (string, error) {
	var nodes []api.NodeView
	if err := getJSON(ctx, strings.TrimRight(server, "/")+"/api/v1/nodes", &nodes); err != nil {
		return "", fmt.Errorf("the daemon does not answer at %s: %w", server, err)
	}
	for _, n := range nodes {
		if n.Name != node {
			continue
		}
		if n.API == "" {
			return "", fmt.Errorf("node %q publishes no API address", node)
		}
		if n.Status != "Ready" {
			return "", fmt.Errorf("node %q is %s", node, n.Status)
		}
		return apiURL(n.API), nil
	}
	return "", fmt.Errorf("no node %q in the fleet", node)
}

// waitDrained waits until the node has placed with itself cordoned and has
// nothing left to do and nothing held back for the others: its movable
// pods run elsewhere and are gone from it.
func waitDrained(ctx context.Context, target string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		st := fetchStatus(ctx, target)
		if st != nil && st.Cordoned && st.InSync && len(st.Handover) == 0 && st.Movable == 0 && !stopping(ctx, target) {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("not drained within --timeout: see `reconciler status` on it (handover: the other nodes have not started its replicas)")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stopping reports whether the node is still stopping pods (or cannot
// say).
func stopping(ctx context.Context, target string) bool {
	var pods []runtime.Pod
	if err := getJSON(ctx, target+"/api/v1/pods", &pods); err != nil {
		return true
	}
	return slices.ContainsFunc(pods, func(p runtime.Pod) bool { return p.Terminating })
}

func podNames(ctx context.Context, target string) []string {
	var pods []runtime.Pod
	if err := getJSON(ctx, target+"/api/v1/pods", &pods); err != nil {
		return nil
	}
	var out []string
	for _, p := range pods {
		out = append(out, p.Namespace+"/"+p.Name)
	}
	slices.Sort(out)
	return out
}

// postToken POSTs to url with the bearer token and expects 204.
func postToken(ctx context.Context, url string, token []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+string(token))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}
