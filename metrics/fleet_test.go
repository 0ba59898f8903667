package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/reconciler/reconciler/fleet"
)

func TestFleetCollector(t *testing.T) {
	members := []fleet.Member{{Name: "a", Status: fleet.Ready}, {Name: "b", Status: fleet.NotReady}, {Name: "c", Status: fleet.Left}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(&fleetCollector{src: Sources{Members: func() []fleet.Member { return members }}})
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
