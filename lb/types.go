package lb

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Protocol says how a Service port is proxied.
type Protocol int

const (
	// ProtocolTCP proxies a plain byte stream: one upstream connection per
	// client connection, both directions copied with half-close.
	ProtocolTCP Protocol = iota
	// ProtocolHTTP proxies HTTP/1.x: every request is balanced on its own
	// over keep-alive connections to the endpoints.
	ProtocolHTTP
	// ProtocolH2C is HTTP-aware like ProtocolHTTP, but the endpoints are
	// spoken to in HTTP/2 over cleartext (appProtocol kubernetes.io/h2c).
	// Clients may speak HTTP/1.1 or h2c with prior knowledge.
	ProtocolH2C
)

// String returns "TCP", "HTTP" or "H2C".
func (p Protocol) String() string {
	switch p {
	case ProtocolHTTP:
		return "HTTP"
	case ProtocolH2C:
		return "H2C"
	}
	return "TCP"
}

// Policy is how an endpoint is chosen for a request or a connection.
type Policy int

const (
	// PolicyRoundRobin takes the endpoints in turn. It is the default.
	PolicyRoundRobin Policy = iota
	// PolicyLeastRequests takes the endpoint with the fewest requests in
	// flight (ties in turn). TCP ports fall back to round robin.
	PolicyLeastRequests
)

// Endpoint is one ready pod behind a Service port.
type Endpoint struct {
	// Key is the stable identity of the pod (the engine's pod ID); Drain
	// selects endpoints by it.
	Key string
	// Addr is where the proxy dials, "127.0.0.1:41234".
	Addr string
}

// Port is one port of a Service with its ready endpoints.
type Port struct {
	// Name labels the port's metrics (the port number when empty).
	Name string
	// Port is listened on at every address of the Service.
	Port int32
	// NodePort, when not 0, is also listened on at the Service's
	// NodeAddress.
	NodePort int32
	Protocol Protocol
	// Endpoints are the ready endpoints, in any order.
	Endpoints []Endpoint
}

// Service is one Service as the proxy serves it.
type Service struct {
	Namespace, Name string
	// Addresses are where every port listens: the cluster IP, the host
	// loopback.
	Addresses []netip.Addr
	// NodeAddress is where node ports listen; the zero value means all
	// interfaces.
	NodeAddress netip.Addr
	Policy      Policy
	// AffinityTimeout, when positive, enables sessionAffinity ClientIP: a
	// client address keeps its endpoint while that endpoint stays ready and
	// the client was seen within the timeout.
	AffinityTimeout time.Duration
	Ports           []Port
}

// Options configure a Proxy.
type Options struct {
	// Logger receives connection-level problems at debug level and
	// listener problems at warn level (default slog.Default()).
	Logger *slog.Logger
	// Registerer, when not nil, gets the reconciler_proxy_* metrics.
	Registerer prometheus.Registerer
	// CloseGrace bounds how long Close waits for requests in flight before
	// it closes every connection (default 5s).
	CloseGrace time.Duration
}
