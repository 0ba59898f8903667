package main

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/fleet"
)

// fixedSource always loads the same revision.
type fixedSource struct{ rev string }

func (s *fixedSource) Load(context.Context) (*config.Desired, error) {
	return &config.Desired{Revision: s.rev}, nil
}

func member(name string, status fleet.Status, fetched, applied string) fleet.Member {
	return fleet.Member{Name: name, Status: status, Tags: map[string]string{fleet.TagFetched: fetched, fleet.TagApplied: applied}}
}

func TestAgreedSource(t *testing.T) {
	olderLoads := 0
	older := func(_ context.Context, rev string) (*config.Desired, error) {
		olderLoads++
		if rev == "gone" {
			return nil, errors.New("not in the clone")
		}
		return &config.Desired{Revision: rev}, nil
	}
	tests := []struct {
		name    string
		members []fleet.Member
		prev    string // the revision agreed before ("" for none)
		want    string
	}{
		{"a fleet of one applies what it fetched", nil, "", "c2"},
		{"every Ready member fetched it", []fleet.Member{member("b", fleet.Ready, "c2", "c1")}, "c1", "c2"},
		{"NotReady members do not hold the fleet", []fleet.Member{member("b", fleet.NotReady, "c1", "c1")}, "c1", "c2"},
		{"one member is behind: keep the previous", []fleet.Member{member("b", fleet.Ready, "c2", "c1"), member("c", fleet.Ready, "c1", "c1")}, "c1", "c1"},
		{"a node starting behind the others' agreement applies theirs",
			[]fleet.Member{member("b", fleet.Ready, "c1", "c1"), member("c", fleet.Ready, "c1", "c1")}, "", "c1"},
		{"members applying different commits: nothing better than the newest",
			[]fleet.Member{member("b", fleet.Ready, "c1", "c0"), member("c", fleet.Ready, "c1", "c1")}, "", "c2"},
		{"the others' commit is not in the clone: the newest",
			[]fleet.Member{member("b", fleet.Ready, "c1", "gone")}, "", "c2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &agreedSource{inner: &fixedSource{rev: "c2"}, older: older, self: "a", log: slog.New(slog.DiscardHandler),
				members: func() []fleet.Member {
					return append([]fleet.Member{member("a", fleet.Ready, "c2", "")}, tt.members...)
				}}
			if tt.prev != "" {
				a.agreed = &config.Desired{Revision: tt.prev}
			}
			d, err := a.Load(context.Background())
			if err != nil || d.Revision != tt.want {
				t.Fatalf("Load = %v, %v; want %s", d, err, tt.want)
			}
			if a.Latest() != "c2" {
				t.Errorf("Latest = %q, want the newest fetched", a.Latest())
			}
		})
	}
	if olderLoads != 2 {
		t.Errorf("older commits loaded %d times, want 2", olderLoads)
	}
}
