package podman_test

import (
	"bytes"
	"context"
	"errors"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/runtime"
)

// TestPodLifecycle drives every Runtime verb against the real engine and
// checks that Observe rebuilds the pod from labels alone.
func TestPodLifecycle(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	spec := runtime.PodSpec{
		Namespace: sc.Namespace, Name: "web-1", Node: sc.Node,
		Owner:        runtime.Owner{Kind: "Deployment", Name: "web"},
		TemplateHash: "abc123", Revision: "rev1",
		Labels:        map[string]string{"app": "web", "tier": "front"},
		RestartPolicy: "Always", GracePeriod: 2 * time.Second,
		Ports: []runtime.PortSpec{{ContainerPort: 8080, Protocol: "TCP"}},
	}
	podID, err := rt.CreatePod(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	cid, err := rt.CreateContainer(ctx, runtime.ContainerSpec{
		PodID: podID, Pod: spec, Name: "hello", Image: "localhost/reconciler-hello:v1",
		Env: []runtime.EnvVar{{Name: "PORT", Value: "8080"}}, RestartCount: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, cid); err != nil {
		t.Fatal(err)
	}

	obs, err := rt.Observe(ctx, sc.Node)
	if err != nil {
		t.Fatal(err)
	}
	if len(obs.Pods) != 1 {
		t.Fatalf("observed %d pods, want 1: %+v", len(obs.Pods), obs.Pods)
	}
	p := obs.Pods[0]
	if p.Name != "web-1" || p.Namespace != sc.Namespace || p.Owner.Name != "web" || p.TemplateHash != "abc123" ||
		p.Revision != "rev1" || p.GracePeriod != 2*time.Second || p.Labels["app"] != "web" || len(p.Labels) != 2 {
		t.Errorf("observed pod %+v does not match the spec", p)
	}
	if len(p.Containers) != 1 || p.Containers[0].Name != "hello" || p.Containers[0].RestartCount != 3 ||
		p.Containers[0].State != runtime.StateRunning {
		t.Fatalf("observed containers %+v", p.Containers)
	}
	if len(p.Ports) != 1 || p.Ports[0].HostIP != "127.0.0.1" || p.Ports[0].HostPort == 0 || p.Ports[0].ContainerPort != 8080 {
		t.Errorf("observed ports %+v, want 8080 published on 127.0.0.1", p.Ports)
	}

	res, err := rt.Exec(ctx, cid, []string{"/app", "exit", "7"})
	if err != nil || res.ExitCode != 7 || !strings.Contains(string(res.Stdout), "exiting with status 7") {
		t.Errorf("exec: %v, exit %d, stdout %q", err, res.ExitCode, res.Stdout)
	}

	var logs bytes.Buffer
	if err := rt.Logs(ctx, cid, runtime.LogOptions{Tail: -1}, &logs); err != nil || !strings.Contains(logs.String(), "listening") {
		t.Errorf("logs: %v: %q", err, logs.String())
	}

	if err := rt.RemovePod(ctx, podID, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := rt.RemovePod(ctx, podID, time.Second); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("second remove: %v, want ErrNotFound", err)
	}
	obs, err = rt.Observe(ctx, sc.Node)
	if err != nil || len(obs.Pods) != 0 {
		t.Errorf("after remove: %v, %d pods", err, len(obs.Pods))
	}
}

// TestExecDoesNotLeak runs many execs, concurrently with other calls, and
// checks that goroutines (and so connections) return to the baseline. It
// counts the process's goroutines, so it does not run in parallel with the
// package's other tests (which watch containers and hold connections).
func TestExecDoesNotLeak(t *testing.T) {
	rt, sc := testenv.Integration(t)
	ctx := context.Background()
	spec := runtime.PodSpec{Namespace: sc.Namespace, Name: "exec", Node: sc.Node, Owner: runtime.Owner{Kind: "Pod", Name: "exec"}}
	podID, err := rt.CreatePod(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	cid, err := rt.CreateContainer(ctx, runtime.ContainerSpec{PodID: podID, Pod: spec, Name: "hello", Image: "localhost/reconciler-hello:v1"})
	if err == nil {
		err = rt.StartContainer(ctx, cid)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Observe(ctx, sc.Node); err != nil { // warm the shared connection
		t.Fatal(err)
	}
	base := goruntime.NumGoroutine()
	done := make(chan struct{})
	go func() { // the shared connection in use meanwhile, as the loop does
		defer close(done)
		for i := 0; i < 50; i++ {
			_, _ = rt.Observe(ctx, sc.Node)
		}
	}()
	for i := 0; i < 100; i++ {
		res, err := rt.Exec(ctx, cid, []string{"/app", "exit", "3"})
		if err != nil || res.ExitCode != 3 {
			t.Fatalf("exec %d: %v %+v", i, err, res)
		}
	}
	<-done
	deadline := time.Now().Add(10 * time.Second)
	for goruntime.NumGoroutine() > base+4 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after 100 execs, %d before", goruntime.NumGoroutine(), base)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRevisionsAreScopedByNode stores revisions for two nodes and checks
// each node sees only its own (Podman ORs label filters on volumes).
func TestRevisionsAreScopedByNode(t *testing.T) {
	t.Parallel()
	rt, a := testenv.Integration(t)
	b := testenv.NewScope(t, rt)
	ctx := context.Background()
	for _, sc := range []testenv.Scope{a, b} {
		r := runtime.Revision{Namespace: sc.Namespace, Deployment: "web", Node: sc.Node, Number: 1, Hash: "h1",
			Template: []byte(`{"spec":{}}`), Source: "c1", Complete: true, PinFor: "h2", PinReason: "undo"}
		if err := rt.PutRevision(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := rt.PutRevision(ctx, r); err != nil { // replacing is allowed
			t.Fatal(err)
		}
	}
	got, err := rt.Revisions(ctx, a.Node)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Node != a.Node || got[0].Number != 1 || got[0].Hash != "h1" || !got[0].Complete ||
		got[0].PinFor != "h2" || got[0].PinReason != "undo" || string(got[0].Template) != `{"spec":{}}` || got[0].Source != "c1" {
		t.Fatalf("revisions of node %s: %+v", a.Node, got)
	}
	if err := rt.DeleteRevision(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	if err := rt.DeleteRevision(ctx, got[0]); err != nil {
		t.Errorf("deleting a missing revision: %v", err)
	}
	if got, _ := rt.Revisions(ctx, b.Node); len(got) != 1 {
		t.Fatalf("node %s lost its revision: %+v", b.Node, got)
	}
}

// TestRevisionsListWhileWritten lists revisions while another goroutine
// keeps rewriting one (each write removes the older version): listing must
// never fail.
func TestRevisionsListWhileWritten(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	ctx := context.Background()
	r := runtime.Revision{Namespace: sc.Namespace, Deployment: "web", Node: sc.Node, Number: 1, Hash: "h1", Template: []byte(`{}`)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 30; i++ {
			r.Number = int64(i + 1)
			if err := rt.PutRevision(ctx, r); err != nil {
				t.Errorf("put: %v", err)
				return
			}
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
		}
		if _, err := rt.Revisions(ctx, sc.Node); err != nil {
			t.Fatalf("listing while writing: %v", err)
		}
	}
}
