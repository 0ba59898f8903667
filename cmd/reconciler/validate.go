package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/reconciler/reconciler/config"
)

// cmdValidate loads a directory and prints every error and warning; exit 1
// when any error was found.
func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: reconciler validate DIR")
		return 2
	}
	d, err := config.LoadDir(fs.Arg(0))
	if err != nil {
		for _, fe := range config.Errors(err) {
			fmt.Fprintln(stderr, "error:", fe)
		}
		if len(config.Errors(err)) == 0 {
			fmt.Fprintln(stderr, "error:", err)
		}
		return 1
	}
	for _, w := range d.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	for _, wl := range d.Workloads {
		for _, u := range wl.Unhonoured {
			fmt.Fprintf(stderr, "skipped: %s: %s\n", wl.Key, u)
		}
	}
	for _, j := range d.Jobs {
		for _, u := range j.Unhonoured {
			fmt.Fprintf(stderr, "skipped: %s: %s\n", j.Key, u)
		}
	}
	for _, c := range d.CronJobs {
		for _, u := range c.Unhonoured {
			fmt.Fprintf(stderr, "skipped: %s: %s\n", c.Key, u)
		}
	}
	fmt.Fprintf(stdout, "%d objects valid (revision %s)\n", len(d.Objects), d.Revision)
	return 0
}
