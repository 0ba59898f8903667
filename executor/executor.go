package executor

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/health"
	"github.com/reconciler/reconciler/internal/backoff"
	"github.com/reconciler/reconciler/planner"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/svcnet"
)

// Source yields the desired state. Load is called at the reload interval; an
// error keeps the last good desired state in force.
type Source interface {
	Load(ctx context.Context) (*config.Desired, error)
}

// Options tune the loop. Zero values take the defaults.
type Options struct {
	// Node is the node name; the executor owns exactly the engine objects
	// labelled with it.
	Node string
	// Resync is the longest time between two observations (default 10 s).
	Resync time.Duration
	// Reload is how often the source is loaded (default Resync).
	Reload time.Duration
	// RetryBase and RetryMax bound the back-off after engine errors
	// (defaults 500 ms and 30 s).
	RetryBase, RetryMax time.Duration
	// NoSelfHeal turns self-healing off: drift (a container that died or
	// was removed by hand, an unexpected managed pod) is reported in events,
	// status and metrics, and left as it is until the next change in the
	// source.
	NoSelfHeal bool
	// AutoRevert reverts every Deployment whose rollout misses its progress
	// deadline, as the reconciler.io/auto-revert annotation does for one.
	AutoRevert bool
	// Observer receives source loads, passes, container restarts and
	// rollout durations as they happen (default none).
	Observer Observer
	// Services is the Services' data plane (addresses, DNS, proxy); nil
	// leaves Services without effect.
	Services ServicePlane
	// Fleet, when set, makes this node run only its share of the
	// workloads, Jobs and CronJobs (see Fleet); nil runs all of them.
	Fleet Fleet
	// Peers, when set, brings the other nodes' endpoints into this node's
	// proxy and holds back the removal of replicas placed elsewhere until
	// they are available there (see Peers).
	Peers Peers
	// PublishIP is the host address pods publish their ports on (default
	// 127.0.0.1): in a fleet, the node address the other nodes' proxies
	// reach.
	PublishIP string
	// PeerGrace is how long, in a fleet, a pod stays out of every endpoint
	// set before it is stopped (bounded by its grace period), so that the
	// other nodes' proxies learn it is leaving (default 2 s with Peers).
	PeerGrace time.Duration
	// DataKey keys the digest of the ConfigMap and Secret data a template
	// reads, which is part of its template hash (a label); the daemon keeps
	// one per node in its state directory.
	DataKey []byte
	// VolumeDir holds pods' ConfigMap and Secret files, under a directory
	// per node (default /run/reconciler/volumes: a tmpfs, so Secret values
	// never reach a disk).
	VolumeDir string
	// HostPathAllow lists the host directories hostPath volumes may use
	// (default none).
	HostPathAllow []string
	// AllowPrivileged lets pods run privileged containers.
	AllowPrivileged bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives structured logs (default slog.Default()).
	Log *slog.Logger
}

func (o *Options) defaults() {
	if o.Resync <= 0 {
		o.Resync = 10 * time.Second
	}
	if o.Reload <= 0 {
		o.Reload = o.Resync
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 500 * time.Millisecond
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.VolumeDir == "" {
		o.VolumeDir = "/run/reconciler/volumes"
	}
	if o.Peers != nil && o.PeerGrace <= 0 {
		o.PeerGrace = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
}

// Executor is the reconcile loop of one node. Create it with New and run it
// with Run; its read methods are safe to call concurrently.
type Executor struct {
	rt     runtime.Runtime
	src    Source
	opt    Options
	log    *slog.Logger
	events *recorder
	pulls  *puller
	rm     *remover
	probes *health.Manager
	wake   chan struct{}

	// loop-owned state
	desired *config.Desired
	// data indexes desired's ConfigMaps, Secrets and claims; lastSweep is
	// when left-over volumes were last looked for.
	data *podData
	// refused holds the pod creations quota admission refused this pass
	// (by "namespace/pod"), for the waiting reasons.
	refused        map[string]string
	lastSweep      time.Time
	lastEvictCheck time.Time
	// loaded is the source's last desired state, bound its copy for this
	// node (bindData).
	loaded, bound *config.Desired

	lastLoad   time.Time
	loadErr    string
	retry      backoff.Backoff
	engineDown bool
	// objectSkips are the loaded objects of kinds this build does not run.
	objectSkips []SkippedObject
	// rolloutState is each workload's "templateHash/phase" after the last
	// pass, to report transitions once; rolloutStart when a workload's
	// current template was first seen progressing.
	rolloutState map[string]string
	rolloutStart map[string]time.Time
	skipsLogged  map[string]bool
	drift        drift
	driftSeen    map[string]bool
	// jobs is the loop's memory of Jobs between passes (jobs.go).
	jobs jobState
	// svcViews and svcStates are the Services and their endpoints as last
	// handed to the plane; svcErr its last error; podNames names pods by ID.
	svcViews  []serviceView
	svcStates []svcnet.Service
	// localStates are svcStates without the other nodes' endpoints: what
	// PeerReport advertises (under mu).
	localStates []svcnet.Service
	localNames  map[string]string
	// placement remembers the last share (fleet.go).
	placement placementMemory
	svcErr    string
	podNames  map[string]string
	// revTemplates caches decoded revision templates by template key.
	revTemplates map[string]*corev1.PodTemplateSpec
	// objects and pods are the applied desired state's objects and the
	// last observation's pods, for Objects and Pods (under mu).
	objects []config.Object
	pods    []runtime.Pod

	mu     sync.Mutex
	status Status
}

// New returns an executor; it starts nothing until Run.
func New(rt runtime.Runtime, src Source, opt Options) *Executor {
	opt.defaults()
	e := &Executor{
		rt: rt, src: src, opt: opt, log: opt.Log.With("node", opt.Node),
		wake:  make(chan struct{}, 1),
		retry: backoff.New(opt.RetryBase, opt.RetryMax),
	}
	e.events = newRecorder(e.log, 1000)
	e.pulls = newPuller(rt, opt.Now, e.poke)
	e.rm = newRemover()
	hopt := health.Options{Now: opt.Now, Log: e.log, OnChange: e.poke}
	if po, ok := opt.Observer.(ProbeObserver); ok {
		hopt.OnResult = po.ProbeResult
	}
	e.probes = health.NewManager(rt, hopt)
	e.status.Node = opt.Node
	e.status.Pods = map[string]PodStatus{}
	return e
}

// SetPaused pauses (true) or resumes applying: a paused loop still
// observes, plans and reports what it would do, but changes nothing.
func (e *Executor) SetPaused(paused bool) {
	e.mu.Lock()
	changed := e.status.Paused != paused
	e.status.Paused = paused
	e.mu.Unlock()
	if changed {
		reason := "SyncResumed"
		if paused {
			reason = "SyncPaused"
		}
		e.events.record(e.opt.Now(), Normal, reason, "source", "by the API")
		e.poke()
	}
}

// paused reports whether applying is paused.
func (e *Executor) paused() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.status.Paused
}

// Poke asks the loop to run a pass as soon as possible (a webhook, a timer
// of the source); it never blocks.
func (e *Executor) Poke() { e.poke() }

// poke asks the loop to run a step as soon as possible.
func (e *Executor) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run drives the loop until ctx ends. It returns nil on cancellation; it
// does not return on engine or source errors, which it retries.
func (e *Executor) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); e.watch(ctx) }()
	go func() { defer wg.Done(); _ = e.probes.Run(ctx) }()
	defer func() { cancel(); wg.Wait(); e.pulls.wg.Wait(); e.rm.wg.Wait() }()

	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.wake:
		case <-timer.C:
		}
		delay := e.Step(ctx)
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(delay)
	}
}

// Step runs one observe–plan–apply pass and returns how long to wait before
// the next pass if nothing else happens.
func (e *Executor) Step(ctx context.Context) time.Duration {
	now := e.opt.Now()
	e.reload(ctx, now)
	obs, err := e.rt.Observe(ctx, e.opt.Node)
	if ctx.Err() != nil {
		return 0 // shutting down: not an outage
	}
	if err != nil {
		return e.engineFailed(now, err)
	}
	e.engineUp(now)
	if e.desired == nil {
		return e.opt.Resync // nothing good to apply yet: touch nothing
	}
	e.rm.mark(obs)
	if now.Sub(e.lastSweep) >= sweepInterval {
		e.lastSweep = now
		e.sweepVolumes(ctx, obs)
	}
	if err := e.loadJobRecords(ctx, obs); err != nil {
		return e.engineFailed(now, err)
	}
	revs, err := e.loadRevisions(ctx)
	if err != nil {
		return e.engineFailed(now, err)
	}
	mine, ok := e.share(e.desired, obs, now)
	if !ok {
		return e.opt.Resync // not in the fleet yet: touch nothing
	}
	planned, pinned, err := e.applyRevisions(ctx, mine, obs, revs)
	if err != nil {
		return e.engineFailed(now, err)
	}
	tmpls := e.templates(planned, revs)
	e.syncProbes(obs, tmpls)
	e.evictOverLimit(ctx, obs, tmpls, now)
	e.markReadiness(obs)
	e.syncServices(ctx, obs, tmpls)
	full := planner.Plan(planned, obs, now)
	plan, drifting, corrections := e.heal(planned, full, now)
	plan = e.admit(plan, obs)
	e.setStatus(func(s *Status) { s.Drift = drifting })
	if e.paused() {
		e.updateStatus(obs, plan, pinned, now)
		return e.opt.Resync
	}
	changed, err := e.applyObserved(ctx, obs, plan, now)
	e.drift.settle(planned, full)
	e.countCorrections(corrections)
	if rerr := e.afterPlan(ctx, planned, plan, revs, pinned, now); rerr != nil && err == nil {
		err = rerr
	}
	e.updateStatus(obs, plan, pinned, now)
	switch {
	case ctx.Err() != nil:
		return 0
	case err != nil && isEngineDown(ctx, e.rt):
		return e.engineFailed(now, err)
	case changed && err == nil:
		return 0 // look again at once: the next step may be due
	}
	return e.nextWake(now, plan, err != nil)
}

// applyObserved applies plan and reports the pass to the Observer: planning
// is the time from the pass's start (observation included) until now, and
// applying the time apply takes, both on the injected clock.
func (e *Executor) applyObserved(ctx context.Context, obs *runtime.Observed, plan planner.Result, start time.Time) (bool, error) {
	planned := e.opt.Now()
	changed, applied, err := e.apply(ctx, obs, plan)
	e.opt.Observer.Pass(planned.Sub(start), e.opt.Now().Sub(planned), applied)
	return changed, err
}

// nextWake is the delay until the earliest of the resync, a restart
// back-off, a pull retry, or the retry after a failed action.
func (e *Executor) nextWake(now time.Time, plan planner.Result, failed bool) time.Duration {
	d := e.opt.Resync
	if failed {
		d = min(d, e.retry.Next())
	} else {
		e.retry.Reset()
	}
	for _, t := range []time.Time{plan.Requeue, e.pulls.nextRetry()} {
		if !t.IsZero() {
			d = min(d, max(t.Sub(now), 10*time.Millisecond))
		}
	}
	return d
}

// reload loads the source when the reload interval has passed. A failing
// load keeps the last good desired state and is reported once per distinct
// error.
func (e *Executor) reload(ctx context.Context, now time.Time) {
	if e.desired != nil && now.Sub(e.lastLoad) < e.opt.Reload {
		return
	}
	e.lastLoad = now
	d, err := e.src.Load(ctx)
	e.opt.Observer.SyncAttempt(err == nil)
	if err != nil {
		if msg := err.Error(); msg != e.loadErr {
			e.loadErr = msg
			e.events.record(now, Warning, "SyncRefused", "source", msg)
		}
		e.setStatus(func(s *Status) { s.SourceError = err.Error() })
		return
	}
	if e.loadErr != "" || e.desired == nil || e.desired.Revision != d.Revision {
		e.events.record(now, Normal, "SyncLoaded", "source", "revision "+d.Revision)
		for _, w := range d.Warnings {
			e.events.record(now, Warning, "ManifestWarning", "source", w)
		}
		e.objectSkips = notRun(d)
		for _, s := range e.objectSkips {
			e.events.record(now, Normal, "Skipped", s.Object, s.Reason)
		}
	}
	e.loadErr = ""
	changed := e.desired == nil || e.desired.Revision != d.Revision
	if d != e.loaded { // a source may hand out the same state again
		e.loaded = d
		e.bound, e.data = e.bindData(d)
	}
	d = e.bound
	e.desired = d
	e.setStatus(func(s *Status) {
		// Publish the objects as soon as they are accepted: the pass that
		// follows may create pods before it finishes, and a reader who sees
		// those pods must also see the objects they came from.
		e.objects = d.Objects
		s.SourceError = ""
		if changed {
			s.Revision, s.RevisionTime = d.Revision, now
		}
	})
}

// engineFailed reports an unreachable engine (once per outage) and returns
// the back-off delay.
func (e *Executor) engineFailed(now time.Time, err error) time.Duration {
	if !e.engineDown {
		e.engineDown = true
		e.events.record(now, Warning, "EngineUnavailable", "engine", err.Error())
	}
	e.setStatus(func(s *Status) { s.EngineUp = false; s.EngineError = err.Error() })
	return e.retry.Next()
}

func (e *Executor) engineUp(now time.Time) {
	if e.engineDown {
		e.engineDown = false
		e.events.record(now, Normal, "EngineAvailable", "engine", "engine answers again")
	}
	e.setStatus(func(s *Status) { s.EngineUp = true; s.EngineError = "" })
}

// isEngineDown tells an unreachable engine from an error of one action.
func isEngineDown(ctx context.Context, rt runtime.Runtime) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return rt.Ping(ctx) != nil
}

// watch turns engine events into pokes, reconnecting with back-off.
func (e *Executor) watch(ctx context.Context) {
	b := backoff.New(e.opt.RetryBase, e.opt.RetryMax)
	for ctx.Err() == nil {
		ch := make(chan runtime.Event, 64)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range ch {
				e.poke()
			}
		}()
		start := time.Now()
		err := e.rt.Events(ctx, e.opt.Node, ch)
		close(ch)
		<-done
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			b.Reset()
		}
		e.log.Debug("event stream ended", "err", err)
		e.poke() // something may have changed while the stream was down
		select {
		case <-ctx.Done():
		case <-time.After(b.Next()):
		}
	}
}

// sweepInterval is how often left-over emptyDirs and files are looked for.
const sweepInterval = 30 * time.Second

// runKinds are the kinds the loop acts on; Namespaces need no engine object.
var runKinds = map[string]bool{"Service": true, "Pod": true, "Deployment": true, "ReplicationController": true, "Namespace": true,
	"Job": true, "CronJob": true, "ConfigMap": true, "Secret": true, "PersistentVolume": true,
	"PersistentVolumeClaim": true, "ServiceAccount": true}

// notRun lists the objects of kinds this build parses and validates but does
// not run yet, so `run` says what it skipped and why.
func notRun(d *config.Desired) []SkippedObject {
	var out []SkippedObject
	for _, o := range d.Objects {
		if !runKinds[o.Key.Kind] {
			out = append(out, SkippedObject{Object: o.Key.String(),
				Reason: o.Key.Kind + " objects are validated but not run by this build yet"})
		}
	}
	return out
}

// errorsJoin joins action errors.
func errorsJoin(errs []error) error { return errors.Join(errs...) }
