package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/fleet"
	"github.com/reconciler/reconciler/planner"
)

func TestFleetCollector(t *testing.T) {
	members := []fleet.Member{{Name: "a", Status: fleet.Ready}, {Name: "b", Status: fleet.NotReady}, {Name: "c", Status: fleet.Left}}
	reg := prometheus.NewRegistry()
	st := executor.Status{PlacementChanges: 3, NodesLost: 1, Unplaced: []planner.Unplaced{
		{Key: config.Key{Namespace: "ns", Kind: "Deployment", Name: "big"}, Pending: 2, Reason: "0/3 nodes are available"},
		{Key: config.Key{Namespace: "ns", Kind: "Deployment", Name: "db"}, NodeLost: 1, Reason: "node b is unresponsive"}}}
	reg.MustRegister(&fleetCollector{src: Sources{Members: func() []fleet.Member { return members },
		Loop: func() executor.Status { return st }}})
	want := `
# HELP reconciler_fleet_members Members of the fleet as this node sees them, by status (Ready, NotReady, Left).
# TYPE reconciler_fleet_members gauge
reconciler_fleet_members{status="Left"} 1
reconciler_fleet_members{status="NotReady"} 1
reconciler_fleet_members{status="Ready"} 1
# HELP reconciler_fleet_node_ready 1 while a member of the fleet is Ready, 0 while it is NotReady (members that left are not listed).
# TYPE reconciler_fleet_node_ready gauge
reconciler_fleet_node_ready{node="a"} 1
reconciler_fleet_node_ready{node="b"} 0
# HELP reconciler_fleet_nodes_lost_total Members this node saw turn NotReady (each one's movable replicas failed over to the others).
# TYPE reconciler_fleet_nodes_lost_total counter
reconciler_fleet_nodes_lost_total 1
# HELP reconciler_fleet_placement_changes_total Passes in which this node's share of the fleet's replicas changed.
# TYPE reconciler_fleet_placement_changes_total counter
reconciler_fleet_placement_changes_total 3
# HELP reconciler_fleet_unplaced_replicas Replicas that run on no node: Pending (they fit nowhere) or NodeLost (bound to a node that stopped answering).
# TYPE reconciler_fleet_unplaced_replicas gauge
reconciler_fleet_unplaced_replicas{kind="Deployment",name="big",namespace="ns",state="Pending"} 2
reconciler_fleet_unplaced_replicas{kind="Deployment",name="db",namespace="ns",state="NodeLost"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	empty := prometheus.NewRegistry()
	empty.MustRegister(&fleetCollector{})
	if n, err := testutil.GatherAndCount(empty); err != nil || n != 0 {
		t.Errorf("without members: %d series, %v", n, err)
	}
}
