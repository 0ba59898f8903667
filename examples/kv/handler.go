package main

import (
	"errors"
	"io"
	"net/http"

	"github.com/reconciler/reconciler/examples/internal/serve"
)

// maxValueBytes is the largest value PUT accepts (1 MiB).
const maxValueBytes = 1 << 20

// api answers kv's endpoints over one store.
type api struct{ store *store }

// newHandler returns kv's routes over s. A key is one non-empty path
// segment (percent-encoding allowed); other paths get 404 and other methods
// 405.
func newHandler(s *store) http.Handler {
	a := api{store: s}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /kv/{key}", a.put)
	mux.HandleFunc("GET /kv/{key}", a.get)
	mux.HandleFunc("DELETE /kv/{key}", a.delete)
	mux.HandleFunc("GET /healthz", healthz)
	return mux
}

// healthz is the liveness endpoint: the process answers, so it is alive.
func healthz(w http.ResponseWriter, _ *http.Request) {
	serve.Text(w, http.StatusOK, "ok\n")
}

// put stores the body under the key: 201 if new, 204 if replaced, 413
// if the body exceeds maxValueBytes, 400 if it cannot be read.
func (a api) put(w http.ResponseWriter, r *http.Request) {
	value, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxValueBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		serve.Text(w, http.StatusRequestEntityTooLarge, "value larger than 1 MiB\n")
		return
	case err != nil:
		serve.Text(w, http.StatusBadRequest, "cannot read value\n")
		return
	}
	if a.store.put(r.PathValue("key"), value) {
		w.WriteHeader(http.StatusCreated)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// get returns the value under the key as application/octet-stream, or 404.
func (a api) get(w http.ResponseWriter, r *http.Request) {
	value, ok := a.store.get(r.PathValue("key"))
	if !ok {
		serve.Text(w, http.StatusNotFound, "no such key\n")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(value)
}

// delete removes the key: 204, or 404 if it was absent.
func (a api) delete(w http.ResponseWriter, r *http.Request) {
	if !a.store.delete(r.PathValue("key")) {
		serve.Text(w, http.StatusNotFound, "no such key\n")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
