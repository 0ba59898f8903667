package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reconciler/reconciler/fleet"
)

var (
	descMembers = prometheus.NewDesc("reconciler_fleet_members",
		"Members of the fleet as this node sees them, by status (Ready, NotReady, Left).", []string{"status"}, nil)
	descNodeReady = prometheus.NewDesc("reconciler_fleet_node_ready",
		"1 while a member of the fleet is Ready, 0 while it is NotReady (members that left are not listed).", []string{"node"}, nil)
)

// fleetCollector exports the membership as this node sees it. Node names
// are label values: a fleet has 2 to 20 of them.
type fleetCollector struct{ src Sources }

func (c *fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descMembers
	ch <- descNodeReady
}

func (c *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Members == nil {
		return
	}
	count := map[fleet.Status]int{fleet.Ready: 0, fleet.NotReady: 0, fleet.Left: 0}
	for _, m := range c.src.Members() {
		count[m.Status]++
		if m.Status == fleet.Left {
			continue
		}
		ready := 0.0
		if m.Status == fleet.Ready {
			ready = 1
		}
		ch <- prometheus.MustNewConstMetric(descNodeReady, prometheus.GaugeValue, ready, m.Name)
	}
	for s, n := range count {
		ch <- prometheus.MustNewConstMetric(descMembers, prometheus.GaugeValue, float64(n), string(s))
	}
}
