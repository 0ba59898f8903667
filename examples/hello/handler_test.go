package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeClock is a settable clock for the ready-delay tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// do sends one request to h and returns the recorded response.
func do(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestEndpoints(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	h := newHandler(config{version: "v7"}, "box-1", clk.now)
	tests := []struct {
		method, target string
		code           int
		body           string
	}{
		{"GET", "/", 200, "hello from box-1 version v7\n"},
		{"GET", "/version", 200, "v7\n"},
		{"GET", "/healthz", 200, "ok\n"},
		{"GET", "/readyz", 200, "ready\n"},
		{"GET", "/nope", 404, "404 page not found\n"},
		{"POST", "/", 405, "Method Not Allowed\n"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			rec := do(h, tt.method, tt.target)
			if rec.Code != tt.code || rec.Body.String() != tt.body {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tt.code, tt.body)
			}
			if tt.code == 200 && !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
				t.Errorf("Content-Type = %q, want text/plain", rec.Header().Get("Content-Type"))
			}
		})
	}
}

func TestReadyDelay(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	h := newHandler(config{version: "v1", readyDelay: 2 * time.Second}, "box", clk.now)
	steps := []struct {
		after time.Duration
		code  int
	}{
		{0, http.StatusServiceUnavailable},
		{1999 * time.Millisecond, http.StatusServiceUnavailable},
		{time.Millisecond, http.StatusOK}, // exactly 2s after start
		{time.Hour, http.StatusOK},
	}
	for _, s := range steps {
		clk.advance(s.after)
		if rec := do(h, "GET", "/readyz"); rec.Code != s.code {
			t.Errorf("at %v: /readyz = %d, want %d", clk.t.Sub(time.Unix(1000, 0)), rec.Code, s.code)
		}
		if rec := do(h, "GET", "/healthz"); rec.Code != http.StatusOK {
			t.Errorf("/healthz = %d during the ready delay, want 200", rec.Code)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    config
		wantErr bool
	}{
		{"defaults", nil, config{version: "unknown"}, false},
		{"set", map[string]string{"APP_VERSION": "v2", "READY_DELAY": "1500ms"}, config{"v2", 1500 * time.Millisecond}, false},
		{"bad delay", map[string]string{"READY_DELAY": "soon"}, config{}, true},
		{"negative delay", map[string]string{"READY_DELAY": "-1s"}, config{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadConfig(func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("loadConfig = %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestOverHTTP checks the handler through a real server and client.
func TestOverHTTP(t *testing.T) {
	h, err := handlerFromEnv(func(k string) string { return map[string]string{"APP_VERSION": "v3"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	want := "hello from " + hostname() + " version v3\n"
	if resp.StatusCode != http.StatusOK || string(b) != want {
		t.Errorf("GET / = %d %q, want 200 %q", resp.StatusCode, b, want)
	}
}

func TestExitMode(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		ok   bool
	}{
		{[]string{"exit", "3"}, 3, true},
		{[]string{"exit", "0"}, 0, true},
		{[]string{"exit", "x"}, 0, false},
		{[]string{"exit", "300"}, 0, false},
		{[]string{"serve"}, 0, false},
		{nil, 0, false},
	} {
		if code, ok := exitMode(tc.args); code != tc.code || ok != tc.ok {
			t.Errorf("exitMode(%q) = %d, %v; want %d, %v", tc.args, code, ok, tc.code, tc.ok)
		}
	}
}

func TestGetMode(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "body")
	}))
	defer srv.Close()
	if _, ok := getMode([]string{"get"}); ok {
		t.Error("get without a URL accepted")
	}
	url, ok := getMode([]string{"get", srv.URL})
	var out strings.Builder
	if !ok || fetch(url, &out) != nil || out.String() != "body" {
		t.Errorf("fetch: %q", out.String())
	}
	if err := fetch(srv.URL+"/missing", io.Discard); err == nil {
		t.Error("a 404 was not an error")
	}
}

func TestUnready(t *testing.T) {
	h := newHandler(config{version: "v1"}, "h", (&fakeClock{}).now)
	if rec := do(h, "GET", "/readyz"); rec.Code != http.StatusOK {
		t.Fatalf("ready before: %d", rec.Code)
	}
	if rec := do(h, "POST", "/unready"); rec.Code != http.StatusOK {
		t.Fatalf("POST /unready: %d", rec.Code)
	}
	if rec := do(h, "GET", "/readyz"); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("ready after POST /unready: %d", rec.Code)
	}
}
