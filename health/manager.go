package health

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// ErrRunning is returned by Run when the Manager has run already.
var ErrRunning = errors.New("health: manager ran already")

// Target is one running container to probe.
type Target struct {
	// ContainerID identifies the container run; a new ID starts over.
	ContainerID string
	// PodKey is "namespace/pod", for logs.
	PodKey string
	// Container is the Kubernetes container name.
	Container string
	// Spec holds the container's probes and its named ports.
	Spec corev1.Container
	// Ports maps each published container port to its host address,
	// "127.0.0.1:hostPort".
	Ports map[int32]string
	// StartedAt is when the container started; initial delays count from
	// it, and a probe-less container is ready since then. Zero means "when
	// Sync first sees it"; a different non-zero value for a known ID means
	// the container restarted in place, and its state starts over.
	StartedAt time.Time
}

// Result is what the probes have established about a container.
type Result struct {
	// Ready is true once the container has started and its readiness
	// probe (if any) has passed; it may carry traffic.
	Ready bool
	// ReadySince is when Ready last became true (zero while not ready).
	ReadySince time.Time
	// Live is false once the liveness or startup probe has failed past its
	// threshold: the container needs a restart under its restartPolicy.
	Live bool
	// Started is true once the startup probe has passed, or at once
	// without one.
	Started bool
	// Message is the last failure, as in the kubelet's events ("Readiness
	// probe failed: HTTP probe failed with statuscode: 503"); empty once
	// that probe passes again. When Live is false it is the reason.
	Message string
}

// equal compares results; time.Time values are compared as instants.
func (r Result) equal(o Result) bool {
	return r.Ready == o.Ready && r.ReadySince.Equal(o.ReadySince) && r.Live == o.Live &&
		r.Started == o.Started && r.Message == o.Message
}

// Options configures a Manager.
type Options struct {
	// Now is the clock of the timestamps in results and of initial delays;
	// it must advance with package time's timers, which space the probes
	// (default time.Now; in a testing/synctest bubble both are virtual).
	Now func() time.Time
	// Log receives structured logs (default slog.Default()).
	Log *slog.Logger
	// OnChange, if set, is called after any container's Result changed, so
	// the executor can plan again at once. It is called from probe
	// goroutines with no lock held and must not block (a non-blocking send
	// on a channel of capacity 1 is the intended use).
	OnChange func()
	// OnResult, if set, is called after every probe attempt with the
	// probe ("Startup", "Liveness" or "Readiness"), its result ("success",
	// "failure", or "error" when the probe could not be carried out) and
	// how long it took. It is called from probe goroutines, concurrently,
	// and must not block.
	OnResult func(probe, result string, took time.Duration)
}

// Manager probes containers and keeps their results. Its methods are safe
// for concurrent use; Sync and Result never wait for a probe.
type Manager struct {
	opt Options
	// probe runs one attempt; tests replace it.
	probe func(ctx context.Context, t *Target, p *corev1.Probe, timeout time.Duration) outcome

	mu      sync.Mutex
	entries map[string]*entry // by container ID
	runCtx  context.Context   // non-nil while Run runs
	ran     bool
	workers sync.WaitGroup
}

// entry is one known container run.
type entry struct {
	target Target
	given  time.Time // the StartedAt Sync was given (target's may be defaulted)
	state  state
	cancel context.CancelFunc // stops its worker; nil when none runs
}

// NewManager returns a Manager that runs exec probes through exec (nil:
// exec probes error). It starts nothing; Run does.
func NewManager(exec Execer, opt Options) *Manager {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	return &Manager{opt: opt, probe: newProber(exec).probe, entries: map[string]*entry{}}
}

// Run probes the synced containers until ctx ends, then stops every worker
// and returns nil once all have returned. It may be called only once
// (ErrRunning otherwise).
func (m *Manager) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m.mu.Lock()
	if m.ran {
		m.mu.Unlock()
		return ErrRunning
	}
	m.ran, m.runCtx = true, ctx
	for _, e := range m.entries {
		m.startLocked(e)
	}
	m.mu.Unlock()

	<-ctx.Done()
	m.mu.Lock()
	m.runCtx = nil // no worker starts from here on
	m.mu.Unlock()
	m.workers.Wait() // their contexts derive from ctx: all are stopping
	return nil
}

// Sync makes targets the set of containers to probe: it starts probing new
// container runs and stops and forgets those absent from targets. A known
// run keeps the Spec and Ports it was first given. A new run has its
// initial result at once (live; started unless it has a startup probe;
// ready only without startup and readiness probes). Sync does no I/O and
// does not call OnChange; before Run starts it only records the targets.
func (m *Manager) Sync(targets []Target) {
	now := m.opt.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := make(map[string]bool, len(targets))
	for i := range targets {
		t := &targets[i]
		if seen[t.ContainerID] {
			continue
		}
		seen[t.ContainerID] = true
		if e, ok := m.entries[t.ContainerID]; ok && sameRun(e.given, t.StartedAt) {
			continue
		}
		m.removeLocked(t.ContainerID)
		e := newEntry(t, now)
		m.entries[t.ContainerID] = e
		m.startLocked(e)
	}
	for id := range m.entries {
		if !seen[id] {
			m.removeLocked(id)
		}
	}
}

// Result returns the container's result, and false when Sync does not know
// the container.
func (m *Manager) Result(containerID string) (Result, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[containerID]
	if !ok {
		return Result{}, false
	}
	return e.state.result(), true
}

// sameRun reports whether a container seen with start time t is the run
// first seen with start time k: a different start time means the container
// restarted under the same ID (zero values say nothing).
func sameRun(k, t time.Time) bool {
	return k.IsZero() || t.IsZero() || t.Equal(k)
}

// newEntry copies t (the caller may reuse its memory) and sets up its
// initial state.
func newEntry(t *Target, now time.Time) *entry {
	c := *t
	c.Spec = *t.Spec.DeepCopy()
	c.Ports = maps.Clone(t.Ports)
	if c.StartedAt.IsZero() {
		c.StartedAt = now
	}
	st := initialState(c.Spec.StartupProbe != nil, c.Spec.ReadinessProbe != nil, c.StartedAt)
	return &entry{target: c, given: t.StartedAt, state: st}
}

// startLocked starts e's worker if Run runs and e has a probe. m.mu is held.
func (m *Manager) startLocked(e *entry) {
	s := &e.target.Spec
	if m.runCtx == nil || e.cancel != nil ||
		(s.StartupProbe == nil && s.LivenessProbe == nil && s.ReadinessProbe == nil) {
		return
	}
	ctx, cancel := context.WithCancel(m.runCtx)
	e.cancel = cancel
	w := &worker{m: m, e: e}
	m.workers.Go(func() {
		defer cancel()
		w.run(ctx)
	})
}

// removeLocked stops the worker of the container run known as id, if any,
// and forgets it. m.mu is held.
func (m *Manager) removeLocked(id string) {
	if e, ok := m.entries[id]; ok {
		if e.cancel != nil {
			e.cancel()
		}
		delete(m.entries, id)
	}
}

// observe applies a worker's outcome to e's state, unless e was forgotten
// meanwhile, then logs a transition and calls OnChange if the result
// changed.
func (m *Manager) observe(e *entry, k kind, o outcome, settled bool) {
	now := m.opt.Now()
	m.mu.Lock()
	if m.entries[e.target.ContainerID] != e {
		m.mu.Unlock()
		return
	}
	before := e.state.result()
	e.state.observe(k, o, settled, now)
	after := e.state.result()
	m.mu.Unlock()

	if o.verdict != passed {
		m.opt.Log.Debug("probe did not pass", "pod", e.target.PodKey, "container", e.target.Container,
			"probe", k.String(), "message", o.msg)
	}
	if after.equal(before) {
		return
	}
	m.logTransition(&e.target, before, after)
	if m.opt.OnChange != nil {
		m.opt.OnChange()
	}
}

// logTransition logs the changes of a container's result that matter.
func (m *Manager) logTransition(t *Target, before, after Result) {
	log := m.opt.Log.With("pod", t.PodKey, "container", t.Container)
	switch {
	case before.Live && !after.Live:
		log.Warn("container needs a restart", "reason", after.Message)
	case !before.Started && after.Started:
		log.Info("container started")
	}
	switch {
	case !before.Ready && after.Ready:
		log.Info("container ready")
	case before.Ready && !after.Ready:
		log.Info("container not ready", "reason", after.Message)
	}
}
