package lb

import (
	"bufio"
	"context"
	"io"
	"net"
	"sync"
	"time"
)

const (
	// maxIdlePerEndpoint bounds the idle keep-alive connections kept per
	// endpoint: enough for every client connection of a busy port, unlike
	// net/http's default of 2.
	maxIdlePerEndpoint = 1024
	// idleTimeout closes pooled connections unused for that long.
	idleTimeout = 90 * time.Second
	// checkAfter is the idle time after which a pooled connection is checked
	// for a close by the endpoint before it is reused.
	checkAfter = time.Second
	bufSize    = 4096
)

var (
	readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, bufSize) }}
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, bufSize) }}
)

func getReader(r io.Reader) *bufio.Reader {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

func getWriter(w io.Writer) *bufio.Writer {
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(w)
	return bw
}

func putReader(br *bufio.Reader) { br.Reset(nil); readers.Put(br) }
func putWriter(bw *bufio.Writer) { bw.Reset(nil); writers.Put(bw) }

// upConn is an HTTP/1.1 connection to an endpoint with its buffers.
type upConn struct {
	c         net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	ep        *endpoint
	idleSince time.Time
	reused    bool // taken from the pool rather than dialled
}

// close closes the connection and returns its buffers; it may be called
// more than once.
func (u *upConn) close() {
	if u.br == nil {
		return
	}
	u.ep.closeConn(u.c)
	putReader(u.br)
	putWriter(u.bw)
	u.br, u.bw = nil, nil
}

// pool keeps an endpoint's idle HTTP/1.1 connections, most recently used
// on top. The mutex is held for a push or a pop only.
type pool struct {
	mu     sync.Mutex
	idle   []*upConn
	closed bool
}

// get returns an idle connection, checking one that sat idle for a while,
// or dials a new one.
func (e *endpoint) get(ctx context.Context, now time.Time) (*upConn, error) {
	for {
		u := e.pool.pop()
		if u == nil {
			break
		}
		if now.Sub(u.idleSince) < checkAfter || alive(u.c) {
			u.reused = true
			return u, nil
		}
		u.close()
	}
	c, err := e.dial(ctx)
	if err != nil {
		return nil, err
	}
	return newUpConn(c, e), nil
}

func newUpConn(c net.Conn, e *endpoint) *upConn {
	r, w := newRawIO(c)
	return &upConn{c: c, br: getReader(r), bw: getWriter(w), ep: e}
}

// put returns a connection whose last response was read completely, or
// closes it when the pool is closed or full.
func (e *endpoint) put(u *upConn, now time.Time) {
	if u.br.Buffered() > 0 {
		u.close() // the endpoint sent more than the response
		return
	}
	u.idleSince = now
	p := &e.pool
	p.mu.Lock()
	if p.closed || len(p.idle) >= maxIdlePerEndpoint {
		p.mu.Unlock()
		u.close()
		return
	}
	var stale *upConn
	if len(p.idle) > 0 && now.Sub(p.idle[0].idleSince) > idleTimeout {
		stale = p.idle[0]
		p.idle = append(p.idle[:0], p.idle[1:]...)
	}
	p.idle = append(p.idle, u)
	p.mu.Unlock()
	if stale != nil {
		stale.close()
	}
}

func (p *pool) pop() *upConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.idle)
	if n == 0 {
		return nil
	}
	u := p.idle[n-1]
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
	return u
}

// close closes the idle connections; later puts close theirs.
func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, u := range idle {
		u.close()
	}
}

// size is the number of idle connections.
func (p *pool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}
