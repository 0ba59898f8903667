package lb

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNoEndpointAnswers503NamingTheService(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	s := service(t, ProtocolHTTP)
	update(t, p, s)
	code, body := get(t, client(t), "http://"+addrOf(s)+"/")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "ns/svc") {
		t.Fatalf("got %d %q, want 503 naming ns/svc", code, body)
	}
	// The connection stays usable after a 503 of a request without body.
	r := dialRaw(t, addrOf(s))
	r.send("GET / HTTP/1.1", "Host: x", "", "HEAD / HTTP/1.1", "Host: x", "", "")
	if resp, _ := r.response("GET"); resp.StatusCode != 503 {
		t.Fatalf("first: %d", resp.StatusCode)
	}
	if resp, body := r.response("HEAD"); resp.StatusCode != 503 || body != "" {
		t.Fatalf("HEAD: %d %q", resp.StatusCode, body)
	}
}

func TestDialFailureRetriesIdempotentOnly(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	live := backend(t, named("live"))
	s := service(t, ProtocolHTTP, deadAddr(t), live)
	update(t, p, s)
	c := client(t)
	for i := range 10 {
		if code, body := get(t, c, "http://"+addrOf(s)+"/"); code != 200 || body != "live" {
			t.Fatalf("GET %d: %d %q", i, code, body)
		}
	}
	unavailable := 0
	for range 10 {
		resp, err := c.Post("http://"+addrOf(s)+"/", "text/plain", strings.NewReader("data"))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			unavailable++
		} else if resp.StatusCode != 200 {
			t.Fatalf("POST: %d", resp.StatusCode)
		}
	}
	if unavailable != 5 { // round robin: every other POST dials the dead endpoint first
		t.Fatalf("%d of 10 POSTs got 503, want 5 (no retry)", unavailable)
	}
}

func TestForwardedAndHopByHopFields(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	seen := make(chan http.Header, 1)
	b := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		h.Set("Host", r.Host)
		seen <- h
		w.Header().Set("Connection", "X-Resp-Hop")
		w.Header().Set("X-Resp-Hop", "1")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("Proxy-Authenticate", "Basic")
		w.Header().Set("X-Resp-End", "kept")
		fmt.Fprint(w, "ok")
	}))
	s := service(t, ProtocolHTTP, b)
	update(t, p, s)
	r := dialRaw(t, addrOf(s))
	r.send("GET /path?q=1 HTTP/1.1", "Host: example.test", "X-Forwarded-For: 192.0.2.1",
		"Connection: keep-alive, X-Hop", "X-Hop: drop me", "Keep-Alive: 300", "Proxy-Authorization: secret",
		"Proxy-Connection: keep-alive", "TE: trailers, deflate", "X-End: kept", "", "")
	resp, body := r.response("GET")
	if resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	h := <-seen
	want := map[string]string{
		"Host": "example.test", "X-Forwarded-For": "192.0.2.1, 127.0.0.1", "X-Forwarded-Host": "example.test",
		"X-Forwarded-Proto": "http", "Te": "trailers", "X-End": "kept",
		"X-Hop": "", "Keep-Alive": "", "Proxy-Authorization": "", "Proxy-Connection": "", "Connection": "",
	}
	for k, v := range want {
		if got := strings.Join(h.Values(k), ","); got != v {
			t.Errorf("upstream %s = %q, want %q", k, got, v)
		}
	}
	for k, v := range map[string]string{"X-Resp-Hop": "", "Keep-Alive": "", "Proxy-Authenticate": "", "Connection": "", "X-Resp-End": "kept"} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("client %s = %q, want %q", k, got, v)
		}
	}
}

func TestChunkedBodiesStreamBothWays(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	next := make(chan struct{})
	b := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		w.Header().Set("Trailer", "X-Sum")
		fmt.Fprintf(w, "got %s|", got)
		w.(http.Flusher).Flush()
		<-next // the first part reaches the client before the rest exists
		fmt.Fprint(w, "second")
		w.Header().Set("X-Sum", fmt.Sprint(r.Trailer.Get("X-Check")))
	}))
	s := service(t, ProtocolHTTP, b)
	update(t, p, s)
	r := dialRaw(t, addrOf(s))
	r.send("POST /up HTTP/1.1", "Host: x", "Transfer-Encoding: chunked", "Trailer: X-Check", "",
		"5", "hello", "7;ext=1", " world!", "0", "X-Check: 42", "", "")
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("response framing %v, want chunked", resp.TransferEncoding)
	}
	first := make([]byte, len("got hello world!|"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "got hello world!|" {
		t.Fatalf("first part %q, %v", first, err)
	}
	close(next)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "second" {
		t.Fatalf("rest %q, %v", rest, err)
	}
	if got := resp.Trailer.Get("X-Sum"); got != "42" {
		t.Fatalf("trailer X-Sum = %q, want 42 (request trailer passed, response trailer back)", got)
	}
}

func TestHTTP10Clients(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	b := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stream" {
			fmt.Fprint(w, "part1 ")
			w.(http.Flusher).Flush() // chunked upstream
		}
		fmt.Fprintf(w, "host=%s", r.Host)
	}))
	s := service(t, ProtocolHTTP, b)
	update(t, p, s)

	// Keep-alive on request: a length, and the connection stays.
	r := dialRaw(t, addrOf(s))
	r.send("GET / HTTP/1.0", "Connection: keep-alive", "", "")
	resp, body := r.response("GET")
	if resp.StatusCode != 200 || body != "host="+addrOf(s) || resp.Close {
		t.Fatalf("keep-alive: %d %q close=%v", resp.StatusCode, body, resp.Close)
	}
	// A chunked upstream answer reaches HTTP/1.0 decoded, delimited by close.
	r.send("GET /stream HTTP/1.0", "Host: h", "", "")
	resp, body = r.response("GET")
	if resp.StatusCode != 200 || body != "part1 host=h" || !resp.Close || resp.ContentLength != -1 {
		t.Fatalf("stream: %d %q close=%v len=%d", resp.StatusCode, body, resp.Close, resp.ContentLength)
	}
	if _, err := r.br.ReadByte(); err != io.EOF {
		t.Fatalf("connection not closed: %v", err)
	}
}

func TestRefusesAmbiguousFraming(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	var hits sync.Map
	b := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Store(r.URL.Path, true) }))
	s := service(t, ProtocolHTTP, b)
	update(t, p, s)
	cases := []struct {
		name   string
		head   []string
		status int
	}{
		{"cl-and-te", []string{"Content-Length: 3", "Transfer-Encoding: chunked"}, 400},
		{"two-lengths", []string{"Content-Length: 3", "Content-Length: 4"}, 400},
		{"signed-length", []string{"Content-Length: +3"}, 400},
		{"gzip-te", []string{"Transfer-Encoding: gzip, chunked"}, 501},
		{"space-before-colon", []string{"Content-Length : 3"}, 400},
		{"folded", []string{"X-A: 1", " folded"}, 400},
		{"no-host", nil, 400},
	}
	for _, c := range cases {
		r := dialRaw(t, addrOf(s))
		lines := []string{"POST /" + c.name + " HTTP/1.1"}
		if c.name != "no-host" {
			lines = append(lines, "Host: x")
		}
		r.send(append(append(lines, c.head...), "", "abc")...)
		if resp, _ := r.response("POST"); resp.StatusCode != c.status || !resp.Close {
			t.Errorf("%s: %d close=%v, want %d and close", c.name, resp.StatusCode, resp.Close, c.status)
		}
		if _, ok := hits.Load("/" + c.name); ok {
			t.Errorf("%s reached the endpoint", c.name)
		}
	}
	// A chunk line ending in a bare LF is refused too.
	r := dialRaw(t, addrOf(s))
	r.send("POST /bare-lf HTTP/1.1", "Host: x", "Transfer-Encoding: chunked", "", "3\nabc\r\n0\r\n\r\n")
	if resp, _ := r.response("POST"); resp.StatusCode != 400 {
		t.Errorf("bare LF chunk: %d", resp.StatusCode)
	}
}

func TestUpgradePassthrough(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	b := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" || r.Header.Get("Connection") != "Upgrade" {
			http.Error(w, "no upgrade", 400)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		io.Copy(c, brw) // echo until the client half-closes
	}))
	s := service(t, ProtocolHTTP, b)
	update(t, p, s)
	r := dialRaw(t, addrOf(s))
	r.send("GET /ws HTTP/1.1", "Host: x", "Connection: Upgrade", "Upgrade: echo", "", "")
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil || resp.StatusCode != 101 || resp.Header.Get("Upgrade") != "echo" {
		t.Fatalf("%v %v", resp, err)
	}
	for _, msg := range []string{"ping", "pong!"} {
		io.WriteString(r.c, msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(r.br, got); err != nil || string(got) != msg {
			t.Fatalf("echo %q: %q %v", msg, got, err)
		}
	}
}

func TestStaleKeepAliveConnectionIsReplaced(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	srv, b := backendServer(t, named("b"))
	s := service(t, ProtocolHTTP, b)
	update(t, p, s)
	c := client(t)
	ep := p.ports[portKey{"ns", "svc", "web", s.Ports[0].Port}].endpoints()[0]
	for _, idle := range []time.Duration{0, time.Minute} {
		get(t, c, "http://"+addrOf(s)+"/")
		waitFor(t, "a pooled connection", func() bool { return ep.pool.size() == 1 })
		// The endpoint closes its idle connections, as servers with an idle
		// timeout do. A connection idle for long is checked before use; a
		// fresh one fails on use and the request goes again on a new one.
		srv.SetKeepAlivesEnabled(false)
		srv.SetKeepAlivesEnabled(true)
		ep.pool.mu.Lock()
		u := ep.pool.idle[0]
		u.idleSince = time.Now().Add(-idle)
		ep.pool.mu.Unlock()
		waitFor(t, "the endpoint closing", func() bool { return !alive(u.c) })
		if code, body := get(t, c, "http://"+addrOf(s)+"/"); code != 200 || body != "b" {
			t.Fatalf("idle %v: %d %q", idle, code, body)
		}
	}
}

// resetter accepts connections, reads a request and closes without a
// byte of response: a backend that dies with the request in flight.
func resetter(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", loopback().String()+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			c.Read(buf)
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// TestLostEndpointsAreSkipped: endpoints of a lost node sit side by side;
// idempotent requests get past dead ones (refused dials, and connections
// closed before any answer) to a live endpoint, while a POST is not sent
// twice.
func TestLostEndpointsAreSkipped(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	live := backend(t, named("live"))
	s := service(t, ProtocolHTTP, live, deadAddr(t), deadAddr(t), deadAddr(t))
	update(t, p, s)
	c := client(t)
	for i := range 12 {
		if code, body := get(t, c, "http://"+addrOf(s)+"/"); code != 200 || body != "live" {
			t.Fatalf("GET %d through three dead endpoints: %d %q", i, code, body)
		}
	}
	s = service(t, ProtocolHTTP, live, resetter(t))
	update(t, p, s)
	for i := range 10 {
		if code, body := get(t, c, "http://"+addrOf(s)+"/"); code != 200 || body != "live" {
			t.Fatalf("GET %d with an endpoint that resets: %d %q", i, code, body)
		}
	}
	failed := 0
	for range 10 {
		resp, err := c.Post("http://"+addrOf(s)+"/", "text/plain", strings.NewReader("data"))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusBadGateway {
			failed++
		}
	}
	if failed != 5 {
		t.Fatalf("%d of 10 POSTs got 502, want 5: a POST the endpoint may have seen is not sent again", failed)
	}
}
