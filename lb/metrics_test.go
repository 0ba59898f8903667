package lb

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	p, err := New(Options{Logger: slog.New(slog.DiscardHandler), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	b := backend(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("ok"))
	}))
	s := service(t, ProtocolHTTP, b)
	s.Ports[0].Endpoints = append(s.Ports[0].Endpoints, Endpoint{Key: "dead", Addr: deadAddr(t)})
	update(t, p, s)
	c := client(t)
	for _, path := range []string{"/", "/", "/missing", "/"} {
		get(t, c, "http://"+addrOf(s)+path)
	}
	s.Ports[0].Endpoints = nil
	update(t, p, s)
	get(t, c, "http://"+addrOf(s)+"/")

	expected := `
# HELP reconciler_proxy_errors_total Proxy failures by reason: no_endpoint (none ready), dial (an endpoint refused or timed out), upstream (an endpoint failed after the dial).
# TYPE reconciler_proxy_errors_total counter
reconciler_proxy_errors_total{namespace="ns",port="web",reason="dial",service="svc"} 2
reconciler_proxy_errors_total{namespace="ns",port="web",reason="no_endpoint",service="svc"} 1
reconciler_proxy_errors_total{namespace="ns",port="web",reason="upstream",service="svc"} 0
# HELP reconciler_proxy_requests_total HTTP requests answered through the proxy, by status code class.
# TYPE reconciler_proxy_requests_total counter
reconciler_proxy_requests_total{code="1xx",namespace="ns",port="web",service="svc"} 0
reconciler_proxy_requests_total{code="2xx",namespace="ns",port="web",service="svc"} 3
reconciler_proxy_requests_total{code="3xx",namespace="ns",port="web",service="svc"} 0
reconciler_proxy_requests_total{code="4xx",namespace="ns",port="web",service="svc"} 1
reconciler_proxy_requests_total{code="5xx",namespace="ns",port="web",service="svc"} 1
`
	// A request is counted once its answer is written: the client may see
	// it first.
	eventually(t, func() error {
		return testutil.GatherAndCompare(reg, strings.NewReader(expected), "reconciler_proxy_errors_total", "reconciler_proxy_requests_total")
	})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "reconciler_proxy_request_duration_seconds":
			if h := mf.GetMetric()[0].GetHistogram(); h.GetSampleCount() != 5 || h.GetSampleSum() <= 0 {
				t.Errorf("duration histogram: %d samples, sum %v", h.GetSampleCount(), h.GetSampleSum())
			}
		case "reconciler_proxy_active_connections":
			if v := mf.GetMetric()[0].GetGauge().GetValue(); v < 1 {
				t.Errorf("active connections %v, want the client's", v)
			}
		case "reconciler_proxy_inflight_requests":
			t.Errorf("in-flight series of endpoints that left: %v", mf.GetMetric())
		}
	}
}

func TestInFlightPerEndpoint(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	p, err := New(Options{Logger: slog.New(slog.DiscardHandler), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	slow, entered, release := slowBackend(t)
	defer close(release)
	s := service(t, ProtocolHTTP, slow)
	update(t, p, s)
	go client(t).Get("http://" + addrOf(s) + "/")
	<-entered
	expected := `
# HELP reconciler_proxy_inflight_requests Requests (TCP: connections) in flight to a ready endpoint.
# TYPE reconciler_proxy_inflight_requests gauge
reconciler_proxy_inflight_requests{endpoint="` + slow + `",namespace="ns",port="web",service="svc"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expected), "reconciler_proxy_inflight_requests"); err != nil {
		t.Fatal(err)
	}
	s.Ports[0].Endpoints = nil
	update(t, p, s)
	if n := testutil.CollectAndCount(newCollector(p), "reconciler_proxy_inflight_requests"); n != 0 {
		t.Fatalf("%d in-flight series after the endpoint left", n)
	}
}
