// Package api serves the daemon's HTTP API: health of the daemon itself and
// read-only JSON views of the reconcile loop's status and events. It only
// reads; later additions that change state require a bearer token.
package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/fleet"
	"github.com/reconciler/reconciler/runtime"
)

// Loop is what the API reads from the reconcile loop.
type Loop interface {
	Status() executor.Status
	Events() []executor.Event
	Objects() []config.Object
	Pods() []runtime.Pod
}

// Options name what the API serves besides the loop's views; nil fields
// leave their routes out.
type Options struct {
	// Token guards every route that changes state: requests must carry
	// "Authorization: Bearer <Token>". Without a token those routes answer
	// 403.
	Token []byte
	// Pause pauses (true) or resumes applying, for POST
	// /api/v1/sync/pause and /api/v1/sync/resume.
	Pause func(paused bool)
	// Source returns the source's status (the Git repository's), or nil.
	Source func() any
	// Webhook receives push notifications at POST /hooks/git.
	Webhook http.Handler
	// Metrics serves GET /metrics.
	Metrics http.Handler
	// CreateJob runs a CronJob's job template now as a Job, for POST
	// /api/v1/jobs (bearer token); see jobs.go.
	CreateJob func(ctx context.Context, namespace, name, cronJob string) error
	// Nodes returns the fleet's members (this node alone in a fleet of
	// one), for GET /api/v1/nodes.
	Nodes func() []fleet.Member
	// Peer returns this node's report to the other nodes of its fleet
	// (its ready endpoints and available pods), for GET /api/v1/peer.
	Peer func() executor.PeerReport
	// Cordon marks this node unschedulable (true) or schedulable again,
	// for POST /api/v1/cordon and /api/v1/uncordon (bearer token).
	Cordon func(cordoned bool) error
}

// Handler returns the API's routes:
//
//	GET  /healthz          the daemon runs (always 200)
//	GET  /readyz           200 once the engine answers and a desired state is loaded
//	GET  /api/v1/status    the loop's Status as JSON
//	GET  /api/v1/events    recent events as JSON, oldest first
//	GET  /api/v1/objects   the desired objects in force (Secret values redacted)
//	GET  /api/v1/pods      the last observation's pods, with readiness
//	GET  /api/v1/rollouts  the workloads' rollout status
//	GET  /api/v1/source    the source's status as JSON (with Options.Source)
//	GET  /api/v1/nodes     the fleet's members as NodeViews (with Options.Nodes)
//	GET  /api/v1/peer      this node's report to its fleet (with Options.Peer)
//	POST /api/v1/cordon, /api/v1/uncordon  take no new pods, or take them again (bearer token, with Options.Cordon)
//	POST /hooks/git        the git webhook (with Options.Webhook)
//	GET  /metrics          Prometheus metrics (with Options.Metrics)
//	POST /api/v1/sync/pause, /api/v1/sync/resume  stop or restart applying (bearer token)
//	GET  /api/v1/jobs, /api/v1/cronjobs, POST /api/v1/jobs  see jobRoutes
func Handler(loop Loop, opt Options) http.Handler {
	mux := http.NewServeMux()
	jobRoutes(mux, loop, opt)
	nodeRoutes(mux, opt)
	if opt.Source != nil {
		mux.HandleFunc("GET /api/v1/source", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, opt.Source())
		})
	}
	if opt.Webhook != nil {
		mux.Handle("/hooks/git", opt.Webhook)
	}
	if opt.Metrics != nil {
		mux.Handle("GET /metrics", opt.Metrics)
	}
	if opt.Pause != nil {
		mux.Handle("POST /api/v1/sync/pause", authorized(opt.Token, func(w http.ResponseWriter) { opt.Pause(true); w.WriteHeader(http.StatusNoContent) }))
		mux.Handle("POST /api/v1/sync/resume", authorized(opt.Token, func(w http.ResponseWriter) { opt.Pause(false); w.WriteHeader(http.StatusNoContent) }))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		s := loop.Status()
		if !s.EngineUp || s.Revision == "" {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, loop.Status())
	})
	mux.HandleFunc("GET /api/v1/events", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, loop.Events())
	})
	mux.HandleFunc("GET /api/v1/objects", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, objectViews(loop.Objects()))
	})
	mux.HandleFunc("GET /api/v1/pods", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, loop.Pods())
	})
	mux.HandleFunc("GET /api/v1/rollouts", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, loop.Status().Workloads)
	})
	return mux
}

// authorized runs do only for requests bearing the token, compared in
// constant time; without a configured token it refuses every request.
func authorized(token []byte, do func(http.ResponseWriter)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(token) == 0 {
			http.Error(w, "this daemon has no --token-file: changes through the API are off", http.StatusForbidden)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="reconciler"`)
			http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
			return
		}
		do(w)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
