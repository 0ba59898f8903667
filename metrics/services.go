package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

var descEndpoints = prometheus.NewDesc("reconciler_service_endpoints",
	"Ready endpoints (pods) the proxy balances a Service's port over.", []string{"namespace", "service", "port"}, nil)

// serviceCollector exports the Services' endpoint counts from the loop's
// status; the proxy's own traffic metrics are registered by package lb.
type serviceCollector struct{ src Sources }

func (c *serviceCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descEndpoints }

func (c *serviceCollector) Collect(ch chan<- prometheus.Metric) {
	for _, e := range c.src.Loop().Endpoints {
		for _, p := range e.Ports {
			name := p.Name
			if name == "" {
				name = prometheusPort(p.Port)
			}
			ch <- prometheus.MustNewConstMetric(descEndpoints, prometheus.GaugeValue, float64(len(p.Endpoints)),
				e.Namespace, e.Name, name)
		}
	}
}

// prometheusPort names an unnamed port by its number.
func prometheusPort(n int32) string { return strconv.Itoa(int(n)) }
