package gitsync

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// gitHTTP serves the repositories under a directory with `git
// http-backend` on 127.0.0.1, optionally behind basic authentication. It
// can be stopped and started again on the same address.
type gitHTTP struct {
	t        *testing.T
	handler  http.Handler
	addr     string
	requests atomic.Int64

	mu  sync.Mutex
	srv *httptest.Server
}

// serveHTTP serves the parent directory of src.dir; the repository's URL is
// url(src). A non-empty token requires basic auth with user "git".
func serveHTTP(t *testing.T, src *source, token string) *gitHTTP {
	t.Helper()
	git := requireTool(t, "git")
	backend := &cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		Env:  []string{"GIT_PROJECT_ROOT=" + filepath.Dir(src.dir), "GIT_HTTP_EXPORT_ALL=1"},
	}
	g := &gitHTTP{t: t}
	g.handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		g.requests.Add(1)
		if token != "" {
			user, pass, ok := req.BasicAuth()
			if !ok || user != "git" || subtle.ConstantTimeCompare([]byte(pass), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		backend.ServeHTTP(w, req)
	})
	g.start()
	t.Cleanup(g.stop)
	return g
}

// url is the repository's http URL.
func (g *gitHTTP) url(src *source) string {
	return "http://" + g.addr + "/" + filepath.Base(src.dir)
}

// start (re)starts the server, on the same address after a stop.
func (g *gitHTTP) start() {
	g.mu.Lock()
	defer g.mu.Unlock()
	addr := g.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		g.t.Fatalf("listen %s: %v", addr, err)
	}
	g.srv = httptest.NewUnstartedServer(g.handler)
	g.srv.Listener.Close()
	g.srv.Listener = ln
	g.srv.Start()
	g.addr = ln.Addr().String()
}

// stop closes the server and its connections.
func (g *gitHTTP) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.srv != nil {
		g.srv.CloseClientConnections()
		g.srv.Close()
		g.srv = nil
	}
}
