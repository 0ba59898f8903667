package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/fleet"
)

// peerPoller fetches every other Ready member's report (GET /api/v1/peer
// on the API address it publishes) about once a second, and pokes the
// loop when one changes. It implements executor.Peers.
type peerPoller struct {
	fl     *fleet.Fleet
	self   string
	every  time.Duration
	client *http.Client
	poke   func()
	log    *slog.Logger

	mu      sync.Mutex
	reports map[string]executor.PeerReport
	failing map[string]bool // nodes whose last fetch failed, to log once
}

func newPeerPoller(fl *fleet.Fleet, self string, poke func(), log *slog.Logger) *peerPoller {
	return &peerPoller{fl: fl, self: self, every: time.Second, poke: poke, log: log,
		client:  &http.Client{Timeout: time.Second},
		reports: map[string]executor.PeerReport{}, failing: map[string]bool{}}
}

// Reports returns the latest report of every member that is Ready now.
func (p *peerPoller) Reports() []executor.PeerReport {
	ready := map[string]bool{}
	for _, m := range p.fl.Members() {
		ready[m.Name] = m.Status == fleet.Ready
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]executor.PeerReport, 0, len(p.reports))
	for node, r := range p.reports {
		if ready[node] {
			out = append(out, r)
		}
	}
	return out
}

// Run polls until ctx ends.
func (p *peerPoller) Run(ctx context.Context) error {
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		p.pollAll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-p.fl.Changes():
			p.poke() // membership changed: placement may have too
		}
	}
}

// pollAll fetches the Ready members' reports side by side and forgets the
// others'.
func (p *peerPoller) pollAll(ctx context.Context) {
	type result struct {
		node string
		r    executor.PeerReport
		err  error
	}
	var targets []fleet.Member
	for _, m := range p.fl.Members() {
		if m.Name != p.self && m.Status == fleet.Ready && m.Tags[fleet.TagAPI] != "" {
			targets = append(targets, m)
		}
	}
	results := make(chan result, len(targets))
	for _, m := range targets {
		go func(m fleet.Member) {
			r, err := p.fetch(ctx, m.Tags[fleet.TagAPI])
			results <- result{m.Name, r, err}
		}(m)
	}
	next := map[string]executor.PeerReport{}
	for range targets {
		res := <-results
		p.noteFailure(res.node, res.err)
		if res.err == nil {
			next[res.node] = res.r
		} else if old, ok := p.report(res.node); ok {
			next[res.node] = old // keep the last report while the node is Ready
		}
	}
	p.mu.Lock()
	changed := !reflect.DeepEqual(next, p.reports)
	p.reports = next
	p.mu.Unlock()
	if changed {
		p.poke()
	}
}

func (p *peerPoller) report(node string) (executor.PeerReport, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.reports[node]
	return r, ok
}

func (p *peerPoller) noteFailure(node string, err error) {
	p.mu.Lock()
	was := p.failing[node]
	p.failing[node] = err != nil
	p.mu.Unlock()
	switch {
	case err != nil && !was:
		p.log.Warn("fleet: cannot read a member's report", "member", node, "err", err)
	case err == nil && was:
		p.log.Info("fleet: reading a member's report again", "member", node)
	}
}

func (p *peerPoller) fetch(ctx context.Context, api string) (executor.PeerReport, error) {
	var r executor.PeerReport
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL(api)+"/api/v1/peer", nil)
	if err != nil {
		return r, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("GET /api/v1/peer: %s", resp.Status)
	}
	return r, json.NewDecoder(resp.Body).Decode(&r)
}

// apiURL turns a published API address into a base URL.
func apiURL(addr string) string { return "http://" + addr }
