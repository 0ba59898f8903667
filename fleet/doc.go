// Package fleet is a daemon's membership in a small fleet of reconciler
// nodes: its identity (name, labels, the address clients use to reach
// it), gossip with the other nodes over serf, and the live member list that
// the caller hands to the planner as data.
//
// Membership is SWIM gossip (hashicorp/serf on memberlist), encrypted with
// a shared key: a node without the key can neither join nor read the
// gossip. Each node publishes its labels and a few small data tags (the
// commit it applied, its allocatable resources, ...) as serf tags; every
// node sees every other node's tags within a few gossip rounds.
//
// A member that serf reports failed is still Ready until it has been
// unreachable for NotReadyAfter, then NotReady; a member that left
// gracefully is Left. Placement itself is not decided here: it is the pure
// function planner.Place, which every node computes from the same member
// list.
//
// A Fleet is created by New, which starts nothing, and runs in Run(ctx),
// which owns every goroutine and leaves the fleet gracefully when ctx ends.
package fleet
