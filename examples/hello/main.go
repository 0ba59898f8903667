// Command hello is the reconciler's example web app. It answers on the port
// in PORT (default 8080), on all interfaces:
//
//	GET /         "hello from <hostname> version <APP_VERSION>"
//	GET /version  the version alone
//	GET /healthz  liveness: always 200 "ok"
//	GET /readyz   readiness: 503 for the first READY_DELAY after start
//	              (a Go duration such as "2s"; default 0), then 200 "ready"
//	POST /unready makes /readyz answer 503 from then on
//
// The version comes from APP_VERSION, which the image sets from its VERSION
// build argument, so two image tags can be told apart from outside. On
// SIGTERM or SIGINT it stops accepting requests and drains in-flight ones
// for up to 10 s.
//
// `hello get URL` fetches URL once and prints the body (exit 1 unless 2xx).
//
// `hello exit N` prints a line and exits at once with status N instead of
// serving: the tests use it to check restart policies and command/args.
//
// `hello dice` rolls a die and exits 0 on a six, 1 otherwise; `hello sleep
// D [N]` sleeps, then exits with status N: batch modes for Jobs (dice.go).
package main

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/reconciler/reconciler/examples/internal/serve"
)

func main() {
	if url, ok := getMode(os.Args[1:]); ok {
		if err := fetch(url, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "hello:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if code, ok := exitMode(os.Args[1:]); ok {
		fmt.Printf("hello: exiting with status %d as asked\n", code)
		os.Exit(code)
	}
	if code, ok := batchMode(os.Args[1:], rollDie, time.Sleep, os.Stdout); ok {
		os.Exit(code)
	}
	os.Exit(serve.Main("hello", "8080", handlerFromEnv))
}

// exitMode recognises the arguments "exit N".
func exitMode(args []string) (int, bool) {
	if len(args) != 2 || args[0] != "exit" {
		return 0, false
	}
	code, err := strconv.Atoi(args[1])
	if err != nil || code < 0 || code > 255 {
		return 0, false
	}
	return code, true
}

// handlerFromEnv reads the app's settings through getenv and returns its
// handler, with the ready delay counted from now.
func handlerFromEnv(getenv func(string) string) (http.Handler, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return nil, err
	}
	return newHandler(cfg, hostname(), time.Now), nil
}

// config holds the settings hello reads from its environment.
type config struct {
	version    string        // APP_VERSION, "unknown" when unset
	readyDelay time.Duration // READY_DELAY, 0 when unset
}

// loadConfig reads APP_VERSION and READY_DELAY through getenv. It fails on
// a READY_DELAY that is not a Go duration or is negative.
func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{version: getenv("APP_VERSION")}
	if cfg.version == "" {
		cfg.version = "unknown"
	}
	if s := getenv("READY_DELAY"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return config{}, fmt.Errorf("READY_DELAY: %w", err)
		}
		if d < 0 {
			return config{}, fmt.Errorf("READY_DELAY: %q is negative", s)
		}
		cfg.readyDelay = d
	}
	return cfg, nil
}

// hostname returns the kernel's host name (the container's name or ID under
// Podman), or "unknown" if it cannot be read.
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown"
	}
	return h
}
