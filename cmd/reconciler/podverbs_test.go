package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/runtime"
)

const helloImage = "localhost/reconciler-hello:v1"

// testPod creates an empty pod in the scope, publishing ports.
func testPod(t *testing.T, rt runtime.Runtime, sc testenv.Scope, name string, ports ...int32) (string, runtime.PodSpec) {
	t.Helper()
	spec := runtime.PodSpec{Namespace: sc.Namespace, Name: name, Node: sc.Node,
		Owner: runtime.Owner{Kind: "Pod", Name: name}, RestartPolicy: "Never", GracePeriod: time.Second}
	for _, p := range ports {
		spec.Ports = append(spec.Ports, runtime.PortSpec{ContainerPort: p, Protocol: "TCP"})
	}
	id, err := rt.CreatePod(context.Background(), spec)
	if err != nil {
		t.Fatalf("create pod %s: %v", name, err)
	}
	return id, spec
}

// startRun creates and starts one run of a hello container in the pod.
func startRun(t *testing.T, rt runtime.Runtime, podID string, pod runtime.PodSpec, name string, restart int, env []runtime.EnvVar, args ...string) {
	t.Helper()
	ctx := context.Background()
	id, err := rt.CreateContainer(ctx, runtime.ContainerSpec{PodID: podID, Pod: pod, Name: name,
		Image: helloImage, Args: args, Env: env, RestartCount: restart})
	if err != nil {
		t.Fatalf("create container %s#%d: %v", name, restart, err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatalf("start container %s#%d: %v", name, restart, err)
	}
}

// waitState waits until the pod's container run is in state.
func waitState(t *testing.T, rt runtime.Runtime, sc testenv.Scope, pod, name string, restart int, state runtime.ContainerState) {
	t.Helper()
	var last []runtime.Container
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		obs, err := rt.Observe(context.Background(), sc.Node)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range obs.Pods {
			if p.Name != pod {
				continue
			}
			last = p.Containers
			for _, c := range p.Containers {
				if c.Name == name && c.RestartCount == restart && c.State == state {
					return
				}
			}
		}
	}
	t.Fatalf("pod %s: container %s#%d never %s; containers %+v", pod, name, restart, state, last)
}

// runLogs runs cmdLogs and returns its output.
func runLogs(ctx context.Context, args ...string) (string, error) {
	var out, errOut bytes.Buffer
	err := cmdLogs(ctx, args, &out, &errOut)
	return out.String(), err
}

// waitLogs polls `logs args` until its output contains want.
func waitLogs(t *testing.T, want string, args ...string) string {
	t.Helper()
	var out string
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if out, err = runLogs(context.Background(), args...); err == nil && strings.Contains(out, want) {
			return out
		}
	}
	t.Fatalf("logs %v never showed %q: %v\n%s", args, want, err, out)
	return ""
}

// TestLogs checks the current run, --previous, --tail, --since, -f (ended
// by its context, and by the container's exit) and the errors.
func TestLogs(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	id, spec := testPod(t, rt, sc, "web")
	startRun(t, rt, id, spec, "hello", 0, nil, "exit", "3")
	waitState(t, rt, sc, "web", "hello", 0, runtime.StateExited)
	startRun(t, rt, id, spec, "hello", 1, nil)
	ns := []string{"-n", sc.Namespace}

	cur := waitLogs(t, "listening", append([]string{"web"}, ns...)...)
	if strings.Contains(cur, "exiting with status 3") {
		t.Errorf("current run's logs show the previous run's output:\n%s", cur)
	}
	prev, err := runLogs(context.Background(), append([]string{"pod/web", "--previous"}, ns...)...)
	if err != nil || !strings.Contains(prev, "hello: exiting with status 3 as asked") || strings.Contains(prev, "listening") {
		t.Errorf("--previous: %v\n%s", err, prev)
	}
	tail, err := runLogs(context.Background(), append([]string{"web", "--tail", "1"}, ns...)...)
	if lines := strings.Split(strings.TrimRight(tail, "\n"), "\n"); err != nil || len(lines) != 1 || lines[0] == "" {
		t.Errorf("--tail 1: %v, %d lines:\n%s", err, len(lines), tail)
	}
	since, err := runLogs(context.Background(), append([]string{"web", "--since", "1h", "-c", "hello"}, ns...)...)
	if err != nil || !strings.Contains(since, "listening") {
		t.Errorf("--since 1h: %v\n%s", err, since)
	}

	t.Run("follow ends with its context", func(t *testing.T) { followUntilCancelled(t, sc.Namespace) })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := runLogs(ctx, append([]string{"web", "-f", "-p"}, ns...)...)
	if err != nil || ctx.Err() != nil || !strings.Contains(out, "exiting with status 3") {
		t.Errorf("-f on an exited run must print its output and return by itself: %v (ctx %v)\n%s", err, ctx.Err(), out)
	}

	id2, spec2 := testPod(t, rt, sc, "fresh")
	startRun(t, rt, id2, spec2, "hello", 0, nil)
	_, err = runLogs(context.Background(), append([]string{"fresh", "--previous"}, ns...)...)
	wantErr(t, err, `previous terminated container "hello" in pod "fresh" not found`)
	_, err = runLogs(context.Background(), append([]string{"nope"}, ns...)...)
	wantErr(t, err, fmt.Sprintf(`pod "nope" not found in namespace %q`, sc.Namespace))
	_, err = runLogs(context.Background(), append([]string{"web", "-c", "other"}, ns...)...)
	wantErr(t, err, `container "other" not found in pod "web"`)
}

// followUntilCancelled runs `logs -f` until it has printed the current
// run's line, checks that it is still following, then cancels it.
func followUntilCancelled(t *testing.T, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- cmdLogs(ctx, []string{"-n", ns, "-f", "web"}, out, io.Discard) }()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "listening"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("logs -f printed no listening line:\n%s", out)
		}
	}
	select {
	case err := <-done:
		t.Fatalf("logs -f returned while the container runs: %v", err)
	default:
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("logs -f ended by its context: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("logs -f did not return after its context ended")
	}
}

// TestExec runs commands in one container of a two-container pod.
func TestExec(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	id, spec := testPod(t, rt, sc, "multi")
	startRun(t, rt, id, spec, "c1", 0, nil)
	startRun(t, rt, id, spec, "c2", 0, nil, "exit", "0")
	waitState(t, rt, sc, "multi", "c1", 0, runtime.StateRunning)
	waitState(t, rt, sc, "multi", "c2", 0, runtime.StateExited)
	ctx := context.Background()

	var out, errOut bytes.Buffer
	code, err := cmdExec(ctx, []string{"multi", "-n", sc.Namespace, "-c", "c1", "--", "/app", "exit", "7"}, nil, &out, &errOut)
	if err != nil || code != 7 || out.String() != "hello: exiting with status 7 as asked\n" {
		t.Errorf("exec /app exit 7: code %d, err %v, stdout %q, stderr %q", code, err, out.String(), errOut.String())
	}
	if !strings.Contains(errOut.String(), "command terminated with exit code 7") {
		t.Errorf("stderr %q lacks kubectl's exit code line", errOut.String())
	}
	out.Reset()
	code, err = cmdExec(ctx, []string{"-n", sc.Namespace, "-c", "c1", "pod/multi", "--", "/app", "exit", "0"}, nil, &out, &errOut)
	if err != nil || code != 0 || !strings.Contains(out.String(), "status 0") {
		t.Errorf("exec /app exit 0: code %d, err %v, stdout %q", code, err, out.String())
	}

	_, err = cmdExec(ctx, []string{"multi", "-n", sc.Namespace, "--", "/app"}, nil, io.Discard, io.Discard)
	wantErr(t, err, "a container name must be specified for pod multi, choose one of: [c1 c2]")
	_, err = cmdExec(ctx, []string{"multi", "-n", sc.Namespace, "-c", "c2", "--", "/app"}, nil, io.Discard, io.Discard)
	wantErr(t, err, `container "c2" is not running`)
	_, err = cmdExec(ctx, []string{"gone", "-n", sc.Namespace, "--", "/app"}, nil, io.Discard, io.Discard)
	wantErr(t, err, `pod "gone" not found`)
}

var forwardingRE = regexp.MustCompile(`Forwarding from (127\.0\.0\.1:\d+) -> 8080\n`)

// TestPortForward forwards a random local port to a pod's published 8080:
// single, concurrent and half-closed requests get through; an unpublished
// port is refused; cancelling returns, closes the listener and the
// connections in flight, and leaves no forwarder goroutine behind.
func TestPortForward(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	id, spec := testPod(t, rt, sc, "web", 8080)
	startRun(t, rt, id, spec, "hello", 0, nil)
	waitLogs(t, "listening", "web", "-n", sc.Namespace)

	err := cmdPortForward(context.Background(), []string{"web", "-n", sc.Namespace, ":9090"}, io.Discard, io.Discard)
	wantErr(t, err, "port 9090 is not published by pod \"web\"; published: 8080/TCP")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- cmdPortForward(ctx, []string{"-n", sc.Namespace, "pod/web", ":8080"}, out, errOut) }()
	addr := waitForwarding(t, out, done)

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	if body := get(t, client, addr); !strings.HasPrefix(body, "hello from ") || !strings.HasSuffix(body, " version v1\n") {
		t.Errorf("GET / through the forward: %q", body)
	}
	concurrentGets(t, client, addr, 20)
	if resp := halfClosedGet(t, addr); !strings.Contains(resp, "200 OK") || !strings.Contains(resp, "version v1") {
		t.Errorf("request with half-close: %q", resp)
	}

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	waitLine(t, out, fmt.Sprintf("Handling connection for %s", addr[strings.LastIndex(addr, ":")+1:]), 23)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("port-forward ended by its context: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("port-forward did not return after its context ended")
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("the listener still accepts after port-forward returned")
	}
	_ = idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := idle.Read(make([]byte, 1)); n != 0 || err == nil || isTimeout(err) {
		t.Errorf("a connection in flight was not closed: read %d, %v", n, err)
	}
	if g := forwarderGoroutines(); g != "" {
		t.Errorf("forwarder goroutines left after return:\n%s", g)
	}
	if errOut.String() != "" {
		t.Errorf("port-forward reported errors:\n%s", errOut)
	}
}

// waitForwarding waits for the "Forwarding from" line and returns the
// local address.
func waitForwarding(t *testing.T, out *syncBuffer, done <-chan error) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := forwardingRE.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("port-forward returned early: %v\n%s", err, out)
		default:
		}
	}
	t.Fatalf("no Forwarding line:\n%s", out)
	return ""
}

// waitLine waits until out holds n lines containing s.
func waitLine(t *testing.T, out *syncBuffer, s string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); strings.Count(out.String(), s) < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("want %d lines %q:\n%s", n, s, out)
		}
	}
}

// get fetches / through addr; the first request may race the engine's
// port setup, so failures are retried until a deadline.
func get(t *testing.T, c *http.Client, addr string) string {
	t.Helper()
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var body string
		if body, err = fetch(c, addr); err == nil {
			return body
		}
	}
	t.Fatalf("GET through %s: %v", addr, err)
	return ""
}

func fetch(c *http.Client, addr string) (string, error) {
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %s: %s", resp.Status, b)
	}
	return string(b), nil
}

// concurrentGets sends n requests at once, each on its own connection.
func concurrentGets(t *testing.T, c *http.Client, addr string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			if body, err := fetch(c, addr); err != nil || !strings.Contains(body, "version v1") {
				errs <- fmt.Errorf("%q, %v", body, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent GET: %v", err)
	}
}

// halfClosedGet writes a request, closes its sending side and reads the
// whole response: the forward must pass the half-close on and keep the
// other direction open.
func halfClosedGet(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(bufio.NewReader(c))
	if err != nil {
		t.Errorf("reading after half-close: %v", err)
	}
	return string(b)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// forwarderGoroutines returns the stacks of goroutines running forwarder
// code. It looks at functions rather than the process's goroutine count,
// which the tests running in parallel change at any moment.
func forwarderGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:goruntime.Stack(buf, true)]
	var left []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "main.(*forwarder)") || strings.Contains(g, "main.pipe(") || strings.Contains(g, "main.copyHalf(") {
			left = append(left, g)
		}
	}
	return strings.Join(left, "\n\n")
}

func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want one containing %q", err, want)
	}
}

// TestLogsArgs checks that flags may come around the pod and that bad
// command lines are refused before any engine call.
func TestLogsArgs(t *testing.T) {
	t.Parallel()
	o, err := parseLogsFlags([]string{"-n", "a", "pod/web", "--tail", "3", "-f", "--since", "5m"}, io.Discard)
	if err != nil || o.pod != "web" || o.namespace != "a" || o.tail != 3 || !o.follow || o.since != 5*time.Minute {
		t.Errorf("logs flags: %+v, %v", o, err)
	}
	for name, args := range map[string][]string{
		"no pod":         {"-n", "x"},
		"two pods":       {"a", "b"},
		"bad --since":    {"web", "--since", "yesterday"},
		"negative since": {"web", "--since=-1m"},
		"bad --tail":     {"web", "--tail", "x"},
		"deployment":     {"deploy/web"},
		"empty pod":      {"pod/"},
	} {
		if err := cmdLogs(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("logs %s %v: no error", name, args)
		}
	}
}

// TestExecArgs checks the command after "--", flags around the pod, and
// that bad command lines are refused before any engine call.
func TestExecArgs(t *testing.T) {
	t.Parallel()
	o, err := parseExecFlags([]string{"web", "-c", "x", "--", "sh", "-c", "echo -n"}, io.Discard)
	if err != nil || o.pod != "web" || o.container != "x" || o.namespace != "default" || strings.Join(o.cmd, "|") != "sh|-c|echo -n" {
		t.Errorf("exec flags: %+v, %v", o, err)
	}
	for name, args := range map[string][]string{
		"no pod":         {"--", "/app"},
		"no --":          {"web", "/app"},
		"no command":     {"web", "--"},
		"stdin":          {"web", "-i", "--", "/app"},
		"tty":            {"-t", "web", "--", "/app"},
		"unknown flag":   {"web", "--bogus", "--", "/app"},
		"two pods":       {"a", "b", "--", "/app"},
		"kind not a pod": {"svc/web", "--", "/app"},
	} {
		if code, err := cmdExec(context.Background(), args, nil, io.Discard, io.Discard); err == nil || code == 0 {
			t.Errorf("exec %s %v: code %d, err %v", name, args, code, err)
		}
	}
}

// TestExecPickContainer covers the container choice (shared by the three
// verbs) without an engine.
func TestExecPickContainer(t *testing.T) {
	t.Parallel()
	one := &runtime.Pod{Name: "p", Containers: []runtime.Container{{Name: "a"}, {Name: "a", RestartCount: 1}}}
	two := &runtime.Pod{Name: "p", Containers: []runtime.Container{{Name: "b"}, {Name: "a"}}}
	if c, err := pickContainer(one, ""); err != nil || c != "a" {
		t.Errorf("one container, restarted: %q, %v", c, err)
	}
	if _, err := pickContainer(two, ""); err == nil || err.Error() != "a container name must be specified for pod p, choose one of: [a b]" {
		t.Errorf("two containers: %v", err)
	}
	if c, err := pickContainer(two, "b"); err != nil || c != "b" {
		t.Errorf("-c b: %q, %v", c, err)
	}
	if _, err := pickContainer(two, "z"); err == nil {
		t.Error("-c z: no error")
	}
	if _, err := pickContainer(&runtime.Pod{Name: "p"}, ""); err == nil {
		t.Error("no containers: no error")
	}
}

// TestPortForwardArgs covers kubectl's port forms, flags around the
// arguments, and bad command lines refused before any engine call.
func TestPortForwardArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want portSpec
		bad  bool
	}{
		{in: "8080", want: portSpec{8080, 8080}},
		{in: "5000:8080", want: portSpec{5000, 8080}},
		{in: ":8080", want: portSpec{0, 8080}},
		{in: "0:8080", want: portSpec{0, 8080}},
		{in: "8080:", bad: true},
		{in: ":0", bad: true},
		{in: "-1:80", bad: true},
		{in: "65536:80", bad: true},
		{in: "a:80", bad: true},
		{in: "1:2:3", bad: true},
	} {
		got, err := parsePortSpec(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && got != tc.want) {
			t.Errorf("parsePortSpec(%q) = %+v, %v", tc.in, got, err)
		}
	}
	o, err := parsePortForwardFlags([]string{"web", "8080", "--address", "::1", ":9000", "-n", "b"}, io.Discard)
	if err != nil || o.address != "::1" || o.namespace != "b" || len(o.ports) != 2 || o.ports[1] != (portSpec{0, 9000}) {
		t.Errorf("port-forward flags: %+v, %v", o, err)
	}
	for name, args := range map[string][]string{
		"no pod":   {},
		"no port":  {"web"},
		"bad port": {"web", "http"},
		"port 0":   {"web", ":0"},
		"too high": {"web", "70000:80"},
	} {
		if err := cmdPortForward(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("port-forward %s %v: no error", name, args)
		}
	}
}
