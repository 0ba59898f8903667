package lb

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// tcpBackend starts a TCP server running serve for every connection.
func tcpBackend(t testing.TB, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", netip.AddrPortFrom(loopback(), 0).String())
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
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

func echo(c net.Conn) { io.Copy(c, c) }

func TestTCPEcho(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	s := service(t, ProtocolTCP, tcpBackend(t, echo))
	update(t, p, s)
	c := dialRaw(t, addrOf(s))
	for _, msg := range []string{"hello", "world of bytes"} {
		io.WriteString(c.c, msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c.br, got); err != nil || string(got) != msg {
			t.Fatalf("%q: %q %v", msg, got, err)
		}
	}
}

func TestTCPWithoutEndpointClosesAtOnce(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	s := service(t, ProtocolTCP)
	update(t, p, s)
	c := dialRaw(t, addrOf(s))
	c.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.br.ReadByte(); err != io.EOF {
		t.Fatalf("read: %v, want EOF", err)
	}
}

func TestTCPHalfClose(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	// The endpoint answers only once the client finished sending.
	b := tcpBackend(t, func(c net.Conn) {
		n, _ := io.Copy(io.Discard, c)
		fmt.Fprintf(c, "got %d bytes", n)
	})
	s := service(t, ProtocolTCP, b)
	update(t, p, s)
	c := dialRaw(t, addrOf(s))
	io.WriteString(c.c, "twelve bytes")
	c.c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c.br)
	if err != nil || string(got) != "got 12 bytes" {
		t.Fatalf("%q %v", got, err)
	}
}

func TestTCPDialFailureTriesAnotherEndpoint(t *testing.T) {
	t.Parallel()
	p := newProxy(t)
	s := service(t, ProtocolTCP, deadAddr(t), tcpBackend(t, echo))
	update(t, p, s)
	for range 4 {
		c := dialRaw(t, addrOf(s))
		io.WriteString(c.c, "x")
		if b, err := c.br.ReadByte(); err != nil || b != 'x' {
			t.Fatalf("%q %v", b, err)
		}
		c.c.Close()
	}
}
