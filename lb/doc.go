// Package lb is the embedded reverse proxy of the Services: one listener per
// Service address and port, an immutable set of ready endpoints per port,
// HTTP/1.1-aware and plain TCP proxying, balancing (round robin, least
// requests, ClientIP affinity) and draining of endpoints that are about to
// stop.
//
// The executor hands the full desired set of Services to Proxy.Update on
// every reconcile pass. Update swaps each port's endpoint set atomically,
// binds new listeners and closes those no longer wanted; a listener whose
// address and Service are unchanged is never rebound, so established
// connections survive. Before a pod stops, the executor removes it with
// Update and then calls Proxy.Drain, which returns once nothing is in flight
// to the pod.
//
// The HTTP path is a lean HTTP/1.1 forwarder of its own (http.go, head.go,
// body.go) with keep-alive pools of upstream connections per endpoint
// (pool.go): reading an endpoint set is a single atomic load, a proxied
// request allocates nothing in the steady state, and sockets are read and
// written with raw non-blocking system calls under the runtime's poller
// (rawio_linux.go). Ports served as h2c
// (kubernetes.io/h2c) use the standard library instead (h2c.go). Metrics are
// read from atomic counters at scrape time (metrics.go).
//
// Every goroutine belongs to the Proxy: accept loops to their listener,
// connection handlers to the Proxy's wait group. Close stops them all.
package lb
