package lb

import (
	"net/http"
	"strconv"
	"time"
)

// relay reads the endpoint's response and writes it to the client:
// interim 1xx responses first, then the final one with its body framed
// for the client (the length kept, chunked for HTTP/1.1, close-delimited
// for HTTP/1.0). The connection goes back to the pool when the response
// was read completely and the endpoint keeps it open.
func (h *httpConn) relay(pt *port, u *upConn) outcome {
	r := &h.resp
	for {
		if err := r.readResponse(u.br); err != nil {
			u.close()
			none := len(r.buf) == 0
			return outcome{retry: u.reused && none, unanswered: none, err: err}
		}
		if r.status >= 200 || r.status == http.StatusSwitchingProtocols {
			break
		}
		if r.status != http.StatusContinue && h.req.minor == 1 {
			h.writeResponseHead(false, -1, false)
			if err := h.bw.Flush(); err != nil {
				u.close()
				return outcome{status: r.status}
			}
		}
	}
	if r.status == http.StatusSwitchingProtocols {
		if !h.req.upgrade {
			u.close()
			return outcome{err: errUnexpected101}
		}
		return h.tunnel(pt, u)
	}
	return h.relayFinal(u)
}

var errUnexpected101 = &headError{502, "101 Switching Protocols without an upgrade request"}

// relayFinal writes a final response and its body.
func (h *httpConn) relayFinal(u *upConn) outcome {
	r := &h.resp
	noBody := h.isHead || r.status == http.StatusNoContent || r.status == http.StatusNotModified
	toEOF := !noBody && r.length < 0 && !r.chunked
	length, chunk, closeClient := int64(-1), false, h.req.close
	switch {
	case noBody:
		if r.length >= 0 && r.status != http.StatusNoContent {
			length = r.length // the length a GET would have had
		}
	case r.length >= 0:
		length = r.length
	case h.req.minor == 1:
		chunk = true
	default:
		closeClient = true // HTTP/1.0 learns the end when the connection closes
	}
	h.writeResponseHead(chunk, length, closeClient)
	var rerr, werr error
	switch {
	case noBody:
	case r.length >= 0:
		rerr, werr = copyN(h.bw, u.br, r.length)
	case r.chunked:
		rerr, werr = copyChunked(h.bw, u.br, chunk)
	default:
		rerr, werr = copyToEOF(h.bw, u.br, chunk)
	}
	if werr == nil {
		werr = h.bw.Flush()
	}
	o := outcome{status: r.status, keep: !closeClient && rerr == nil && werr == nil, err: rerr}
	if rerr != nil || werr != nil || r.close || toEOF {
		u.close()
	} else {
		u.ep.put(u, time.Now())
	}
	return o
}

// writeResponseHead writes the status line and the fields for the client:
// hop-by-hop fields dropped, the framing and connection fields of the
// proxy's own (length < 0: none).
func (h *httpConn) writeResponseHead(chunk bool, length int64, closeClient bool) {
	r, w := &h.resp, h.bw
	w.WriteString("HTTP/1.1 ")
	w.Write(r.bytes(r.reason))
	w.WriteString("\r\n")
	for i := range r.fields {
		f := &r.fields[i]
		if (f.id == fTrailer && !chunk) || r.isHopByHop(f) {
			continue
		}
		writeField(w, r, f)
	}
	switch {
	case chunk:
		w.WriteString("Transfer-Encoding: chunked\r\n")
	case length >= 0:
		w.WriteString("Content-Length: ")
		w.Write(strconv.AppendInt(h.num[:0], length, 10))
		w.WriteString("\r\n")
	}
	switch {
	case closeClient:
		w.WriteString("Connection: close\r\n")
	case h.req.minor == 0 && r.status >= 200:
		w.WriteString("Connection: keep-alive\r\n")
	}
	w.WriteString("\r\n")
}

// tunnel relays a 101 answer, then copies bytes both ways until both sides
// close. The request stays in flight, for Drain, until then.
func (h *httpConn) tunnel(pt *port, u *upConn) outcome {
	r, w := &h.resp, h.bw
	w.WriteString("HTTP/1.1 ")
	w.Write(r.bytes(r.reason))
	w.WriteString("\r\n")
	for i := range r.fields {
		if f := &r.fields[i]; !r.isHopByHop(f) {
			writeField(w, r, f)
		}
	}
	w.WriteString("Connection: Upgrade\r\n")
	writeFields(w, r, fUpgrade)
	w.WriteString("\r\n")
	pt.m.request(r.status, time.Since(h.start))
	if err := w.Flush(); err != nil {
		u.close()
		return outcome{status: r.status, recorded: true}
	}
	h.cc.c.SetReadDeadline(time.Time{})
	h.p.pipe(h.cc.c, h.br, u.c, u.br)
	u.close()
	return outcome{status: r.status, recorded: true}
}
