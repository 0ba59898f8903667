package serve

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// blockingHandler signals on started when a request arrives and answers
// only after release is closed.
func blockingHandler(started chan<- struct{}, release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		started <- struct{}{}
		<-release
		Text(w, http.StatusOK, "done")
	})
}

// startServe runs Serve on a loopback listener and returns the base URL and
// a channel that receives Serve's result.
func startServe(t *testing.T, ctx context.Context, h http.Handler, timeout time.Duration) (string, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, NewServer(h, slog.New(slog.DiscardHandler)), ln, timeout) }()
	return "http://" + ln.Addr().String(), done
}

// get fetches url and sends the body (or the error) on a channel.
func get(url string) <-chan string {
	out := make(chan string, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			out <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		out <- string(b)
	}()
	return out
}

func TestServeDrainsInFlightRequests(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	started, release := make(chan struct{}), make(chan struct{})
	url, done := startServe(t, ctx, blockingHandler(started, release), time.Minute)

	body := get(url)
	<-started
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v while a request was in flight", err)
	default:
	}
	close(release)
	if got := <-body; got != "done" {
		t.Errorf("in-flight request got %q, want %q", got, "done")
	}
	if err := <-done; err != nil {
		t.Errorf("Serve = %v, want nil after a clean shutdown", err)
	}
}

func TestServeShutdownTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	url, done := startServe(t, ctx, blockingHandler(started, release), time.Millisecond)

	body := get(url)
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Serve = %v, want an error wrapping context.DeadlineExceeded", err)
	}
	if got := <-body; got == "done" {
		t.Errorf("request outliving the timeout completed; want its connection closed")
	}
}

func TestServeReportsListenerFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	srv := NewServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	err = Serve(t.Context(), srv, ln, time.Second)
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve on a closed listener = %v, want the accept error", err)
	}
}

func TestNewServerSetsTimeouts(t *testing.T) {
	srv := NewServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout,
		"ReadTimeout":       srv.ReadTimeout,
		"WriteTimeout":      srv.WriteTimeout,
		"IdleTimeout":       srv.IdleTimeout,
	} {
		if d <= 0 {
			t.Errorf("%s = %v, want > 0", name, d)
		}
	}
	if srv.MaxHeaderBytes <= 0 {
		t.Errorf("MaxHeaderBytes = %d, want > 0", srv.MaxHeaderBytes)
	}
}

func TestAddr(t *testing.T) {
	tests := []struct {
		name, port, def, want string
	}{
		{"default when unset", "", "8080", ":8080"},
		{"PORT wins", "9000", "8080", ":9000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "PORT" {
					return tt.port
				}
				return ""
			}
			if got := Addr(getenv, tt.def); got != tt.want {
				t.Errorf("Addr = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	rec := httptest.NewRecorder()
	Text(rec, http.StatusTeapot, "hi\n")
	if rec.Code != http.StatusTeapot || rec.Body.String() != "hi\n" {
		t.Errorf("Text wrote %d %q, want 418 %q", rec.Code, rec.Body.String(), "hi\n")
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
}
