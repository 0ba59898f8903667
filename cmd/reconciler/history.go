package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/runtime/podman"
)

// rolloutRevisions implements `rollout history` and `rollout undo`, which
// read and pin the revisions kept in the engine.
func rolloutRevisions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	verb := args[0]
	fs := flag.NewFlagSet("rollout "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	ns := fs.String("n", "default", "namespace")
	node := fs.String("node-name", hostname(), "the node whose daemon runs the Deployment")
	uri := fs.String("podman", envOr("PODMAN_URI", podman.DefaultURI), "Podman API service address")
	to := fs.Int64("to-revision", 0, "undo: the revision to go back to (default: the previous one)")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	name, err := deploymentName(args[1])
	if err != nil {
		return err
	}
	store := podman.New(*uri)
	revs, err := deploymentRevisions(ctx, store, *node, *ns, name)
	if err != nil {
		return err
	}
	if verb == "history" {
		printHistory(stdout, name, revs)
		return nil
	}
	return undo(ctx, store, stdout, name, revs, *to)
}

// deploymentRevisions lists a Deployment's revisions, oldest first.
func deploymentRevisions(ctx context.Context, store runtime.RevisionStore, node, ns, name string) ([]runtime.Revision, error) {
	all, err := store.Revisions(ctx, node)
	if err != nil {
		return nil, err
	}
	var out []runtime.Revision
	for _, r := range all {
		if r.Namespace == ns && r.Deployment == name {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("deployment %q in namespace %q has no revisions on node %q", name, ns, node)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Number != out[j].Number {
			return out[i].Number < out[j].Number
		}
		return out[i].Created.Before(out[j].Created)
	})
	return out, nil
}

func printHistory(w io.Writer, name string, revs []runtime.Revision) {
	fmt.Fprintf(w, "deployment/%s\n", name)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintln(tw, "REVISION\tSOURCE\tIMAGES\tSTATE")
	newest := revs[len(revs)-1]
	for _, r := range revs {
		var state []string
		if r.Number == newest.Number {
			state = append(state, "desired")
		}
		if r.Complete {
			state = append(state, "was available")
		}
		if r.PinFor != "" {
			state = append(state, "running ("+r.PinReason+")")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.Number, r.Source, images(r.Template), strings.Join(state, ", "))
	}
}

// images lists the container images of a stored template.
func images(tmpl []byte) string {
	var t corev1.PodTemplateSpec
	if json.Unmarshal(tmpl, &t) != nil {
		return "?"
	}
	var out []string
	for _, c := range t.Spec.Containers {
		out = append(out, c.Image)
	}
	return strings.Join(out, ",")
}

// undo pins the chosen revision to run instead of the desired template.
func undo(ctx context.Context, store runtime.RevisionStore, w io.Writer, name string, revs []runtime.Revision, to int64) error {
	newest := revs[len(revs)-1]
	var target *runtime.Revision
	for i := len(revs) - 1; i >= 0; i-- {
		if (to == 0 && revs[i].Hash != newest.Hash) || (to != 0 && revs[i].Number == to) {
			target = &revs[i]
			break
		}
	}
	switch {
	case target == nil && to != 0:
		return fmt.Errorf("revision %d of deployment %q not found", to, name)
	case target == nil:
		return errors.New("no previous revision to go back to")
	case target.Hash == newest.Hash:
		return fmt.Errorf("revision %d is already the desired one", to)
	}
	for _, r := range revs { // one pin per desired template
		if r.PinFor == newest.Hash && r.Number != target.Number {
			r.PinFor, r.PinReason = "", ""
			if err := store.PutRevision(ctx, r); err != nil {
				return err
			}
		}
	}
	target.PinFor, target.PinReason = newest.Hash, "undo"
	if err := store.PutRevision(ctx, *target); err != nil {
		return err
	}
	fmt.Fprintf(w, "deployment/%s rolled back to revision %d\n", name, target.Number)
	fmt.Fprintln(w, "note: this lasts until the next commit that changes the Deployment's template; revert in git to make it permanent")
	return nil
}
