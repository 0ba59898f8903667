package fleet

import (
	"context"
	"errors"
	"maps"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/serf/serf"
)

func TestMembersJoinSeeLabelsTagsAndLeave(t *testing.T) {
	t.Parallel()
	k := key(1)
	a := startNode(t, "a", "127.0.77.1", k, nil, nil, nil)
	b := startNode(t, "b", "127.0.77.2", k, []string{a.f.Addr()}, nil, nil)
	c := startNode(t, "c", "127.0.77.3", k, []string{b.f.Addr()}, func(o *Options) {
		o.Tags = map[string]string{TagApplied: "c0ffee"}
	}, nil)
	for _, n := range []*testNode{a, b, c} {
		eventually(t, 5*time.Second, n.f.opt.Node+" sees three Ready members", func() bool {
			ms := n.f.Members()
			return len(ms) == 3 && ms[0].Status == Ready && ms[1].Status == Ready && ms[2].Status == Ready
		})
	}
	got, _ := member(a.f, "c")
	wantLabels := map[string]string{"zone": "z-c", HostnameLabel: "c"}
	if got.Address != "127.0.77.3" || !maps.Equal(got.Labels, wantLabels) || got.Tags[TagApplied] != "c0ffee" ||
		!strings.HasPrefix(got.Gossip, "127.0.77.3:") {
		t.Fatalf("a sees c as %+v", got)
	}
	if names := []string{a.f.Members()[0].Name, a.f.Members()[1].Name, a.f.Members()[2].Name}; strings.Join(names, ",") != "a,b,c" {
		t.Fatalf("members not sorted by name: %v", names)
	}

	// A tag update reaches the others, and they are told.
	drainChanges(a.f)
	if err := b.f.SetTags(map[string]string{TagApplied: "deadbeef", TagPods: "3"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "c sees b's new tags", func() bool {
		m, _ := member(c.f, "b")
		return m.Tags[TagApplied] == "deadbeef" && m.Tags[TagPods] == "3"
	})
	waitChange(t, a.f, "a is told b's tags changed")

	// A node whose Run ends leaves: the others see it Left, not failed.
	if err := c.stop(t); err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	for _, n := range []*testNode{a, b} {
		eventually(t, 5*time.Second, n.f.opt.Node+" sees c Left", func() bool { return statusOf(n.f, "c") == Left })
	}
	if m := c.f.Members(); len(m) != 1 || m[0].Status != Left {
		t.Fatalf("after Run, c sees %+v", m)
	}
}

func TestKilledMemberBecomesNotReadyAfterTimeout(t *testing.T) {
	t.Parallel()
	k := key(2)
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	notReadyAfter := 30 * time.Second // on the fake clock
	a := startNode(t, "a", "127.0.77.11", k, nil, func(o *Options) { o.NotReadyAfter = notReadyAfter },
		func(f *Fleet) { f.now = clock.Now })
	b := startNode(t, "b", "127.0.77.12", k, []string{a.f.Addr()}, nil, nil)
	victim := startNode(t, "victim", "127.0.77.13", k, []string{a.f.Addr()}, nil, nil)
	eventually(t, 5*time.Second, "a sees three members", func() bool { return len(a.f.Members()) == 3 })

	// Kill the victim: gossip stops without a leave.
	victim.f.mu.Lock()
	s := victim.f.serf
	victim.f.mu.Unlock()
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := <-victim.done; !errors.Is(err, ErrGossipStopped) {
		t.Fatalf("Run of a killed node returned %v", err)
	}
	close(victim.done)

	eventually(t, 10*time.Second, "serf declares the victim failed", func() bool {
		return serfStatus(a.f, "victim") == serf.StatusFailed
	})
	failedAt := clock.Now()
	if st := statusOf(a.f, "victim"); st != Ready {
		t.Fatalf("a failed member is %s before NotReadyAfter", st)
	}
	drainChanges(a.f)
	clock.Add(notReadyAfter - time.Second)
	if st := statusOf(a.f, "victim"); st != Ready {
		t.Fatalf("a failed member is %s a second before NotReadyAfter", st)
	}
	clock.Add(time.Second)
	waitChange(t, a.f, "a is told the victim is NotReady")
	m, _ := member(a.f, "victim")
	if m.Status != NotReady || !m.LastSeen.Equal(failedAt) {
		t.Fatalf("victim after NotReadyAfter: %+v (failed at %v)", m, failedAt)
	}
	eventually(t, 10*time.Second, "b sees the victim NotReady on its real clock", func() bool {
		return statusOf(b.f, "victim") == NotReady
	})
	if st := statusOf(a.f, "b"); st != Ready {
		t.Fatalf("the survivor b is %s", st)
	}
}

// serfStatus reads serf's own view of a member.
func serfStatus(f *Fleet, name string) serf.MemberStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.serf == nil {
		return serf.StatusNone
	}
	for _, m := range f.serf.Members() {
		if m.Name == name {
			return m.Status
		}
	}
	return serf.StatusNone
}

func TestWrongKeyCannotJoin(t *testing.T) {
	t.Parallel()
	a := startNode(t, "a", "127.0.77.21", key(3), nil, nil, nil)
	intruder := startNode(t, "intruder", "127.0.77.22", key(4), []string{a.f.Addr()}, nil, nil)
	eventually(t, 10*time.Second, "the join fails", func() bool { return intruder.f.JoinError() != nil })
	err := intruder.f.JoinError()
	t.Logf("join error: %v", err)
	if !strings.Contains(err.Error(), "fleet: join: failed to join "+a.f.Addr()) || !strings.Contains(err.Error(), "another fleet key") {
		t.Errorf("join error does not explain itself: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // a few gossip rounds
	if ms := a.f.Members(); len(ms) != 1 {
		t.Errorf("a lets the intruder in: %+v", ms)
	}
	if ms := intruder.f.Members(); len(ms) != 1 {
		t.Errorf("the intruder sees %+v", ms)
	}
}

func TestJoinRetriesUntilAPeerAnswers(t *testing.T) {
	t.Parallel()
	k := key(5)
	// b starts first and joins a's address before anything listens there.
	probe := startNode(t, "probe", "127.0.77.41", k, nil, nil, nil)
	addr := probe.f.Addr()
	if err := probe.stop(t); err != nil {
		t.Fatal(err)
	}
	b := startNode(t, "b", "127.0.77.42", k, []string{addr}, nil, nil)
	eventually(t, 5*time.Second, "the first join fails", func() bool { return b.f.JoinError() != nil })
	a := startNode(t, "a", "127.0.77.41", k, nil, func(o *Options) { o.Bind = addr }, nil)
	eventually(t, 10*time.Second, "b joins once a answers", func() bool {
		return len(a.f.Members()) == 2 && b.f.JoinError() == nil
	})
}

func TestRunTwiceIsRefused(t *testing.T) {
	t.Parallel()
	n := startNode(t, "a", "127.0.77.51", key(6), nil, nil, nil)
	if err := n.f.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Run: %v", err)
	}
}

// TestNoGoroutineLeftAfterRun is not parallel: it counts the process's
// goroutines, so it runs before the parallel tests start.
func TestNoGoroutineLeftAfterRun(t *testing.T) {
	before := runtime.NumGoroutine()
	k := key(7)
	a := startNode(t, "a", "127.0.77.31", k, nil, nil, nil)
	b := startNode(t, "b", "127.0.77.32", k, []string{a.f.Addr()}, nil, nil)
	eventually(t, 5*time.Second, "b joins", func() bool { return len(a.f.Members()) == 2 })
	if err := b.stop(t); err != nil {
		t.Fatal(err)
	}
	if err := a.stop(t); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after Run returned:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func drainChanges(f *Fleet) {
	select {
	case <-f.Changes():
	default:
	}
}

func waitChange(t *testing.T, f *Fleet, what string) {
	t.Helper()
	select {
	case <-f.Changes():
	case <-time.After(5 * time.Second):
		t.Fatalf("no change notification: %s", what)
	}
}
