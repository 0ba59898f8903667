package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// do sends one request with body to h and returns the recorded response.
func do(h http.Handler, method, target string, body []byte) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, bytes.NewReader(body)))
	return rec
}

// TestLifecycle walks one key through create, replace, read, delete.
func TestLifecycle(t *testing.T) {
	h := newHandler(newStore())
	steps := []struct {
		method, target, body string
		code                 int
		want                 string
	}{
		{"GET", "/kv/a", "", 404, "no such key\n"},
		{"PUT", "/kv/a", "one", 201, ""},
		{"GET", "/kv/a", "", 200, "one"},
		{"PUT", "/kv/a", "two", 204, ""},
		{"GET", "/kv/a", "", 200, "two"},
		{"PUT", "/kv/empty", "", 201, ""},
		{"GET", "/kv/empty", "", 200, ""},
		{"PUT", "/kv/with%2Fslash", "s", 201, ""},
		{"GET", "/kv/with%2Fslash", "", 200, "s"},
		{"DELETE", "/kv/a", "", 204, ""},
		{"GET", "/kv/a", "", 404, "no such key\n"},
		{"DELETE", "/kv/a", "", 404, "no such key\n"},
		{"GET", "/healthz", "", 200, "ok\n"},
		{"POST", "/kv/a", "x", 405, "Method Not Allowed\n"},
		{"GET", "/kv/", "", 404, "404 page not found\n"},
		{"GET", "/kv/a/b", "", 404, "404 page not found\n"},
	}
	for i, s := range steps {
		rec := do(h, s.method, s.target, []byte(s.body))
		if rec.Code != s.code || rec.Body.String() != s.want {
			t.Errorf("step %d: %s %s = %d %q, want %d %q", i, s.method, s.target, rec.Code, rec.Body.String(), s.code, s.want)
		}
	}
}

func TestGetContentType(t *testing.T) {
	h := newHandler(newStore())
	do(h, "PUT", "/kv/k", []byte("v"))
	if ct := do(h, "GET", "/kv/k", nil).Header().Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type = %q, want application/octet-stream", ct)
	}
}

func TestValueSizeLimit(t *testing.T) {
	h := newHandler(newStore())
	if rec := do(h, "PUT", "/kv/max", make([]byte, maxValueBytes)); rec.Code != http.StatusCreated {
		t.Errorf("PUT of exactly 1 MiB = %d, want 201", rec.Code)
	}
	if rec := do(h, "PUT", "/kv/big", make([]byte, maxValueBytes+1)); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("PUT of 1 MiB + 1 = %d, want 413", rec.Code)
	}
	if rec := do(h, "GET", "/kv/big", nil); rec.Code != http.StatusNotFound {
		t.Errorf("rejected value was stored: GET = %d, want 404", rec.Code)
	}
}

func TestStoreCopiesValues(t *testing.T) {
	s := newStore()
	in := []byte("abc")
	s.put("k", in)
	in[0] = 'X'
	out, _ := s.get("k")
	out[1] = 'Y'
	if got, _ := s.get("k"); string(got) != "abc" {
		t.Errorf("stored value changed through a caller's slice: %q", got)
	}
}

// TestConcurrentAccess is meant for -race: many writers, readers and
// deleters on overlapping keys, over a real server.
func TestConcurrentAccess(t *testing.T) {
	srv := httptest.NewServer(newHandler(newStore()))
	defer srv.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 20 {
				url := fmt.Sprintf("%s/kv/k%d", srv.URL, j%4)
				for _, m := range []string{"PUT", "GET", "DELETE"} {
					req, _ := http.NewRequest(m, url, strings.NewReader(fmt.Sprint(i)))
					resp, err := srv.Client().Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
}
