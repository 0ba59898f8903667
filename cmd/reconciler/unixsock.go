package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
)

// The daemon's API can listen on a unix socket (`--listen
// unix:/run/reconciler/api.sock`), reachable only through the file's
// permissions, and the CLI reaches it with `--server unix:PATH`. The
// socket's path must end in ".sock": in a URL such as
// unix:/run/reconciler/api.sock/api/v1/status, that is where the socket
// path ends and the API path begins.

const unixPrefix = "unix:"

// listenAPI listens on a TCP address or, with the unix: prefix, on a unix
// socket (a stale socket file is replaced; the socket is mode 0660).
func listenAPI(addr string) (net.Listener, error) {
	path, ok := strings.CutPrefix(addr, unixPrefix)
	if !ok {
		return net.Listen("tcp", addr)
	}
	path = "/" + strings.TrimLeft(path, "/")
	if !strings.HasSuffix(path, ".sock") {
		return nil, fmt.Errorf("--listen %s: a unix socket path must end in .sock", addr)
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o660); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// unixTransport serves unix: URLs for the CLI's HTTP client.
type unixTransport struct {
	mu    sync.Mutex
	byKey map[string]*http.Transport
}

func init() {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		t.RegisterProtocol("unix", &unixTransport{byKey: map[string]*http.Transport{}})
	}
}

// RoundTrip sends the request over the socket named in the URL's path.
func (u *unixTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := req.URL.Path
	if p == "" {
		p = req.URL.Opaque
	}
	i := strings.Index(p, ".sock")
	if i < 0 {
		return nil, errors.New("unix socket URL: the socket path must end in .sock")
	}
	sock, rest := p[:i+len(".sock")], p[i+len(".sock"):]
	u.mu.Lock()
	t, ok := u.byKey[sock]
	if !ok {
		t = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}
		u.byKey[sock] = t
	}
	u.mu.Unlock()
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.URL.Path, out.URL.Opaque = "http", "localhost", rest, ""
	if out.URL.Path == "" {
		out.URL.Path = "/"
	}
	out.Host = "localhost"
	return t.RoundTrip(out)
}
