package fleet

import (
	"net"
	"testing"
	"time"

	"github.com/hashicorp/serf/serf"
)

func TestTrackerStatus(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	after := 30 * time.Second
	steps := []struct {
		name   string
		at     time.Duration
		serf   serf.MemberStatus
		want   Status
		seenAt time.Duration
	}{
		{"an alive member is Ready, seen now", 0, serf.StatusAlive, Ready, 0},
		{"a failed member is still Ready", 10 * time.Second, serf.StatusFailed, Ready, 10 * time.Second},
		{"just before the timeout it is still Ready", 40*time.Second - time.Nanosecond, serf.StatusFailed, Ready, 10 * time.Second},
		{"at the timeout it is NotReady", 40 * time.Second, serf.StatusFailed, NotReady, 10 * time.Second},
		{"an answer makes it Ready again", 41 * time.Second, serf.StatusAlive, Ready, 41 * time.Second},
		{"a new failure starts the timeout again", 50 * time.Second, serf.StatusFailed, Ready, 50 * time.Second},
		{"a leave is Left at once", 51 * time.Second, serf.StatusLeaving, Left, 50 * time.Second},
		{"and stays Left", 200 * time.Second, serf.StatusLeft, Left, 50 * time.Second},
	}
	tr := newTracker(after)
	for _, s := range steps {
		st, seen := tr.observe("n", healthOf(s.serf), t0.Add(s.at))
		if st != s.want || !seen.Equal(t0.Add(s.seenAt)) {
			t.Errorf("%s: %s seen %v, want %s seen %v", s.name, st, seen.Sub(t0), s.want, s.seenAt)
		}
	}
	tr.forget(map[string]bool{})
	if st, _ := tr.observe("n", healthFailed, t0.Add(300*time.Second)); st != Ready {
		t.Errorf("a forgotten member keeps its old failure time: %s", st)
	}
}

func TestMemberOf(t *testing.T) {
	m := serf.Member{Name: "n1", Addr: net.ParseIP("10.0.0.7"), Port: 7946, Status: serf.StatusAlive,
		Tags: map[string]string{"l:zone": "a", "l:" + HostnameLabel: "n1", "a": "192.0.2.1", TagApplied: "abc"}}
	now := time.Unix(100, 0)
	got := memberOf(&m, Ready, now)
	if got.Address != "192.0.2.1" || got.Gossip != "10.0.0.7:7946" || got.Labels["zone"] != "a" ||
		len(got.Labels) != 2 || len(got.Tags) != 1 || got.Tags[TagApplied] != "abc" || !got.LastSeen.Equal(now) {
		t.Fatalf("memberOf = %+v", got)
	}
	delete(m.Tags, "a")
	if got := memberOf(&m, Ready, now); got.Address != "10.0.0.7" {
		t.Fatalf("without an address tag, Address = %q, want the gossip IP", got.Address)
	}
}

func TestSameMembersIgnoresLastSeen(t *testing.T) {
	a := []Member{{Name: "x", Status: Ready, LastSeen: time.Unix(1, 0), Tags: map[string]string{"k": "v"}}}
	b := []Member{{Name: "x", Status: Ready, LastSeen: time.Unix(2, 0), Tags: map[string]string{"k": "v"}}}
	if !sameMembers(a, b) {
		t.Error("LastSeen alone counts as a change")
	}
	b[0].Tags = map[string]string{"k": "w"}
	if sameMembers(a, b) {
		t.Error("a tag change is not a change")
	}
	if sameMembers(a, nil) {
		t.Error("a removed member is not a change")
	}
}
