package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Commands for the multi-container patterns, init containers and resource
// tests.
func init() {
	register("hostname", runHostname)
	register("exit", runExit)
	register("append-loop", runAppendLoop)
	register("adapt-loop", runAdaptLoop)
	register("serve", runServe)
	register("proxy", runProxy)
	register("alloc", runAlloc)
}

func runHostname(_ []string, stdout, stderr io.Writer) int {
	h, err := os.Hostname()
	if err != nil {
		fmt.Fprintln(stderr, "hostname:", err)
		return 1
	}
	fmt.Fprintln(stdout, h)
	return 0
}

// runExit prints its arguments after the status and exits with status N:
// "toolbox exit N [TEXT...]".
func runExit(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		fmt.Fprintln(stderr, "usage: toolbox exit N [TEXT...]")
		return 2
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "exit:", err)
		return 2
	}
	if len(args) > 1 {
		fmt.Fprintln(stdout, strings.Join(args[1:], " "))
	}
	return n
}

// runAppendLoop appends "<RFC 3339 time> TEXT" to FILE every INTERVAL,
// forever: the app container of the sidecar pattern ("date >> app.txt").
func runAppendLoop(args []string, _, stderr io.Writer) int {
	if len(args) != 3 {
		fmt.Fprintln(stderr, "usage: toolbox append-loop FILE TEXT INTERVAL")
		return 2
	}
	every, err := time.ParseDuration(args[2])
	if err != nil {
		fmt.Fprintln(stderr, "append-loop:", err)
		return 2
	}
	for {
		f, err := os.OpenFile(args[0], os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintln(stderr, "append-loop:", err)
			return 1
		}
		fmt.Fprintf(f, "%s %s\n", time.Now().UTC().Format(time.RFC3339), args[1])
		f.Close()
		time.Sleep(every)
	}
}

// runAdaptLoop is the adapter pattern: every INTERVAL it reads IN (lines
// of "key value" or "key: value"), and writes OUT as "key=value" lines in
// the same order, replacing OUT atomically. A missing IN is waited for.
func runAdaptLoop(args []string, _, stderr io.Writer) int {
	if len(args) != 3 {
		fmt.Fprintln(stderr, "usage: toolbox adapt-loop IN OUT INTERVAL")
		return 2
	}
	every, err := time.ParseDuration(args[2])
	if err != nil {
		fmt.Fprintln(stderr, "adapt-loop:", err)
		return 2
	}
	for {
		if err := adapt(args[0], args[1]); err != nil && !os.IsNotExist(err) {
			fmt.Fprintln(stderr, "adapt-loop:", err)
		}
		time.Sleep(every)
	}
}

func adapt(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok || k == "" {
			continue
		}
		fmt.Fprintf(&b, "%s=%s\n", strings.TrimSuffix(k, ":"), strings.TrimSpace(v))
	}
	if err := sc.Err(); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// runServe serves the files of DIR over HTTP on ADDR (":80"): the sidecar
// of the sidecar pattern, standing in for nginx.
func runServe(args []string, _, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: toolbox serve DIR ADDR")
		return 2
	}
	srv := &http.Server{Addr: args[1], Handler: http.FileServer(http.Dir(args[0])), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintln(stderr, "serve:", srv.ListenAndServe())
	return 1
}

// runProxy forwards every TCP connection accepted on LISTEN to TARGET: the
// ambassador of the ambassador pattern (the app talks to localhost, the
// ambassador knows where the real service is).
func runProxy(args []string, _, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: toolbox proxy LISTEN TARGET")
		return 2
	}
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		fmt.Fprintln(stderr, "proxy:", err)
		return 1
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(stderr, "proxy:", err)
			return 1
		}
		go forward(c, args[1], stderr)
	}
}

func forward(c net.Conn, target string, stderr io.Writer) {
	defer c.Close()
	u, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		fmt.Fprintln(stderr, "proxy:", err)
		return
	}
	defer u.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(u, c); u.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, u); done <- struct{}{} }()
	<-done
	<-done
}

// runAlloc allocates MiB mebibytes, touching every page so they count
// against the memory cgroup, prints "allocated N MiB" after each 16 MiB,
// then sleeps forever: "toolbox alloc MIB".
func runAlloc(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: toolbox alloc MIB")
		return 2
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 0 {
		fmt.Fprintln(stderr, "alloc: bad size", args[0])
		return 2
	}
	var keep [][]byte
	for i := 1; i <= n; i++ {
		b, err := syscall.Mmap(-1, 0, 1<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			fmt.Fprintln(stderr, "alloc:", err)
			return 1
		}
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		keep = append(keep, b)
		if i%16 == 0 || i == n {
			fmt.Fprintf(stdout, "allocated %d MiB\n", i)
		}
	}
	select {}
}
