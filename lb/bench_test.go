package lb

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"sync"
	"testing"
)

// BenchmarkProxyHTTP compares the lean HTTP/1.1 path with
// httputil.ReverseProxy (with a tuned Transport and a buffer pool) on the
// same backend and client, in one run. The client and the backend share
// the process, so absolute numbers are lower than bench/proxy.sh's; the
// ratio is what counts.
func BenchmarkProxyHTTP(b *testing.B) {
	be := backend(b, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("hello from backend\n"))
	}))
	p := newProxy(b)
	s := service(b, ProtocolHTTP, be)
	update(b, p, s)

	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: be})
	rp.Transport = &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, DisableCompression: true}
	rp.BufferPool = &bufferPool{}
	ln, err := net.Listen("tcp", netip.AddrPortFrom(loopback(), 0).String())
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: rp}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })

	for _, c := range []struct{ name, addr string }{{"lean", addrOf(s)}, {"httputil", ln.Addr().String()}} {
		b.Run(c.name, func(b *testing.B) {
			tr := &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequest("GET", "http://"+c.addr+"/", nil)
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := tr.RoundTrip(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		})
	}
}

type bufferPool struct{ p sync.Pool }

func (bp *bufferPool) Get() []byte {
	if b, ok := bp.p.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 32<<10)
}

func (bp *bufferPool) Put(b []byte) { bp.p.Put(&b) }

// TestProxiedRequestAllocatesNothing checks the lean path's steady state:
// with a raw client and a raw backend, which allocate nothing themselves,
// a proxied request must not allocate either.
func TestProxiedRequestAllocatesNothing(t *testing.T) {
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	be := tcpBackend(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			if err := skipHead(br); err != nil {
				return
			}
			c.Write(resp)
		}
	})
	p := newProxy(t)
	s := service(t, ProtocolHTTP, be)
	update(t, p, s)
	r := dialRaw(t, addrOf(s))
	req := []byte("GET /x HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n")
	buf := make([]byte, 4096)
	round := func() {
		r.c.Write(req)
		if err := skipHead(r.br); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(r.br, buf[:2]); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 { // grow the buffers
		round()
	}
	n := testing.AllocsPerRun(1000, round)
	t.Logf("%.3f allocations per request", n)
	if n > 0.05 {
		t.Fatalf("%.2f allocations per proxied request, want none", n)
	}
}

// skipHead reads up to the empty line that ends a head.
func skipHead(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			return nil
		}
	}
}
