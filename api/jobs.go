package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/reconciler/reconciler/executor"
)

// CreateJobRequest is the body of POST /api/v1/jobs: run a CronJob's job
// template now as the Job Namespace/Name, as `kubectl create job NAME
// --from=cronjob/CJ` does.
type CreateJobRequest struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// From is "cronjob/NAME".
	From string `json:"from"`
}

// jobRoutes adds the Job and CronJob routes:
//
//	GET  /api/v1/jobs       the Jobs' status (of the source and of CronJobs)
//	GET  /api/v1/cronjobs   the CronJobs' status
//	POST /api/v1/jobs       a manual run of a CronJob (bearer token; with Options.CreateJob)
func jobRoutes(mux *http.ServeMux, loop Loop, opt Options) {
	mux.HandleFunc("GET /api/v1/jobs", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, loop.Status().Jobs)
	})
	mux.HandleFunc("GET /api/v1/cronjobs", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, loop.Status().CronJobs)
	})
	if opt.CreateJob == nil {
		return
	}
	mux.Handle("POST /api/v1/jobs", authorizedRequest(opt.Token, func(w http.ResponseWriter, r *http.Request) {
		createJob(w, r, opt.CreateJob)
	}))
}

// createJob decodes a CreateJobRequest and runs create: 201 with the
// request on success, 400 for a bad request or name, 404 for an unknown
// CronJob, 409 for a name in use.
func createJob(w http.ResponseWriter, r *http.Request, create func(ctx context.Context, ns, name, cronJob string) error) {
	var req CreateJobRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	cj, ok := strings.CutPrefix(req.From, "cronjob/")
	if !ok || cj == "" || req.Name == "" {
		http.Error(w, fmt.Sprintf("bad request: want a name and from \"cronjob/NAME\", got name %q from %q", req.Name, req.From), http.StatusBadRequest)
		return
	}
	if req.Namespace == "" {
		req.Namespace = "default"
	}
	err := create(r.Context(), req.Namespace, req.Name, cj)
	switch {
	case errors.Is(err, executor.ErrInvalidJob):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case errors.Is(err, executor.ErrNoCronJob):
		http.Error(w, err.Error(), http.StatusNotFound)
	case errors.Is(err, executor.ErrJobExists):
		http.Error(w, err.Error(), http.StatusConflict)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(req)
	}
}

// authorizedRequest is authorized for handlers that read the request.
func authorizedRequest(token []byte, do func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authorized(token, func(w http.ResponseWriter) { do(w, r) }).ServeHTTP(w, r)
	})
}
