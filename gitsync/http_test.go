package gitsync

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/reconciler/reconciler/internal/backoff"
)

func TestHTTPTransport(t *testing.T) {
	t.Parallel()
	s, first := basicSource(t)
	srv := serveHTTP(t, s, "")
	r, _ := newTestRepo(t, Options{URL: srv.url(s), Branch: "main"})
	d := mustLoad(t, r)
	if d.Revision != first.String() || !slices.Equal(keys(d), wantBasic) {
		t.Fatalf("got %s %v", d.Revision, keys(d))
	}
	if !isShallow(r.repo) {
		t.Errorf("the first http fetch was not shallow")
	}
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:2")})
	second := s.commit("second")
	if d := mustLoad(t, r); d.Revision != second.String() {
		t.Errorf("Revision = %s, want %s", d.Revision, second)
	}
}

// The token is read from a file or the environment, authenticates, and
// appears in no error, log line or status, whether it is right or wrong.
func TestHTTPTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	const token = "s3cr3t-t0ken-4e1f9a" //nolint:gosec // a test credential
	const wrong = "wrong-t0ken-77c2d0"
	s, first := basicSource(t)
	srv := serveHTTP(t, s, token)
	dir := t.TempDir()
	writeFile := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodFile, wrongFile := writeFile("good", token+"\n"), writeFile("wrong", wrong+"\n")
	// t.Setenv refuses parallel tests; the name is used by this test only.
	if err := os.Setenv("GITSYNC_TEST_TOKEN", token); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Unsetenv("GITSYNC_TEST_TOKEN") })

	check := func(t *testing.T, what string, text ...string) {
		t.Helper()
		for _, s := range text {
			if strings.Contains(s, token) || strings.Contains(s, wrong) {
				t.Errorf("%s leaks the token: %s", what, s)
			}
		}
	}
	for _, tc := range []struct {
		name string
		opt  Options
		ok   bool
	}{
		{"token file", Options{HTTPTokenFile: goodFile}, true},
		{"token env", Options{HTTPTokenEnv: "GITSYNC_TEST_TOKEN"}, true},
		{"wrong token", Options{HTTPTokenFile: wrongFile}, false},
		{"no token", Options{}, false},
	} {
		opt := tc.opt
		opt.URL = srv.url(s)
		r, logs := newTestRepo(t, opt)
		d, err := r.Load(t.Context())
		switch {
		case tc.ok && (err != nil || d.Revision != first.String()):
			t.Errorf("%s: Load = %v, %v", tc.name, d, err)
		case !tc.ok && (!errors.Is(err, ErrUnreachable) || !errors.Is(err, transport.ErrAuthenticationRequired)):
			t.Errorf("%s: Load error %v, want ErrUnreachable wrapping authentication required", tc.name, err)
		}
		st := r.Status()
		text := []string{logs.String(), st.URL, st.LastError}
		if err != nil {
			text = append(text, err.Error())
		}
		check(t, tc.name, text...)
	}
}

// While the server is down, Load fails with ErrUnreachable, and attempts
// are spaced by the back-off (no request reaches the network in between);
// Trigger skips the wait; when the server is back, the next attempt
// recovers and resets the back-off.
func TestBackoffWhileServerDown(t *testing.T) {
	t.Parallel()
	s, first := basicSource(t)
	srv := serveHTTP(t, s, "")
	clock := newClock()
	r, logs := newTestRepo(t, Options{URL: srv.url(s), Branch: "main", Now: clock.Now})
	mustLoad(t, r)

	srv.stop()
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:2")})
	second := s.commit("second, pushed while down")
	before := srv.requests.Load()
	err1 := loadErr(t, r, ErrUnreachable)
	st := r.Status()
	if got := st.BackoffUntil.Sub(clock.Now()); got != time.Second {
		t.Errorf("first back-off = %v, want 1s", got)
	}
	if st.LastGood != first.String() {
		t.Errorf("LastGood = %s, want %s", st.LastGood, first)
	}
	// Within the back-off: the same error, at once, without the network.
	start := time.Now()
	for range 5 {
		if err := loadErr(t, r, ErrUnreachable); err.Error() != err1.Error() {
			t.Errorf("error changed during the back-off: %v", err)
		}
	}
	if time.Since(start) > 100*time.Millisecond {
		t.Errorf("Loads during the back-off took %v: they should not touch the network", time.Since(start))
	}
	// The back-off doubles: 1s, 2s, 4s, ...
	for _, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second} {
		clock.advance(r.Status().BackoffUntil.Sub(clock.Now()))
		loadErr(t, r, ErrUnreachable)
		if got := r.Status().BackoffUntil.Sub(clock.Now()); got != want {
			t.Errorf("back-off = %v, want %v", got, want)
		}
	}
	if n := srv.requests.Load(); n != before {
		t.Errorf("%d requests reached the stopped server's handler", n-before)
	}
	if n := logs.count(`msg="fetch failed"`); n != 1 {
		t.Errorf("the outage was logged at warn level %d times, want once", n)
	}

	srv.start()
	r.Trigger() // the back-off still runs; a trigger skips it
	if d := mustLoad(t, r); d.Revision != second.String() {
		t.Errorf("after recovery Revision = %s, want %s", d.Revision, second)
	}
	st = r.Status()
	if st.LastError != "" || !st.BackoffUntil.IsZero() || st.LastGood != second.String() {
		t.Errorf("status after recovery = %+v", st)
	}
	if !r.retry.Idle() {
		t.Errorf("back-off not reset after success")
	}
	if logs.count("repository reachable again") != 1 {
		t.Errorf("recovery not logged")
	}
}

// The back-off is capped at 5 minutes.
func TestBackoffCap(t *testing.T) {
	t.Parallel()
	b := backoff.New(minBackoff, maxBackoff)
	var got time.Duration
	for range 20 {
		got = b.Next()
	}
	if got != 5*time.Minute {
		t.Errorf("back-off after 20 failures = %v, want 5m", got)
	}
	b.Reset()
	if got := b.Next(); got != time.Second {
		t.Errorf("after reset = %v, want 1s", got)
	}
}

// Interval spaces fetches; Trigger skips the wait.
func TestIntervalAndTrigger(t *testing.T) {
	t.Parallel()
	s, first := basicSource(t)
	srv := serveHTTP(t, s, "")
	clock := newClock()
	r, _ := newTestRepo(t, Options{URL: srv.url(s), Branch: "main", Interval: 30 * time.Second, Now: clock.Now})
	mustLoad(t, r)
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:2")})
	second := s.commit("second")

	n := srv.requests.Load()
	clock.advance(10 * time.Second)
	if d := mustLoad(t, r); d.Revision != first.String() {
		t.Errorf("within the interval: Revision = %s, want the cached %s", d.Revision, first)
	}
	if srv.requests.Load() != n {
		t.Errorf("a Load within the interval reached the server")
	}
	r.Trigger()
	if d := mustLoad(t, r); d.Revision != second.String() {
		t.Errorf("after Trigger: Revision = %s, want %s", d.Revision, second)
	}
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:3")})
	third := s.commit("third")
	clock.advance(31 * time.Second)
	if d := mustLoad(t, r); d.Revision != third.String() {
		t.Errorf("after the interval: Revision = %s, want %s", d.Revision, third)
	}
}
