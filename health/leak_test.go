package health

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	goruntime "runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// waitGoroutines polls until the number of goroutines is back to baseline,
// and fails the test if it is not within a few seconds.
func waitGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for goruntime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, baseline %d:\n%s", goruntime.NumGoroutine(), baseline, buf[:goruntime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestManyProbeCyclesAndChurnDoNotLeak(t *testing.T) {
	const containers, seconds, churn = 200, 60, 20
	baseline := goruntime.NumGoroutine()
	synctest.Test(t, func(t *testing.T) {
		var total atomic.Int64
		f := newFakeProber(func(id string, _ kind, n int) outcome {
			total.Add(1)
			if (n+len(id))%4 == 0 {
				return outcome{failed, "boom"}
			}
			return outcome{verdict: passed}
		})
		r := start(f)
		defer r.stop(t) // synctest.Test then fails if any goroutine of the bubble outlives it
		inBubble := goruntime.NumGoroutine()
		gen := 0
		next := func() Target {
			gen++
			return probed(fmt.Sprintf("c%d", gen), probeSpec(0, 1, 1, 2), probeSpec(0, 1, 1, 3), probeSpec(0, 1, 1, 3))
		}
		targets := make([]Target, containers)
		for i := range targets {
			targets[i] = next()
		}
		r.Sync(targets)
		for s := range seconds {
			time.Sleep(time.Second)
			for j := range churn {
				targets[(s*churn+j)%containers] = next()
			}
			r.Sync(targets)
			synctest.Wait()
			// At most two goroutines per container (liveness beside
			// readiness); a leak would add dozens a second. The slack covers
			// NumGoroutine's imprecision while goroutines come and go.
			if n := goruntime.NumGoroutine() - inBubble; n > 2*containers+2 {
				t.Fatalf("second %d: %d worker goroutines for %d containers", s, n, containers)
			}
		}
		if n := total.Load(); n < 20000 {
			t.Errorf("only %d probe attempts", n)
		}
		t.Logf("%d probe attempts on %d containers", total.Load(), gen)
	})
	waitGoroutines(t, baseline)
}

// connCounter tracks a test server's connections through ConnState.
type connCounter struct {
	open, maxOpen, idle, total atomic.Int64
}

func (c *connCounter) hook(_ net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		c.total.Add(1)
		n := c.open.Add(1)
		for m := c.maxOpen.Load(); n > m && !c.maxOpen.CompareAndSwap(m, n); m = c.maxOpen.Load() {
		}
	case http.StateIdle:
		c.idle.Add(1)
	case http.StateClosed, http.StateHijacked:
		c.open.Add(-1)
	}
}

// realTarget probes port 8080 (published on addr): readiness by HTTP,
// liveness by TCP, both every second.
func realTarget(id, addr string) Target {
	return Target{
		ContainerID: id, PodKey: "ns/p", Container: "app", StartedAt: time.Now(),
		Ports: map[int32]string{8080: addr},
		Spec: corev1.Container{
			Name:  "app",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			ReadinessProbe: &corev1.Probe{PeriodSeconds: 1, ProbeHandler: corev1.ProbeHandler{
				HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")}}},
			LivenessProbe: &corev1.Probe{PeriodSeconds: 1, ProbeHandler: corev1.ProbeHandler{
				TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}}},
		},
	}
}

// waitReady waits (on OnChange, not on a timer) until every target is
// ready.
func waitReady(t *testing.T, m *Manager, changed <-chan struct{}, targets []Target) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		ready := 0
		for _, tg := range targets {
			if r, _ := m.Result(tg.ContainerID); r.Ready {
				ready++
			}
		}
		if ready == len(targets) {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("%d of %d targets ready", ready, len(targets))
		}
	}
}

func TestRealProbesWithChurnDoNotLeak(t *testing.T) {
	const rounds, perRound = 50, 40
	var conns connCounter
	var requests atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { requests.Add(1) }))
	srv.Config.ConnState = conns.hook
	srv.Start()
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	baseline := goruntime.NumGoroutine()
	start := time.Now()

	changed := make(chan struct{}, 1)
	m := NewManager(nil, Options{Log: slog.New(slog.DiscardHandler), OnChange: func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()

	for round := range rounds {
		targets := make([]Target, perRound)
		for i := range targets {
			targets[i] = realTarget(fmt.Sprintf("r%d-%d", round, i), addr)
		}
		m.Sync(targets) // replaces the previous round: its workers stop mid-probe or between probes
		waitReady(t, m, changed, targets)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	waitGoroutines(t, baseline)
	for deadline := time.Now().Add(5 * time.Second); conns.open.Load() != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open at the server", conns.open.Load())
		}
	}
	if n := conns.idle.Load(); n != 0 {
		t.Errorf("%d connections went idle at the server; keep-alives must be disabled", n)
	}
	// Each worker has at most two probes in flight (one HTTP, one TCP), and
	// at most two rounds of workers overlap.
	if n := conns.maxOpen.Load(); n > 4*perRound {
		t.Errorf("up to %d connections open at once, want at most %d", n, 4*perRound)
	}
	if n := requests.Load(); n < rounds*perRound {
		t.Errorf("%d HTTP probes served, want at least %d", n, rounds*perRound)
	}
	t.Logf("%d connections, %d HTTP requests, at most %d open at once, in %v",
		conns.total.Load(), requests.Load(), conns.maxOpen.Load(), time.Since(start).Round(time.Millisecond))
}

func TestHangingHTTPTargetBlocksNothing(t *testing.T) {
	entered := make(chan struct{}, 2)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	m := NewManager(nil, Options{Log: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	target := realTarget("hung", srv.Listener.Addr().String())
	target.Spec.ReadinessProbe.TimeoutSeconds = 60
	target.Spec.LivenessProbe = nil
	m.Sync([]Target{target})
	<-entered // the probe now hangs in the handler

	start := time.Now()
	for i := range 1000 {
		m.Sync([]Target{target, realTarget(fmt.Sprintf("other-%d", i%3), "127.0.0.1:1")})
		if r, ok := m.Result("hung"); !ok || r.Ready {
			t.Fatalf("call %d: %+v, %v", i, r, ok)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("1000 Sync/Result calls took %v while a probe hangs", d)
	}
	start = time.Now()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Run took %v to stop while a probe hangs", d)
	}
}
