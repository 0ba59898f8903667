// Package runtime is the reconciler's narrow view of a container engine: the
// Runtime interface the executor drives, the observed-state model the planner
// reads, and the label schema that makes the engine the only store of state.
//
// Everything the reconciler creates carries the labels in labels.go; Observe
// rebuilds the whole observed state from those labels alone, so a daemon
// killed at any moment needs no local database to continue. Implementations
// live in runtime/podman (the real engine) and runtime/fake (in memory, for
// tests of the executor).
package runtime
