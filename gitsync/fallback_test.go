package gitsync

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

// A server that fails shallow requests is fetched in full, at once, and
// later fetches stay full.
func TestShallowRefusedFallsBackToFull(t *testing.T) {
	t.Parallel()
	s, first := basicSource(t)
	srv := serveHTTP(t, s, "")
	inner := srv.handler
	srv.handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost {
			body, _ := io.ReadAll(req.Body)
			if bytes.Contains(body, []byte("deepen")) {
				http.Error(w, "shallow fetches are not supported", http.StatusInternalServerError)
				return
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		inner.ServeHTTP(w, req)
	})
	srv.stop()
	srv.start()
	r, logs := newTestRepo(t, Options{URL: srv.url(s)})
	if d := mustLoad(t, r); d.Revision != first.String() {
		t.Fatalf("Revision = %s", d.Revision)
	}
	if isShallow(r.repo) || !r.full || logs.count("shallow fetch failed") != 1 {
		t.Errorf("shallow=%v full=%v; log:\n%s", isShallow(r.repo), r.full, logs)
	}
}

// A clone locked by another process is waited for, up to the timeout.
func TestCloneLockedByAnotherHolder(t *testing.T) {
	t.Parallel()
	s, first := basicSource(t)
	r, _ := newTestRepo(t, Options{URL: s.dir, Timeout: 300 * time.Millisecond})
	unlock, err := lockClone(context.Background(), r.dir)
	if err != nil {
		t.Fatal(err)
	}
	err = loadErr(t, r, ErrUnreachable)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the lock wait to end at the timeout", err)
	}
	unlock()
	r.Trigger()
	if d := mustLoad(t, r); d.Revision != first.String() {
		t.Errorf("Revision = %s", d.Revision)
	}
}

// A Load cancelled by its caller returns at once, without back-off.
func TestLoadCancelled(t *testing.T) {
	t.Parallel()
	s, _ := basicSource(t)
	r, logs := newTestRepo(t, Options{URL: s.dir})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.Load(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if st := r.Status(); !st.BackoffUntil.IsZero() || logs.count("fetch failed") != 0 {
		t.Errorf("a cancelled Load backed off or logged: %+v", st)
	}
	mustLoad(t, r)
}
