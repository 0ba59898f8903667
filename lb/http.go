package lb

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// clientIdleTimeout bounds the wait for a request head on a client
// connection (keep-alive idle time and slow heads alike).
const clientIdleTimeout = 2 * time.Minute

// httpConn serves the requests of one client connection in turn, over
// pooled HTTP/1.1 connections to the endpoints. Nothing here allocates per
// request once the connection's buffers have grown.
type httpConn struct {
	p        *Proxy
	cc       *clientConn
	br       *bufio.Reader
	bw       *bufio.Writer
	client   netip.Addr
	clientIP []byte // the client's address as text, for X-Forwarded-For
	local    []byte // the address the client reached, Host of HTTP/1.0 requests
	req      head
	resp     head
	start    time.Time
	isHead   bool // the request is HEAD: its response has no body
	num      [24]byte
}

// outcome is how a request ended.
type outcome struct {
	status int  // what the client got, 0 when nothing was written
	keep   bool // the client connection can take another request
	retry  bool // a pooled connection failed before answering; a new one may
	// unanswered: the endpoint failed before a byte of response came (it
	// died or reset the connection); another endpoint may answer an
	// idempotent request.
	unanswered bool
	recorded   bool // the request's metrics are already recorded (upgrades)
	err        error
}

// serveHTTP serves a client connection of an HTTP port until it closes.
func serveHTTP(p *Proxy, cc *clientConn, pt *port) {
	pt.m.active.Add(1)
	r, w := newRawIO(cc.c)
	h := &httpConn{p: p, cc: cc, br: getReader(r), bw: getWriter(w)}
	defer func() {
		pt.m.active.Add(-1)
		cc.c.Close()
		p.conns.remove(cc)
		putReader(h.br)
		putWriter(h.bw)
	}()
	if ap, err := netip.ParseAddrPort(cc.c.RemoteAddr().String()); err == nil {
		h.client = ap.Addr().Unmap()
	}
	h.clientIP = []byte(h.client.String())
	h.local = []byte(cc.c.LocalAddr().String())
	for h.next() {
	}
}

// next serves one request; false means the connection is done.
func (h *httpConn) next() bool {
	if !h.cc.idle() {
		return false
	}
	if h.br.Buffered() == 0 {
		h.cc.c.SetReadDeadline(time.Now().Add(clientIdleTimeout))
	}
	h.isHead = false
	if err := h.req.readRequest(h.br); err != nil {
		h.refuse(err)
		return false
	}
	if !h.cc.active() {
		return false
	}
	h.start = time.Now()
	h.isHead = string(h.req.bytes(h.req.method)) == "HEAD"
	pt := h.cc.l.port.Load()
	o := h.proxy(pt)
	if !o.recorded {
		pt.m.request(o.status, time.Since(h.start))
	}
	return o.keep && !h.req.close
}

// refuse answers a request whose head could not be read or is refused.
func (h *httpConn) refuse(err error) {
	var he *headError
	if errors.As(err, &he) {
		h.answer(he.status, []byte(he.msg+"\n"), true)
	}
}

// proxy sends the request to an endpoint and relays the answer. A pooled
// connection that turns out closed gets the request again on a new one.
func (h *httpConn) proxy(pt *port) outcome {
	hasBody := h.req.chunked || h.req.length > 0
	u, reason := h.connect(pt)
	if u == nil {
		if reason == reasonNoEndpoint {
			pt.m.fail(reasonNoEndpoint)
		}
		h.answer(http.StatusServiceUnavailable, pt.unavl, hasBody)
		return outcome{status: http.StatusServiceUnavailable, keep: !hasBody}
	}
	ep := u.ep
	defer ep.release()
	if h.req.expect100 && hasBody && h.req.minor == 1 {
		h.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		h.bw.Flush()
	}
	o := h.exchange(pt, u, hasBody)
	if (o.retry || o.unanswered) && !hasBody && idempotent(h.req.bytes(h.req.method)) {
		o = h.again(pt, ep, o)
	}
	if o.err != nil {
		pt.m.fail(reasonUpstream)
		h.p.log.Debug("endpoint failed", "ns", pt.key.ns, "name", pt.key.name, "endpoint", ep.addr, "err", o.err)
	}
	if o.status == 0 {
		h.answer(http.StatusBadGateway, []byte("bad gateway\n"), true)
		o.status, o.keep = http.StatusBadGateway, false
	}
	return o
}

// again sends an idempotent request, which ep failed to answer, once more:
// on a new connection to ep when a pooled one had gone stale, else (or
// when that dial fails) to another endpoint, as a failed dial would.
func (h *httpConn) again(pt *port, ep *endpoint, o outcome) outcome {
	if o.retry {
		if c, err := ep.dial(context.Background()); err == nil {
			return h.exchange(pt, newUpConn(c, ep), false)
		}
	}
	u, _ := h.connectAvoiding(pt, ep)
	if u == nil {
		return o
	}
	defer u.ep.release()
	return h.exchange(pt, u, false)
}

// dialTries bounds the endpoints one idempotent request may dial: the
// first and, when dials fail, the next ones in turn. Endpoints of a lost
// node sit side by side in a set (they are ordered by node), so a request
// gets past up to three dead ones before the fleet drops them.
const dialTries = 4

// connect picks an endpoint and takes a connection to it, from its pool
// or dialled. A failed dial of an idempotent request is tried again on the
// next endpoints (up to dialTries in all); it is safe whatever the body,
// which is not read yet.
func (h *httpConn) connect(pt *port) (*upConn, int) { return h.connectAvoiding(pt, nil) }

// connectAvoiding is connect, starting after skip (an endpoint that just
// failed) when set.
func (h *httpConn) connectAvoiding(pt *port, skip *endpoint) (*upConn, int) {
	for try := 0; try < dialTries; try++ {
		ep := pt.acquire(h.client, skip)
		if ep == nil {
			if try == 0 {
				return nil, reasonNoEndpoint
			}
			return nil, reasonDial
		}
		u, err := ep.get(context.Background(), h.start)
		if err == nil {
			return u, 0
		}
		ep.release()
		pt.m.fail(reasonDial)
		h.p.log.Debug("endpoint dial failed", "ns", pt.key.ns, "name", pt.key.name, "endpoint", ep.addr, "err", err)
		if !idempotent(h.req.bytes(h.req.method)) {
			break
		}
		skip = ep
	}
	return nil, reasonDial
}

// idempotent methods may be sent again (RFC 9110 section 9.2.2).
func idempotent[T string | []byte](method T) bool {
	switch string(method) {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}

// exchange writes the request to u and relays the response.
func (h *httpConn) exchange(pt *port, u *upConn, hasBody bool) outcome {
	h.writeRequestHead(u.bw)
	if hasBody {
		h.cc.c.SetReadDeadline(time.Time{}) // a body may take its time
		var rerr, werr error
		if h.req.chunked {
			rerr, werr = copyChunked(u.bw, h.br, true)
		} else {
			rerr, werr = copyN(u.bw, h.br, h.req.length)
		}
		if rerr != nil {
			u.close()
			if errors.Is(rerr, errChunk) {
				h.answer(http.StatusBadRequest, []byte("malformed chunked body\n"), true)
			}
			return outcome{status: http.StatusBadRequest}
		}
		if werr != nil {
			u.close()
			return outcome{err: werr}
		}
	}
	if err := u.bw.Flush(); err != nil {
		u.close()
		return outcome{retry: u.reused, unanswered: true, err: err}
	}
	return h.relay(pt, u)
}

// answer writes a short text response of the proxy's own. A HEAD request
// gets the head only.
func (h *httpConn) answer(status int, body []byte, close bool) {
	w := h.bw
	w.WriteString("HTTP/1.1 ")
	w.Write(strconv.AppendInt(h.num[:0], int64(status), 10))
	w.WriteByte(' ')
	w.WriteString(http.StatusText(status))
	w.WriteString("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ")
	w.Write(strconv.AppendInt(h.num[:0], int64(len(body)), 10))
	switch {
	case close || h.req.close:
		w.WriteString("\r\nConnection: close")
	case h.req.minor == 0:
		w.WriteString("\r\nConnection: keep-alive")
	}
	w.WriteString("\r\n\r\n")
	if !h.isHead {
		w.Write(body)
	}
	w.Flush()
}

// writeRequestHead writes the request line and fields for the endpoint:
// HTTP/1.1, hop-by-hop fields dropped, X-Forwarded-* set, framing of the
// proxy's own.
func (h *httpConn) writeRequestHead(w *bufio.Writer) {
	r := &h.req
	w.Write(r.bytes(r.method))
	w.WriteByte(' ')
	w.Write(r.bytes(r.target))
	w.WriteString(" HTTP/1.1\r\n")
	for i := range r.fields {
		f := &r.fields[i]
		switch f.id {
		case fXForwardedFor, fXForwardedHost, fXForwardedProto, fExpect:
			continue
		case fTrailer:
			if !r.chunked {
				continue
			}
		}
		if !r.isHopByHop(f) {
			writeField(w, r, f)
		}
	}
	h.writeForwarded(w)
	if r.upgrade {
		w.WriteString("Connection: Upgrade\r\n")
		writeFields(w, r, fUpgrade)
	}
	if r.teTrailers {
		w.WriteString("Te: trailers\r\n")
	}
	switch {
	case r.chunked:
		w.WriteString("Transfer-Encoding: chunked\r\n")
	case r.length >= 0:
		w.WriteString("Content-Length: ")
		w.Write(strconv.AppendInt(h.num[:0], r.length, 10))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
}

// writeForwarded writes X-Forwarded-For (the client appended to what came
// in), X-Forwarded-Host and X-Forwarded-Proto, and a Host when an HTTP/1.0
// request had none.
func (h *httpConn) writeForwarded(w *bufio.Writer) {
	r := &h.req
	w.WriteString("X-Forwarded-For: ")
	for i := range r.fields {
		if f := &r.fields[i]; f.id == fXForwardedFor && f.value.len() > 0 {
			w.Write(r.bytes(f.value))
			w.WriteString(", ")
		}
	}
	w.Write(h.clientIP)
	if r.hasHost {
		w.WriteString("\r\nX-Forwarded-Host: ")
		w.Write(r.bytes(r.host))
	} else {
		w.WriteString("\r\nHost: ")
		w.Write(h.local)
	}
	w.WriteString("\r\nX-Forwarded-Proto: http\r\n")
}

func writeField(w *bufio.Writer, h *head, f *field) {
	w.Write(h.bytes(f.name))
	w.WriteString(": ")
	w.Write(h.bytes(f.value))
	w.WriteString("\r\n")
}

// writeFields writes every field of one kind.
func writeFields(w *bufio.Writer, h *head, id fieldID) {
	for i := range h.fields {
		if h.fields[i].id == id {
			writeField(w, h, &h.fields[i])
		}
	}
}
