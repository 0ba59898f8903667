package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/planner"
)

func TestPrintStatusFleet(t *testing.T) {
	st := &executor.Status{Node: "b", EngineUp: true, Cordoned: true,
		Handover: []string{"shop/Deployment/web: 1 of 3 replicas until the other nodes have theirs"},
		Unplaced: []planner.Unplaced{
			{Key: config.Key{Namespace: "shop", Kind: "Deployment", Name: "big"}, Pending: 2, Reason: "0/3 nodes are available: 3 Insufficient memory."},
			{Key: config.Key{Namespace: "shop", Kind: "Pod", Name: "db"}, NodeLost: 1, Reason: "node c is unresponsive"},
		}}
	var b bytes.Buffer
	printStatus(&b, st, nil)
	out := b.String()
	for _, want := range []string{
		"Node:            b (cordoned: takes no new pods)\n",
		"Handing over:    shop/Deployment/web: 1 of 3 replicas until the other nodes have theirs\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if !hasRow(out, "shop", "Deployment", "big", "-", "2", "Pending", "0/3") || !hasRow(out, "shop", "Pod", "db", "-", "1", "NodeLost") {
		t.Errorf("status lacks the unplaced rows:\n%s", out)
	}
}
