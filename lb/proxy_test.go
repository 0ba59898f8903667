package lb

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

func TestUpdateKeepsListenersAndClosesRemovedOnes(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	a, b := backend(t, named("a")), backend(t, named("b"))
	s := service(t, ProtocolHTTP, a)
	other := service(t, ProtocolHTTP, a)
	other.Name = "other"
	update(t, p, s, other)
	r := dialRaw(t, addrOf(s))
	ask := func(want string) {
		t.Helper()
		r.send("GET / HTTP/1.1", "Host: x", "", "")
		if resp, body := r.response("GET"); resp.StatusCode != 200 || body != want {
			t.Fatalf("%d %q, want %q", resp.StatusCode, body, want)
		}
	}
	ask("a")
	// Unchanged, then new endpoints: the same client connection goes on.
	update(t, p, s, other)
	s.Ports[0].Endpoints = endpoints(b)
	update(t, p, s, other)
	ask("b")
	// A Service that goes away stops listening and closes its idle
	// connections; the others keep theirs.
	o := dialRaw(t, addrOf(other))
	update(t, p, s)
	if _, err := net.DialTimeout("tcp", addrOf(other), time.Second); err == nil {
		t.Fatal("removed Service still accepts")
	}
	if _, err := o.br.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection of a removed Service: %v, want closed", err)
	}
	ask("b")
}

func TestBindFailureIsReportedAndRetried(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	b := backend(t, named("b"))
	good, bad := service(t, ProtocolHTTP, b), service(t, ProtocolHTTP, b)
	bad.Name = "busy"
	squatter, err := net.Listen("tcp", addrOf(bad))
	if err != nil {
		t.Fatal(err)
	}
	err = p.Update([]Service{good, bad})
	if err == nil || !strings.Contains(err.Error(), "ns/busy") || !strings.Contains(err.Error(), addrOf(bad)) {
		t.Fatalf("error %v, want one naming ns/busy and %s", err, addrOf(bad))
	}
	if strings.Contains(err.Error(), "ns/svc") {
		t.Fatalf("error names the Service that works: %v", err)
	}
	if code, _ := get(t, client(t), "http://"+addrOf(good)+"/"); code != 200 {
		t.Fatalf("other Service: %d", code)
	}
	squatter.Close()
	update(t, p, good, bad)
	if code, body := get(t, client(t), "http://"+addrOf(bad)+"/"); code != 200 || body != "b" {
		t.Fatalf("after the retry: %d %q", code, body)
	}
}

func TestNodePortAndSeveralAddresses(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	s := service(t, ProtocolHTTP, backend(t, named("b")))
	s.Addresses = append(s.Addresses, loopback())
	s.NodeAddress = loopback()
	s.Ports[0].NodePort = freePort(t, s.NodeAddress)
	update(t, p, s)
	c := client(t)
	for _, a := range []netip.AddrPort{
		netip.AddrPortFrom(s.Addresses[0], uint16(s.Ports[0].Port)),
		netip.AddrPortFrom(s.Addresses[1], uint16(s.Ports[0].Port)),
		netip.AddrPortFrom(s.NodeAddress, uint16(s.Ports[0].NodePort)),
	} {
		if code, body := get(t, c, "http://"+a.String()+"/"); code != 200 || body != "b" {
			t.Fatalf("%s: %d %q", a, code, body)
		}
	}
}

func TestH2CUpstream(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	b := backend(t, h2c.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "proto=%d xff=%s", r.ProtoMajor, r.Header.Get("X-Forwarded-For"))
	}), &http2.Server{}))
	s := service(t, ProtocolH2C, b)
	update(t, p, s)
	want := "proto=2 xff=127.0.0.1"
	if code, body := get(t, client(t), "http://"+addrOf(s)+"/"); code != 200 || body != want {
		t.Fatalf("HTTP/1.1 client: %d %q, want %q", code, body, want)
	}
	protos := new(http.Protocols)
	protos.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: protos}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("http://" + addrOf(s) + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || string(body) != want {
		t.Fatalf("h2c client: HTTP/%d %q", resp.ProtoMajor, body)
	}
	s.Ports[0].Endpoints = nil
	update(t, p, s)
	if code, body := get(t, client(t), "http://"+addrOf(s)+"/"); code != 503 || !strings.Contains(body, "ns/svc") {
		t.Fatalf("no endpoint: %d %q", code, body)
	}
}

// TestCloseLeavesNoGoroutine runs alone: it counts the process's
// goroutines.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	slow, entered, release := slowBackend(t)
	p, err := New(Options{CloseGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hs := service(t, ProtocolHTTP, backend(t, named("b")))
	ss := service(t, ProtocolHTTP, slow)
	ss.Name = "slow"
	ts := service(t, ProtocolTCP, tcpBackend(t, echo))
	ts.Name = "tcp"
	gs := service(t, ProtocolH2C, backend(t, h2c.NewHandler(named("g"), &http2.Server{})))
	gs.Name = "grpc"
	update(t, p, hs, ss, ts, gs)
	c := client(t)
	get(t, c, "http://"+addrOf(hs)+"/")
	get(t, c, "http://"+addrOf(gs)+"/")
	go c.Get("http://" + addrOf(ss) + "/") // cut by Close
	<-entered
	r := dialRaw(t, addrOf(ts))
	io.WriteString(r.c, "x")
	r.br.ReadByte()
	p.Drain(context.Background(), "nothing")
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	close(release)
	c.Transport.(*http.Transport).CloseIdleConnections()
	r.c.Close()
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before+4; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) { // the four backends accept until the test ends
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
	}
	if err := p.Update(nil); err != ErrClosed {
		t.Fatalf("Update after Close: %v", err)
	}
}
