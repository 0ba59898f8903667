package health

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// script decides the n-th (from 0) attempt of a container's k probe.
type script func(id string, k kind, n int) outcome

// hang is an outcome the fake prober turns into a probe that hangs until
// its timeout.
const hang verdict = -1

// fakeProber stands in for real probes: it records every attempt and
// answers from a script.
type fakeProber struct {
	script script
	mu     sync.Mutex
	calls  map[string][]attempt // by container ID
}

// attempt is one recorded probe.
type attempt struct {
	k  kind
	at time.Time
}

func newFakeProber(s script) *fakeProber {
	return &fakeProber{script: s, calls: map[string][]attempt{}}
}

func (f *fakeProber) probe(ctx context.Context, t *Target, p *corev1.Probe, timeout time.Duration) outcome {
	k := readinessProbe
	switch p {
	case t.Spec.StartupProbe:
		k = startupProbe
	case t.Spec.LivenessProbe:
		k = livenessProbe
	}
	f.mu.Lock()
	n := f.countLocked(t.ContainerID, k)
	f.calls[t.ContainerID] = append(f.calls[t.ContainerID], attempt{k, time.Now()})
	f.mu.Unlock()
	o := f.script(t.ContainerID, k, n)
	if o.verdict == hang {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		<-ctx.Done()
		return outcome{failed, "timed out"}
	}
	return o
}

func (f *fakeProber) countLocked(id string, k kind) int {
	n := 0
	for _, a := range f.calls[id] {
		if a.k == k {
			n++
		}
	}
	return n
}

// times returns when the container's k probe ran, as offsets from start.
func (f *fakeProber) times(id string, k kind, start time.Time) []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Duration
	for _, a := range f.calls[id] {
		if a.k == k {
			out = append(out, a.at.Sub(start))
		}
	}
	return out
}

// always answers v to every probe.
func always(v verdict) script {
	return func(string, kind, int) outcome { return outcome{v, "boom"} }
}

// sequence answers each kind's attempts from its list, repeating the last.
func sequence(byKind map[kind][]verdict) script {
	return func(_ string, k kind, n int) outcome {
		vs := byKind[k]
		return outcome{vs[min(n, len(vs)-1)], "boom"}
	}
}

// running is a Manager under Run, for tests inside a synctest bubble.
type running struct {
	*Manager
	cancel  context.CancelFunc
	done    chan error
	changes *atomic.Int32
}

// start creates a Manager probing through f and runs it; stop must be
// called before the bubble ends.
func start(f *fakeProber) *running {
	changes := new(atomic.Int32)
	m := NewManager(nil, Options{Log: slog.New(slog.DiscardHandler), OnChange: func() { changes.Add(1) }})
	m.probe = f.probe
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Manager: m, cancel: cancel, done: make(chan error, 1), changes: changes}
	go func() { r.done <- m.Run(ctx) }()
	return r
}

// stop cancels Run and checks it returned nil.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// result returns the container's result after everything due now has run.
func (r *running) result(t *testing.T, id string) Result {
	t.Helper()
	synctest.Wait()
	res, ok := r.Result(id)
	if !ok {
		t.Fatalf("no result for %s", id)
	}
	return res
}

// probeSpec is a probe with the given timing (handler irrelevant here).
func probeSpec(initialDelay, period, success, failure int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{}},
		InitialDelaySeconds: initialDelay, PeriodSeconds: period, SuccessThreshold: success, FailureThreshold: failure,
	}
}

// probed returns a target with the given probes, started now.
func probed(id string, startup, liveness, readiness *corev1.Probe) Target {
	return Target{ContainerID: id, PodKey: "ns/p", Container: "app", StartedAt: time.Now(),
		Spec: corev1.Container{Name: "app", StartupProbe: startup, LivenessProbe: liveness, ReadinessProbe: readiness}}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInitialDelayAndPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeProber(always(passed))
		r := start(f)
		defer r.stop(t)
		t0 := time.Now()
		r.Sync([]Target{probed("a", nil, nil, probeSpec(5, 10, 1, 3))})

		time.Sleep(5*time.Second - time.Millisecond)
		if res := r.result(t, "a"); res.Ready || len(f.times("a", readinessProbe, t0)) != 0 {
			t.Fatalf("before initialDelaySeconds: ready %v, probes %v", res.Ready, f.times("a", readinessProbe, t0))
		}
		time.Sleep(time.Millisecond)
		res := r.result(t, "a")
		if !res.Ready || !res.ReadySince.Equal(t0.Add(5*time.Second)) {
			t.Errorf("at the initial delay: %+v, want ready since t0+5s", res)
		}
		time.Sleep(31 * time.Second)
		synctest.Wait()
		want := []time.Duration{5 * time.Second, 15 * time.Second, 25 * time.Second, 35 * time.Second}
		if got := f.times("a", readinessProbe, t0); !equalDurations(got, want) {
			t.Errorf("probes at %v, want %v", got, want)
		}
	})
}

func TestInitialDelayCountsFromStartedAt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeProber(always(passed))
		r := start(f)
		defer r.stop(t)
		t0 := time.Now()
		target := probed("a", nil, nil, probeSpec(30, 10, 1, 3))
		target.StartedAt = t0.Add(-25 * time.Second) // the container ran before the daemon saw it
		r.Sync([]Target{target})
		time.Sleep(6 * time.Second)
		synctest.Wait()
		if got, want := f.times("a", readinessProbe, t0), []time.Duration{5 * time.Second}; !equalDurations(got, want) {
			t.Errorf("probes at %v, want %v", got, want)
		}
	})
}

func TestReadinessThresholdsThroughWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeProber(sequence(map[kind][]verdict{
			readinessProbe: {failed, passed, passed, failed, failed, passed, failed, failed, failed},
		}))
		r := start(f)
		defer r.stop(t)
		t0 := time.Now()
		r.Sync([]Target{probed("a", nil, nil, probeSpec(0, 1, 2, 3))})
		wantReady := []bool{false, false, true, true, true, true, true, true, false, false}
		for i, want := range wantReady {
			if res := r.result(t, "a"); res.Ready != want {
				t.Fatalf("after probe %d: ready %v, want %v (%+v)", i, res.Ready, want, res)
			}
			if i == 2 {
				if res := r.result(t, "a"); !res.ReadySince.Equal(t0.Add(2 * time.Second)) {
					t.Errorf("ReadySince = %v, want t0+2s", res.ReadySince)
				}
			}
			time.Sleep(time.Second)
		}
		// Every change of the result counts, the message's included:
		// failed, cleared, ready, failed, cleared, failed, not ready.
		synctest.Wait()
		if n := r.changes.Load(); n != 7 {
			t.Errorf("OnChange called %d times, want 7", n)
		}
	})
}

func TestLivenessFailureNeedsRestartAndHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeProber(sequence(map[kind][]verdict{livenessProbe: {failed}, readinessProbe: {passed}}))
		r := start(f)
		defer r.stop(t)
		t0 := time.Now()
		r.Sync([]Target{probed("a", nil, probeSpec(0, 10, 1, 3), probeSpec(0, 10, 1, 3))})
		for i := range 2 {
			if res := r.result(t, "a"); !res.Live {
				t.Fatalf("after %d failures: not live", i+1)
			}
			time.Sleep(10 * time.Second)
		}
		res := r.result(t, "a")
		if res.Live || !res.Ready || res.Message != "Liveness probe failed: boom" {
			t.Errorf("after 3 failures: %+v, want not live (restart needed), still ready", res)
		}
		time.Sleep(100 * time.Second)
		synctest.Wait()
		if got := f.times("a", livenessProbe, t0); len(got) != 3 {
			t.Errorf("liveness probes at %v, want 3 (on hold after the restart verdict)", got)
		}
		if got := f.times("a", readinessProbe, t0); len(got) != 13 {
			t.Errorf("%d readiness probes, want 13 (readiness goes on)", len(got))
		}
	})
}

func TestStartupProbeGatesOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeProber(sequence(map[kind][]verdict{
			startupProbe: {failed, failed, failed, passed}, livenessProbe: {passed}, readinessProbe: {passed},
		}))
		r := start(f)
		defer r.stop(t)
		t0 := time.Now()
		r.Sync([]Target{probed("a", probeSpec(0, 1, 1, 5), probeSpec(0, 10, 1, 1), probeSpec(0, 10, 1, 1))})
		for range 3 {
			res := r.result(t, "a")
			if res.Started || res.Ready || !res.Live {
				t.Fatalf("while starting: %+v, want live, not started, not ready", res)
			}
			time.Sleep(time.Second)
		}
		res := r.result(t, "a")
		if !res.Started || !res.Ready || !res.ReadySince.Equal(t0.Add(3*time.Second)) {
			t.Errorf("after the startup probe passed: %+v, want started and ready since t0+3s", res)
		}
		time.Sleep(25 * time.Second)
		synctest.Wait()
		for k, want := range map[kind][]time.Duration{
			startupProbe:   {0, time.Second, 2 * time.Second, 3 * time.Second},
			livenessProbe:  {3 * time.Second, 13 * time.Second, 23 * time.Second},
			readinessProbe: {3 * time.Second, 13 * time.Second, 23 * time.Second},
		} {
			if got := f.times("a", k, t0); !equalDurations(got, want) {
				t.Errorf("%v probes at %v, want %v", k, got, want)
			}
		}
	})
}

func TestStartupFailureNeedsRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeProber(always(failed))
		r := start(f)
		defer r.stop(t)
		t0 := time.Now()
		r.Sync([]Target{probed("a", probeSpec(0, 1, 1, 3), probeSpec(0, 1, 1, 3), probeSpec(0, 1, 1, 3))})
		time.Sleep(time.Minute)
		res := r.result(t, "a")
		if res.Live || res.Started || res.Ready || res.Message != "Startup probe failed: boom" {
			t.Errorf("got %+v, want a restart needed, not started", res)
		}
		if n := len(f.times("a", startupProbe, t0)); n != 3 {
			t.Errorf("%d startup probes, want 3", n)
		}
		if n := len(f.times("a", livenessProbe, t0)) + len(f.times("a", readinessProbe, t0)); n != 0 {
			t.Errorf("%d liveness/readiness probes, want none", n)
		}
	})
}

func TestNewContainerStartsOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeProber(func(id string, _ kind, _ int) outcome {
			if id == "a" {
				return outcome{verdict: passed}
			}
			return outcome{failed, "boom"}
		})
		r := start(f)
		defer r.stop(t)
		t0 := time.Now()
		a := probed("a", nil, nil, probeSpec(0, 1, 1, 3))
		r.Sync([]Target{a})
		if res := r.result(t, "a"); !res.Ready {
			t.Fatalf("a: %+v, want ready", res)
		}
		b := a
		b.ContainerID = "b" // the container restarted: same spec, new ID
		r.Sync([]Target{b})
		if _, ok := r.Result("a"); ok {
			t.Error("a is still known after it vanished")
		}
		if res := r.result(t, "b"); res.Ready || !res.ReadySince.IsZero() {
			t.Errorf("b: %+v, want not ready (its state starts over)", res)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if n := len(f.times("a", readinessProbe, t0)); n != 1 {
			t.Errorf("a probed %d times, want 1 (its worker stopped)", n)
		}
	})
}

func TestRestartInPlaceStartsOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeProber(func(_ string, _ kind, n int) outcome {
			if n < 3 {
				return outcome{failed, "boom"}
			}
			return outcome{verdict: passed}
		})
		r := start(f)
		defer r.stop(t)
		a := probed("a", nil, probeSpec(0, 1, 1, 3), nil)
		r.Sync([]Target{a})
		time.Sleep(2 * time.Second)
		if res := r.result(t, "a"); res.Live {
			t.Fatalf("got %+v, want a restart needed", res)
		}
		r.Sync([]Target{a}) // the same run: nothing changes
		if res := r.result(t, "a"); res.Live {
			t.Fatalf("after a repeated Sync: %+v, want still a restart needed", res)
		}
		a.StartedAt = time.Now() // restarted under the same ID
		r.Sync([]Target{a})
		if res := r.result(t, "a"); !res.Live || res.Message != "" {
			t.Errorf("after the restart: %+v, want live again", res)
		}
	})
}

func TestContainerWithoutProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeProber(always(failed))
		r := start(f)
		defer r.stop(t)
		target := probed("a", nil, nil, nil)
		target.StartedAt = time.Now().Add(-time.Hour)
		r.Sync([]Target{target})
		res := r.result(t, "a")
		if !res.Ready || !res.Live || !res.Started || !res.ReadySince.Equal(target.StartedAt) {
			t.Errorf("got %+v, want ready since it started, live, started", res)
		}
		if _, ok := r.Result("other"); ok {
			t.Error("an unknown container has a result")
		}
	})
}

func TestSyncBeforeRunAndRunOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeProber(always(passed))
		m := NewManager(nil, Options{Log: slog.New(slog.DiscardHandler)})
		m.probe = f.probe
		m.Sync([]Target{probed("a", nil, nil, probeSpec(0, 1, 1, 1))})
		synctest.Wait()
		if res, _ := m.Result("a"); res.Ready {
			t.Fatal("ready before Run")
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		synctest.Wait()
		if res, _ := m.Result("a"); !res.Ready {
			t.Error("not ready once Run runs")
		}
		if err := m.Run(ctx); !errors.Is(err, ErrRunning) {
			t.Errorf("second Run: %v, want ErrRunning", err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func TestHangingProbeBlocksNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeProber(always(hang))
		r := start(f)
		p := probeSpec(0, 1, 1, 3)
		p.TimeoutSeconds = 3600
		r.Sync([]Target{probed("a", nil, p, p)})
		synctest.Wait() // both probes hang now
		t0 := time.Now()
		for i := range 100 {
			r.Sync([]Target{probed("a", nil, p, p), probed("b", nil, nil, nil)})
			if _, ok := r.Result("a"); !ok {
				t.Fatalf("call %d: no result", i)
			}
		}
		if time.Since(t0) != 0 {
			t.Errorf("Sync/Result waited %v", time.Since(t0))
		}
		r.stop(t) // Run returns at once although probes hang
		if time.Since(t0) != 0 {
			t.Errorf("Run took %v to stop", time.Since(t0))
		}
	})
}

// TestOnResultSeesEveryAttempt checks the per-attempt callback that feeds
// the probe metrics.
func TestOnResultSeesEveryAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeProber(sequence(map[kind][]verdict{readinessProbe: {failed, errored, passed}}))
		var mu sync.Mutex
		var got []string
		m := NewManager(nil, Options{Log: slog.New(slog.DiscardHandler), OnResult: func(probe, result string, took time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, probe+"/"+result)
		}})
		m.probe = f.probe
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		m.Sync([]Target{probed("a", nil, nil, probeSpec(0, 1, 1, 3))})
		time.Sleep(2500 * time.Millisecond)
		synctest.Wait()
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		if strings.Join(got, " ") != "Readiness/failure Readiness/error Readiness/success" {
			t.Errorf("results %v", got)
		}
	})
}
