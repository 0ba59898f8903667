package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reconciler/reconciler/internal/backoff"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/runtime/podman"
)

// portForwardUsage is the one-line synopsis of `port-forward`, for errors
// and the help.
const portForwardUsage = "usage: reconciler port-forward POD [-n NS] [--address 127.0.0.1] [LOCAL:]REMOTE|:REMOTE ... (TCP; REMOTE must be a published container port)"

// portForwardOptions are the parsed arguments of `port-forward`.
type portForwardOptions struct {
	pod, namespace, address string
	ports                   []portSpec
	uri                     string
}

// portSpec is one LOCAL:REMOTE pair; local 0 asks for a random free port.
type portSpec struct {
	local, remote int
}

// forward is a local listener and the published host address it feeds.
type forward struct {
	ln       net.Listener
	remote   int
	upstream string
}

// cmdPortForward implements `port-forward POD [LOCAL:]REMOTE...`: for each
// pair it listens on --address (127.0.0.1 by default) and copies every
// accepted TCP connection both ways, half-close aware, to the host address
// where the pod publishes container port REMOTE. It prints kubectl's
// "Forwarding from ADDR -> REMOTE" lines once listening and runs until ctx
// ends; it then closes the listeners and the connections in flight and
// returns nil after every goroutine it started has finished.
func cmdPortForward(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parsePortForwardFlags(args, stderr)
	if err != nil {
		return err
	}
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	p, err := findPod(lctx, podman.New(o.uri), o.namespace, o.pod)
	if err != nil {
		return err
	}
	fws, err := listenForwards(p, o)
	if err != nil {
		return err
	}
	var mu sync.Mutex // one lock for both streams, which may be one writer
	out, errOut := &lockedWriter{mu: &mu, w: stdout}, &lockedWriter{mu: &mu, w: stderr}
	for _, fw := range fws {
		fmt.Fprintf(out, "Forwarding from %s -> %d\n", fw.ln.Addr(), fw.remote)
	}
	newForwarder(out, errOut).run(ctx, fws)
	return nil
}

// parsePortForwardFlags parses `POD [flags] PORT...`; flags may come
// anywhere.
func parsePortForwardFlags(args []string, stderr io.Writer) (portForwardOptions, error) {
	var o portForwardOptions
	fs := flag.NewFlagSet("port-forward", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, portForwardUsage); fs.PrintDefaults() }
	fs.StringVar(&o.namespace, "n", "default", "namespace")
	fs.StringVar(&o.namespace, "namespace", "default", "namespace (same as -n)")
	fs.StringVar(&o.address, "address", "127.0.0.1", "local address to listen on")
	fs.StringVar(&o.uri, "podman", envOr("PODMAN_URI", podman.DefaultURI), "Podman API service address")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return o, err
	}
	if len(pos) < 2 {
		return o, errors.New(portForwardUsage)
	}
	if o.pod, err = podArg(pos[0]); err != nil {
		return o, err
	}
	for _, s := range pos[1:] {
		ps, err := parsePortSpec(s)
		if err != nil {
			return o, err
		}
		o.ports = append(o.ports, ps)
	}
	return o, nil
}

// parsePortSpec parses kubectl's port forms: PORT (the same port locally),
// LOCAL:REMOTE, and :REMOTE or 0:REMOTE (a random local port).
func parsePortSpec(s string) (portSpec, error) {
	local, remote, ok := strings.Cut(s, ":")
	if !ok {
		local, remote = s, s
	}
	var ps portSpec
	var err error
	if local != "" {
		if ps.local, err = parsePort(local, 0); err != nil {
			return ps, fmt.Errorf("port %q: local: %w", s, err)
		}
	}
	if ps.remote, err = parsePort(remote, 1); err != nil {
		return ps, fmt.Errorf("port %q: remote: %w", s, err)
	}
	return ps, nil
}

// parsePort parses a TCP port number no lower than lowest.
func parsePort(s string, lowest int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a port number", s)
	}
	if n < lowest || n > 65535 {
		return 0, fmt.Errorf("%d is outside %d-65535", n, lowest)
	}
	return n, nil
}

// listenForwards resolves each pair to the pod's published port and opens
// its listener; on any error it closes the listeners opened so far.
func listenForwards(p *runtime.Pod, o portForwardOptions) ([]forward, error) {
	var fws []forward
	closeAll := func() {
		for _, fw := range fws {
			_ = fw.ln.Close()
		}
	}
	for _, ps := range o.ports {
		upstream, err := publishedAddr(p, ps.remote)
		if err != nil {
			closeAll()
			return nil, err
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(o.address, strconv.Itoa(ps.local)))
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("listen for port %d: %w", ps.remote, err)
		}
		fws = append(fws, forward{ln: ln, remote: ps.remote, upstream: upstream})
	}
	return fws, nil
}

// publishedAddr returns the host address where the pod publishes TCP
// container port remote, or an error naming the ports it does publish.
func publishedAddr(p *runtime.Pod, remote int) (string, error) {
	var published []string
	for _, b := range p.Ports {
		proto := strings.ToUpper(b.Protocol)
		if int(b.ContainerPort) == remote && (proto == "TCP" || proto == "") {
			host := b.HostIP
			if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
				host = "127.0.0.1"
			}
			return net.JoinHostPort(host, strconv.Itoa(int(b.HostPort))), nil
		}
		published = append(published, fmt.Sprintf("%d/%s", b.ContainerPort, b.Protocol))
	}
	if len(published) == 0 {
		return "", fmt.Errorf("port %d: pod %q publishes no ports (declare containerPort in its manifest)", remote, p.Name)
	}
	return "", fmt.Errorf("port %d is not published by pod %q; published: %s", remote, p.Name, strings.Join(published, ", "))
}

// forwarder copies connections from local listeners to their upstreams. It
// owns every goroutine it starts: run returns only after all have ended.
type forwarder struct {
	out, errOut io.Writer
	wg          sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // open connections, both sides
	closed bool                  // set on shutdown: new connections are refused
}

// newForwarder returns a forwarder reporting connections to out and
// failures to errOut (both must be safe for concurrent use).
func newForwarder(out, errOut io.Writer) *forwarder {
	return &forwarder{out: out, errOut: errOut, conns: map[net.Conn]struct{}{}}
}

// run serves the forwards until ctx ends, then closes the listeners and
// every open connection and waits for its goroutines.
func (f *forwarder) run(ctx context.Context, fws []forward) {
	for _, fw := range fws {
		f.wg.Add(1)
		go f.acceptLoop(ctx, fw)
	}
	<-ctx.Done()
	for _, fw := range fws {
		_ = fw.ln.Close()
	}
	f.closeAll()
	f.wg.Wait()
}

// acceptLoop accepts connections on fw's listener until it is closed; an
// accept failure of another kind (e.g. out of file descriptors) is
// reported and retried after a growing delay.
func (f *forwarder) acceptLoop(ctx context.Context, fw forward) {
	defer f.wg.Done()
	retry := backoff.New(5*time.Millisecond, time.Second)
	for {
		c, err := fw.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			fmt.Fprintf(f.errOut, "error accepting on %s: %v\n", fw.ln.Addr(), err)
			if !sleepCtx(ctx, retry.Next()) {
				return
			}
			continue
		}
		retry.Reset()
		if !f.track(c) {
			continue
		}
		f.wg.Add(1)
		go f.handle(ctx, c, fw)
	}
}

// sleepCtx waits for d or ctx's end and reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// handle connects one accepted connection to the upstream and copies
// between them until both directions are done or the forwarder stops.
func (f *forwarder) handle(ctx context.Context, client net.Conn, fw forward) {
	defer f.wg.Done()
	defer f.untrack(client)
	_, port, _ := net.SplitHostPort(fw.ln.Addr().String())
	fmt.Fprintf(f.out, "Handling connection for %s\n", port)
	var d net.Dialer
	up, err := d.DialContext(ctx, "tcp", fw.upstream)
	if err != nil {
		if ctx.Err() == nil {
			fmt.Fprintf(f.errOut, "error forwarding port %d to %s: %v\n", fw.remote, fw.upstream, err)
		}
		return
	}
	if !f.track(up) {
		return
	}
	defer f.untrack(up)
	pipe(client, up)
}

// pipe copies a to b and b to a concurrently and returns when both copies
// have ended. The end of one direction's input is passed on as a half-close
// (the other direction goes on); an error closes both connections, which
// ends the other copy too.
func pipe(a, b net.Conn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		copyHalf(b, a)
	}()
	copyHalf(a, b)
	<-done
}

// copyHalf copies src to dst, then half-closes dst; on error it closes both.
func copyHalf(dst, src net.Conn) {
	if _, err := io.Copy(dst, src); err != nil {
		_ = dst.Close()
		_ = src.Close()
		return
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = dst.Close()
}

// track registers an open connection; after shutdown it closes c instead
// and reports false.
func (f *forwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		_ = c.Close()
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

// untrack closes c and forgets it.
func (f *forwarder) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	_ = c.Close()
}

// closeAll refuses new connections and closes every open one.
func (f *forwarder) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for c := range f.conns {
		_ = c.Close()
	}
}

// lockedWriter serialises writes from concurrent goroutines.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

// Write writes p under the lock.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
