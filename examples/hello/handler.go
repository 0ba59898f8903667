package main

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/reconciler/reconciler/examples/internal/serve"
)

// app answers hello's endpoints. Its handlers are safe for concurrent use:
// only the unready flag changes after newHandler.
type app struct {
	host    string
	version string
	readyAt time.Time        // /readyz answers 200 from this instant on
	now     func() time.Time // the clock; injected so tests need no sleeps
	unready atomic.Bool      // set by POST /unready: /readyz fails from then on
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
	mux.HandleFunc("POST /unready", a.setUnready)
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

// setUnready makes the readiness endpoint fail from now on, so tests can
// take a running pod out of its Services' rotation.
func (a *app) setUnready(w http.ResponseWriter, _ *http.Request) {
	a.unready.Store(true)
	serve.Text(w, http.StatusOK, "unready\n")
}

// readyz is the readiness endpoint: 503 until the ready delay has passed,
// and after POST /unready.
func (a *app) readyz(w http.ResponseWriter, _ *http.Request) {
	if a.now().Before(a.readyAt) || a.unready.Load() {
		serve.Text(w, http.StatusServiceUnavailable, "not ready\n")
		return
	}
	serve.Text(w, http.StatusOK, "ready\n")
}
