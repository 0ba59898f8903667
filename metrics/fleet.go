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
	descUnplaced = prometheus.NewDesc("reconciler_fleet_unplaced_replicas",
		"Replicas that run on no node: Pending (they fit nowhere) or NodeLost (bound to a node that stopped answering).",
		[]string{"namespace", "kind", "name", "state"}, nil)
	descPlacementChanges = prometheus.NewDesc("reconciler_fleet_placement_changes_total",
		"Passes in which this node's share of the fleet's replicas changed.", nil, nil)
	descNodesLost = prometheus.NewDesc("reconciler_fleet_nodes_lost_total",
		"Members this node saw turn NotReady (each one's movable replicas failed over to the others).", nil, nil)
)

// fleetCollector exports the membership as this node sees it. Node names
// are label values: a fleet has 2 to 20 of them.
type fleetCollector struct{ src Sources }

func (c *fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descMembers
	ch <- descNodeReady
	ch <- descUnplaced
	ch <- descPlacementChanges
	ch <- descNodesLost
}

func (c *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Loop != nil {
		st := c.src.Loop()
		for _, u := range st.Unplaced {
			for state, n := range map[string]int{"Pending": u.Pending, "NodeLost": u.NodeLost} {
				if n > 0 {
					ch <- prometheus.MustNewConstMetric(descUnplaced, prometheus.GaugeValue, float64(n),
						u.Key.Namespace, u.Key.Kind, u.Key.Name, state)
				}
			}
		}
		ch <- prometheus.MustNewConstMetric(descPlacementChanges, prometheus.CounterValue, float64(st.PlacementChanges))
		ch <- prometheus.MustNewConstMetric(descNodesLost, prometheus.CounterValue, float64(st.NodesLost))
	}
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
