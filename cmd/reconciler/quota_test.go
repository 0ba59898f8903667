package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testenv"
)

// The guide's red-team quota and pods (with binary memory units and the
// toolbox instead of nginx).
const redTeamQuota = `kind: ResourceQuota
apiVersion: v1
metadata: {name: red-team-resource-quota, namespace: %[1]s}
spec:
  hard:
    pods: 5
    "requests.cpu": "2"
    "requests.memory": 1Gi
    "limits.cpu": "4"
    "limits.memory": 2Gi
---
kind: Pod
apiVersion: v1
metadata: {name: pod-illegal, namespace: %[1]s}
spec:
  containers:
  - {name: nginx-illegal, image: ` + toolbox + `, args: [sleep, 10000h]}
---
kind: Pod
apiVersion: v1
metadata: {name: pod-two, namespace: %[1]s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: nginx-pod-two
    image: ` + toolbox + `
    args: [sleep, 10000h]
    resources:
      requests: {memory: 512Mi, cpu: "0.5"}
      limits: {memory: 1Gi, cpu: "1"}
`

const redTeamPodOne = `kind: Pod
apiVersion: v1
metadata: {name: pod-one, namespace: %[1]s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: nginx-pod-one
    image: ` + toolbox + `
    args: [sleep, 10000h]
    resources:
      requests: {memory: 768Mi, cpu: "0.5"}
      limits: {memory: 1Gi, cpu: "2"}
`

// TestResourceQuota runs the guide's red-team example on the real engine:
// the pod without resources and the pod past the memory quota are refused
// with Kubernetes' messages, in status and events, while pod-one runs;
// describe quota shows Used and Hard; once pod-one goes, pod-two is
// admitted.
func TestResourceQuota(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	// pod-one sorts before pod-two: it is admitted first, as in the guide.
	writeAtomic(t, filepath.Join(dir, "quota.yaml"), fmt.Sprintf(redTeamQuota, sc.Namespace))
	writeAtomic(t, filepath.Join(dir, "pod-one.yaml"), fmt.Sprintf(redTeamPodOne, sc.Namespace))
	listen := freePort(t)
	d := startDaemon(t, bin, dir, sc.Node, listen)
	waitRunning(t, rt, sc.Node, map[string]int{"pod-one": 1}, d.log)

	illegal := `pods "pod-illegal" is forbidden: failed quota: red-team-resource-quota: must specify limits.cpu for: nginx-illegal; limits.memory for: nginx-illegal; requests.cpu for: nginx-illegal; requests.memory for: nginx-illegal`
	exceeded := `pods "pod-two" is forbidden: exceeded quota: red-team-resource-quota, requested: requests.memory=512Mi, used: requests.memory=768Mi, limited: requests.memory=1Gi`
	waitStatus(t, bin, listen, "both refusals in status", d.log, func(s string) bool {
		return strings.Contains(s, illegal) && strings.Contains(s, exceeded)
	})
	for _, msg := range []string{illegal, exceeded} {
		if !strings.Contains(d.log.String(), "reason=FailedCreate") || !strings.Contains(d.log.String(), strings.ReplaceAll(msg, `"`, `\"`)) {
			t.Errorf("no FailedCreate event with %q in the log", msg)
		}
	}
	if ps := podsByOwner(t, rt, sc.Node); len(ps["pod-illegal"]) != 0 || len(ps["pod-two"]) != 0 {
		t.Errorf("refused pods exist in the engine: %v", ps)
	}
	// The status follows the engine one pass behind: wait for pod-one to
	// be counted.
	rows := [][]string{
		{"Name:", "red-team-resource-quota"}, {"limits.cpu", "2", "4"}, {"limits.memory", "1Gi", "2Gi"},
		{"pods", "1", "5"}, {"requests.cpu", "500m", "2"}, {"requests.memory", "768Mi", "1Gi"},
	}
	waitStatus(t, bin, listen, "describe quota to show pod-one's usage", d.log, func(s string) bool {
		for _, row := range rows {
			if !hasRow(s, row...) {
				return false
			}
		}
		return true
	}, "describe", "quota", "-n", sc.Namespace)

	// pod-one goes: pod-two fits now; pod-illegal never does.
	if err := os.Remove(filepath.Join(dir, "pod-one.yaml")); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, rt, sc.Node, map[string]int{"pod-two": 1, "pod-one": 0}, d.log)
	waitStatus(t, bin, listen, "pod-two no longer refused", d.log, func(s string) bool {
		return strings.Contains(s, illegal) && !strings.Contains(s, exceeded)
	})
	waitFor(t, 10*time.Second, "pod-illegal still absent", d.log, func() bool { return len(podsByOwner(t, rt, sc.Node)["pod-illegal"]) == 0 })
}
