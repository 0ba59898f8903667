package executor

import "time"

// Observer receives the loop's measurements that a status snapshot cannot
// carry; package metrics implements it. A nil Observer in Options is a
// no-op. The loop calls it from its own goroutine only, never concurrently.
type Observer interface {
	// SyncAttempt reports one load of the source; ok is false when it
	// failed (the last good desired state stays in force).
	SyncAttempt(ok bool)
	// Pass reports one observe–plan–apply pass: how long planning and
	// applying took, and how many actions were applied successfully.
	Pass(plan, apply time.Duration, actions int)
	// ContainerRestart reports a container run created, successfully, to
	// restart one that exited (planner.CauseExited).
	ContainerRestart()
	// RolloutDone reports a workload's rollout to a new template that
	// completed, and how long it took from its first pass.
	RolloutDone(d time.Duration)
}

// noObserver is the default Observer: it drops everything.
type noObserver struct{}

func (noObserver) SyncAttempt(bool)                       {}
func (noObserver) Pass(time.Duration, time.Duration, int) {}
func (noObserver) ContainerRestart()                      {}
func (noObserver) RolloutDone(time.Duration)              {}

// ProbeObserver is an optional part of an Observer: the loop passes it
// every probe attempt's result. Unlike Observer's methods it is called
// from probe goroutines, concurrently.
type ProbeObserver interface {
	// ProbeResult reports one attempt of a probe ("Startup", "Liveness",
	// "Readiness") with its result ("success", "failure", "error") and
	// duration.
	ProbeResult(probe, result string, took time.Duration)
}
