package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/runtime"
)

// toolbox is the image of the pod feature tests (examples/toolbox).
const toolbox = "localhost/reconciler-toolbox:v1"

// namespaceDoc declares a test's namespace.
const namespaceDoc = "apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n"

// configApp is a ConfigMap, a Secret and a Deployment that reads them
// through env, envFrom, the downward API and volumes.
const configApp = `apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: %[1]s}
data:
  greeting: %[2]s
  app.properties: |
    color=blue
---
apiVersion: v1
kind: Secret
metadata: {name: app-secret, namespace: %[1]s}
stringData:
  password: s3cr3t-value
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: configured, namespace: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: configured}}
  template:
    metadata: {labels: {app: configured, tier: backend}}
    spec:
      terminationGracePeriodSeconds: 1
      serviceAccountName: robot
      hostname: configured-host
      hostAliases: [{ip: 10.1.2.3, hostnames: [db.internal, cache.internal]}]
      dnsConfig:
        searches: [example.internal]
        options: [{name: ndots, value: "2"}, {name: timeout, value: "3"}]
      containers:
      - name: main
        image: ` + toolbox + `
        args: ["sleep", "$(NAP)"]
        envFrom:
        - prefix: CFG_
          configMapRef: {name: app-config}
        env:
        - {name: NAP, value: 10000h}
        - name: GREETING
          valueFrom: {configMapKeyRef: {name: app-config, key: greeting}}
        - {name: MESSAGE, value: "$(GREETING) from $(POD_NAME), $$(kept) $(UNDEFINED)"}
        - name: PASSWORD
          valueFrom: {secretKeyRef: {name: app-secret, key: password}}
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - name: POD_NAMESPACE
          valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
        - name: POD_IP
          valueFrom: {fieldRef: {fieldPath: status.podIP}}
        - name: TIER
          valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}
        - name: OPTIONAL
          valueFrom: {configMapKeyRef: {name: nowhere, key: x, optional: true}}
        volumeMounts:
        - {name: config, mountPath: /etc/config}
        - {name: secret, mountPath: /etc/secret}
        - {name: config, mountPath: /etc/app.properties, subPath: app.properties}
      volumes:
      - name: config
        configMap:
          name: app-config
          items: [{key: greeting, path: greet/text}, {key: app.properties, path: app.properties}]
      - name: secret
        secret: {secretName: app-secret, defaultMode: 0400}
---
apiVersion: v1
kind: Pod
metadata: {name: broken, namespace: %[1]s}
spec:
  containers:
  - name: main
    image: ` + toolbox + `
    args: ["sleep", "10000h"]
    env:
    - name: X
      valueFrom: {configMapKeyRef: {name: absent, key: x}}
`

// waitRunning waits until each named owner has exactly its count of pods,
// every container of which runs (other owners are not looked at).
func waitRunning(t *testing.T, rt runtime.Runtime, node string, want map[string]int, log fmt.Stringer) map[string][]runtime.Pod {
	t.Helper()
	var got map[string][]runtime.Pod
	waitFor(t, 90*time.Second, fmt.Sprintf("pods %v to run", want), log, func() bool {
		got = podsByOwner(t, rt, node)
		for owner, n := range want {
			if len(got[owner]) != n {
				return false
			}
			for _, p := range got[owner] {
				if !containersRunning(p) {
					return false
				}
			}
		}
		return true
	})
	return got
}

// containersRunning reports whether a pod has containers and the current
// run of each is running.
func containersRunning(p runtime.Pod) bool {
	if len(p.Containers) == 0 || p.Terminating {
		return false
	}
	for _, c := range p.Containers {
		if cur := p.Current(c.Name); cur.State != runtime.StateRunning {
			return false
		}
	}
	return true
}

// podExec runs a toolbox command in the current run of a pod's container
// and returns its output; a failure or a non-zero exit fails the test.
func podExec(t *testing.T, rt runtime.Runtime, node, pod, container string, cmd ...string) string {
	t.Helper()
	res := toolboxExec(t, rt, node, pod, container, cmd...)
	if res.ExitCode != 0 {
		t.Fatalf("exec %v in %s/%s: exit %d, stderr %q", cmd, pod, container, res.ExitCode, res.Stderr)
	}
	return string(res.Stdout)
}

// podExecCode runs a toolbox command and returns its output (stdout, then
// stderr) and exit code.
func podExecCode(t *testing.T, rt runtime.Runtime, node, pod, container string, cmd ...string) (string, int) {
	t.Helper()
	res := toolboxExec(t, rt, node, pod, container, cmd...)
	return string(res.Stdout) + string(res.Stderr), res.ExitCode
}

// toolboxExec runs /app CMD... in the current run of a pod's container; an
// exec that cannot run fails the test.
func toolboxExec(t *testing.T, rt runtime.Runtime, node, pod, container string, cmd ...string) runtime.ExecResult {
	t.Helper()
	p := podNamed(t, rt, node, pod)
	c := p.Current(container)
	if c == nil {
		t.Fatalf("pod %s has no container %s", pod, container)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := rt.Exec(ctx, c.ID, append([]string{"/app"}, cmd...))
	if err != nil {
		t.Fatalf("exec %v in %s/%s: %v", cmd, pod, container, err)
	}
	return res
}

// podNamed returns the running pod whose name starts with prefix.
func podNamed(t *testing.T, rt runtime.Runtime, node, prefix string) runtime.Pod {
	t.Helper()
	obs, err := rt.Observe(context.Background(), node)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range obs.Pods {
		if strings.HasPrefix(p.Name, prefix) && !p.Terminating {
			return p
		}
	}
	t.Fatalf("no pod %s* on node %s", prefix, node)
	return runtime.Pod{}
}

// waitStatus waits until the output of `reconciler ARGS --server` (e.g.
// status, get pods) satisfies cond, and returns it.
func waitStatus(t *testing.T, bin, listen, what string, log fmt.Stringer, cond func(string) bool, args ...string) string {
	t.Helper()
	if len(args) == 0 {
		args = []string{"status"}
	}
	var last string
	waitFor(t, 60*time.Second, what, log, func() bool {
		out, err := exec.Command(bin, append(args, "--server", "http://"+listen)...).CombinedOutput()
		last = string(out)
		return err == nil && cond(last)
	})
	return last
}

func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %v: %w\n%s", name, args, err, out)
	}
	return string(out), nil
}

// TestPodConfiguration runs a Deployment that reads a ConfigMap and a
// Secret through env, envFrom, the downward API and volumes, on the real
// engine: values and files arrive, $(VAR) expands as Kubernetes does, the
// Secret is in no label, a pod with a missing reference waits in
// CreateContainerConfigError without disturbing the others, and a change
// to the ConfigMap rolls the Deployment.
func TestPodConfiguration(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	writeAtomic(t, filepath.Join(dir, "app.yaml"), fmt.Sprintf(configApp, sc.Namespace, "hello"))
	listen := freePort(t)
	d := startDaemon(t, bin, dir, sc.Node, listen)
	pods := waitRunning(t, rt, sc.Node, map[string]int{"configured": 1}, d.log)
	first := pods["configured"][0]

	env := podExec(t, rt, sc.Node, first.Name, "main", "env")
	ip, err := rt.PodIP(context.Background(), first.ID)
	if err != nil || ip == "" {
		t.Fatalf("pod IP: %q %v", ip, err)
	}
	for _, want := range []string{
		"GREETING=hello", "PASSWORD=s3cr3t-value", "POD_NAME=" + first.Name, "POD_NAMESPACE=" + sc.Namespace,
		"POD_IP=" + ip, "TIER=backend", "CFG_greeting=hello",
		"MESSAGE=hello from $(POD_NAME), $(kept) $(UNDEFINED)", // POD_NAME is defined later: kept
	} {
		if !strings.Contains(env, want+"\n") {
			t.Errorf("env lacks %q:\n%s", want, env)
		}
	}
	if strings.Contains(env, "OPTIONAL=") || strings.Contains(env, "CFG_app.properties") == false {
		// app.properties is a valid env name for envFrom (dots are allowed)
		t.Errorf("optional or envFrom keys wrong:\n%s", env)
	}
	if got := podExec(t, rt, sc.Node, first.Name, "main", "cat", "/etc/config/greet/text"); got != "hello" {
		t.Errorf("configMap item file = %q", got)
	}
	if got := podExec(t, rt, sc.Node, first.Name, "main", "cat", "/etc/app.properties"); got != "color=blue\n" {
		t.Errorf("subPath file = %q", got)
	}
	if got := podExec(t, rt, sc.Node, first.Name, "main", "ls", "-l", "/etc/secret"); !strings.Contains(got, "-r-------- ") || !strings.Contains(got, "password") {
		t.Errorf("secret volume listing:\n%s", got)
	}
	if got := podExec(t, rt, sc.Node, first.Name, "main", "cat", "/etc/secret/password"); got != "s3cr3t-value" {
		t.Errorf("secret file = %q", got)
	}
	assertNoSecret(t, first, "s3cr3t-value", d.log.String())
	if first.ServiceAccount != "robot" {
		t.Errorf("service account recorded as %q", first.ServiceAccount)
	}
	if h := podExec(t, rt, sc.Node, first.Name, "main", "hostname"); h != "configured-host\n" {
		t.Errorf("hostname = %q", h)
	}
	if hosts := podExec(t, rt, sc.Node, first.Name, "main", "cat", "/etc/hosts"); !strings.Contains(hosts, "10.1.2.3") ||
		!strings.Contains(hosts, "db.internal") || !strings.Contains(hosts, "cache.internal") {
		t.Errorf("hostAliases missing from /etc/hosts:\n%s", hosts)
	}
	resolv := podExec(t, rt, sc.Node, first.Name, "main", "cat", "/etc/resolv.conf")
	if !strings.Contains(resolv, "example.internal") || !strings.Contains(resolv, "ndots:2") ||
		!strings.Contains(resolv, "timeout:3") || strings.Contains(resolv, "ndots:5") {
		t.Errorf("dnsConfig not applied to /etc/resolv.conf:\n%s", resolv)
	}

	// The pod with a missing ConfigMap waits, and says why.
	waitStatus(t, bin, listen, "the broken pod to wait in CreateContainerConfigError", d.log, func(s string) bool {
		return strings.Contains(s, "CreateContainerConfigError") && strings.Contains(s, `configmap "absent" not found`)
	})

	// A ConfigMap change rolls the Deployment: a new pod with the new value.
	writeAtomic(t, filepath.Join(dir, "app.yaml"), fmt.Sprintf(configApp, sc.Namespace, "bonjour"))
	waitFor(t, 60*time.Second, "the Deployment to roll to the new ConfigMap", d.log, func() bool {
		ps := podsByOwner(t, rt, sc.Node)["configured"]
		return len(ps) == 1 && ps[0].ID != first.ID && containersRunning(ps[0])
	})
	second := podNamed(t, rt, sc.Node, "configured")
	if second.TemplateHash == first.TemplateHash {
		t.Errorf("the template hash did not change with the ConfigMap")
	}
	if env := podExec(t, rt, sc.Node, second.Name, "main", "env"); !strings.Contains(env, "GREETING=bonjour\n") {
		t.Errorf("after the change, env lacks GREETING=bonjour:\n%s", env)
	}
	if _, err := os.Stat(filepath.Join(testenv.VolumeDir, sc.Node)); err != nil {
		t.Errorf("no files directory for the node: %v", err)
	}
	waitFor(t, 60*time.Second, "the old pod's files to be removed", d.log, func() bool {
		_, err := os.Stat(filepath.Join(testenv.VolumeDir, sc.Node, first.ID[:12]))
		return os.IsNotExist(err)
	})
}

// assertNoSecret checks that a secret value is in none of a pod's labels
// (pod and containers, as the engine reports them) nor in the daemon's log.
func assertNoSecret(t *testing.T, p runtime.Pod, secret, log string) {
	t.Helper()
	out, err := runCmd("podman", "pod", "inspect", p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, secret) {
		t.Errorf("the secret value appears in `podman pod inspect`")
	}
	for _, c := range p.Containers {
		out, err := runCmd("podman", "inspect", "--format", "{{json .Config.Labels}}", c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, secret) {
			t.Errorf("the secret value appears in the labels of container %s", c.Name)
		}
	}
	if strings.Contains(log, secret) {
		t.Errorf("the secret value appears in the daemon's log")
	}
}
