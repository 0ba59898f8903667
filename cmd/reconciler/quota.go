package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"
)

// describeQuota implements `describe quota [NAME] [-n NS]`: each
// ResourceQuota of the namespace with the usage of the node's pods, in
// kubectl's layout.
func describeQuota(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("describe quota", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ns := fs.String("n", "default", "namespace")
	fs.StringVar(ns, "namespace", "default", "namespace")
	server := fs.String("server", "http://127.0.0.1:9780", "daemon API")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	name := ""
	if len(pos) > 0 {
		name = pos[0]
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st := fetchStatus(ctx, *server)
	if st == nil {
		return fmt.Errorf("quotas are described from the daemon, which does not answer at %s", *server)
	}
	found := false
	for _, q := range st.Quotas {
		if q.Namespace != *ns || name != "" && q.Name != name {
			continue
		}
		if found {
			fmt.Fprintln(stdout)
		}
		found = true
		fmt.Fprintf(stdout, "Name:       %s\nNamespace:  %s\n", q.Name, q.Namespace)
		tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "Resource\tUsed\tHard")
		fmt.Fprintln(tw, "--------\t----\t----")
		keys := make([]string, 0, len(q.Hard))
		for k := range q.Hard {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", k, q.Used[k], q.Hard[k])
		}
		tw.Flush()
	}
	if !found {
		if name != "" {
			return fmt.Errorf("resourcequota %q not found in namespace %q", name, *ns)
		}
		return fmt.Errorf("no resource quotas in namespace %q", *ns)
	}
	return nil
}
