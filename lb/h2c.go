package lb

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"sync"
	"time"
)

// Ports of ProtocolH2C are served by the standard library: an http.Server
// accepting HTTP/1.1 and h2c with prior knowledge from clients, and an
// httputil.ReverseProxy speaking h2c to the endpoints. They are the
// protocol of gRPC services, where the lean HTTP/1.1 path does not apply.

var (
	errNoEndpoint = errors.New("no ready endpoint")
	errDial       = errors.New("every dial failed")
)

// h2cServer serves one h2c port; its Serve loop belongs to the Proxy's wait
// group.
type h2cServer struct {
	srv *http.Server
	ln  chanListener
}

// chanListener hands the connections accepted by the port's listeners to
// the http.Server.
type chanListener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4zero} }

// hand passes an accepted connection to the server; false once it stopped.
func (h *h2cServer) hand(c net.Conn) bool {
	select {
	case h.ln.ch <- c:
		return true
	case <-h.ln.done:
		return false
	}
}

// syncH2C starts the servers of ports that became h2c and stops those of
// ports that are gone or changed protocol. Called with p.mu held.
func (p *Proxy) syncH2C(old map[portKey]*port) {
	for k, pt := range old {
		if _, ok := p.ports[k]; !ok {
			p.stopH2C(pt, p.closeGrace)
		}
	}
	for _, pt := range p.ports {
		isH2C := pt.set.Load().protocol == ProtocolH2C
		switch h := pt.h2.Load(); {
		case isH2C && h == nil:
			p.startH2C(pt)
		case !isH2C && h != nil:
			p.stopH2C(pt, p.closeGrace)
		}
	}
}

func (p *Proxy) startH2C(pt *port) {
	protos := new(http.Protocols)
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	h := &h2cServer{ln: chanListener{ch: make(chan net.Conn), done: make(chan struct{})}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetXForwarded()
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", "endpoint"
			pr.Out.Host = pr.In.Host
		},
		Transport:    &h2cTransport{pt: pt},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { h2cError(p, pt, w, err) },
	}
	h.srv = &http.Server{
		Handler:           &h2cHandler{pt: pt, rp: rp},
		Protocols:         protos,
		ReadHeaderTimeout: time.Minute,
		IdleTimeout:       2 * time.Minute,
		ConnState: func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				pt.m.active.Add(1)
			case http.StateClosed, http.StateHijacked:
				pt.m.active.Add(-1)
			}
		},
	}
	pt.h2.Store(h)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_ = h.srv.Serve(&h.ln)
	}()
}

// stopH2C stops a port's h2c server: connections get grace to finish, then
// close. The wait runs in a goroutine of the Proxy's wait group.
func (p *Proxy) stopH2C(pt *port, grace time.Duration) {
	h := pt.h2.Swap(nil)
	if h == nil {
		return
	}
	h.ln.Close()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if h.srv.Shutdown(ctx) != nil {
			h.srv.Close()
		}
	}()
}

// h2cHandler counts an h2c port's requests around the reverse proxy.
type h2cHandler struct {
	pt *port
	rp *httputil.ReverseProxy
}

func (h *h2cHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	h.rp.ServeHTTP(sw, r)
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	h.pt.m.request(sw.status, time.Since(start))
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and the like.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func h2cError(p *Proxy, pt *port, w http.ResponseWriter, err error) {
	if errors.Is(err, errNoEndpoint) || errors.Is(err, errDial) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write(pt.unavl)
		return
	}
	p.log.Debug("h2c upstream failed", "ns", pt.key.ns, "name", pt.key.name, "err", err)
	w.WriteHeader(http.StatusBadGateway)
}

// h2cTransport balances each request over the port's endpoints, retrying
// a failed dial of an idempotent request once on another endpoint.
type h2cTransport struct{ pt *port }

func (t *h2cTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	client := clientAddr(req.RemoteAddr)
	var skip *endpoint
	for try := 0; try < 2; try++ {
		ep := t.pt.acquire(client, skip)
		if ep == nil {
			if try == 0 {
				t.pt.m.fail(reasonNoEndpoint)
				return nil, errNoEndpoint
			}
			return nil, errDial
		}
		req.URL.Host = ep.addr
		resp, err := ep.h2Transport().RoundTrip(req)
		if err == nil {
			resp.Body = &releaseBody{ReadCloser: resp.Body, ep: ep}
			return resp, nil
		}
		ep.release()
		var de *dialError
		if !errors.As(err, &de) {
			t.pt.m.fail(reasonUpstream)
			return nil, err
		}
		t.pt.m.fail(reasonDial)
		if !idempotent(req.Method) || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
			return nil, errDial
		}
		skip = ep
	}
	return nil, errDial
}

func clientAddr(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// dialError marks a failed dial, which nothing was sent on.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// h2Transport is the endpoint's h2c transport: one multiplexed connection,
// tracked so that Drain can close it.
func (e *endpoint) h2Transport() *http.Transport {
	if t := e.h2.Load(); t != nil {
		return t
	}
	e.h2once.Do(func() {
		protos := new(http.Protocols)
		protos.SetUnencryptedHTTP2(true)
		e.h2.Store(&http.Transport{
			Protocols: protos,
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				c, err := e.dial(ctx)
				if err != nil {
					return nil, &dialError{err}
				}
				return &trackedConn{Conn: c, ep: e}, nil
			},
			IdleConnTimeout: idleTimeout,
		})
	})
	return e.h2.Load()
}

// trackedConn stops being tracked by its endpoint when closed.
type trackedConn struct {
	net.Conn
	ep   *endpoint
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.ep.closeConn(c.Conn) })
	return nil
}

// releaseBody ends a request's time in flight when its response body is
// closed.
type releaseBody struct {
	io.ReadCloser
	ep   *endpoint
	once sync.Once
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.ep.release)
	return err
}
