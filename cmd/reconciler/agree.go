package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/fleet"
)

// agreedSource makes the nodes of a fleet act on the same commit: a node
// applies the newest commit it has fetched and validated only once every
// Ready member has fetched and validated it too (their cf tags); until
// then it keeps applying the commit it applied before. A node that starts
// while the fleet disagrees applies the commit the other members applied
// (their ca tags), loaded from its own clone. Placement is a function of
// the commit and the member list, so nodes that agree on both agree on
// every assignment, and no replica is run twice or dropped while a push
// spreads through the fleet.
type agreedSource struct {
	inner executor.Source
	// older loads a commit from the clone; nil for a directory source,
	// which has no history.
	older   func(ctx context.Context, rev string) (*config.Desired, error)
	members func() []fleet.Member
	self    string
	log     *slog.Logger

	mu     sync.Mutex
	latest string          // the newest revision fetched and validated
	agreed *config.Desired // what this node applies
	waited string          // the latest revision last logged as waiting
}

// Latest returns the newest revision this node fetched and validated, as
// it publishes it to the fleet.
func (a *agreedSource) Latest() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.latest
}

// Load returns the desired state this node applies now.
func (a *agreedSource) Load(ctx context.Context) (*config.Desired, error) {
	d, err := a.inner.Load(ctx)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.latest = d.Revision
	agreed := a.agreed
	a.mu.Unlock()
	behind, applied := a.fleetView(d.Revision)
	switch {
	case len(behind) == 0:
		agreed = d
	case agreed == nil && applied != "" && a.older != nil:
		if old, err := a.older(ctx, applied); err == nil {
			agreed = old
		} else {
			a.log.Warn("fleet: cannot load the commit the other nodes apply; applying the newest", "commit", applied, "err", err)
			agreed = d
		}
	case agreed == nil:
		agreed = d // nothing better known
	}
	a.mu.Lock()
	a.agreed = agreed
	if agreed.Revision != d.Revision && a.waited != d.Revision {
		a.waited = d.Revision
		a.log.Info("fleet: waiting for every node to fetch the newest commit", "commit", d.Revision,
			"applying", agreed.Revision, "behind", behind)
	}
	a.mu.Unlock()
	return agreed, nil
}

// fleetView returns the Ready members that have not fetched rev, and the
// commit the other Ready members applied when they all applied the same.
func (a *agreedSource) fleetView(rev string) (behind []string, applied string) {
	same := true
	for _, m := range a.members() {
		if m.Name == a.self || m.Status != fleet.Ready {
			continue
		}
		if m.Tags[fleet.TagFetched] != rev {
			behind = append(behind, m.Name)
		}
		ca := m.Tags[fleet.TagApplied]
		switch {
		case applied == "":
			applied = ca
		case ca != applied:
			same = false
		}
	}
	if !same {
		applied = ""
	}
	return behind, applied
}
