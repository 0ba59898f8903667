package executor

import (
	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

// Objects returns the desired objects the loop applies (the last good
// revision), for read-only views such as `reconciler get configmaps`.
// The objects are shared: callers must not modify them.
func (e *Executor) Objects() []config.Object {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]config.Object(nil), e.objects...)
}

// Pods returns the pods of the last observation, with readiness as the
// probes see it. The pods are shared: callers must not modify them.
func (e *Executor) Pods() []runtime.Pod {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pods
}
