package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/runtime"
)

// The guide's multi-container patterns, with the toolbox standing in for
// its shell loops, nginx and redis: the sidecar serves over HTTP the log an
// app writes to a shared emptyDir; the adapter rewrites the app's output
// into another format in a memory-backed emptyDir; the ambassador gives the
// app a localhost address for a Service it proxies to.
const patternPods = `apiVersion: v1
kind: Pod
metadata: {name: pod-with-sidecar, namespace: %[1]s}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: shared-logs, emptyDir: {}}]
  containers:
  - name: app-container
    image: ` + toolbox + `
    args: [append-loop, /var/log/app.txt, "hello from the app", 200ms]
    volumeMounts: [{name: shared-logs, mountPath: /var/log}]
  - name: sidecar-container
    image: ` + toolbox + `
    args: [serve, /usr/share/nginx/html, "0.0.0.0:80"]
    ports: [{containerPort: 80}]
    volumeMounts: [{name: shared-logs, mountPath: /usr/share/nginx/html}]
---
apiVersion: v1
kind: Pod
metadata: {name: pod-with-adapter, namespace: %[1]s}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: shared-logs, emptyDir: {medium: Memory, sizeLimit: 8Mi}}]
  containers:
  - name: app-container
    image: ` + toolbox + `
    args: [append-loop, /var/log/top.txt, "cpu 12", 200ms]
    volumeMounts: [{name: shared-logs, mountPath: /var/log}]
  - name: adapter-container
    image: ` + toolbox + `
    args: [adapt-loop, /logs/top.txt, /logs/status.txt, 200ms]
    volumeMounts: [{name: shared-logs, mountPath: /logs}]
---
apiVersion: v1
kind: Pod
metadata: {name: pod-with-ambassador, namespace: %[1]s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main-container
    image: ` + toolbox + `
    # the app's backend is localhost:9000; it is published on 8080 so the
    # test can drive it
    args: [proxy, "0.0.0.0:8080", "127.0.0.1:9000"]
    ports: [{containerPort: 8080}]
  - name: ambassador-container
    image: ` + toolbox + `
    args: [proxy, "127.0.0.1:9000", "kv:8081"]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: filler, namespace: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: filler}}
  template:
    metadata: {labels: {app: filler}}
    spec:
      terminationGracePeriodSeconds: 1
      volumes: [{name: cache, emptyDir: {sizeLimit: 256Ki}}]
      containers:
      - name: main
        image: ` + toolbox + `
        args: [append-loop, /cache/log, "%[2]s", 5ms]
        volumeMounts: [{name: cache, mountPath: /cache}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: kv, namespace: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: kv}}
  template:
    metadata: {labels: {app: kv}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: kv
        image: localhost/reconciler-kv:v1
        ports: [{name: http, containerPort: 8081}]
---
apiVersion: v1
kind: Service
metadata: {name: kv, namespace: %[1]s}
spec:
  selector: {app: kv}
  ports: [{name: http, port: 8081, targetPort: http}]
`

// storagePods are a claim bound to a volume the engine keeps, a claim no
// volume satisfies, and host paths inside and outside the allowed list.
const storagePods = `apiVersion: v1
kind: PersistentVolume
metadata: {name: data-%[1]s}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  csi: {driver: volume.reconciler.dev, volumeHandle: data}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: %[1]s}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 500Mi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: huge, namespace: %[1]s}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 100Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: waiter, namespace: %[1]s}
spec:
  volumes: [{name: data, persistentVolumeClaim: {claimName: huge}}]
  containers:
  - {name: main, image: ` + toolbox + `, args: [sleep, 10000h], volumeMounts: [{name: data, mountPath: /data}]}
---
apiVersion: v1
kind: Pod
metadata: {name: host-ok, namespace: %[1]s}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: host, hostPath: {path: "%[2]s", type: Directory}}]
  containers:
  - {name: main, image: ` + toolbox + `, args: [sleep, 10000h], volumeMounts: [{name: host, mountPath: /host, readOnly: true}]}
---
apiVersion: v1
kind: Pod
metadata: {name: host-bad, namespace: %[1]s}
spec:
  volumes: [{name: etc, hostPath: {path: /etc}}]
  containers:
  - {name: main, image: ` + toolbox + `, args: [sleep, 10000h], volumeMounts: [{name: etc, mountPath: /host-etc}]}
`

// writerPod uses the claim.
const writerPod = `apiVersion: v1
kind: Pod
metadata: {name: writer, namespace: %[1]s}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
  containers:
  - {name: main, image: ` + toolbox + `, args: [sleep, 10000h], volumeMounts: [{name: data, mountPath: /data}]}
`

// TestPodPatterns runs the guide's sidecar, adapter and ambassador pods on
// the real engine, and checks that a pod's emptyDirs go with it.
func TestPodPatterns(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	line := strings.Repeat("x", 1000)
	writeAtomic(t, filepath.Join(dir, "patterns.yaml"), fmt.Sprintf(patternPods, sc.Namespace, line))
	listen := freePort(t)
	d := startDaemon(t, bin, dir, sc.Node, listen)
	pods := waitRunning(t, rt, sc.Node, map[string]int{"pod-with-sidecar": 1, "pod-with-adapter": 1, "pod-with-ambassador": 1, "kv": 1, "filler": 1}, d.log)

	// Sidecar: what the app appends, the sidecar serves.
	sidecar := pods["pod-with-sidecar"][0]
	waitFor(t, 30*time.Second, "the sidecar to serve the app's log", d.log, func() bool {
		code, body, err := httpGet("http://" + hostPort(t, sidecar, 80) + "/app.txt")
		return err == nil && code == 200 && strings.Count(body, "hello from the app") >= 2
	})

	// Adapter: the app's "TIME cpu 12" lines come out as "TIME=cpu 12",
	// on a tmpfs of the declared size shared by both containers.
	adapter := pods["pod-with-adapter"][0]
	waitFor(t, 30*time.Second, "the adapter to write its format", d.log, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p := podNamed(t, rt, sc.Node, adapter.Name)
		c := p.Current("adapter-container")
		if c == nil {
			return false
		}
		res, err := rt.Exec(ctx, c.ID, []string{"/app", "cat", "/logs/status.txt"})
		return err == nil && res.ExitCode == 0 && strings.Contains(string(res.Stdout), "Z=cpu 12\n")
	})
	mounts := podExec(t, rt, sc.Node, adapter.Name, "app-container", "cat", "/proc/mounts")
	if !strings.Contains(mounts, "tmpfs /var/log tmpfs") || !strings.Contains(mounts, "size=8192k") {
		t.Errorf("the Memory emptyDir is not an 8 MiB tmpfs:\n%s", mounts)
	}

	// Ambassador: the app talks to localhost:9000; the ambassador reaches
	// the kv Service by name.
	waitEndpoints(t, listen, "kv", 1, d.log)
	amb := "http://" + hostPort(t, pods["pod-with-ambassador"][0], 8080) + "/kv/greeting"
	waitFor(t, 30*time.Second, "a write through the ambassador", d.log, func() bool {
		req, _ := http.NewRequest(http.MethodPut, amb, strings.NewReader("through the ambassador"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode/100 == 2
	})
	if code, body, err := httpGet(amb); err != nil || code != 200 || body != "through the ambassador" {
		t.Errorf("read through the ambassador: %d %q %v", code, body, err)
	}

	// A disk emptyDir past its sizeLimit gets its pod evicted, as the
	// kubelet does; the Deployment replaces it.
	filler := pods["filler"][0]
	evicted := `reason=Evicted object=pod/` + sc.Namespace + `/` + filler.Name +
		` message="Usage of EmptyDir volume \"cache\" exceeds the limit \"256Ki\"."`
	waitFor(t, 60*time.Second, "the filler pod to be evicted and replaced", d.log, func() bool {
		ps := podsByOwner(t, rt, sc.Node)["filler"]
		return strings.Contains(d.log.String(), evicted) && len(ps) == 1 && ps[0].ID != filler.ID
	})

	// The emptyDirs are the pods' own, and go with them.
	writeAtomic(t, filepath.Join(dir, "patterns.yaml"), strings.SplitN(fmt.Sprintf(patternPods, sc.Namespace, line), "---\n", 2)[1])
	waitFor(t, 60*time.Second, "the sidecar pod and its emptyDir to go", d.log, func() bool {
		if len(podsByOwner(t, rt, sc.Node)["pod-with-sidecar"]) != 0 {
			return false
		}
		for _, v := range volumesOf(t, rt, sc.Node) {
			if v.Pod == "pod-with-sidecar" || v.PodID == filler.ID {
				return false
			}
		}
		return true
	})
	for _, v := range volumesOf(t, rt, sc.Node) {
		if v.Pod == "pod-with-adapter" && v.PodID != adapter.ID {
			t.Errorf("the adapter's emptyDir %s belongs to another pod", v.Name)
		}
	}
}

func volumesOf(t *testing.T, rt runtime.Runtime, node string) []runtime.Volume {
	t.Helper()
	vs, err := rt.ListVolumes(context.Background(), node)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// TestPodStorage binds a claim and keeps its data across deleting and
// recreating the pod and a daemon killed with SIGKILL; a claim no volume
// satisfies holds its pod Pending with the reason; a host path in the
// allowed list mounts, one outside it refuses the pod.
func TestPodStorage(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	allowed := t.TempDir()
	if err := os.WriteFile(filepath.Join(allowed, "note"), []byte("from the host"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, filepath.Join(dir, "storage.yaml"), fmt.Sprintf(storagePods, sc.Namespace, allowed))
	writeAtomic(t, filepath.Join(dir, "writer.yaml"), fmt.Sprintf(writerPod, sc.Namespace))
	listen := freePort(t)
	args := []string{"--host-path-allow", allowed, "--state-dir", t.TempDir()}
	d := startDaemon(t, bin, dir, sc.Node, listen, args...)
	waitRunning(t, rt, sc.Node, map[string]int{"writer": 1, "host-ok": 1}, d.log)

	if got := podExec(t, rt, sc.Node, "host-ok", "main", "cat", "/host/note"); got != "from the host" {
		t.Errorf("hostPath file = %q", got)
	}
	if out, code := podExecCode(t, rt, sc.Node, "host-ok", "main", "write", "/host/new", "x"); code == 0 {
		t.Errorf("wrote into a readOnly mount: %s", out)
	}
	if _, err := os.Stat(filepath.Join(allowed, "new")); err == nil {
		t.Errorf("a file appeared on the host through a readOnly mount")
	}
	st := waitStatus(t, bin, listen, "the refusals to show", d.log, func(s string) bool {
		return strings.Contains(s, `spec.volumes[0].hostPath.path: "/etc" is not under a directory allowed by --host-path-allow`) &&
			strings.Contains(s, `persistentvolumeclaim "huge" is Pending: no persistent volumes available for this claim`)
	})
	t.Logf("status:\n%s", st)
	pvc := waitStatus(t, bin, listen, "get pvc to show the bindings", d.log, func(s string) bool {
		return hasRow(s, "data", "Bound", "data-"+sc.Namespace, "1Gi", "RWO") && hasRow(s, "huge", "Pending")
	}, "get", "pvc", "-n", sc.Namespace)
	t.Logf("get pvc:\n%s", pvc)
	waitStatus(t, bin, listen, "get pv to show the claim", d.log, func(s string) bool {
		return hasRow(s, "data-"+sc.Namespace, "1Gi", "RWO", "Retain", "Bound", sc.Namespace+"/data")
	}, "get", "pv")
	if n := len(podsByOwner(t, rt, sc.Node)["host-bad"]); n != 0 {
		t.Errorf("the refused pod has %d pods", n)
	}

	podExec(t, rt, sc.Node, "writer", "main", "write", "/data/state", "kept")
	// Delete the pod: the data stays in the claim's volume.
	os.Remove(filepath.Join(dir, "writer.yaml"))
	waitFor(t, 60*time.Second, "the writer pod to go", d.log, func() bool {
		return len(podsByOwner(t, rt, sc.Node)["writer"]) == 0
	})
	d.signal(t, syscall.SIGKILL)
	writeAtomic(t, filepath.Join(dir, "writer.yaml"), fmt.Sprintf(writerPod, sc.Namespace))
	d = startDaemon(t, bin, dir, sc.Node, listen, args...)
	waitRunning(t, rt, sc.Node, map[string]int{"writer": 1}, d.log)
	if got := podExec(t, rt, sc.Node, "writer", "main", "cat", "/data/state"); got != "kept\n" {
		t.Errorf("after recreating the pod and restarting the daemon, the claim holds %q", got)
	}
	var persistent int
	for _, v := range volumesOf(t, rt, sc.Node) {
		if v.Kind == runtime.VolumePersistent && v.Volume == "data-"+sc.Namespace {
			persistent++
		}
	}
	if persistent != 1 {
		t.Errorf("%d engine volumes back the PersistentVolume, want 1", persistent)
	}
}

// TestLeftoverVolumesAreSwept leaves what a daemon killed in the middle of
// removing a pod would leave (its emptyDir and its ConfigMap files) and
// checks that the next daemon of the node removes them, and nothing of
// another node.
func TestLeftoverVolumesAreSwept(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	other := testenv.NewScope(t, rt)
	bin := buildBinary(t)
	ctx := context.Background()
	gone := "0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef"
	var vols []runtime.Volume
	for _, node := range []string{sc.Node, other.Node} {
		v, err := rt.EnsureVolume(ctx, runtime.VolumeSpec{Name: "t_leftover_" + node, Kind: runtime.VolumeEmptyDir,
			Node: node, Namespace: sc.Namespace, Pod: "gone", PodID: gone, Volume: "cache"})
		if err != nil {
			t.Fatal(err)
		}
		vols = append(vols, v)
		if err := os.MkdirAll(filepath.Join(testenv.VolumeDir, node, gone[:12], "config"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	listen := freePort(t)
	d := startDaemon(t, bin, dir, sc.Node, listen)
	waitFor(t, 30*time.Second, "the node's left-overs to be swept", d.log, func() bool {
		_, err := os.Stat(filepath.Join(testenv.VolumeDir, sc.Node, gone[:12]))
		for _, v := range volumesOf(t, rt, sc.Node) {
			if v.Name == vols[0].Name {
				return false
			}
		}
		return os.IsNotExist(err)
	})
	if vs := volumesOf(t, rt, other.Node); len(vs) != 1 || vs[0].Name != vols[1].Name {
		t.Errorf("the other node's volumes: %+v, want its left-over untouched", vs)
	}
	if _, err := os.Stat(filepath.Join(testenv.VolumeDir, other.Node, gone[:12])); err != nil {
		t.Errorf("the other node's files were touched: %v", err)
	}
}
