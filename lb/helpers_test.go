package lb

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Every test listens on loopback addresses of its own (all of 127/8 is
// loopback on Linux), so tests of this and other packages can run in
// parallel without port clashes.
var nextAddr atomic.Uint32

// loopback returns a fresh 127.x.y.z address.
func loopback() netip.Addr {
	n := nextAddr.Add(1)
	return netip.AddrFrom4([4]byte{127, byte(20 + os.Getpid()%200), byte(n / 250), byte(n%250 + 1)})
}

// freePort returns a port free on addr.
func freePort(t testing.TB, addr netip.Addr) int32 {
	t.Helper()
	ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return int32(ln.Addr().(*net.TCPAddr).Port)
}

// backend starts an HTTP server on a fresh loopback address.
func backend(t testing.TB, h http.Handler) string {
	t.Helper()
	_, addr := backendServer(t, h)
	return addr
}

func backendServer(t testing.TB, h http.Handler) (*http.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", netip.AddrPortFrom(loopback(), 0).String())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return srv, ln.Addr().String()
}

// named answers with its name.
func named(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, name)
	})
}

// deadAddr is an address that refuses connections.
func deadAddr(t testing.TB) string {
	a := loopback()
	return netip.AddrPortFrom(a, uint16(freePort(t, a))).String()
}

func newProxy(t testing.TB) *Proxy {
	t.Helper()
	p, err := New(Options{Logger: slog.New(slog.DiscardHandler), CloseGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// service is a one-port Service on a fresh address; eps are endpoint
// addresses, keyed by themselves.
func service(t testing.TB, proto Protocol, eps ...string) Service {
	a := loopback()
	s := Service{Namespace: "ns", Name: "svc", Addresses: []netip.Addr{a},
		Ports: []Port{{Name: "web", Port: freePort(t, a), Protocol: proto}}}
	s.Ports[0].Endpoints = endpoints(eps...)
	return s
}

func endpoints(addrs ...string) []Endpoint {
	var out []Endpoint
	for _, a := range addrs {
		out = append(out, Endpoint{Key: a, Addr: a})
	}
	return out
}

// addrOf is where Service s listens on its first port.
func addrOf(s Service) string {
	return netip.AddrPortFrom(s.Addresses[0], uint16(s.Ports[0].Port)).String()
}

func update(t testing.TB, p *Proxy, svcs ...Service) {
	t.Helper()
	if err := p.Update(svcs); err != nil {
		t.Fatal(err)
	}
}

// client is an HTTP client that keeps its connections.
func client(t testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// get returns the status and body of a GET.
func get(t testing.TB, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// raw is a client connection written by hand.
type raw struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *raw {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &raw{t: t, c: c, br: bufio.NewReader(c)}
}

// send writes a request whose lines are joined with CRLF.
func (r *raw) send(lines ...string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, strings.Join(lines, "\r\n")); err != nil {
		r.t.Fatal(err)
	}
}

// response reads one response with its body.
func (r *raw) response(method string) (*http.Response, string) {
	r.t.Helper()
	resp, err := http.ReadResponse(r.br, &http.Request{Method: method})
	if err != nil {
		r.t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp, string(b)
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// eventually polls check for up to 5 s and fails with its last error.
func eventually(t testing.TB, check func() error) {
	t.Helper()
	err := check()
	for deadline := time.Now().Add(5 * time.Second); err != nil && time.Now().Before(deadline); err = check() {
		time.Sleep(5 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
}
