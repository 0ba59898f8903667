package fleet

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// key returns a 32-byte test key filled with b.
func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// testNode is a Fleet running in the background of a test.
type testNode struct {
	f      *Fleet
	cancel context.CancelFunc
	done   chan error
}

// startNode runs a node gossiping on ip with a free port and LocalTiming;
// edit adjusts the options, prepare the Fleet before Run. The node is
// stopped when the test ends.
func startNode(t *testing.T, name, ip string, k []byte, join []string, edit func(*Options), prepare func(*Fleet)) *testNode {
	t.Helper()
	opt := Options{
		Node: name, Labels: map[string]string{"zone": "z-" + name}, Address: ip,
		Bind: ip + ":0", Join: join, Key: k, NotReadyAfter: 300 * time.Millisecond,
		Timing: LocalTiming(), Log: testLogger(t),
	}
	if edit != nil {
		edit(&opt)
	}
	f, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(f)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &testNode{f: f, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- f.Run(ctx) }()
	t.Cleanup(func() { n.stop(t) })
	eventually(t, 5*time.Second, "node "+name+" listens", func() bool { return f.Addr() != "" })
	return n
}

// stop cancels Run and waits for it; it returns Run's error.
func (n *testNode) stop(t *testing.T) error {
	t.Helper()
	n.cancel()
	select {
	case err, ok := <-n.done:
		if ok {
			close(n.done)
			return err
		}
		return nil
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after cancel")
		return nil
	}
}

// eventually polls cond every 20ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// member finds name in f's member list.
func member(f *Fleet, name string) (Member, bool) {
	for _, m := range f.Members() {
		if m.Name == name {
			return m, true
		}
	}
	return Member{}, false
}

// statusOf is a member's status, or "absent".
func statusOf(f *Fleet, name string) Status {
	if m, ok := member(f, name); ok {
		return m.Status
	}
	return "absent"
}

// testLogger sends warnings and errors to the test log, until the test
// ends.
func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.close)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct {
	mu     sync.Mutex
	t      *testing.T
	closed bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
