package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	agecrypt "filippo.io/age"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/svcnet"
)

// buildBinary compiles the reconciler once per test binary.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "reconciler")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

const deploy = `apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  replicas: %[3]d
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: hello, image: "localhost/reconciler-hello:v1", imagePullPolicy: IfNotPresent, ports: [{containerPort: 8080}]}
`

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type proc struct {
	cmd *exec.Cmd
	log *syncBuffer
}

// syncBuffer collects a process's output; exec copies into it from its own
// goroutine while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDaemon runs the daemon on a directory until the test ends.
func startDaemon(t *testing.T, bin, dir, node, listen string, extra ...string) *proc {
	t.Helper()
	testenv.DeclareNamespace(t, dir, node)
	if !slices.Contains(extra, "--service-loopback") {
		// Every daemon serves its Services on its own loopback address, so
		// parallel tests never compete for 127.0.0.1:80.
		extra = append(extra, "--service-loopback", loopbackFor(node).String())
	}
	return startProc(t, bin, append([]string{"run", "--source", dir, "--node-name", node, "--listen", listen,
		"--resync", "1s", "--podman", testenv.URI()}, extra...)...)
}

// loopbackFor is a node's own address in 127.0.0.0/8 (never 127.0.0.1).
func loopbackFor(node string) netip.Addr {
	h := fnv.New32a()
	h.Write([]byte(node))
	v := h.Sum32()
	return netip.AddrFrom4([4]byte{127, byte(1 + v%250), byte(v >> 8), byte(1 + (v>>16)%250)})
}

// startProc runs the binary with args, collecting its output, and kills it
// when the test ends if it still runs.
func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	if i := slices.Index(args, "--node-name"); len(args) > 0 && args[0] == "run" && i >= 0 && i+1 < len(args) {
		node := args[i+1]
		t.Cleanup(func() { // after the daemon is killed (cleanups run last-in first-out)
			if h, err := svcnet.NewHost(node); err == nil {
				_ = h.Close()
			}
		})
	}
	p := &proc{log: &syncBuffer{}}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	return p
}

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	_ = p.cmd.Process.Signal(sig)
	_ = p.cmd.Wait()
}

func podsByOwner(t *testing.T, rt runtime.Runtime, node string) map[string][]runtime.Pod {
	t.Helper()
	obs, err := rt.Observe(context.Background(), node)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]runtime.Pod{}
	for _, p := range obs.Pods {
		m[p.Owner.Name] = append(m[p.Owner.Name], p)
	}
	return m
}

func allRunning(pods []runtime.Pod) bool {
	for _, p := range pods {
		if c := p.Current("hello"); c == nil || c.State != runtime.StateRunning {
			return false
		}
	}
	return true
}

func waitPods(t *testing.T, rt runtime.Runtime, node string, want map[string]int, log fmt.Stringer) map[string][]runtime.Pod {
	t.Helper()
	return waitPodsWhere(t, rt, node, want, log, func(runtime.Pod) bool { return true })
}

// waitInSync waits until the daemon reports a pass with nothing left to do:
// the engine can show the pods before the pass that created them has
// published its observation through the API.
func waitInSync(t *testing.T, listen string, log fmt.Stringer) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if st := fetchStatus(context.Background(), "http://"+listen); st != nil && st.InSync {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon did not report in sync\ndaemon log:\n%s", log)
		}
	}
}

// waitPodsWhere waits until each owner has exactly its count of pods, all
// running and all satisfying pred, and no other owner has pods.
func waitPodsWhere(t *testing.T, rt runtime.Runtime, node string, want map[string]int, log fmt.Stringer, pred func(runtime.Pod) bool) map[string][]runtime.Pod {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := podsByOwner(t, rt, node)
		ok := len(got) == len(want)
		for owner, n := range want {
			ok = ok && len(got[owner]) == n && allRunning(got[owner])
			for _, p := range got[owner] {
				ok = ok && pred(p)
			}
		}
		if ok {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("pods %v, want counts %v\ndaemon log:\n%s", got, want, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDaemonKilledAndRestarted kills the daemon with SIGKILL while it is
// creating pods, restarts it, stops it with SIGINT (containers stay),
// removes one manifest and starts it again: exactly that object's pods go.
func TestDaemonKilledAndRestarted(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	write := func(name string, n int) {
		body := fmt.Sprintf(deploy, name, sc.Namespace, n)
		writeAtomic(t, filepath.Join(dir, name+".yaml"), body)
	}
	write("keep", 2)
	write("drop", 2)

	d := startDaemon(t, bin, dir, sc.Node, freePort(t))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if n := len(podsByOwner(t, rt, sc.Node)); n > 0 || time.Now().After(deadline) {
			break // the first pod exists: the daemon is mid-way through creating them
		}
	}
	d.signal(t, syscall.SIGKILL)

	d = startDaemon(t, bin, dir, sc.Node, freePort(t))
	before := waitPods(t, rt, sc.Node, map[string]int{"keep": 2, "drop": 2}, d.log)
	d.signal(t, syscall.SIGINT)
	if d.cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("daemon exit %v after SIGINT\n%s", d.cmd.ProcessState, d.log)
	}
	if got := podsByOwner(t, rt, sc.Node); len(got["keep"]) != 2 || len(got["drop"]) != 2 {
		t.Fatalf("containers did not survive the daemon's stop: %v", got)
	}

	if err := os.Remove(filepath.Join(dir, "drop.yaml")); err != nil {
		t.Fatal(err)
	}
	d = startDaemon(t, bin, dir, sc.Node, freePort(t))
	after := waitPods(t, rt, sc.Node, map[string]int{"keep": 2}, d.log)
	ids := map[string]bool{}
	for _, p := range before["keep"] {
		ids[p.ID+"/"+p.Current("hello").ID] = true
	}
	for _, p := range after["keep"] {
		if !ids[p.ID+"/"+p.Current("hello").ID] {
			t.Errorf("pod %s of the kept deployment was touched", p.Name)
		}
	}
	d.signal(t, syscall.SIGINT)
}

func TestGetPods(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	body := fmt.Sprintf(deploy, "web", sc.Namespace, 2)
	writeAtomic(t, filepath.Join(dir, "web.yaml"), body)
	writeAtomic(t, filepath.Join(dir, "other.yaml"), fmt.Sprintf(otherObjects, sc.Namespace))
	listen := freePort(t)
	d := startDaemon(t, bin, dir, sc.Node, listen)
	waitPods(t, rt, sc.Node, map[string]int{"web": 2}, d.log)
	waitInSync(t, listen, d.log)
	checkGetObjects(t, bin, sc, listen)
	checkDescribe(t, bin, sc.Namespace, listen)

	out, err := exec.Command(bin, "get", "pods", "-n", sc.Namespace, "-l", "app in (web)", "--server", "http://"+listen).CombinedOutput()
	if err != nil {
		t.Fatalf("get pods: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[0], "READY") ||
		!strings.Contains(lines[0], "RESTARTS") {
		t.Fatalf("get pods output:\n%s", out)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 5 || !strings.HasPrefix(f[0], "web-") || f[1] != "1/1" || f[2] != "Running" || f[3] != "0" {
			t.Errorf("row %q", l)
		}
	}
	out, err = exec.Command(bin, "get", "pods", "-n", sc.Namespace, "-l", "app!=web").CombinedOutput()
	if err != nil || len(strings.Split(strings.TrimSpace(string(out)), "\n")) != 1 {
		t.Errorf("get with a non-matching selector: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "get", "deployments", "-n", sc.Namespace, "--server", "http://"+listen).CombinedOutput()
	dl := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err != nil || len(dl) != 2 || strings.Join(strings.Fields(dl[0]), " ") != "NAME DESIRED CURRENT UP-TO-DATE AVAILABLE AGE" ||
		strings.Join(strings.Fields(dl[1])[:5], " ") != "web 2 2 2 2" {
		t.Errorf("get deployments: %v\n%s", err, out)
	}
	checkWatch(t, rt, bin, dir, sc, listen) // last: it scales the Deployment
	d.signal(t, syscall.SIGINT)
}

func TestValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := `apiVersion: v1
kind: Pod
metadata: {name: ok}
spec:
  containers: [{name: a, image: x, ports: [{containerPort: 70000}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: Bad_Name}
spec:
  containers: [{name: a, image: x}]
`
	writeAtomic(t, filepath.Join(dir, "pods.yaml"), bad)
	var stdout, stderr bytes.Buffer
	if code := runMain(context.Background(), []string{"validate", dir}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	msg := stderr.String()
	for _, want := range []string{"pods.yaml#0: spec.containers[0].ports[0].containerPort", "pods.yaml#1: metadata.name"} {
		if !strings.Contains(msg, want) {
			t.Errorf("validate output lacks %q:\n%s", want, msg)
		}
	}
	stdout.Reset()
	stderr.Reset()
	root := testenv.RepoRoot(t)
	if code := runMain(context.Background(), []string{"validate", filepath.Join(root, "examples", "manifests")}, &stdout, &stderr); code != 0 {
		t.Fatalf("examples do not validate: %s", stderr.String())
	}
}

// TestContainerImage builds the Dockerfile and runs the reconciler from its
// image against the mounted Podman socket, on a manifest directory mounted
// read-only: the pods it creates are on the host's engine.
func TestContainerImage(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	root := testenv.RepoRoot(t)
	tag := "localhost/reconciler:test-" + sc.Node
	build := exec.Command("bash", filepath.Join(root, "scripts", "build-image.sh"), tag)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build image: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("podman", "rmi", "-f", tag).Run() })

	dir := t.TempDir()
	body := fmt.Sprintf(deploy, "web", sc.Namespace, 2)
	writeAtomic(t, filepath.Join(dir, "web.yaml"), body)
	testenv.DeclareNamespace(t, dir, sc.Node)
	sock := strings.TrimPrefix(testenv.URI(), "unix://")
	name := "reconciler-" + sc.Node
	out, err := exec.Command("podman", "run", "-d", "--name", name, "--network", "none",
		"-v", sock+":/run/podman/podman.sock", "-v", dir+":/manifests:ro", tag,
		"run", "--source", "/manifests", "--node-name", sc.Node, "--listen", "").CombinedOutput()
	if err != nil {
		t.Fatalf("podman run: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("podman", "rm", "-f", "-t", "2", name).Run() })
	logs := &syncBuffer{}
	defer func() {
		if t.Failed() {
			l, _ := exec.Command("podman", "logs", name).CombinedOutput()
			t.Logf("reconciler container log:\n%s", l)
		}
	}()
	waitPods(t, rt, sc.Node, map[string]int{"web": 2}, logs)
}

const rolloutYAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %[1]s}
spec:
  replicas: 3
  progressDeadlineSeconds: 4
  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: hello
        image: localhost/reconciler-hello:v1
        imagePullPolicy: IfNotPresent
        ports: [{containerPort: 8080}]
%[2]s
`

// TestRolloutStatus follows a good rollout to success, then a rollout whose
// new pods never become ready: it stops at the surge bound, the old pods
// keep serving, and `rollout status` fails with ProgressDeadlineExceeded.
func TestRolloutStatus(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	write := func(args string) {
		body := fmt.Sprintf(rolloutYAML, sc.Namespace, args)
		writeAtomic(t, filepath.Join(dir, "web.yaml"), body)
	}
	write(``)
	listen := freePort(t)
	d := startDaemon(t, bin, dir, sc.Node, listen)
	rollout := func() (string, error) {
		out, err := exec.Command(bin, "rollout", "status", "deploy/web", "-n", sc.Namespace,
			"--server", "http://"+listen, "--timeout", "60s").CombinedOutput()
		return string(out), err
	}
	if out, err := rollout(); err != nil || !strings.Contains(out, `deployment "web" successfully rolled out`) {
		t.Fatalf("rollout status: %v\n%s\ndaemon log:\n%s", err, out, d.log)
	}
	before := waitPods(t, rt, sc.Node, map[string]int{"web": 3}, d.log)
	first, _ := findDeployment(context.Background(), "http://"+listen, sc.Namespace, "web")

	// The new revision runs but never passes its readiness probe.
	write(`        readinessProbe: {httpGet: {path: /nope, port: 8080}, periodSeconds: 1}`)
	// As kubectl waits for the observed generation, wait for the daemon to
	// have loaded the change.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ws, _ := findDeployment(context.Background(), "http://"+listen, sc.Namespace, "web")
		if ws.TemplateHash != first.TemplateHash {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the daemon did not load the new template")
		}
	}
	out, err := rollout()
	if err == nil || !strings.Contains(out, "exceeded its progress deadline") || !strings.Contains(out, "Waiting for deployment") {
		t.Fatalf("rollout status of a failing rollout: %v\n%s", err, out)
	}
	got := podsByOwner(t, rt, sc.Node)["web"]
	serving := 0
	for _, p := range got {
		for _, b := range before["web"] {
			if p.ID == b.ID && p.Current("hello").State == runtime.StateRunning {
				serving++
			}
		}
	}
	if len(got) != 4 || serving != 3 {
		t.Fatalf("a stuck rollout must stop at 3+1 pods with the 3 old ones serving; got %d pods, %d old serving", len(got), serving)
	}
	d.signal(t, syscall.SIGINT)
}

const killRolloutYAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %[1]s}
spec:
  replicas: 5
  strategy: {rollingUpdate: {maxSurge: 2, maxUnavailable: 1}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: hello, image: "%[2]s", imagePullPolicy: IfNotPresent, ports: [{containerPort: 8080}]}
`

// TestSIGKILLMidRollout kills the daemon with SIGKILL at three points of a
// rolling update (each time the engine's pod set has just changed), starts
// it again, and checks from engine samples that the surge bound was never
// exceeded and that the rollout ends with exactly 5 new pods and no orphan.
func TestSIGKILLMidRollout(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	write := func(image string) {
		body := fmt.Sprintf(killRolloutYAML, sc.Namespace, image)
		writeAtomic(t, filepath.Join(dir, "web.yaml"), body)
	}
	write("localhost/reconciler-hello:v1")
	d := startDaemon(t, bin, dir, sc.Node, freePort(t))
	waitPods(t, rt, sc.Node, map[string]int{"web": 5}, d.log)

	stop := make(chan struct{})
	maxTotal := make(chan int)
	go func() { // sample the engine until told to stop
		m := 0
		for {
			select {
			case <-stop:
				maxTotal <- m
				return
			default:
			}
			if obs, err := rt.Observe(context.Background(), sc.Node); err == nil {
				m = max(m, len(obs.Pods))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	ids := func() string {
		var s []string
		for _, p := range podsByOwner(t, rt, sc.Node)["web"] {
			s = append(s, p.ID)
		}
		return strings.Join(s, ",")
	}
	write("localhost/reconciler-hello:v2")
	for kill := 0; kill < 3; kill++ {
		last := ids()
		for deadline := time.Now().Add(30 * time.Second); ids() == last; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: the engine did not change\n%s", kill, d.log)
			}
		}
		d.signal(t, syscall.SIGKILL)
		d = startDaemon(t, bin, dir, sc.Node, freePort(t))
	}
	final := waitPodsWhere(t, rt, sc.Node, map[string]int{"web": 5}, d.log, func(p runtime.Pod) bool {
		return p.Current("hello").Image == "localhost/reconciler-hello:v2"
	})
	close(stop)
	if m := <-maxTotal; m > 7 {
		t.Errorf("%d pods at once, above replicas+maxSurge = 7", m)
	}
	for _, p := range final["web"] {
		if c := p.Current("hello"); c.Image != "localhost/reconciler-hello:v2" || len(p.Containers) != 1 {
			t.Errorf("pod %s after the rollout: %+v", p.Name, p.Containers)
		}
	}
	d.signal(t, syscall.SIGINT)
}

// TestRolloutHistoryAndUndo: two revisions in the engine, an undo runs the
// first again, and the next template change in the source overrides it.
func TestRolloutHistoryAndUndo(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	write := func(image string) {
		body := fmt.Sprintf(killRolloutYAML, sc.Namespace, image)
		writeAtomic(t, filepath.Join(dir, "web.yaml"), body)
	}
	on := func(image string) func(runtime.Pod) bool {
		return func(p runtime.Pod) bool { return p.Current("hello").Image == image }
	}
	var d *proc
	cli := func(args ...string) string {
		args = append(args, "-n", sc.Namespace, "--node-name", sc.Node)
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			hist, _ := exec.Command(bin, "rollout", "history", "deploy/web", "-n", sc.Namespace, "--node-name", sc.Node).CombinedOutput()
			t.Fatalf("reconciler %v: %v\n%s\nhistory:\n%s\ndaemon log:\n%s", args, err, out, hist, d.log)
		}
		return string(out)
	}
	write("localhost/reconciler-hello:v1")
	d = startDaemon(t, bin, dir, sc.Node, freePort(t))
	waitPodsWhere(t, rt, sc.Node, map[string]int{"web": 5}, d.log, on("localhost/reconciler-hello:v1"))
	write("localhost/reconciler-hello:v2")
	waitPodsWhere(t, rt, sc.Node, map[string]int{"web": 5}, d.log, on("localhost/reconciler-hello:v2"))

	hist := cli("rollout", "history", "deploy/web")
	t.Logf("history:\n%s", hist)
	if !strings.Contains(hist, "reconciler-hello:v1") || !strings.Contains(hist, "reconciler-hello:v2") ||
		!strings.Contains(hist, "desired") {
		t.Fatalf("history:\n%s", hist)
	}
	if out := cli("rollout", "undo", "deploy/web"); !strings.Contains(out, "rolled back to revision 1") ||
		!strings.Contains(out, "next commit") {
		t.Fatalf("undo:\n%s", out)
	}
	waitPodsWhere(t, rt, sc.Node, map[string]int{"web": 5}, d.log, on("localhost/reconciler-hello:v1"))
	if hist := cli("rollout", "history", "deploy/web"); !strings.Contains(hist, "running (undo)") {
		t.Fatalf("history after undo:\n%s", hist)
	}

	// The source goes back to v1 (git caught up with the undo): the pin is
	// dropped and v1 becomes the newest revision.
	write("localhost/reconciler-hello:v1")
	for deadline := time.Now().Add(20 * time.Second); strings.Contains(cli("rollout", "history", "deploy/web"), "running (undo)"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the pin was not dropped when the source changed")
		}
	}
	write("localhost/reconciler-hello:v2") // a later change rolls on as usual
	waitPodsWhere(t, rt, sc.Node, map[string]int{"web": 5}, d.log, on("localhost/reconciler-hello:v2"))
	d.signal(t, syscall.SIGINT)
}

// TestRunFlagsSOPS checks the wiring of --sops-age-key-file: a key file is
// loaded into the repository's decrypt hook (which passes plain manifests
// through), a missing one is an error, and --source and --repo exclude each
// other.
func TestRunFlagsSOPS(t *testing.T) {
	dir := t.TempDir()
	id, err := agecrypt.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "keys.txt")
	if err := os.WriteFile(keys, []byte("# test key\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	f, err := parseRunFlags([]string{"--repo", dir, "--sops-age-key-file", keys, "--state-dir", filepath.Join(dir, "state")}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := newSource(f, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	if f.git.Decrypt == nil {
		t.Fatal("--sops-age-key-file did not install a decrypt hook")
	}
	plain := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
	if out, err := f.git.Decrypt("c.yaml", plain); err != nil || !bytes.Equal(out, plain) {
		t.Fatalf("plain manifest through the hook: %q, %v", out, err)
	}
	f, _ = parseRunFlags([]string{"--repo", dir, "--sops-age-key-file", filepath.Join(dir, "missing")}, &stderr)
	if _, _, err := newSource(f, slog.Default()); err == nil {
		t.Fatal("a missing age key file must be an error")
	}
	if _, err := parseRunFlags([]string{"--repo", dir, "--source", dir}, &stderr); err == nil {
		t.Fatal("--source and --repo together must be an error")
	}
}

// writeAtomic writes a file through a temporary name and a rename, so the
// daemon never reads it half-written.
func writeAtomic(t *testing.T, path, body string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestListenBeyondLoopbackNeedsToken(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	writeAtomic(t, token, "s3cret\n")
	var stderr bytes.Buffer
	for _, tc := range []struct {
		listen, token string
		ok            bool
	}{
		{"127.0.0.1:9780", "", true},
		{"localhost:9780", "", true},
		{"[::1]:9780", "", true},
		{"0.0.0.0:9780", "", false},
		{":9780", "", false},
		{"192.0.2.1:9780", "", false},
		{"0.0.0.0:9780", token, true},
		{"", "", true},
	} {
		args := []string{"--source", dir, "--listen", tc.listen}
		if tc.token != "" {
			args = append(args, "--token-file", tc.token)
		}
		_, err := parseRunFlags(args, &stderr)
		if (err == nil) != tc.ok {
			t.Errorf("--listen %q token %q: err %v, want ok=%v", tc.listen, tc.token, err, tc.ok)
		}
	}
}

// TestSyncPauseResume pauses a running daemon through the API with its
// token: a change in the source is planned and reported but not applied
// until resume; without the token the API refuses.
func TestSyncPauseResume(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir, secrets := t.TempDir(), t.TempDir()
	token := filepath.Join(secrets, "token")
	writeAtomic(t, token, "tok-"+sc.Node+"\n")
	writeAtomic(t, filepath.Join(dir, "web.yaml"), fmt.Sprintf(deploy, "web", sc.Namespace, 1))
	listen := freePort(t)
	d := startDaemon(t, bin, dir, sc.Node, listen, "--token-file", token)
	waitPods(t, rt, sc.Node, map[string]int{"web": 1}, d.log)
	syncCmd := func(verb string, args ...string) (string, error) {
		out, err := exec.Command(bin, append([]string{"sync", verb, "--server", "http://" + listen}, args...)...).CombinedOutput()
		return string(out), err
	}
	wrong := filepath.Join(secrets, "wrong")
	writeAtomic(t, wrong, "nope\n")
	if out, err := syncCmd("pause", "--token-file", wrong); err == nil || !strings.Contains(out, "401") {
		t.Fatalf("pause with a wrong token: %v\n%s", err, out)
	}
	if out, err := syncCmd("pause", "--token-file", token); err != nil {
		t.Fatalf("pause: %v\n%s", err, out)
	}
	writeAtomic(t, filepath.Join(dir, "web.yaml"), fmt.Sprintf(deploy, "web", sc.Namespace, 3))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		st := fetchStatus(context.Background(), "http://"+listen)
		if st != nil && st.Paused && len(st.Pending) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the paused daemon does not report the pending change: %+v", st)
		}
	}
	if n := len(podsByOwner(t, rt, sc.Node)["web"]); n != 1 {
		t.Fatalf("a paused daemon changed the pods: %d", n)
	}
	// The dry run, from the daemon and planned locally, shows the 2 pods to create.
	for _, args := range [][]string{{"diff", "--server", "http://" + listen}, {"diff", "--source", dir, "--node-name", sc.Node}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil || strings.Count(string(out), "CreatePod "+sc.Namespace+"/web-") != 2 || !strings.HasPrefix(string(out), "1. ") {
			t.Errorf("reconciler %v: %v\n%s", args, err, out)
		}
	}
	if out, err := exec.Command(bin, "events", "--server", "http://"+listen).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "SyncPaused") || !strings.HasPrefix(string(out), "LAST SEEN") {
		t.Errorf("events: %v\n%s", err, out)
	}
	if out, err := syncCmd("resume", "--token-file", token); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	waitPods(t, rt, sc.Node, map[string]int{"web": 3}, d.log)
	checkScrape(t, listen)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "reconciler ") || !strings.Contains(string(out), "commit ") {
		t.Errorf("version: %v %s", err, out)
	}
	d.signal(t, syscall.SIGINT)
}

// checkScrape parses the daemon's /metrics with the Prometheus text parser,
// looks for duplicate series, and lints it with promtool.
func checkScrape(t *testing.T, listen string) {
	t.Helper()
	text := metricsText(t, listen)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("scrape does not parse: %v", err)
	}
	seen := map[string]bool{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			key := name
			for _, l := range m.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			if seen[key] {
				t.Errorf("duplicate series %s", key)
			}
			seen[key] = true
		}
	}
	for _, want := range []string{"reconciler_engine_up", "reconciler_in_sync", "reconciler_workload_replicas", "go_goroutines", "process_resident_memory_bytes"} {
		if families[want] == nil {
			t.Errorf("scrape lacks %s", want)
		}
	}
	lint := exec.Command("promtool", "check", "metrics")
	lint.Stdin = strings.NewReader(text)
	if out, err := lint.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

const otherObjects = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: %[1]s, labels: {tier: front}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: %[1]s}
data: {a: "1", b: "2"}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: %[1]s}
stringData: {password: "pw-never-shown-7731"}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: %[1]s}
spec:
  schedule: "*/5 * * * *"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: c, image: "localhost/reconciler-hello:v1"}]
`

// checkGetObjects compares `get` tables of objects served by the daemon with
// their expected text, and checks the other output formats.
func checkGetObjects(t *testing.T, bin string, sc testenv.Scope, listen string) {
	t.Helper()
	ns := sc.Namespace
	ip := svcnet.Allocator{Node: sc.Node, Prefix: svcnet.DefaultCIDR}.Allocate([]svcnet.Request{
		{Namespace: ns, Name: "web", Ports: []svcnet.PortRequest{{Name: "http"}}}})[ns+"/web"].ClusterIP.String()
	get := func(args ...string) string {
		out, err := exec.Command(bin, append(append([]string{"get"}, args...), "-n", ns, "--server", "http://"+listen)...).CombinedOutput()
		if err != nil {
			t.Fatalf("get %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	golden := map[string]string{
		"services":   fmt.Sprintf("NAME   TYPE        %-[1]*[2]s   PORT(S)\nweb    ClusterIP   %-[1]*[3]s   80/TCP\n", max(len(ip), 10), "CLUSTER-IP", ip),
		"configmaps": "NAME       DATA\nsettings   2\n",
		"secrets":    "NAME   TYPE     DATA\ndb     Opaque   1\n",
		"cronjobs":   "NAME   SCHEDULE      SUSPEND   ACTIVE   LAST SCHEDULE   AGE\ntick   */5 * * * *   true      0        <none>          0s\n",
	}
	for kind, want := range golden {
		if got := get(kind); withoutAge(got) != withoutAge(want) {
			t.Errorf("get %s:\n%q\nwant\n%q", kind, got, want)
		}
	}
	if got := get("services", "--show-labels"); !strings.Contains(got, "tier=front") {
		t.Errorf("--show-labels:\n%s", got)
	}
	if got := get("secrets", "-o", "yaml"); strings.Contains(got, "pw-never-shown") || !strings.Contains(got, "redacted, 19 bytes") {
		t.Errorf("get secrets -o yaml shows a value or no redaction:\n%s", got)
	}
	var pods []runtime.Pod
	if err := json.Unmarshal([]byte(get("pods", "-o", "json")), &pods); err != nil || len(pods) != 2 {
		t.Errorf("get pods -o json: %v, %d pods", err, len(pods))
	}
	if got := get("pods", "-o", "name"); strings.Count(got, "pod/web-") != 2 {
		t.Errorf("get pods -o name:\n%s", got)
	}
	if got := get("all"); !strings.Contains(got, "settings") || !strings.Contains(got, "DESIRED") || !strings.Contains(got, "READY") {
		t.Errorf("get all:\n%s", got)
	}
	// Without fleet flags the daemon is a fleet of one, and says so.
	if got := get("nodes"); !hasRow(got, sc.Node, "Ready", "<none>", "2") || strings.Count(got, "\n") != 2 {
		t.Errorf("get nodes of a fleet of one:\n%s", got)
	}
}

func checkDescribe(t *testing.T, bin, ns, listen string) {
	t.Helper()
	pods, err := exec.Command(bin, "get", "pods", "-n", ns, "-o", "name").CombinedOutput()
	if err != nil {
		t.Fatalf("get pods -o name: %v\n%s", err, pods)
	}
	name := strings.TrimPrefix(strings.Fields(string(pods))[0], "pod/")
	out, err := exec.Command(bin, "describe", "pod", name, "-n", ns, "--server", "http://"+listen).CombinedOutput()
	for _, want := range []string{"Name:          " + name, "Controlled By: Deployment/web", "Conditions:", "Ready           true", "Events:", "CreatePod"} {
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("describe pod lacks %q: %v\n%s", want, err, out)
		}
	}
	out, err = exec.Command(bin, "describe", "deployment", "web", "-n", ns, "--server", "http://"+listen).CombinedOutput()
	for _, want := range []string{"Replicas:      2 desired | 2 updated | 2 total | 2 available", "Available      true", "Progressing    True"} {
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("describe deployment lacks %q: %v\n%s", want, err, out)
		}
	}
}

// checkWatch follows `get pods -w` while the Deployment scales to 3: the
// table is printed again with 3 pods.
func checkWatch(t *testing.T, rt runtime.Runtime, bin, dir string, sc testenv.Scope, listen string) {
	t.Helper()
	w := startProc(t, bin, "get", "pods", "-w", "-n", sc.Namespace, "--server", "http://"+listen)
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(w.log.String(), "NAME"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("get -w printed nothing:\n%s", w.log)
		}
	}
	writeAtomic(t, filepath.Join(dir, "web.yaml"), fmt.Sprintf(deploy, "web", sc.Namespace, 3))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		tables := strings.Split(strings.TrimSpace(w.log.String()), "\n\n")
		last := tables[len(tables)-1]
		if len(tables) > 1 && strings.Count(last, "Running") == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("get -w did not show the scale-up:\n%s", w.log)
		}
	}
	w.signal(t, syscall.SIGINT)
}

// TestUnixSocketAPI runs the daemon's API on a unix socket and reads it with
// the CLI's --server unix:PATH.
func TestUnixSocketAPI(t *testing.T) {
	t.Parallel()
	_, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	writeAtomic(t, filepath.Join(dir, "cm.yaml"), fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: %s}\ndata: {a: \"1\"}\n", sc.Namespace))
	sock := filepath.Join(t.TempDir(), "api.sock")
	d := startDaemon(t, bin, dir, sc.Node, "unix:"+sock)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out, err := exec.Command(bin, "get", "configmaps", "-n", sc.Namespace, "--server", "unix:"+sock).CombinedOutput()
		if err == nil && strings.Contains(string(out), "settings") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("get configmaps over the socket: %v\n%s\ndaemon log:\n%s", err, out, d.log)
		}
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode: %v %v", fi, err)
	}
	if out, err := exec.Command(bin, "status", "--server", "unix:"+sock).CombinedOutput(); err != nil {
		t.Errorf("status over the socket: %v\n%s", err, out)
	}
	d.signal(t, syscall.SIGINT)
}
