package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/svcnet"
)

// webApp is a Deployment of hello with a fast readiness probe, and its
// Services: an HTTP one (port named http, target port by name), a TCP one
// (unnamed port), a NodePort one, and one that selects nothing.
const webApp = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %[1]s}
spec:
  replicas: %[2]d
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: hello
        image: "localhost/reconciler-hello:%[3]s"
        ports: [{name: web, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /readyz, port: web}
          periodSeconds: 1
          failureThreshold: 1
          # generous: parallel tests load the machine, and a timed-out
          # probe would take a healthy pod out of the rotation
          timeoutSeconds: 5
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: %[1]s}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: web}]
---
apiVersion: v1
kind: Service
metadata: {name: raw, namespace: %[1]s}
spec:
  selector: {app: web}
  ports: [{port: 81, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: np, namespace: %[1]s}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 82, targetPort: 8080, nodePort: %[4]d}]
---
apiVersion: v1
kind: Service
metadata: {name: nobody, namespace: %[1]s}
spec:
  selector: {app: none}
  ports: [{name: http, port: 83, targetPort: 8080}]
`

// clientPod calls Services from inside a container.
const clientPod = `apiVersion: v1
kind: Pod
metadata: {name: client, namespace: %[1]s, labels: {app: client}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: hello, image: "localhost/reconciler-hello:v1"}
`

// httpGet fetches url with a fresh connection and returns status and body.
func httpGet(url string) (int, string, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// hostOf extracts the pod name from hello's "hello from POD version V".
func hostOf(body string) string {
	f := strings.Fields(body)
	if len(f) < 3 {
		return ""
	}
	return f[2]
}

// TestServices runs Services over a 3-replica Deployment on the real
// engine: requests spread over all pods through HTTP, TCP and NodePort
// listeners; a pod that turns unready leaves the rotation within about a
// probe period; an empty Service answers 503; a container reaches a Service
// by its DNS names and gets the service environment variables.
func TestServices(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	lo := loopbackFor(sc.Node).String()
	nodePort := 30000 + int(loopbackFor(sc.Node).As4()[2])*10 + 7
	writeAtomic(t, filepath.Join(dir, "web.yaml"), fmt.Sprintf(webApp, sc.Namespace, 3, "v1", nodePort))
	writeAtomic(t, filepath.Join(dir, "client.yaml"), fmt.Sprintf(clientPod, sc.Namespace))
	listen := freePort(t)
	d := startDaemon(t, bin, dir, sc.Node, listen, "--node-address", lo)
	pods := waitPods(t, rt, sc.Node, map[string]int{"web": 3, "client": 1}, d.log)
	waitEndpoints(t, listen, "web", 3, d.log)

	for _, target := range []string{lo + ":80", lo + ":81", fmt.Sprintf("%s:%d", lo, nodePort)} {
		seen := spread(t, "http://"+target+"/", 30, d.log)
		if len(seen) != 3 {
			t.Errorf("%s: requests reached %v, want all 3 pods", target, seen)
		}
	}
	if code, body, err := httpGet("http://" + lo + ":83/"); err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("Service without endpoints: %d %q %v", code, body, err)
	}
	checkEndpointsCLI(t, bin, sc.Namespace, listen)
	checkInContainer(t, bin, sc.Namespace, listen, pods["client"][0])

	// One pod turns unready: it leaves the rotation.
	victim := pods["web"][0]
	if _, err := http.Post("http://"+hostPort(t, victim, 8080)+"/unready", "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		seen := spread(t, "http://"+lo+":80/", 12, d.log)
		if !seen[victim.Name] && len(seen) == 2 {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("the unready pod %s is still served after %v: %v", victim.Name, time.Since(start), seen)
		}
	}
	t.Logf("the unready pod left the rotation after %v (probe period 1s)", time.Since(start).Round(10*time.Millisecond))
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("the unready pod left the rotation after %v, want about one probe period (1s)", took)
	}
	d.signal(t, syscall.SIGINT)
	if code, _, err := httpGet("http://" + lo + ":80/"); err == nil {
		t.Errorf("the proxy still answers (%d) after the daemon stopped", code)
	}
	// A clean stop takes the node's cluster IPs off the host.
	out, err := exec.Command("ip", "-o", "addr", "show", "dev", "lo", "label", svcnet.Label(sc.Node)).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("addresses left on lo after the daemon stopped: %v\n%s", err, out)
	}
}

// waitEndpoints waits until the daemon serves Service name over n ready
// endpoints: a running pod is not ready before its first readiness probe.
func waitEndpoints(t *testing.T, listen, name string, n int, log fmt.Stringer) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if st := fetchStatus(context.Background(), "http://"+listen); st != nil {
			for _, e := range st.Endpoints {
				if e.Name == name && len(e.Ports) > 0 && len(e.Ports[0].Endpoints) == n {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Service %s did not reach %d ready endpoints\ndaemon log:\n%s", name, n, log)
		}
	}
}

// spread sends n requests and returns the pods that answered; a failed
// request fails the test.
func spread(t *testing.T, url string, n int, log fmt.Stringer) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for range n {
		code, body, err := httpGet(url)
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET %s: %d %q %v\ndaemon log:\n%s", url, code, body, err, log)
		}
		seen[hostOf(body)] = true
	}
	return seen
}

// hostPort is where the engine published a pod's container port.
func hostPort(t *testing.T, p runtime.Pod, port int32) string {
	t.Helper()
	for _, b := range p.Ports {
		if b.ContainerPort == port {
			return fmt.Sprintf("%s:%d", b.HostIP, b.HostPort)
		}
	}
	t.Fatalf("pod %s does not publish %d", p.Name, port)
	return ""
}

// checkEndpointsCLI reads `get endpoints` and `get services`.
func checkEndpointsCLI(t *testing.T, bin, ns, listen string) {
	t.Helper()
	out, err := exec.Command(bin, "get", "endpoints", "-n", ns, "--server", "http://"+listen).CombinedOutput()
	if err != nil {
		t.Fatalf("get endpoints: %v\n%s", err, out)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n")[1:] {
		f := strings.Fields(l)
		rows[f[0]] = strings.Join(f[1:], " ")
	}
	if rows["nobody"] != "<none>" || strings.Count(rows["web"], "127.0.0.1:") != 3 || len(rows) != 4 {
		t.Errorf("get endpoints:\n%s", out)
	}
	out, err = exec.Command(bin, "get", "services", "-n", ns, "--server", "http://"+listen).CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("NodePort    10.")) || !strings.Contains(string(out), ":3") {
		t.Errorf("get services: %v\n%s", err, out)
	}
}

// checkInContainer calls the web Service from the client pod by its three
// DNS names, and checks the service environment of the client container.
func checkInContainer(t *testing.T, bin, ns, listen string, client runtime.Pod) {
	t.Helper()
	for _, name := range []string{"web", "web." + ns, "web." + ns + ".svc.cluster.local"} {
		// One retry: on a machine loaded by parallel tests a call can
		// exceed its deadline; two failures in a row are a real failure.
		for try := 1; ; try++ {
			start := time.Now()
			out, err := exec.Command(bin, "exec", client.Name, "-n", ns, "--podman", testenv.URI(), "--",
				"/app", "get", "http://"+name+"/").CombinedOutput()
			if err == nil && strings.HasPrefix(string(out), "hello from web-") {
				t.Logf("in-container GET http://%s/ answered in %v (try %d)", name, time.Since(start).Round(time.Millisecond), try)
				break
			}
			if try == 2 {
				t.Errorf("in-container GET http://%s/: %v\n%s", name, err, out)
				break
			}
			t.Logf("in-container GET http://%s/ failed after %v, trying again: %v\n%s", name, time.Since(start).Round(time.Millisecond), err, out)
		}
	}
	st := fetchStatus(context.Background(), "http://"+listen)
	var ip string
	for _, e := range st.Endpoints {
		if e.Name == "web" {
			ip = e.ClusterIP
		}
	}
	env, err := exec.Command("podman", "--url", testenv.URI(), "container", "inspect", "--format",
		"{{range .Config.Env}}{{println .}}{{end}}", client.Current("hello").ID).CombinedOutput()
	for _, want := range []string{"WEB_SERVICE_HOST=" + ip, "WEB_SERVICE_PORT=80", "WEB_SERVICE_PORT_HTTP=80",
		"RAW_SERVICE_PORT=81", "WEB_PORT=tcp://" + ip + ":80"} {
		if err != nil || ip == "" || !strings.Contains(string(env), want+"\n") {
			t.Errorf("client env lacks %s: %v\n%s", want, err, env)
		}
	}
}

// TestServiceZeroDropRollout keeps a bounded load on a Service while its
// 5-replica Deployment rolls to a new image and scales 5→2→5: no request
// fails, and every answer comes from a pod of the Deployment.
func TestServiceZeroDropRollout(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	lo := loopbackFor(sc.Node).String()
	write := func(n int, version string) {
		writeAtomic(t, filepath.Join(dir, "web.yaml"), fmt.Sprintf(webApp, sc.Namespace, n, version, 0))
	}
	write(5, "v1")
	listen := freePort(t)
	d := startDaemon(t, bin, dir, sc.Node, listen)
	waitPods(t, rt, sc.Node, map[string]int{"web": 5}, d.log)
	waitEndpoints(t, listen, "web", 5, d.log)

	ld := startLoad(t, "http://"+lo+":80/", 4, 200000)
	step := func(n int, version string) {
		write(n, version)
		waitPodsWhere(t, rt, sc.Node, map[string]int{"web": n}, d.log, func(p runtime.Pod) bool {
			return p.Current("hello") != nil && strings.HasSuffix(p.Current("hello").Image, ":"+version)
		})
		waitInSync(t, listen, d.log)
	}
	step(5, "v2")
	step(2, "v2")
	step(5, "v2")
	ok, failed, errs := ld.stop()
	t.Logf("%d requests during the rollout and scaling, %d failed", ok+failed, failed)
	if failed > 0 || ok < 100 {
		t.Errorf("%d of %d requests failed; first errors: %v\ndaemon log:\n%s", failed, ok+failed, errs, d.log)
	}
	d.signal(t, syscall.SIGINT)
}

// load is a bounded request loop: workers send requests until stopped or
// until max requests were sent, each with a deadline.
type load struct {
	stopc    chan struct{}
	wg       sync.WaitGroup
	ok, fail atomic.Int64
	mu       sync.Mutex
	errs     []string
}

func startLoad(t *testing.T, url string, workers int, max int64) *load {
	t.Helper()
	l := &load{stopc: make(chan struct{})}
	var sent atomic.Int64
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	deadline := time.Now().Add(3 * time.Minute)
	for range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for sent.Add(1) <= max && time.Now().Before(deadline) {
				select {
				case <-l.stopc:
					return
				default:
				}
				l.one(client, url)
			}
		}()
	}
	t.Cleanup(func() { l.stop() })
	return l
}

func (l *load) one(c *http.Client, url string) {
	resp, err := c.Get(url)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && (resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "hello from web-")) {
			err = fmt.Errorf("%s: %q", resp.Status, body)
		}
	}
	if err == nil {
		l.ok.Add(1)
		return
	}
	l.fail.Add(1)
	l.mu.Lock()
	if len(l.errs) < 5 {
		l.errs = append(l.errs, err.Error())
	}
	l.mu.Unlock()
}

// stop ends the load and returns the counts; it may be called twice.
func (l *load) stop() (int64, int64, []string) {
	select {
	case <-l.stopc:
	default:
		close(l.stopc)
	}
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok.Load(), l.fail.Load(), l.errs
}
