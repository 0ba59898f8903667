package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// Batch modes, for Job examples and tests; each prints what it does and
// exits instead of serving:
//
//	hello dice          rolls a die: exit 0 on a six (probability 1/6), else 1,
//	                    as the dice Job of the Kubernetes guides
//	hello sleep D [N]   sleeps for the Go duration D, then exits with status N (default 0)
func batchMode(args []string, roll func() int, sleep func(time.Duration), out io.Writer) (code int, ok bool) {
	switch {
	case len(args) == 1 && args[0] == "dice":
		n := roll()
		if n == 6 {
			fmt.Fprintf(out, "hello: rolled a %d: success\n", n)
			return 0, true
		}
		fmt.Fprintf(out, "hello: rolled a %d: failure\n", n)
		return 1, true
	case (len(args) == 2 || len(args) == 3) && args[0] == "sleep":
		d, err := time.ParseDuration(args[1])
		if err != nil || d < 0 {
			return 0, false
		}
		code := 0
		if len(args) == 3 {
			if code, err = strconv.Atoi(args[2]); err != nil || code < 0 || code > 255 {
				return 0, false
			}
		}
		fmt.Fprintf(out, "hello: sleeping %v, then exiting with status %d\n", d, code)
		sleep(d)
		return code, true
	}
	return 0, false
}

// rollDie returns a fair roll of a six-sided die.
func rollDie() int { return rand.IntN(6) + 1 }
