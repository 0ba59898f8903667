package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/runtime"
)

// limitPods exercise resources and security contexts: the guide's
// security-context pod (with the toolbox writing the file), a pod over its
// memory limit, a limited pod whose cgroup is checked, a pod too large for
// the host, a privileged pod, and a runAsNonRoot pod of a root image.
const limitPods = `apiVersion: v1
kind: Pod
metadata: {name: security-context-pod, namespace: %[1]s}
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    runAsUser: 45
    fsGroup: 231
  volumes:
  - name: simple-directory
    emptyDir: {}
  containers:
  - name: example-container
    image: ` + toolbox + `
    args: [append-loop, /etc/directory/file.txt, date, 1s]
    volumeMounts:
    - name: simple-directory
      mountPath: /etc/directory
    securityContext:
      runAsGroup: 3000
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
---
apiVersion: v1
kind: Pod
metadata: {name: oom, namespace: %[1]s}
spec:
  restartPolicy: Never
  containers:
  - name: hog
    image: ` + toolbox + `
    args: [alloc, "96"]
    resources: {limits: {memory: 32Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: limited, namespace: %[1]s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + toolbox + `
    args: [sleep, 10000h]
    resources:
      requests: {cpu: 250m, memory: 32Mi}
      limits: {cpu: 500m, memory: 64Mi}
---
apiVersion: v1
kind: Pod
metadata: {name: too-large, namespace: %[1]s}
spec:
  containers:
  - name: main
    image: ` + toolbox + `
    args: [sleep, 10000h]
    resources: {requests: {memory: 100Ti}}
---
apiVersion: v1
kind: Pod
metadata: {name: privileged, namespace: %[1]s}
spec:
  containers:
  - name: main
    image: ` + toolbox + `
    args: [sleep, 10000h]
    securityContext: {privileged: true}
---
apiVersion: v1
kind: Pod
metadata: {name: non-root, namespace: %[1]s}
spec:
  securityContext: {runAsNonRoot: true}
  containers:
  - name: main
    image: ` + toolbox + `
    args: [sleep, 10000h]
`

// TestPodLimitsAndSecurity checks on the real engine that a memory limit
// OOM-kills and is reported OOMKilled, that limits reach the cgroup, that
// a pod larger than the host stays Pending with the scheduler's message,
// that runAsUser/fsGroup show in file ownership as in the guide, and that
// privileged and root-under-runAsNonRoot pods are refused with the reason.
func TestPodLimitsAndSecurity(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	writeAtomic(t, filepath.Join(dir, "pods.yaml"), fmt.Sprintf(limitPods, sc.Namespace))
	listen := freePort(t)
	d := startDaemon(t, bin, dir, sc.Node, listen)
	waitRunning(t, rt, sc.Node, map[string]int{"security-context-pod": 1, "limited": 1}, d.log)

	// The guide's `ls -l`: the file belongs to user 45 and group 231.
	waitFor(t, 30*time.Second, "the file to be written", d.log, func() bool {
		out := podExecAllowFail(t, rt, sc.Node, "security-context-pod", "example-container", "ls", "-l", "/etc/directory")
		return strings.Contains(out, "file.txt")
	})
	ls := podExec(t, rt, sc.Node, "security-context-pod", "example-container", "ls", "-l", "/etc/directory")
	if f := strings.Fields(ls); len(f) < 3 || f[1] != "45" || f[2] != "231" {
		t.Errorf("ls -l /etc/directory = %q, want the file owned by 45:231", ls)
	}
	id := podExec(t, rt, sc.Node, "security-context-pod", "example-container", "id")
	if !strings.Contains(id, "uid=45 gid=3000") || !strings.Contains(id, "231") {
		t.Errorf("id = %q, want uid 45, gid 3000 and group 231", id)
	}
	if _, code := podExecCode(t, rt, sc.Node, "security-context-pod", "example-container", "write", "/root-fs-file", "x"); code == 0 {
		t.Errorf("wrote to a read-only root filesystem")
	}
	status := podExec(t, rt, sc.Node, "security-context-pod", "example-container", "cat", "/proc/self/status")
	if !strings.Contains(status, "NoNewPrivs:\t1") || !strings.Contains(status, "CapEff:\t0000000000000000") {
		t.Errorf("privileges not dropped:\n%s", status)
	}

	// Limits reach the cgroup (v1 here; v2 files as fallback).
	limited := podNamed(t, rt, sc.Node, "limited")
	mem := readCgroup(t, rt, sc.Node, limited.Name, "memory/memory.limit_in_bytes", "memory.max")
	if mem != "67108864" {
		t.Errorf("memory limit in the cgroup = %q, want 67108864", mem)
	}
	quota := readCgroup(t, rt, sc.Node, limited.Name, "cpu/cpu.cfs_quota_us", "cpu.max")
	if !strings.HasPrefix(quota, "50000") {
		t.Errorf("cpu quota in the cgroup = %q, want 50000 (500m of a 100ms period)", quota)
	}

	// Over its memory limit, the hog is OOM-killed and reported so.
	waitFor(t, 60*time.Second, "the hog to be OOM-killed", d.log, func() bool {
		p := podsByOwner(t, rt, sc.Node)["oom"]
		if len(p) != 1 {
			return false
		}
		c := p[0].Current("hog")
		return c != nil && c.State == runtime.StateExited && c.OOMKilled
	})
	waitStatus(t, bin, listen, "get pods to show OOMKilled", d.log, func(s string) bool {
		return hasRow(s, "oom", "0/1", "OOMKilled")
	}, "get", "pods", "-n", sc.Namespace)

	// Refusals: too large for the host, privileged, root under runAsNonRoot.
	st := waitStatus(t, bin, listen, "the refusals to show", d.log, func(s string) bool {
		return strings.Contains(s, "0/1 nodes are available: 1 Insufficient memory.") &&
			strings.Contains(s, "privileged containers are refused unless the daemon runs with --allow-privileged") &&
			strings.Contains(s, "container has runAsNonRoot and image will run as root")
	})
	t.Logf("status:\n%s", st)
	for _, name := range []string{"too-large", "privileged"} {
		if n := len(podsByOwner(t, rt, sc.Node)[name]); n != 0 {
			t.Errorf("refused pod %s has %d pods in the engine", name, n)
		}
	}
	// As in Kubernetes, the runAsNonRoot pod exists but its container
	// never runs.
	for _, p := range podsByOwner(t, rt, sc.Node)["non-root"] {
		if c := p.Current("main"); c != nil && c.State == runtime.StateRunning {
			t.Errorf("the root container of a runAsNonRoot pod runs")
		}
	}
}

func podExecAllowFail(t *testing.T, rt runtime.Runtime, node, pod, container string, cmd ...string) string {
	t.Helper()
	out, _ := podExecCode(t, rt, node, pod, container, cmd...)
	return out
}

// readCgroup reads a cgroup file of a container (v1 path, else v2 path).
func readCgroup(t *testing.T, rt runtime.Runtime, node, pod, v1, v2 string) string {
	t.Helper()
	out, code := podExecCode(t, rt, node, pod, "main", "cat", "/sys/fs/cgroup/"+v1)
	if code != 0 {
		out, code = podExecCode(t, rt, node, pod, "main", "cat", "/sys/fs/cgroup/"+v2)
	}
	if code != 0 {
		t.Fatalf("reading the cgroup: %s", out)
	}
	return strings.TrimSpace(out)
}
