package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func init() {
	register("id", runID)
	register("ls", runLs)
	register("cat", runCat)
	register("env", runEnv)
	register("sleep", runSleep)
	register("write", runWrite)
}

// runID prints "uid=U gid=G groups=G1,G2" (numeric: there is no passwd file).
func runID(_ []string, stdout, stderr io.Writer) int {
	groups, err := os.Getgroups()
	if err != nil {
		fmt.Fprintln(stderr, "id:", err)
		return 1
	}
	gs := make([]string, len(groups))
	for i, g := range groups {
		gs[i] = strconv.Itoa(g)
	}
	fmt.Fprintf(stdout, "uid=%d gid=%d groups=%s\n", os.Getuid(), os.Getgid(), strings.Join(gs, ","))
	return 0
}

// runLs lists each PATH (a directory's entries, sorted) as
// "MODE UID GID SIZE NAME"; -l is accepted and implied.
func runLs(args []string, stdout, stderr io.Writer) int {
	status := 0
	for _, p := range args {
		if p == "-l" {
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil {
			fmt.Fprintln(stderr, "ls:", err)
			status = 1
			continue
		}
		if !fi.IsDir() {
			printEntry(stdout, p, fi)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			fmt.Fprintln(stderr, "ls:", err)
			status = 1
			continue
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
		for _, e := range entries {
			fi, err := os.Lstat(filepath.Join(p, e.Name()))
			if err != nil {
				fmt.Fprintln(stderr, "ls:", err)
				status = 1
				continue
			}
			printEntry(stdout, e.Name(), fi)
		}
	}
	return status
}

func printEntry(w io.Writer, name string, fi os.FileInfo) {
	uid, gid := -1, -1
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		uid, gid = int(st.Uid), int(st.Gid)
	}
	fmt.Fprintf(w, "%s %d %d %d %s\n", fi.Mode(), uid, gid, fi.Size(), name)
}

func runCat(args []string, stdout, stderr io.Writer) int {
	status := 0
	for _, p := range args {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintln(stderr, "cat:", err)
			status = 1
			continue
		}
		stdout.Write(b)
	}
	return status
}

func runEnv(_ []string, stdout, _ io.Writer) int {
	env := os.Environ()
	sort.Strings(env)
	for _, kv := range env {
		fmt.Fprintln(stdout, kv)
	}
	return 0
}

// runSleep sleeps for a Go duration, or forever for "inf".
func runSleep(args []string, _, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: toolbox sleep DURATION|inf")
		return 2
	}
	if args[0] == "inf" {
		// Until SIGTERM or SIGINT (select{} alone is a deadlock to the Go
		// runtime when nothing else can wake it).
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		return 0
	}
	d, err := time.ParseDuration(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "sleep:", err)
		return 2
	}
	time.Sleep(d)
	return 0
}

func runWrite(args []string, _, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: toolbox write FILE TEXT")
		return 2
	}
	if err := os.WriteFile(args[0], []byte(args[1]+"\n"), 0o644); err != nil {
		fmt.Fprintln(stderr, "write:", err)
		return 1
	}
	return 0
}
