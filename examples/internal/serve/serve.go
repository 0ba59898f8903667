// Package serve runs the example apps' HTTP servers. It builds an
// http.Server with bounded timeouts, serves until its context ends (SIGTERM
// or SIGINT in the apps), and then shuts down gracefully within a deadline,
// so that in-flight requests finish while no new ones are accepted. Both
// example apps use it; their main functions only build a handler.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// ShutdownTimeout bounds how long a graceful shutdown waits for in-flight
// requests after the stop signal before connections are closed.
const ShutdownTimeout = 10 * time.Second

// Server timeouts. They keep a slow or idle client from holding a
// connection (and a goroutine) open indefinitely.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
)

// NewServer returns an http.Server for h with read, write and idle timeouts
// and a header size limit set; its internal errors go to log at warn level.
// Addr is left empty: the caller supplies the listener (see Serve).
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Addr returns the listen address ":<port>", on all interfaces, taking the
// port from the PORT value that getenv returns, or def when PORT is empty.
func Addr(getenv func(string) string, def string) string {
	port := getenv("PORT")
	if port == "" {
		port = def
	}
	return net.JoinHostPort("", port)
}

// Serve serves srv on ln until ctx is done, then shuts srv down, waiting at
// most timeout for in-flight requests. It returns nil after a clean
// shutdown, the serving error if the server failed first, or an error
// wrapping context.DeadlineExceeded if requests outlived timeout (their
// connections are then closed). Serve closes ln and returns only after the
// serving goroutine has ended.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, timeout time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("shutdown %s: %w", ln.Addr(), err), srv.Close())
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("serve %s: %w", ln.Addr(), serr))
	}
	return err
}

// Run listens on addr and serves h there until ctx is done, then shuts down
// gracefully within ShutdownTimeout (see Serve).
func Run(ctx context.Context, log *slog.Logger, addr string, h http.Handler) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	log.Info("listening", "addr", ln.Addr().String())
	err = Serve(ctx, NewServer(h, log), ln, ShutdownTimeout)
	log.Info("stopped", "err", err)
	return err
}

// Main is the body of an example app's main function. It builds the handler
// with newHandler from the process environment, serves it on PORT (default
// defPort) until SIGTERM or SIGINT, and returns the process exit code: 0
// after a clean shutdown, 1 on any error. Logs go to stderr, tagged app.
func Main(app, defPort string, newHandler func(getenv func(string) string) (http.Handler, error)) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("app", app)
	h, err := newHandler(os.Getenv)
	if err != nil {
		log.Error("invalid configuration", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := Run(ctx, log, Addr(os.Getenv, defPort), h); err != nil {
		log.Error("server failed", "err", err)
		return 1
	}
	return 0
}

// Text writes s as a plain-text response with status code. It is the one
// way the example apps answer, so every response has the same content type.
func Text(w http.ResponseWriter, code int, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(s))
}
