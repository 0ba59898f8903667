package health

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// worker probes one container run. The Manager starts its goroutine and
// owns it; it ends when its context does (the container vanished or Run
// ended) or when no probe is left to run.
type worker struct {
	m *Manager
	e *entry // its target is immutable; its state belongs to m.mu
}

// run runs the startup probe until it passes, then the liveness and
// readiness probes side by side, each on its own schedule, as the kubelet's
// separate workers do.
func (w *worker) run(ctx context.Context) {
	s := &w.e.target.Spec
	if s.StartupProbe != nil && !w.loop(ctx, startupProbe, s.StartupProbe) {
		return
	}
	var wg sync.WaitGroup
	if s.LivenessProbe != nil {
		wg.Go(func() { w.loop(ctx, livenessProbe, s.LivenessProbe) })
	}
	if s.ReadinessProbe != nil {
		w.loop(ctx, readinessProbe, s.ReadinessProbe)
	}
	wg.Wait()
}

// loop runs probe p of kind k: first initialDelay after the container
// started, then every period after the previous attempt began (at once if
// that attempt took longer). It returns when ctx ends (false) or when the
// probe has nothing left to decide: a startup probe once it passes (true)
// or fails past its threshold, a liveness probe once it fails past its
// threshold (the kubelet holds it until a new container appears).
func (w *worker) loop(ctx context.Context, k kind, p *corev1.Probe) bool {
	tm := timingOf(p)
	next := w.e.target.StartedAt.Add(tm.initialDelay)
	var th threshold
	for {
		if !w.sleepUntil(ctx, next) {
			return false
		}
		start := w.m.opt.Now()
		o := w.m.probe(ctx, &w.e.target, p, tm.timeout)
		if ctx.Err() != nil {
			return false // stopped mid-probe: the outcome means nothing
		}
		if f := w.m.opt.OnResult; f != nil {
			f(k.String(), o.verdict.result(), w.m.opt.Now().Sub(start))
		}
		settled := th.record(o.verdict, tm)
		w.m.observe(w.e, k, o, settled)
		if settled && (k == startupProbe || (k == livenessProbe && o.verdict == failed)) {
			return o.verdict == passed
		}
		next = start.Add(tm.period)
	}
}

// sleepUntil waits until t on the Manager's clock; it reports false if ctx
// ended first.
func (w *worker) sleepUntil(ctx context.Context, t time.Time) bool {
	d := t.Sub(w.m.opt.Now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
