// Command kv is the reconciler's example backend: an in-memory key-value
// store over HTTP, listening on the port in PORT (default 8081) on all
// interfaces:
//
//	PUT    /kv/{key}  store the request body (at most 1 MiB) under key:
//	                  201 when the key is new, 204 when it was replaced,
//	                  413 when the body is too large
//	GET    /kv/{key}  the stored value (200), or 404 if absent
//	DELETE /kv/{key}  remove key: 204, or 404 if absent
//	GET    /healthz   liveness: always 200 "ok"
//
// Data lives only in the process, so it is lost when the container is
// replaced; that makes a restart visible from outside. On SIGTERM or SIGINT
// it drains in-flight requests for up to 10 s.
package main

import (
	"net/http"
	"os"

	"github.com/reconciler/reconciler/examples/internal/serve"
)

func main() {
	os.Exit(serve.Main("kv", "8081", handlerFromEnv))
}

// handlerFromEnv returns the handler over a new, empty store; kv reads no
// settings besides PORT.
func handlerFromEnv(func(string) string) (http.Handler, error) {
	return newHandler(newStore()), nil
}
