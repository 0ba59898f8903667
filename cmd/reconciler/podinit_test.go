package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/runtime"
)

// initPods: two init containers that run in order and share an emptyDir
// with the app; one that fails under Never; one retried under OnFailure.
const initPods = `apiVersion: v1
kind: Pod
metadata: {name: init-ok, namespace: %[1]s}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: work, emptyDir: {}}]
  initContainers:
  - {name: prepare, image: ` + toolbox + `, args: [write, /work/config, prepared], volumeMounts: [{name: work, mountPath: /work}]}
  - {name: check, image: ` + toolbox + `, args: [cat, /work/config], volumeMounts: [{name: work, mountPath: /work}]}
  containers:
  - {name: app, image: ` + toolbox + `, args: [sleep, 10000h], volumeMounts: [{name: work, mountPath: /work}]}
---
apiVersion: v1
kind: Pod
metadata: {name: init-never, namespace: %[1]s}
spec:
  restartPolicy: Never
  initContainers:
  - {name: fail, image: ` + toolbox + `, args: [exit, "1", boom]}
  containers:
  - {name: app, image: ` + toolbox + `, args: [sleep, 10000h]}
---
apiVersion: v1
kind: Pod
metadata: {name: init-retry, namespace: %[1]s}
spec:
  restartPolicy: OnFailure
  initContainers:
  - {name: wait, image: ` + toolbox + `, args: [cat, /missing]}
  containers:
  - {name: app, image: ` + toolbox + `, args: [sleep, 10000h]}
`

// TestPodInitContainers runs init containers on the real engine: in order,
// each to success, before the app container, sharing the pod's volume; a
// failure under Never fails the pod and the app never starts; under
// OnFailure the init container is retried and the app waits.
func TestPodInitContainers(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	writeAtomic(t, filepath.Join(dir, "pods.yaml"), fmt.Sprintf(initPods, sc.Namespace))
	listen := freePort(t)
	d := startDaemon(t, bin, dir, sc.Node, listen)
	waitRunning(t, rt, sc.Node, map[string]int{"init-ok": 1}, d.log)

	ok := podNamed(t, rt, sc.Node, "init-ok")
	prepare, check, app := ok.CurrentInit("prepare"), ok.CurrentInit("check"), ok.Current("app")
	if prepare == nil || check == nil || app == nil {
		t.Fatalf("init-ok: init runs %+v, app %+v", ok.InitContainers, ok.Containers)
	}
	if prepare.ExitCode != 0 || check.ExitCode != 0 || prepare.State != runtime.StateExited || check.State != runtime.StateExited {
		t.Errorf("init containers did not both succeed: %+v", ok.InitContainers)
	}
	if prepare.FinishedAt.After(check.StartedAt) || check.FinishedAt.After(app.StartedAt) {
		t.Errorf("out of order: prepare %v–%v, check %v–%v, app from %v",
			prepare.StartedAt, prepare.FinishedAt, check.StartedAt, check.FinishedAt, app.StartedAt)
	}
	if got := podExec(t, rt, sc.Node, "init-ok", "app", "cat", "/work/config"); got != "prepared\n" {
		t.Errorf("the app reads %q from the init container's volume", got)
	}

	waitStatus(t, bin, listen, "the failed and the retried pods to show", d.log, func(s string) bool {
		return hasRow(s, "init-never", "0/0", "Init:Error") &&
			(hasRow(s, "init-retry", "0/0", "Init:CrashLoopBackOff") || hasRow(s, "init-retry", "0/0", "Init:Error"))
	}, "get", "pods", "-n", sc.Namespace)
	waitFor(t, 60*time.Second, "the init container under OnFailure to be retried", d.log, func() bool {
		p := podsByOwner(t, rt, sc.Node)["init-retry"]
		if len(p) != 1 {
			return false
		}
		c := p[0].CurrentInit("wait")
		return c != nil && c.RestartCount >= 1 && len(p[0].Containers) == 0
	})
	never := podNamed(t, rt, sc.Node, "init-never")
	if len(never.Containers) != 0 || len(never.InitContainers) != 1 {
		t.Errorf("init-never: app runs %+v, init runs %+v; want no app and one init run", never.Containers, never.InitContainers)
	}
	out, err := exec.Command(bin, "logs", "init-never", "-c", "fail", "-n", sc.Namespace, "--podman", testenv.URI()).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "boom") {
		t.Errorf("logs -c fail: %v\n%s", err, out)
	}
}
