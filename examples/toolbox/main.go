// Command toolbox is a tiny static multi-tool for the reconciler's tests
// and examples: the example images are FROM scratch, with no shell, so the
// few commands a pod example needs (the guides' `id`, `ls -l`, `cat`, a
// writer loop, an HTTP file server) are built in here. The first argument
// names the command:
//
//	toolbox id                 print uid, gid and groups like id(1)
//	toolbox ls -l PATH...      list files with mode, owner and group
//	toolbox cat FILE...        print files
//	toolbox env                print the environment, one VAR=value a line
//	toolbox sleep DURATION     sleep (a Go duration, or "inf"), then exit 0
//	toolbox write FILE TEXT    write TEXT and a newline to FILE, exit
//
// Other files register further commands with register.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command runs with its arguments (after the command name) and returns the
// exit status.
type command func(args []string, stdout, stderr io.Writer) int

// commands maps a command name to its implementation; files add to it in
// init functions.
var commands = map[string]command{}

// register adds a command; a duplicate name is a programming error.
func register(name string, c command) {
	if _, dup := commands[name]; dup {
		panic("toolbox: command registered twice: " + name)
	}
	commands[name] = c
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to the named command.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || commands[args[0]] == nil {
		names := make([]string, 0, len(commands))
		for n := range commands {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(stderr, "usage: toolbox COMMAND [ARGS]; commands: %s\n", strings.Join(names, ", "))
		return 2
	}
	return commands[args[0]](args[1:], stdout, stderr)
}
