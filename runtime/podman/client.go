package podman

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/containers/podman/v4/pkg/bindings"
	"github.com/containers/podman/v4/pkg/bindings/system"
	"github.com/containers/podman/v4/pkg/errorhandling"

	"github.com/reconciler/reconciler/runtime"
)

// DefaultURI is where `podman system service` listens for root.
const DefaultURI = "unix:///run/podman/podman.sock"

var _ runtime.Runtime = (*Client)(nil)

// Client talks to one Podman API service. It connects lazily, so a daemon
// started while the engine is down keeps retrying instead of failing.
type Client struct {
	uri string

	mu   sync.Mutex
	conn context.Context // carries the bindings connection; nil until connected

	// oom remembers, per exited container ID, whether the kernel OOM-killed
	// it (an exited container never changes; see markOOM).
	oomMu sync.Mutex
	oom   map[string]bool
	// limited maps created memory-limited containers to their pod until
	// they start (oom.go).
	limited map[string]string
}

// New returns a client for the API service at uri (e.g. DefaultURI). It does
// not connect yet.
func New(uri string) *Client {
	if uri == "" {
		uri = DefaultURI
	}
	return &Client{uri: uri}
}

// URI returns the service address the client talks to.
func (c *Client) URI() string { return c.uri }

// connected returns a context that carries the bindings connection and the
// caller's deadline and cancellation.
func (c *Client) connected(ctx context.Context) (context.Context, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		// The bindings keep the connection in the context they return; it
		// must outlive this call, so it is made from Background.
		conn, err := bindings.NewConnection(context.Background(), c.uri)
		if err != nil {
			return nil, fmt.Errorf("podman: connect %s: %w", c.uri, err)
		}
		c.conn = conn
	}
	return connCtx{Context: ctx, conn: c.conn}, nil
}

// connCtx lets each call use the caller's cancellation with the long-lived
// connection's values.
type connCtx struct {
	context.Context
	conn context.Context
}

func (c connCtx) Value(key any) any {
	if v := c.conn.Value(key); v != nil {
		return v
	}
	return c.Context.Value(key)
}

// Ping checks that the service answers.
func (c *Client) Ping(ctx context.Context) error {
	cc, err := c.connected(ctx)
	if err != nil {
		return err
	}
	if _, err := system.Version(cc, nil); err != nil {
		return fmt.Errorf("podman: ping %s: %w", c.uri, err)
	}
	return nil
}

// isNotFound reports whether the API answered 404.
func isNotFound(err error) bool {
	var em *errorhandling.ErrorModel
	if errors.As(err, &em) {
		return em.Code() == 404
	}
	return false
}

// wrap adds context and maps 404s to runtime.ErrNotFound.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf(format, args...)
	if isNotFound(err) {
		return fmt.Errorf("podman: %s: %w: %w", msg, runtime.ErrNotFound, err)
	}
	return fmt.Errorf("podman: %s: %w", msg, err)
}

// errStreamEnded reports an event stream that the service closed.
var errStreamEnded = errors.New("event stream ended")
