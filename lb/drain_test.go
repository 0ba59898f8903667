package lb

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// slowBackend answers once release is closed; entered tells when a request
// arrived.
func slowBackend(t testing.TB) (addr string, entered chan struct{}, release chan struct{}) {
	entered, release = make(chan struct{}, 10), make(chan struct{})
	addr = backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.Write([]byte("done"))
	}))
	return addr, entered, release
}

func TestDrainWaitsForTheRequestInFlight(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	slow, entered, release := slowBackend(t)
	s := service(t, ProtocolHTTP, slow)
	update(t, p, s)
	result := make(chan string, 1)
	go func() {
		resp, err := client(t).Get("http://" + addrOf(s) + "/")
		if err != nil {
			result <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		result <- string(b)
	}()
	<-entered
	s.Ports[0].Endpoints = nil
	update(t, p, s)
	drained := make(chan struct{})
	go func() { p.Drain(context.Background(), slow); close(drained) }()
	select {
	case <-drained:
		t.Fatal("Drain returned while a request was in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	select {
	case <-drained:
	case <-time.After(5 * time.Second):
		t.Fatal("Drain did not return after the request completed")
	}
	if got := <-result; got != "done" {
		t.Fatalf("request: %q", got)
	}
}

func TestDrainEndsAtTheDeadlineAndCloses(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	slow, entered, release := slowBackend(t)
	defer close(release)
	held := make(chan net.Conn, 1)
	stream := tcpBackend(t, func(c net.Conn) { held <- c; io.Copy(io.Discard, c) })
	hs, ts := service(t, ProtocolHTTP, slow), service(t, ProtocolTCP, stream)
	ts.Name = "tcp"
	update(t, p, hs, ts)
	httpResult := make(chan int, 1)
	go func() {
		resp, err := client(t).Get("http://" + addrOf(hs) + "/")
		if err != nil {
			httpResult <- 0
			return
		}
		resp.Body.Close()
		httpResult <- resp.StatusCode
	}()
	<-entered
	c := dialRaw(t, addrOf(ts))
	<-held
	hs.Ports[0].Endpoints, ts.Ports[0].Endpoints = nil, nil
	update(t, p, hs, ts)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	p.Drain(ctx, slow, stream)
	if d := time.Since(start); d < 150*time.Millisecond || d > 3*time.Second {
		t.Fatalf("Drain took %v, want about the 200ms deadline", d)
	}
	if code := <-httpResult; code != http.StatusBadGateway {
		t.Fatalf("request cut by the deadline got %d, want 502", code)
	}
	if _, err := c.br.ReadByte(); err != io.EOF {
		t.Fatalf("TCP stream after the deadline: %v, want closed", err)
	}
}
