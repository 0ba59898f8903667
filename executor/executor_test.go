package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/runtime/fake"
)

// stubSource returns a settable desired state or error.
type stubSource struct {
	mu  sync.Mutex
	d   *config.Desired
	err error
}

func (s *stubSource) Load(context.Context) (*config.Desired, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.d, s.err
}

func (s *stubSource) set(d *config.Desired, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d, s.err = d, err
}

func deployment(name string, replicas int32, image string, policy corev1.PullPolicy) config.Workload {
	return config.Workload{
		Key:          config.Key{Namespace: "ns", Kind: "Deployment", Name: name},
		Replicas:     replicas,
		TemplateHash: "h-" + strings.ReplaceAll(image, ":", "-"),
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: image, ImagePullPolicy: policy,
				Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}},
		}},
	}
}

// clock is a settable clock, safe for the puller's goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTest(t *testing.T, rt *fake.Runtime, src Source) (*Executor, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	rt.Now = c.now
	e := New(rt, src, Options{Node: "n1", Now: c.now, Reload: time.Nanosecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	clocks[e] = c
	return e, c
}

var clocks = map[*Executor]*clock{}

// converge steps until the loop asks for no immediate pass, letting a
// millisecond pass on the executor's clock between steps.
func converge(t *testing.T, e *Executor) {
	t.Helper()
	for i := 0; i < 20; i++ {
		if c, ok := clocks[e]; ok {
			c.add(time.Millisecond)
		}
		d := e.Step(context.Background())
		e.rm.wg.Wait() // removals run in the background; let them land
		if d > 0 && len(e.rm.pending) == 0 {
			if e.Step(context.Background()) > 0 {
				return
			}
		}
	}
	t.Fatal("no convergence in 20 steps")
}

func TestExecutorCreatesScalesAndReplaces(t *testing.T) {
	rt := fake.New("img:v1", "img:v2")
	src := &stubSource{d: &config.Desired{Revision: "r1", Workloads: []config.Workload{deployment("web", 3, "img:v1", corev1.PullIfNotPresent)}}}
	e, _ := newTest(t, rt, src)
	converge(t, e)
	if n := len(rt.PodNames()); n != 3 {
		t.Fatalf("%d pods, want 3: %v", n, rt.PodNames())
	}
	src.set(&config.Desired{Revision: "r2", Workloads: []config.Workload{deployment("web", 1, "img:v1", corev1.PullIfNotPresent)}}, nil)
	converge(t, e)
	if n := len(rt.PodNames()); n != 1 {
		t.Fatalf("after scale to 1: %v", rt.PodNames())
	}
	old := rt.PodNames()[0]
	src.set(&config.Desired{Revision: "r3", Workloads: []config.Workload{deployment("web", 2, "img:v2", corev1.PullIfNotPresent)}}, nil)
	converge(t, e)
	obs, _ := rt.Observe(context.Background(), "n1")
	if len(obs.Pods) != 2 {
		t.Fatalf("after image change: %v", rt.PodNames())
	}
	for _, p := range obs.Pods {
		if p.Name == old || p.Containers[0].Image != "img:v2" || p.Revision != "r3" {
			t.Errorf("pod %s not replaced: %+v", p.Name, p)
		}
	}
	if !e.Status().InSync {
		t.Error("status not in sync after convergence")
	}
}

func TestExecutorImagePullFailureIsolated(t *testing.T) {
	rt := fake.New("img:v1")
	rt.FailPull["missing:v1"] = true
	src := &stubSource{d: &config.Desired{Revision: "r1", Workloads: []config.Workload{
		deployment("bad", 1, "missing:v1", corev1.PullIfNotPresent),
		deployment("good", 2, "img:v1", corev1.PullIfNotPresent),
	}}}
	e, c := newTest(t, rt, src)
	converge(t, e)
	e.pulls.wg.Wait() // the background pull has failed
	converge(t, e)
	var seq []string
	for _, ev := range e.Events() {
		if strings.HasPrefix(ev.Object, "pod/ns/bad-") && ev.Type == Warning {
			seq = append(seq, ev.Reason)
		}
	}
	if len(seq) < 1 || seq[0] != ReasonErrImagePull {
		t.Fatalf("warning events of the bad pod %v, want ErrImagePull first", seq)
	}
	converge(t, e)
	for k, ps := range e.Status().Pods {
		if strings.HasPrefix(k, "ns/bad-") && ps.Reason != ReasonImagePullBackOff {
			t.Fatalf("then %q, want %s", ps.Reason, ReasonImagePullBackOff)
		}
	}
	obs, _ := rt.Observe(context.Background(), "n1")
	running := 0
	for _, p := range obs.Pods {
		if p.Owner.Name == "good" && len(p.Containers) == 1 {
			running++
		}
	}
	if running != 2 {
		t.Fatalf("good deployment has %d running pods, want 2", running)
	}
	pulls := countPrefix(rt.Calls(), "PullImage missing:v1")
	c.add(11 * time.Second) // back-off over: one more pull
	converge(t, e)
	e.pulls.wg.Wait()
	if got := countPrefix(rt.Calls(), "PullImage missing:v1"); got != pulls+1 {
		t.Fatalf("pulls after back-off: %d, want %d", got, pulls+1)
	}
}

func TestExecutorEngineDownTouchesNothingAndRecovers(t *testing.T) {
	rt := fake.New("img:v1")
	src := &stubSource{d: &config.Desired{Revision: "r1", Workloads: []config.Workload{deployment("web", 2, "img:v1", corev1.PullIfNotPresent)}}}
	e, _ := newTest(t, rt, src)
	rt.SetDown(true)
	d1 := e.Step(context.Background())
	d2 := e.Step(context.Background())
	if d1 <= 0 || d2 <= d1 {
		t.Fatalf("back-off delays %v then %v, want growing", d1, d2)
	}
	for _, c := range rt.Calls() {
		if !strings.HasPrefix(c, "Observe") && !strings.HasPrefix(c, "Ping") {
			t.Fatalf("engine down but the executor called %q", c)
		}
	}
	if st := e.Status(); st.EngineUp || st.EngineError == "" {
		t.Fatalf("status does not report the outage: %+v", st)
	}
	if !hasEvent(e, "EngineUnavailable") {
		t.Fatal("no EngineUnavailable event")
	}
	rt.SetDown(false)
	converge(t, e)
	if len(rt.PodNames()) != 2 || !e.Status().EngineUp || !hasEvent(e, "EngineAvailable") {
		t.Fatalf("no recovery: pods %v status %+v", rt.PodNames(), e.Status())
	}
}

func TestExecutorKeepsLastGoodDesiredOnSourceError(t *testing.T) {
	rt := fake.New("img:v1")
	src := &stubSource{d: &config.Desired{Revision: "r1", Workloads: []config.Workload{deployment("web", 2, "img:v1", corev1.PullIfNotPresent)}}}
	e, _ := newTest(t, rt, src)
	converge(t, e)
	src.set(nil, errors.New("web.yaml#0: spec.replicas: must be greater than or equal to 0"))
	rt.ResetCalls()
	converge(t, e)
	if len(rt.PodNames()) != 2 || countPrefix(rt.Calls(), "RemovePod") != 0 {
		t.Fatalf("a bad source changed running pods: %v %v", rt.PodNames(), rt.Calls())
	}
	if st := e.Status(); st.SourceError == "" || st.Revision != "r1" {
		t.Fatalf("status %+v: want the source error and revision r1", st)
	}
}

func TestExecutorWithoutGoodDesiredTouchesNothing(t *testing.T) {
	rt := fake.New("img:v1")
	id, _ := rt.CreatePod(context.Background(), podSpecFor("n1"))
	_ = id
	src := &stubSource{err: errors.New("broken")}
	e, _ := newTest(t, rt, src)
	rt.ResetCalls()
	e.Step(context.Background())
	for _, c := range rt.Calls() {
		if c != "Observe" {
			t.Fatalf("called %q without a good desired state", c)
		}
	}
}

func TestExecutorRestartsExitedContainer(t *testing.T) {
	rt := fake.New("img:v1")
	src := &stubSource{d: &config.Desired{Revision: "r1", Workloads: []config.Workload{deployment("web", 1, "img:v1", corev1.PullIfNotPresent)}}}
	e, _ := newTest(t, rt, src)
	converge(t, e)
	name := strings.TrimPrefix(rt.PodNames()[0], "ns/")
	rt.Exit(name, "app", 1)
	converge(t, e)
	obs, _ := rt.Observe(context.Background(), "n1")
	cur := obs.Pods[0].Current("app")
	if cur.RestartCount != 1 || cur.State != "running" {
		t.Fatalf("after exit: %+v", obs.Pods[0].Containers)
	}
}

func TestRunReactsToEvents(t *testing.T) {
	rt := fake.New("img:v1")
	src := &stubSource{d: &config.Desired{Revision: "r1", Workloads: []config.Workload{deployment("web", 1, "img:v1", corev1.PullIfNotPresent)}}}
	e := New(rt, src, Options{Node: "n1", Resync: time.Hour, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()
	waitFor(t, func() bool { return len(rt.PodNames()) == 1 && e.Status().InSync })
	name := strings.TrimPrefix(rt.PodNames()[0], "ns/")
	rt.Exit(name, "app", 2) // emits an event; the resync is an hour away
	waitFor(t, func() bool {
		obs, _ := rt.Observe(ctx, "n1")
		c := obs.Pods[0].Current("app")
		return c.RestartCount == 1 && c.State == "running"
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func countPrefix(calls []string, prefix string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func hasEvent(e *Executor, reason string) bool {
	for _, ev := range e.Events() {
		if ev.Reason == reason {
			return true
		}
	}
	return false
}

func podSpecFor(node string) runtime.PodSpec {
	return runtime.PodSpec{Namespace: "ns", Name: "keep", Node: node, Owner: runtime.Owner{Kind: "Pod", Name: "keep"}}
}

func TestImagePullPolicies(t *testing.T) {
	ctx := context.Background()
	rt := fake.New("local:v1")
	rt.FailPull["local:v1"] = true
	p := newPuller(rt, time.Now, func() {})
	var w *ErrWaiting
	if err := p.ensure(ctx, "gone:v1", corev1.PullNever); !errors.As(err, &w) || w.Reason != ReasonErrImageNeverPull {
		t.Fatalf("Never and missing: %v", err)
	}
	if err := p.ensure(ctx, "local:v1", corev1.PullNever); err != nil {
		t.Fatalf("Never and present: %v", err)
	}
	if err := p.ensure(ctx, "local:v1", corev1.PullIfNotPresent); err != nil {
		t.Fatalf("IfNotPresent and present: %v", err)
	}
	if n := countPrefix(rt.Calls(), "PullImage"); n != 0 {
		t.Fatalf("%d pulls for present images under Never/IfNotPresent", n)
	}
	// Always pulls; when the registry fails and a local copy exists, it is used.
	if err := p.ensure(ctx, "local:v1", corev1.PullAlways); !errors.As(err, &w) || w.Reason != ReasonContainerCreating {
		t.Fatalf("Always: first ask should start a pull: %v", err)
	}
	p.wg.Wait()
	if err := p.ensure(ctx, "local:v1", corev1.PullAlways); err != nil {
		t.Fatalf("Always with a failed pull and a local copy: %v", err)
	}
	// Always with a working registry pulls again for each new container.
	rt2 := fake.New()
	p2 := newPuller(rt2, time.Now, func() {})
	for i := 0; i < 2; i++ {
		_ = p2.ensure(ctx, "remote:v1", corev1.PullAlways)
		p2.wg.Wait()
		if err := p2.ensure(ctx, "remote:v1", corev1.PullAlways); err != nil {
			t.Fatalf("Always after a good pull: %v", err)
		}
		p2.forget("remote:v1")
	}
	if n := countPrefix(rt2.Calls(), "PullImage remote:v1"); n != 2 {
		t.Fatalf("Always pulled %d times for two container starts, want 2", n)
	}
}

// TestSlowRemovalDoesNotStallTheLoop stops a pod whose removal hangs (a long
// grace period) and checks that the loop keeps working on other objects.
func TestSlowRemovalDoesNotStallTheLoop(t *testing.T) {
	rt := fake.New("img:v1")
	src := &stubSource{d: &config.Desired{Revision: "r1", Workloads: []config.Workload{
		deployment("slow", 2, "img:v1", corev1.PullIfNotPresent), deployment("other", 1, "img:v1", corev1.PullIfNotPresent)}}}
	e, c := newTest(t, rt, src)
	converge(t, e)
	rt.RemoveGate = make(chan struct{})
	c.add(time.Second) // the next step reloads the source
	src.set(&config.Desired{Revision: "r2", Workloads: []config.Workload{
		deployment("slow", 1, "img:v1", corev1.PullIfNotPresent), deployment("other", 1, "img:v1", corev1.PullIfNotPresent)}}, nil)
	for i := 0; i < 3; i++ {
		e.Step(context.Background()) // returns although the removal hangs
	}
	var other string
	for _, n := range rt.PodNames() {
		if strings.HasPrefix(n, "ns/other-") {
			other = strings.TrimPrefix(n, "ns/")
		}
	}
	rt.Exit(other, "app", 1)
	for i := 0; i < 3; i++ {
		e.Step(context.Background())
	}
	obs, _ := rt.Observe(context.Background(), "n1")
	for _, p := range obs.Pods {
		if p.Name == other && p.Current("app").RestartCount != 1 {
			t.Fatalf("the loop stalled behind a slow removal: %+v", p.Containers)
		}
	}
	e.rm.mu.Lock()
	pending := len(e.rm.pending)
	e.rm.mu.Unlock()
	if pending != 1 {
		t.Fatalf("%d removals pending, want exactly the one scale-down victim", pending)
	}
	close(rt.RemoveGate)
	e.rm.wg.Wait()
	converge(t, e)
	if n := len(rt.PodNames()); n != 2 {
		t.Fatalf("after the removal: %v", rt.PodNames())
	}
}

func TestAutoRevertAndGitOverride(t *testing.T) {
	rt := fake.New("img:v1", "img:v3")
	rt.FailPull["img:v2"] = true
	dep := func(image string) config.Workload {
		w := deployment("web", 2, image, corev1.PullIfNotPresent)
		w.ProgressDeadlineSeconds, w.AutoRevert, w.RevisionHistoryLimit = 10, true, 10
		return w
	}
	src := &stubSource{d: &config.Desired{Revision: "c1", Workloads: []config.Workload{dep("img:v1")}}}
	e, c := newTest(t, rt, src)
	converge(t, e)
	images := func() map[string]int {
		obs, _ := rt.Observe(context.Background(), "n1")
		m := map[string]int{}
		for _, p := range obs.Pods {
			if cur := p.Current("app"); cur != nil {
				m[cur.Image]++
			}
		}
		return m
	}
	src.set(&config.Desired{Revision: "c2", Workloads: []config.Workload{dep("img:v2")}}, nil)
	c.add(time.Second)
	converge(t, e)
	e.pulls.wg.Wait()
	c.add(11 * time.Second) // past the progress deadline
	converge(t, e)
	converge(t, e)
	if !hasEvent(e, "AutoReverted") {
		t.Fatalf("no AutoReverted event; events %+v", e.Events())
	}
	ws := e.Status().Workloads[0]
	if ws.Failed == "" || !strings.Contains(ws.Pinned, "revision 1") {
		t.Fatalf("status after the revert: %+v", ws)
	}
	if m := images(); m["img:v1"] != 2 || len(m) != 1 {
		t.Fatalf("after the revert the pods run %v, want 2 on img:v1", m)
	}
	revs, _ := rt.Revisions(context.Background(), "n1")
	if len(revs) != 2 {
		t.Fatalf("revisions %+v, want 2", revs)
	}
	// The next commit that changes the template overrides the revert.
	src.set(&config.Desired{Revision: "c3", Workloads: []config.Workload{dep("img:v3")}}, nil)
	c.add(time.Second)
	for i := 0; i < 5; i++ {
		converge(t, e)
	}
	if m := images(); m["img:v3"] != 2 || len(m) != 1 {
		t.Fatalf("after a new commit the pods run %v, want 2 on img:v3", m)
	}
	if ws := e.Status().Workloads[0]; ws.Pinned != "" || ws.Failed != "" || !ws.Complete {
		t.Fatalf("status after the new commit: %+v", ws)
	}
	revs, _ = rt.Revisions(context.Background(), "n1")
	var numbers []int64
	for _, r := range revs {
		numbers = append(numbers, r.Number)
		if r.PinFor != "" {
			t.Errorf("revision %d still pinned for %s", r.Number, r.PinFor)
		}
	}
	if len(revs) != 3 {
		t.Fatalf("revision numbers %v, want 3 revisions", numbers)
	}
}

func TestRevisionHistoryLimit(t *testing.T) {
	rt := fake.New("img:v0", "img:v1", "img:v2", "img:v3", "img:v4")
	src := &stubSource{}
	e, c := newTest(t, rt, src)
	for i := 0; i < 5; i++ {
		w := deployment("web", 1, fmt.Sprintf("img:v%d", i), corev1.PullIfNotPresent)
		w.RevisionHistoryLimit = 2
		src.set(&config.Desired{Revision: fmt.Sprintf("c%d", i), Workloads: []config.Workload{w}}, nil)
		c.add(time.Second)
		converge(t, e)
	}
	revs, _ := rt.Revisions(context.Background(), "n1")
	var nums []int64
	for _, r := range revs {
		nums = append(nums, r.Number)
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	if fmt.Sprint(nums) != "[3 4 5]" {
		t.Fatalf("revisions kept %v, want [3 4 5] (the current one and 2 old)", nums)
	}
}

func TestPausedLoopChangesNothing(t *testing.T) {
	rt := fake.New("img:v1")
	src := &stubSource{d: &config.Desired{Revision: "r1", Workloads: []config.Workload{deployment("web", 2, "img:v1", corev1.PullIfNotPresent)}}}
	e, _ := newTest(t, rt, src)
	e.SetPaused(true)
	e.Step(context.Background())
	e.Step(context.Background())
	if len(rt.PodNames()) != 0 {
		t.Fatalf("a paused loop created pods: %v", rt.PodNames())
	}
	st := e.Status()
	if !st.Paused || st.InSync || len(st.Pending) != 2 || !strings.HasPrefix(st.Pending[0], "CreatePod ns/web-") {
		t.Fatalf("paused status %+v", st)
	}
	e.SetPaused(false)
	converge(t, e)
	if len(rt.PodNames()) != 2 || !hasEvent(e, "SyncPaused") || !hasEvent(e, "SyncResumed") {
		t.Fatalf("after resume: %v", rt.PodNames())
	}
}

// removeContainerByHand removes a pod's current container behind the
// loop's back.
func removeContainerByHand(t *testing.T, rt *fake.Runtime) {
	t.Helper()
	obs, _ := rt.Observe(context.Background(), "n1")
	if err := rt.RemoveContainer(context.Background(), obs.Pods[0].Containers[0].ID); err != nil {
		t.Fatal(err)
	}
}

func TestDriftIsCorrectedAndCounted(t *testing.T) {
	rt := fake.New("img:v1")
	src := &stubSource{d: &config.Desired{Revision: "r1", Workloads: []config.Workload{deployment("web", 2, "img:v1", corev1.PullIfNotPresent)}}}
	e, _ := newTest(t, rt, src)
	converge(t, e)
	if st := e.Status(); len(st.Drift) != 0 || len(st.DriftCorrections) != 0 {
		t.Fatalf("the first rollout counted as drift: %+v", st)
	}
	removeContainerByHand(t, rt)
	converge(t, e)
	st := e.Status()
	if st.DriftCorrections[DriftRemoved] != 1 || !hasEvent(e, "DriftDetected") {
		t.Fatalf("correction not counted: %+v", st.DriftCorrections)
	}
	obs, _ := rt.Observe(context.Background(), "n1")
	for _, p := range obs.Pods {
		if len(p.Containers) != 1 {
			t.Fatalf("the removed container was not replaced: %+v", p)
		}
	}
	// A change in the source is not drift.
	src.set(&config.Desired{Revision: "r2", Workloads: []config.Workload{deployment("web", 3, "img:v1", corev1.PullIfNotPresent)}}, nil)
	clocks[e].add(time.Second)
	converge(t, e)
	if st := e.Status(); st.DriftCorrections[DriftRemoved] != 1 || len(st.DriftCorrections) != 1 {
		t.Fatalf("a scale-up from the source counted as drift: %+v", st.DriftCorrections)
	}
}

func TestNoSelfHealReportsDriftAndLeavesIt(t *testing.T) {
	rt := fake.New("img:v1")
	src := &stubSource{d: &config.Desired{Revision: "r1", Workloads: []config.Workload{deployment("web", 1, "img:v1", corev1.PullIfNotPresent)}}}
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	rt.Now = c.now
	e := New(rt, src, Options{Node: "n1", Now: c.now, Reload: time.Nanosecond, NoSelfHeal: true,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	clocks[e] = c
	converge(t, e)
	removeContainerByHand(t, rt)
	converge(t, e)
	obs, _ := rt.Observe(context.Background(), "n1")
	if len(obs.Pods[0].Containers) != 0 {
		t.Fatal("self-heal is off, but the container was replaced")
	}
	st := e.Status()
	if len(st.Drift) != 1 || st.Drift[0].Reason != DriftRemoved || st.Drift[0].Name != "web" || st.InSync {
		t.Fatalf("drift not reported: %+v", st)
	}
	// The next change in the source is applied, and brings the pod back.
	src.set(&config.Desired{Revision: "r2", Workloads: []config.Workload{deployment("web", 1, "img:v2", corev1.PullIfNotPresent)}}, nil)
	rt.FailPull = map[string]bool{}
	c.add(time.Second)
	for i := 0; i < 4; i++ {
		converge(t, e)
		e.pulls.wg.Wait()
	}
	if st := e.Status(); len(st.Drift) != 0 || !st.InSync {
		t.Fatalf("after the next commit: %+v", st)
	}
}

// recordingObserver keeps what the loop reports.
type recordingObserver struct {
	mu                        sync.Mutex
	passes, actions, restarts int
	syncs                     []bool
	rollouts                  []time.Duration
}

func (r *recordingObserver) SyncAttempt(ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncs = append(r.syncs, ok)
}

func (r *recordingObserver) ContainerRestart() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.restarts++
}

func (r *recordingObserver) Pass(_, _ time.Duration, actions int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.passes++
	r.actions += actions
}

func (r *recordingObserver) RolloutDone(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rollouts = append(r.rollouts, d)
}

func TestObserverSeesPassesAndRollouts(t *testing.T) {
	rt := fake.New("img:v1", "img:v2")
	src := &stubSource{d: &config.Desired{Revision: "r1", Workloads: []config.Workload{deployment("web", 2, "img:v1", corev1.PullIfNotPresent)}}}
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	rt.Now = c.now
	rec := &recordingObserver{}
	e := New(rt, src, Options{Node: "n1", Now: c.now, Reload: time.Nanosecond, Observer: rec,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	clocks[e] = c
	converge(t, e)
	src.set(&config.Desired{Revision: "r2", Workloads: []config.Workload{deployment("web", 2, "img:v2", corev1.PullIfNotPresent)}}, nil)
	c.add(time.Second)
	for i := 0; i < 4; i++ {
		converge(t, e)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.passes == 0 || rec.actions < 4 {
		t.Fatalf("observer saw %d passes, %d actions", rec.passes, rec.actions)
	}
	// The first template's rollout and the update to v2.
	if len(rec.rollouts) != 2 || rec.rollouts[0] <= 0 || rec.rollouts[1] <= 0 {
		t.Fatalf("rollout durations %v, want two positive", rec.rollouts)
	}
}
