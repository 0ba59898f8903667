// Package executor runs the reconcile loop: observe the engine, ask the
// planner for the next step, apply it through the runtime, and repeat — on a
// timer, immediately after a step that changed something, and immediately
// when the engine reports a change to a managed object.
//
// The loop is level-triggered and keeps no state that matters across
// restarts: after a crash it observes and plans again. What it does keep in
// memory is transient: image-pull back-off, waiting reasons to report, the
// last good desired state, and a ring of recent events. Engine failures are
// retried with exponential back-off; nothing is touched while the engine is
// unreachable.
package executor
