package lb

import (
	"context"
	"io"
	"net"
	"net/netip"
)

// serveTCP proxies a client connection of a TCP port as a byte stream to
// one endpoint: chosen like an HTTP request (affinity honoured), dialled,
// tried once more on another endpoint if the dial fails, then copied both
// ways. With no endpoint the client connection is closed at once.
func serveTCP(p *Proxy, cc *clientConn, pt *port) {
	pt.m.active.Add(1)
	defer func() {
		pt.m.active.Add(-1)
		cc.c.Close()
		p.conns.remove(cc)
	}()
	var client netip.Addr
	if ap, err := netip.ParseAddrPort(cc.c.RemoteAddr().String()); err == nil {
		client = ap.Addr().Unmap()
	}
	var skip *endpoint
	for try := 0; try < 2; try++ {
		ep := pt.acquire(client, skip)
		if ep == nil {
			if try == 0 {
				pt.m.fail(reasonNoEndpoint)
			}
			return
		}
		up, err := ep.dial(context.Background())
		if err != nil {
			ep.release()
			pt.m.fail(reasonDial)
			p.log.Debug("endpoint dial failed", "ns", pt.key.ns, "name", pt.key.name, "endpoint", ep.addr, "err", err)
			skip = ep
			continue
		}
		p.pipe(cc.c, cc.c, up, up)
		ep.closeConn(up)
		ep.release()
		return
	}
}

// pipe copies from cr to up and from ur to client at the same time, until
// both directions end. A direction that reaches the end of its source
// half-closes its destination, so the other direction can still finish; a
// direction that fails closes both connections. The second direction runs
// in a goroutine of the Proxy's wait group.
func (p *Proxy) pipe(client net.Conn, cr io.Reader, up net.Conn, ur io.Reader) {
	done := make(chan struct{})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(done)
		oneWay(up, cr, client)
	}()
	oneWay(client, ur, up)
	<-done
}

// oneWay copies src to dst, then half-closes dst; when the copy fails or
// dst cannot be half-closed it closes both ends.
func oneWay(dst net.Conn, src io.Reader, srcConn net.Conn) {
	if _, err := io.Copy(dst, src); err == nil {
		if cw, ok := dst.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
			return
		}
	}
	dst.Close()
	srcConn.Close()
}
