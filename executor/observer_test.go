package executor

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime/fake"
)

// newObserved is newTest with a recording Observer.
func newObserved(t *testing.T, rt *fake.Runtime, src Source) (*Executor, *recordingObserver) {
	t.Helper()
	e, _ := newTest(t, rt, src)
	rec := &recordingObserver{}
	e.opt.Observer = rec
	return e, rec
}

func TestObserverSeesSyncsAndAppliedActions(t *testing.T) {
	rt := fake.New("img:v1")
	src := &stubSource{d: &config.Desired{Revision: "r1", Workloads: []config.Workload{deployment("web", 2, "img:v1", corev1.PullIfNotPresent)}}}
	e, rec := newObserved(t, rt, src)
	converge(t, e)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.syncs) == 0 || !rec.syncs[0] {
		t.Errorf("sync attempts %v, want successes", rec.syncs)
	}
	// One CreatePod per replica; later passes find nothing to do.
	if rec.passes == 0 || rec.actions != 2 {
		t.Errorf("observer saw %d passes, %d actions; want 2 actions", rec.passes, rec.actions)
	}
	if rec.restarts != 0 {
		t.Errorf("%d restarts on a fresh deployment", rec.restarts)
	}
}

func TestObserverSeesFailedSync(t *testing.T) {
	rt := fake.New("img:v1")
	e, rec := newObserved(t, rt, &stubSource{err: errors.New("broken")})
	e.Step(context.Background())
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.syncs) != 1 || rec.syncs[0] {
		t.Errorf("sync attempts %v, want one failure", rec.syncs)
	}
	if rec.passes != 0 {
		t.Errorf("%d passes without a desired state, want none", rec.passes)
	}
}

func TestObserverSeesContainerRestart(t *testing.T) {
	rt := fake.New("img:v1")
	src := &stubSource{d: &config.Desired{Revision: "r1", Workloads: []config.Workload{deployment("web", 1, "img:v1", corev1.PullIfNotPresent)}}}
	e, rec := newObserved(t, rt, src)
	converge(t, e)
	rt.Exit(strings.TrimPrefix(rt.PodNames()[0], "ns/"), "app", 1)
	converge(t, e)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.restarts != 1 {
		t.Errorf("%d container restarts, want 1", rec.restarts)
	}
}
