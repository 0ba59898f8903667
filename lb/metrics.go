package lb

import (
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Error reasons of reconciler_proxy_errors_total.
const (
	reasonNoEndpoint = iota // no ready endpoint
	reasonDial              // a dial to an endpoint failed
	reasonUpstream          // an endpoint failed or broke HTTP after the dial
	numReasons
)

var reasonNames = [numReasons]string{"no_endpoint", "dial", "upstream"}

// durationBounds are the upper bounds of the request duration histogram, in
// seconds: fine below a millisecond, where a local proxy's answers fall.
var durationBounds = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// portMetrics are a port's counters, updated with atomics on the hot path
// and read by the collector at scrape time.
type portMetrics struct {
	codes   [5]atomic.Uint64 // 1xx..5xx
	errors  [numReasons]atomic.Uint64
	active  atomic.Int64 // client connections open
	buckets [17]atomic.Uint64
	count   atomic.Uint64
	sumNs   atomic.Int64
}

// request records one HTTP request's answer and duration.
func (m *portMetrics) request(status int, d time.Duration) {
	if c := status/100 - 1; c >= 0 && c < len(m.codes) {
		m.codes[c].Add(1)
	}
	s := d.Seconds()
	i := 0
	for i < len(durationBounds) && s > durationBounds[i] {
		i++
	}
	m.buckets[i].Add(1)
	m.sumNs.Add(int64(d))
	m.count.Add(1)
}

func (m *portMetrics) fail(reason int) { m.errors[reason].Add(1) }

// collector exposes the proxy's counters; the series of a port or an
// endpoint disappear with it.
type collector struct {
	p                                          *Proxy
	requests, errors, duration, active, flight *prometheus.Desc
}

func newCollector(p *Proxy) *collector {
	l := []string{"namespace", "service", "port"}
	return &collector{
		p: p,
		requests: prometheus.NewDesc("reconciler_proxy_requests_total",
			"HTTP requests answered through the proxy, by status code class.", append(l, "code"), nil),
		errors: prometheus.NewDesc("reconciler_proxy_errors_total",
			"Proxy failures by reason: no_endpoint (none ready), dial (an endpoint refused or timed out), upstream (an endpoint failed after the dial).", append(l, "reason"), nil),
		duration: prometheus.NewDesc("reconciler_proxy_request_duration_seconds",
			"Time from an HTTP request's head read to its answer written.", l, nil),
		active: prometheus.NewDesc("reconciler_proxy_active_connections",
			"Client connections open to a Service port.", l, nil),
		flight: prometheus.NewDesc("reconciler_proxy_inflight_requests",
			"Requests (TCP: connections) in flight to a ready endpoint.", append(l, "endpoint"), nil),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.errors, c.duration, c.active, c.flight} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	for _, pt := range c.p.ports {
		c.collectPort(ch, pt)
	}
}

var codeClasses = [5]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

func (c *collector) collectPort(ch chan<- prometheus.Metric, pt *port) {
	k := pt.key
	m := &pt.m
	set := pt.set.Load()
	if set.protocol != ProtocolTCP {
		for i := range m.codes {
			ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(m.codes[i].Load()), k.ns, k.name, k.port, codeClasses[i])
		}
		buckets := make(map[float64]uint64, len(durationBounds))
		var cum uint64
		for i, b := range durationBounds {
			cum += m.buckets[i].Load()
			buckets[b] = cum
		}
		count := max(m.count.Load(), cum)
		sum := float64(m.sumNs.Load()) / float64(time.Second)
		ch <- prometheus.MustNewConstHistogram(c.duration, count, sum, buckets, k.ns, k.name, k.port)
	}
	for i := range m.errors {
		ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(m.errors[i].Load()), k.ns, k.name, k.port, reasonNames[i])
	}
	ch <- prometheus.MustNewConstMetric(c.active, prometheus.GaugeValue, float64(m.active.Load()), k.ns, k.name, k.port)
	for i, ep := range set.eps {
		if slices.ContainsFunc(set.eps[:i], func(o *endpoint) bool { return o.addr == ep.addr }) {
			continue // two pods at one address: one series
		}
		ch <- prometheus.MustNewConstMetric(c.flight, prometheus.GaugeValue, math.Max(0, float64(ep.active.Load())), k.ns, k.name, k.port, ep.addr)
	}
}
