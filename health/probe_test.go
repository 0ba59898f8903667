package health

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/reconciler/reconciler/runtime"
)

// published returns a target whose container port 8080 ("http") is
// published on addr.
func published(addr string) *Target {
	return &Target{
		ContainerID: "c1", PodKey: "ns/pod", Container: "app",
		Spec:  corev1.Container{Name: "app", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}},
		Ports: map[int32]string{8080: addr},
	}
}

// hostOf is the host:port of a test server's URL.
func hostOf(t *testing.T, rawURL string) string {
	t.Helper()
	ap, err := netip.ParseAddrPort(strings.TrimPrefix(strings.TrimPrefix(rawURL, "http://"), "https://"))
	if err != nil {
		t.Fatal(err)
	}
	return ap.String()
}

// httpProbe is an httpGet probe on the named port "http".
func httpProbe(scheme corev1.URIScheme, path string, headers ...corev1.HTTPHeader) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
		Path: path, Port: intstr.FromString("http"), Scheme: scheme, HTTPHeaders: headers,
	}}}
}

// statusServer answers /status/N with status N.
func statusServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/"))
		if err != nil {
			code = http.StatusNotFound
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPGetStatusCodes(t *testing.T) {
	srv := statusServer(t)
	pr := newProber(nil)
	cases := []struct {
		code int
		want verdict
		msg  string
	}{
		{200, passed, ""},
		{204, passed, ""},
		{302, passed, ""},
		{399, passed, ""},
		{400, failed, "HTTP probe failed with statuscode: 400"},
		{503, failed, "HTTP probe failed with statuscode: 503"},
	}
	for _, c := range cases {
		t.Run(strconv.Itoa(c.code), func(t *testing.T) {
			p := httpProbe("", "/status/"+strconv.Itoa(c.code))
			got := pr.probe(t.Context(), published(hostOf(t, srv.URL)), p, time.Second)
			if got.verdict != c.want || got.msg != c.msg {
				t.Errorf("got %v %q, want %v %q", got.verdict, got.msg, c.want, c.msg)
			}
		})
	}
}

func TestHTTPGetDoesNotFollowRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer other.Close()
	srv := httptest.NewServer(http.RedirectHandler(other.URL+"/down", http.StatusFound))
	defer srv.Close()

	got := newProber(nil).probe(t.Context(), published(hostOf(t, srv.URL)), httpProbe("HTTP", "/"), time.Second)
	if got.verdict != passed {
		t.Errorf("redirect: got %v %q, want passed", got.verdict, got.msg)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

func TestHTTPGetSendsHeadersAndPath(t *testing.T) {
	type seen struct {
		host, uri string
		header    http.Header
	}
	got := make(chan seen, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got <- seen{r.Host, r.RequestURI, r.Header}
	}))
	defer srv.Close()
	pr := newProber(nil)
	target := published(hostOf(t, srv.URL))

	p := httpProbe("", "/healthz?deep=1",
		corev1.HTTPHeader{Name: "X-Probe", Value: "yes"}, corev1.HTTPHeader{Name: "Host", Value: "app.example"})
	if o := pr.probe(t.Context(), target, p, time.Second); o.verdict != passed {
		t.Fatalf("got %v %q", o.verdict, o.msg)
	}
	s := <-got
	if s.host != "app.example" || s.uri != "/healthz?deep=1" || s.header.Get("X-Probe") != "yes" {
		t.Errorf("host %q uri %q X-Probe %q", s.host, s.uri, s.header.Get("X-Probe"))
	}
	if ua := s.header.Get("User-Agent"); !strings.HasPrefix(ua, "kube-probe/") || s.header.Get("Accept") != "*/*" {
		t.Errorf("default headers: User-Agent %q, Accept %q", ua, s.header.Get("Accept"))
	}
	if s.header.Get("Connection") != "close" {
		t.Errorf("Connection = %q, want close (keep-alives disabled)", s.header.Get("Connection"))
	}

	p = httpProbe("", "", corev1.HTTPHeader{Name: "user-agent", Value: "mine"})
	if o := pr.probe(t.Context(), target, p, time.Second); o.verdict != passed {
		t.Fatalf("got %v %q", o.verdict, o.msg)
	}
	if s := <-got; s.header.Get("User-Agent") != "mine" || s.uri != "/" {
		t.Errorf("User-Agent %q uri %q, want the probe's own and /", s.header.Get("User-Agent"), s.uri)
	}
}

func TestHTTPSWithSelfSignedCertificate(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	got := newProber(nil).probe(t.Context(), published(hostOf(t, srv.URL)), httpProbe("HTTPS", "/"), time.Second)
	if got.verdict != passed {
		t.Errorf("got %v %q, want passed", got.verdict, got.msg)
	}
}

func TestHTTPGetTimesOutOnHangingHandler(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	p := httpProbe("", "/")
	p.TimeoutSeconds = 1
	start := time.Now()
	got := newProber(nil).probe(t.Context(), published(hostOf(t, srv.URL)), p, timingOf(p).timeout)
	elapsed := time.Since(start)
	if got.verdict != failed || !strings.Contains(got.msg, "deadline exceeded") {
		t.Errorf("got %v %q, want a timeout failure", got.verdict, got.msg)
	}
	if elapsed < time.Second || elapsed > 3*time.Second {
		t.Errorf("the probe took %v, want about timeoutSeconds (1s)", elapsed)
	}
}

func TestHTTPGetRefusedAndBadScheme(t *testing.T) {
	pr := newProber(nil)
	got := pr.probe(t.Context(), published(closedAddr(t)), httpProbe("", "/"), time.Second)
	if got.verdict != failed || !strings.Contains(got.msg, "refused") {
		t.Errorf("closed port: got %v %q", got.verdict, got.msg)
	}
	got = pr.probe(t.Context(), published("127.0.0.1:1"), httpProbe("FTP", "/"), time.Second)
	if got.verdict != failed || !strings.Contains(got.msg, "unsupported scheme") {
		t.Errorf("ftp: got %v %q", got.verdict, got.msg)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestTCPSocket(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			// The prober closes at once: the read ends with EOF.
			_, err = c.Read(make([]byte, 1))
			c.Close()
		}
		accepted <- err
	}()
	tcp := func(port intstr.IntOrString) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: port}}}
	}
	pr := newProber(nil)

	if got := pr.probe(t.Context(), published(l.Addr().String()), tcp(intstr.FromInt32(8080)), time.Second); got.verdict != passed {
		t.Errorf("open port: got %v %q", got.verdict, got.msg)
	}
	if err := <-accepted; err == nil || !strings.Contains(err.Error(), "EOF") {
		t.Errorf("server side: %v, want EOF (connection closed by the prober)", err)
	}
	got := pr.probe(t.Context(), published(closedAddr(t)), tcp(intstr.FromString("http")), time.Second)
	if got.verdict != failed || !strings.Contains(got.msg, "refused") {
		t.Errorf("closed port: got %v %q", got.verdict, got.msg)
	}
}

func TestPortResolution(t *testing.T) {
	target := published("127.0.0.1:1")
	target.Spec.Ports = append(target.Spec.Ports, corev1.ContainerPort{Name: "admin", ContainerPort: 9090})
	cases := []struct {
		port    intstr.IntOrString
		addr    string
		wantErr string
	}{
		{intstr.FromInt32(8080), "127.0.0.1:1", ""},
		{intstr.FromString("http"), "127.0.0.1:1", ""},
		{intstr.FromString("admin"), "", `port 9090 is not published on the host`},
		{intstr.FromInt32(7000), "", `port 7000 is not published on the host`},
		{intstr.FromString("metrics"), "", `port "metrics" is not a port of container "app"`},
	}
	for _, c := range cases {
		addr, err := hostAddr(target, c.port)
		if addr != c.addr || (err == nil) != (c.wantErr == "") || (err != nil && err.Error() != c.wantErr) {
			t.Errorf("%s: got %q, %v; want %q, %q", c.port.String(), addr, err, c.addr, c.wantErr)
		}
	}
	// Through the prober, an unpublished port is a failure that says so.
	got := newProber(nil).probe(t.Context(), target, &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
		TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("admin")}}}, time.Second)
	if got.verdict != failed || got.msg != "port 9090 is not published on the host" {
		t.Errorf("got %v %q", got.verdict, got.msg)
	}
}

// execFunc adapts a function to Execer.
type execFunc func(ctx context.Context, id string, cmd []string) (runtime.ExecResult, error)

func (f execFunc) Exec(ctx context.Context, id string, cmd []string) (runtime.ExecResult, error) {
	return f(ctx, id, cmd)
}

func TestExecProbe(t *testing.T) {
	exitWith := func(code int, out string) execFunc {
		return func(context.Context, string, []string) (runtime.ExecResult, error) {
			return runtime.ExecResult{ExitCode: code, Stdout: []byte(out)}, nil
		}
	}
	hang := execFunc(func(ctx context.Context, _ string, _ []string) (runtime.ExecResult, error) {
		<-ctx.Done()
		return runtime.ExecResult{}, ctx.Err()
	})
	broken := execFunc(func(context.Context, string, []string) (runtime.ExecResult, error) {
		return runtime.ExecResult{}, errors.New("container is not running")
	})
	cases := []struct {
		name    string
		exec    Execer
		want    verdict
		msg     string
		elapsed time.Duration
	}{
		{"exit 0", exitWith(0, ""), passed, "", 0},
		{"exit 1", exitWith(1, "not yet\n"), failed, `command ["check"] exited with code 1: not yet`, 0},
		{"engine error", broken, errored, `exec ["check"]: container is not running`, 0},
		{"hangs", hang, failed, `command ["check"] timed out after 2s`, 2 * time.Second},
		{"no runtime", nil, errored, "no runtime to exec in", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := &corev1.Probe{TimeoutSeconds: 2, ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"check"}}}}
				start := time.Now()
				got := newProber(c.exec).probe(t.Context(), published(""), p, timingOf(p).timeout)
				if got.verdict != c.want || got.msg != c.msg {
					t.Errorf("got %v %q, want %v %q", got.verdict, got.msg, c.want, c.msg)
				}
				if e := time.Since(start); e != c.elapsed {
					t.Errorf("took %v, want %v", e, c.elapsed)
				}
			})
		})
	}
}

func TestGRPCProbeErrors(t *testing.T) {
	p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 8080}}}
	if got := newProber(nil).probe(t.Context(), published(""), p, time.Second); got.verdict != errored {
		t.Errorf("got %v %q, want errored", got.verdict, got.msg)
	}
}
