package main

import (
	"net/http"
	"time"

	"github.com/reconciler/reconciler/examples/internal/serve"
)

// app answers hello's endpoints. It is immutable after newHandler, so its
// handlers are safe for concurrent use.
type app struct {
	host    string
	version string
	readyAt time.Time        // /readyz answers 200 from this instant on
	now     func() time.Time // the clock; injected so tests need no sleeps
}

// newHandler returns hello's routes for cfg and host. The ready delay is
// counted from now() at the time of the call. Other paths get 404 and other
// methods 405 (HEAD is served wherever GET is).
func newHandler(cfg config, host string, now func() time.Time) http.Handler {
	a := &app{host: host, version: cfg.version, readyAt: now().Add(cfg.readyDelay), now: now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.hello)
	mux.HandleFunc("GET /version", a.versionz)
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	return mux
}

// hello greets with the host name and version.
func (a *app) hello(w http.ResponseWriter, _ *http.Request) {
	serve.Text(w, http.StatusOK, "hello from "+a.host+" version "+a.version+"\n")
}

// versionz reports the version alone.
func (a *app) versionz(w http.ResponseWriter, _ *http.Request) {
	serve.Text(w, http.StatusOK, a.version+"\n")
}

// healthz is the liveness endpoint: the process answers, so it is alive.
func healthz(w http.ResponseWriter, _ *http.Request) {
	serve.Text(w, http.StatusOK, "ok\n")
}

// readyz is the readiness endpoint: 503 until the ready delay has passed.
func (a *app) readyz(w http.ResponseWriter, _ *http.Request) {
	if a.now().Before(a.readyAt) {
		serve.Text(w, http.StatusServiceUnavailable, "not ready\n")
		return
	}
	serve.Text(w, http.StatusOK, "ready\n")
}
