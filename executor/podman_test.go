package executor_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/runtime/podman"
)

// These tests run the executor against the real Podman engine, on manifests
// written to a temporary directory, each in its own node and namespace.

const deploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  replicas: %[3]d
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: hello
        image: %[4]s
        imagePullPolicy: IfNotPresent
        ports:
        - {name: http, containerPort: 8080}
`

func writeDeployment(t *testing.T, dir, name, ns string, replicas int, image string) {
	t.Helper()
	body := fmt.Sprintf(deploymentYAML, name, ns, replicas, image)
	writeFile(t, dir, name+".yaml", body)
}

// writeFile writes a manifest into dir atomically (a temporary file
// renamed into place), as a careful editor or a git checkout does.
func writeFile(t testing.TB, dir, name, body string) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// daemonB runs an executor for a benchmark, logging nothing.
func daemonB(b *testing.B, rt runtime.Runtime, node, dir string) {
	testenv.DeclareNamespace(b, dir, node)
	e := executor.New(rt, &config.Dir{Path: dir, Settle: 50 * time.Millisecond}, executor.Options{Node: node, Resync: time.Second,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
}

// daemon runs an executor on dir until the test ends.
func daemon(t *testing.T, rt runtime.Runtime, node, dir string) *executor.Executor {
	t.Helper()
	testenv.DeclareNamespace(t, dir, node)
	e := executor.New(rt, &config.Dir{Path: dir, Settle: 50 * time.Millisecond}, executor.Options{
		Node: node, Resync: time.Second, RetryBase: 100 * time.Millisecond, RetryMax: time.Second,
		Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runningPods returns the node's pods of owner whose containers all run.
func runningPods(t *testing.T, rt runtime.Runtime, node, owner string) []runtime.Pod {
	t.Helper()
	obs, err := rt.Observe(context.Background(), node)
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	var out []runtime.Pod
	for _, p := range obs.Pods {
		if p.Owner.Name != owner {
			continue
		}
		if c := p.Current("hello"); c != nil && c.State == runtime.StateRunning {
			out = append(out, p)
		}
	}
	return out
}

func countPods(t *testing.T, rt runtime.Runtime, node, owner string) int {
	t.Helper()
	obs, err := rt.Observe(context.Background(), node)
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	n := 0
	for _, p := range obs.Pods {
		if p.Owner.Name == owner {
			n++
		}
	}
	return n
}

// exactly waits until owner has n running pods and no others.
func exactly(t *testing.T, rt runtime.Runtime, node, owner string, n int, pred func(runtime.Pod) bool) []runtime.Pod {
	t.Helper()
	var pods []runtime.Pod
	eventually(t, 60*time.Second, fmt.Sprintf("%d running pods of %s", n, owner), func() bool {
		pods = runningPods(t, rt, node, owner)
		if len(pods) != n || countPods(t, rt, node, owner) != n {
			return false
		}
		for _, p := range pods {
			if pred != nil && !pred(p) {
				return false
			}
		}
		return true
	})
	return pods
}

// get fetches a pod's app over its published port.
func get(t *testing.T, p runtime.Pod) string {
	t.Helper()
	if len(p.Ports) == 0 {
		t.Fatalf("pod %s publishes no port", p.Name)
	}
	url := fmt.Sprintf("http://%s:%d/", p.Ports[0].HostIP, p.Ports[0].HostPort)
	var body string
	eventually(t, 10*time.Second, "app answers at "+url, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == 200
	})
	return body
}

func TestDeploymentScaleAndImageChange(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	dir := t.TempDir()
	writeDeployment(t, dir, "web", sc.Namespace, 3, "localhost/reconciler-hello:v1")
	e := daemon(t, rt, sc.Node, dir)

	pods := exactly(t, rt, sc.Node, "web", 3, nil)
	for _, p := range pods {
		if p.Namespace != sc.Namespace || p.Owner.Kind != "Deployment" || p.TemplateHash == "" ||
			!strings.HasPrefix(p.Revision, "dir-") || p.Labels["app"] != "web" || p.Node != sc.Node {
			t.Errorf("pod %s lacks its labels: %+v", p.Name, p)
		}
	}
	if body := get(t, pods[0]); !strings.Contains(body, "version v1") {
		t.Errorf("app answered %q, want version v1", body)
	}

	writeDeployment(t, dir, "web", sc.Namespace, 5, "localhost/reconciler-hello:v1")
	exactly(t, rt, sc.Node, "web", 5, nil)
	writeDeployment(t, dir, "web", sc.Namespace, 1, "localhost/reconciler-hello:v1")
	exactly(t, rt, sc.Node, "web", 1, nil)
	writeDeployment(t, dir, "web", sc.Namespace, 3, "localhost/reconciler-hello:v1")
	old := exactly(t, rt, sc.Node, "web", 3, nil)

	writeDeployment(t, dir, "web", sc.Namespace, 3, "localhost/reconciler-hello:v2")
	oldIDs := map[string]bool{}
	for _, p := range old {
		oldIDs[p.ID] = true
	}
	pods = exactly(t, rt, sc.Node, "web", 3, func(p runtime.Pod) bool {
		return !oldIDs[p.ID] && p.Current("hello").Image == "localhost/reconciler-hello:v2"
	})
	if body := get(t, pods[0]); !strings.Contains(body, "version v2") {
		t.Errorf("app answered %q after the image change, want version v2", body)
	}
	eventually(t, 10*time.Second, "status in sync", func() bool { return e.Status().InSync })
}

func TestContainerRemovedByHandIsReplaced(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	dir := t.TempDir()
	writeDeployment(t, dir, "web", sc.Namespace, 2, "localhost/reconciler-hello:v1")
	daemon(t, rt, sc.Node, dir)
	pods := exactly(t, rt, sc.Node, "web", 2, nil)

	victim := pods[0].Current("hello")
	start := time.Now()
	if out, err := exec.Command("podman", "rm", "-f", "-t", "0", victim.ID).CombinedOutput(); err != nil {
		t.Fatalf("podman rm -f: %v: %s", err, out)
	}
	eventually(t, 2*time.Second, "the removed container replaced", func() bool {
		for _, p := range runningPods(t, rt, sc.Node, "web") {
			if p.ID == pods[0].ID && p.Current("hello").ID != victim.ID {
				return true
			}
		}
		return false
	})
	t.Logf("replaced %v after podman rm -f", time.Since(start))
	exactly(t, rt, sc.Node, "web", 2, nil)
}

func TestMissingImageReportsErrImagePull(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	dir := t.TempDir()
	writeDeployment(t, dir, "good", sc.Namespace, 2, "localhost/reconciler-hello:v1")
	writeDeployment(t, dir, "bad", sc.Namespace, 1, "localhost/reconciler-does-not-exist:v1")
	e := daemon(t, rt, sc.Node, dir)

	exactly(t, rt, sc.Node, "good", 2, nil)
	eventually(t, 30*time.Second, "ErrImagePull reported for the bad pod", func() bool {
		for _, ev := range e.Events() {
			if ev.Reason == executor.ReasonErrImagePull && strings.Contains(ev.Object, "/bad-") &&
				strings.Contains(ev.Message, "reconciler-does-not-exist") {
				return true
			}
		}
		return false
	})
	eventually(t, 10*time.Second, "the bad pod's status shows the pull failure", func() bool {
		for k, ps := range e.Status().Pods {
			if strings.Contains(k, "/bad-") && (ps.Reason == executor.ReasonErrImagePull || ps.Reason == executor.ReasonImagePullBackOff) {
				return true
			}
		}
		return false
	})
	if n := len(runningPods(t, rt, sc.Node, "good")); n != 2 {
		t.Fatalf("the good deployment has %d running pods, want 2", n)
	}
}

// TestEngineOutage runs the daemon against a private Podman API service (the
// same storage, its own socket), stops that service, and checks that the
// daemon reports the outage, touches nothing, and converges once the
// service is back — without disturbing tests that use the shared service.
func TestEngineOutage(t *testing.T) {
	t.Parallel()
	shared := testenv.Podman(t)
	testenv.Images(t)
	sock := filepath.Join(t.TempDir(), "podman.sock")
	svc := testenv.StartService(t, sock)
	rt := podman.New("unix://" + sock)
	sc := testenv.NewScope(t, shared)
	dir := t.TempDir()
	writeDeployment(t, dir, "web", sc.Namespace, 2, "localhost/reconciler-hello:v1")
	e := daemon(t, rt, sc.Node, dir)
	before := exactly(t, shared, sc.Node, "web", 2, nil)

	svc.Stop(t)
	eventually(t, 10*time.Second, "the outage reported", func() bool {
		st := e.Status()
		return !st.EngineUp && st.EngineError != ""
	})
	// While the daemon cannot reach its engine, scale down in git: nothing
	// may change until the engine is back.
	writeDeployment(t, dir, "web", sc.Namespace, 1, "localhost/reconciler-hello:v1")
	time.Sleep(1500 * time.Millisecond) // several retry periods of the daemon
	if got := runningPods(t, shared, sc.Node, "web"); len(got) != 2 || got[0].ID != before[0].ID {
		t.Fatalf("pods changed while the engine was unreachable: %+v", got)
	}
	svc.Start(t)
	exactly(t, shared, sc.Node, "web", 1, nil)
	eventually(t, 10*time.Second, "engine reported up", func() bool { return e.Status().EngineUp })
	var sawDown, sawUp bool
	for _, ev := range e.Events() {
		sawDown = sawDown || ev.Reason == "EngineUnavailable"
		sawUp = sawUp || ev.Reason == "EngineAvailable"
	}
	if !sawDown || !sawUp {
		t.Errorf("events lack the outage: down %v up %v", sawDown, sawUp)
	}
}

const restartPodYAML = `apiVersion: v1
kind: Pod
metadata: {name: %[1]s, namespace: %[2]s, labels: {test: restart}}
spec:
  restartPolicy: %[3]s
  terminationGracePeriodSeconds: 1
  containers:
  - name: hello
    image: localhost/reconciler-hello:v1
    imagePullPolicy: Never
    args: ["exit", "%[4]d"]
`

// TestRestartPolicies runs containers that exit at once (args replace the
// image's command) under each restartPolicy of a plain Pod.
func TestRestartPolicies(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	dir := t.TempDir()
	pods := []struct {
		name, policy string
		code         int
	}{
		{"always", "Always", 0},
		{"onfailure-ok", "OnFailure", 0},
		{"onfailure-fail", "OnFailure", 3},
		{"never-fail", "Never", 4},
	}
	for _, p := range pods {
		body := fmt.Sprintf(restartPodYAML, p.name, sc.Namespace, p.policy, p.code)
		writeFile(t, dir, p.name+".yaml", body)
	}
	daemon(t, rt, sc.Node, dir)
	current := func(name string) *runtime.Container {
		obs, err := rt.Observe(context.Background(), sc.Node)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range obs.Pods {
			if p.Name == name {
				return p.Current("hello")
			}
		}
		return nil
	}
	restarted := func(name string) func() bool {
		return func() bool { c := current(name); return c != nil && c.RestartCount >= 1 }
	}
	eventually(t, 30*time.Second, "Always restarts a container that exited 0", restarted("always"))
	eventually(t, 30*time.Second, "OnFailure restarts a container that exited 3", restarted("onfailure-fail"))
	for _, name := range []string{"onfailure-ok", "never-fail"} {
		c := current(name)
		if c == nil || c.State != runtime.StateExited || c.RestartCount != 0 {
			t.Errorf("%s: %+v, want exited and never restarted", name, c)
		}
	}
	if c := current("never-fail"); c == nil || c.ExitCode != 4 {
		t.Errorf("never-fail exit code: %+v", c)
	}
	var logs strings.Builder
	if err := rt.Logs(context.Background(), current("never-fail").ID, runtime.LogOptions{Tail: -1}, &logs); err != nil ||
		!strings.Contains(logs.String(), "exiting with status 4") {
		t.Errorf("logs of never-fail: %q, %v", logs.String(), err)
	}
}

const rcYAML = `apiVersion: v1
kind: ReplicationController
metadata: {name: kubia, namespace: %s}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: kubia}}
    spec:
      containers:
      - {name: hello, image: "localhost/reconciler-hello:v1", imagePullPolicy: IfNotPresent, ports: [{containerPort: 8080}]}
`

func TestReplicationController(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	dir := t.TempDir()
	writeFile(t, dir, "rc.yaml", fmt.Sprintf(rcYAML, sc.Namespace))
	daemon(t, rt, sc.Node, dir)
	pods := exactly(t, rt, sc.Node, "kubia", 2, nil)
	for _, p := range pods {
		if p.Owner.Kind != "ReplicationController" || !strings.HasPrefix(p.Name, "kubia-") || p.Labels["app"] != "kubia" {
			t.Errorf("RC pod %+v", p)
		}
	}
	if body := get(t, pods[1]); !strings.Contains(body, "hello from kubia-") {
		t.Errorf("app answered %q; the pod's hostname should be its name", body)
	}
}

const rollingYAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %[1]s}
spec:
  replicas: 5
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 2, maxUnavailable: 1}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - {name: hello, image: "%[2]s", imagePullPolicy: IfNotPresent, ports: [{containerPort: 8080}]}
`

// TestRollingUpdateBounds updates a 5-replica Deployment (maxSurge 2,
// maxUnavailable 1) to a new image while sampling the engine: there are
// never more than 7 pods and never fewer than 4 running.
func TestRollingUpdateBounds(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	dir := t.TempDir()
	write := func(image string) {
		writeFile(t, dir, "web.yaml", fmt.Sprintf(rollingYAML, sc.Namespace, image))
	}
	write("localhost/reconciler-hello:v1")
	daemon(t, rt, sc.Node, dir)
	exactly(t, rt, sc.Node, "web", 5, nil)

	write("localhost/reconciler-hello:v2")
	maxTotal, minRunning, samples, consistent := 0, 5, 0, 0
	var lowest string
	deadline := time.Now().Add(90 * time.Second)
	for {
		obs, err := rt.Observe(context.Background(), sc.Node)
		if err != nil {
			t.Fatal(err)
		}
		running, v2, partial := 0, 0, false
		var desc []string
		for _, p := range obs.Pods {
			c := p.Current("hello")
			if c == nil {
				// A pod listed without its container: created or removed
				// between the engine's two list calls. Such a sample says
				// nothing about the lower bound.
				partial = true
				desc = append(desc, p.Name+"(no container)")
				continue
			}
			desc = append(desc, fmt.Sprintf("%s(%s %s)", p.Name, c.Image[len(c.Image)-2:], c.State))
			if c.State == runtime.StateRunning {
				running++
				if c.Image == "localhost/reconciler-hello:v2" {
					v2++
				}
			}
		}
		samples++
		maxTotal = max(maxTotal, len(obs.Pods))
		if !partial {
			consistent++
			if running < minRunning {
				minRunning, lowest = running, strings.Join(desc, " ")
			}
		}
		if len(obs.Pods) == 5 && v2 == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rollout did not finish: %d pods, %d on v2", len(obs.Pods), v2)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%d samples (%d complete): at most %d pods, at least %d running", samples, consistent, maxTotal, minRunning)
	if maxTotal > 7 {
		t.Errorf("%d pods at once, above replicas+maxSurge = 7", maxTotal)
	}
	if minRunning < 4 {
		t.Errorf("only %d pods running at one point, below replicas-maxUnavailable = 4: %s", minRunning, lowest)
	}
	if consistent < 5 {
		t.Errorf("only %d complete samples: the check saw too little of the rollout", consistent)
	}
}

const probePodYAML = `apiVersion: v1
kind: Pod
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: hello
    image: localhost/reconciler-hello:v1
    imagePullPolicy: Never
    ports: [{name: http, containerPort: 8080}]
%[3]s
`

// TestProbes runs one pod per probe kind and outcome on the real engine:
// exec, tcp and http readiness that pass make the pod ready; ones that fail
// keep it unready; a failing liveness probe restarts the container.
func TestProbes(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	dir := t.TempDir()
	pods := map[string]string{
		"exec-ok":   `    readinessProbe: {exec: {command: ["/app", "exit", "0"]}, periodSeconds: 1}`,
		"exec-fail": `    readinessProbe: {exec: {command: ["/app", "exit", "1"]}, periodSeconds: 1}`,
		"tcp-ok":    `    readinessProbe: {tcpSocket: {port: http}, periodSeconds: 1}`,
		"tcp-fail":  `    readinessProbe: {tcpSocket: {port: 9999}, periodSeconds: 1}`,
		"http-ok":   `    readinessProbe: {httpGet: {path: /readyz, port: 8080}, periodSeconds: 1}`,
		"http-fail": `    readinessProbe: {httpGet: {path: /nope, port: http}, periodSeconds: 1}`,
		"liveness":  `    livenessProbe: {httpGet: {path: /nope, port: http}, periodSeconds: 1, failureThreshold: 2}`,
	}
	for name, probe := range pods {
		writeFile(t, dir, name+".yaml", fmt.Sprintf(probePodYAML, name, sc.Namespace, probe))
	}
	e := daemon(t, rt, sc.Node, dir)
	ready := func(name string) (executor.Readiness, bool) {
		r, ok := e.Status().Readiness[sc.Namespace+"/"+name]
		return r, ok
	}
	for _, name := range []string{"exec-ok", "tcp-ok", "http-ok"} {
		eventually(t, 20*time.Second, name+" ready", func() bool { r, ok := ready(name); return ok && r.Ready == 1 })
	}
	eventually(t, 20*time.Second, "the liveness pod restarted", func() bool {
		obs, err := rt.Observe(context.Background(), sc.Node)
		if err != nil {
			return false
		}
		for _, p := range obs.Pods {
			if p.Name == "liveness" && p.Current("hello").RestartCount >= 1 {
				return true
			}
		}
		return false
	})
	for _, name := range []string{"exec-fail", "tcp-fail", "http-fail"} {
		if r, ok := ready(name); !ok || r.Ready != 0 || r.Total != 1 {
			t.Errorf("%s: readiness %+v, want 0/1", name, r)
		}
	}
	var killed bool
	for _, ev := range e.Events() {
		killed = killed || (ev.Reason == "StopContainer" && strings.Contains(ev.Object, "/liveness/") &&
			strings.Contains(ev.Message, "Liveness probe failed"))
	}
	if !killed {
		t.Error("no StopContainer event naming the liveness failure")
	}
}

const readyDelayYAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %[1]s}
spec:
  replicas: 2
  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: hello
        image: %[2]s
        imagePullPolicy: IfNotPresent
        env: [{name: READY_DELAY, value: "%[3]s"}]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /readyz, port: http}, periodSeconds: 1}
`

// TestReadinessHoldsRollout: new pods answer /readyz with 503 for their
// first 3 s, so no old pod may go before a new one has passed its probe.
func TestReadinessHoldsRollout(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	dir := t.TempDir()
	writeFile(t, dir, "web.yaml", fmt.Sprintf(readyDelayYAML, sc.Namespace, "localhost/reconciler-hello:v1", "0s"))
	daemon(t, rt, sc.Node, dir)
	exactly(t, rt, sc.Node, "web", 2, nil)
	writeFile(t, dir, "web.yaml", fmt.Sprintf(readyDelayYAML, sc.Namespace, "localhost/reconciler-hello:v2", "3s"))

	var firstNew, firstOldGone time.Time
	deadline := time.Now().Add(60 * time.Second)
	for {
		obs, err := rt.Observe(context.Background(), sc.Node)
		if err != nil {
			t.Fatal(err)
		}
		old, fresh := 0, 0
		for _, p := range obs.Pods {
			if c := p.Current("hello"); c != nil && c.Image == "localhost/reconciler-hello:v1" {
				old++
			} else {
				fresh++
			}
		}
		now := time.Now()
		if fresh > 0 && firstNew.IsZero() {
			firstNew = now
		}
		if old < 2 && firstOldGone.IsZero() {
			firstOldGone = now
		}
		if old == 0 && fresh == 2 {
			break
		}
		if now.After(deadline) {
			t.Fatalf("rollout did not finish: %d old, %d new", old, fresh)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if held := firstOldGone.Sub(firstNew); held < 2500*time.Millisecond {
		t.Fatalf("an old pod went %v after the first new one appeared; the 3 s readiness delay must hold it", held)
	}
}
