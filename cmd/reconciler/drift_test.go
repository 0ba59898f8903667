package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/runtime"
)

// waitMetric polls the daemon's /metrics until a line matches re, and
// returns that line.
func waitMetric(t *testing.T, listen string, re *regexp.Regexp) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if m := re.FindString(metricsText(t, listen)); m != "" {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metric matches %s:\n%s", re, metricsText(t, listen))
		}
	}
}

func removeByHand(t *testing.T, rt runtime.Runtime, node string) {
	t.Helper()
	c := podsByOwner(t, rt, node)["web"][0].Current("hello")
	if out, err := exec.Command("podman", "rm", "-f", "-t", "0", c.ID).CombinedOutput(); err != nil {
		t.Fatalf("podman rm -f: %v\n%s", err, out)
	}
}

// TestDriftMetricsAndAlert removes a container by hand under two daemons:
// with --self-heal=false the drift gauge rises, nothing is replaced, and
// the shipped alert fires in a promtool test built from the real scrape;
// with self-heal the container comes back and the correction counter says so.
func TestDriftMetricsAndAlert(t *testing.T) {
	t.Parallel()
	rt, quiet := testenv.Integration(t)
	healing := testenv.NewScope(t, rt)
	bin := buildBinary(t)
	type daemon struct {
		sc     testenv.Scope
		listen string
		d      *proc
	}
	var ds []daemon
	for i, sc := range []testenv.Scope{quiet, healing} {
		dir := t.TempDir()
		writeAtomic(t, filepath.Join(dir, "web.yaml"), fmt.Sprintf(deploy, "web", sc.Namespace, 1))
		listen := freePort(t)
		var extra []string
		if i == 0 {
			extra = []string{"--self-heal=false"}
		}
		d := startDaemon(t, bin, dir, sc.Node, listen, extra...)
		waitPods(t, rt, sc.Node, map[string]int{"web": 1}, d.log)
		ds = append(ds, daemon{sc, listen, d})
	}
	for _, d := range ds {
		// Let the daemon see the pod in sync before touching it.
		waitMetric(t, d.listen, regexp.MustCompile(`(?m)^reconciler_in_sync 1$`))
		removeByHand(t, rt, d.sc.Node)
	}

	q := ds[0]
	line := waitMetric(t, q.listen, regexp.MustCompile(`(?m)^reconciler_drift_objects\{[^}]*reason="removed by hand"[^}]*\} 1$`))
	time.Sleep(1500 * time.Millisecond) // more than a resync: the container must stay gone
	if p := podsByOwner(t, rt, q.sc.Node)["web"][0]; len(p.Containers) != 0 {
		t.Fatalf("self-heal is off, but the container came back: %+v", p.Containers)
	}
	promtoolFires(t, line)

	h := ds[1]
	waitMetric(t, h.listen, regexp.MustCompile(`(?m)^reconciler_drift_corrections_total\{reason="removed by hand"\} 1$`))
	waitPods(t, rt, h.sc.Node, map[string]int{"web": 1}, h.d.log)
	for _, d := range ds {
		d.d.signal(t, syscall.SIGINT)
	}
}

// promtoolFires builds a promtool rule test from one scraped drift series
// and checks that the shipped ReconcilerDriftDetected alert fires on it.
func promtoolFires(t *testing.T, line string) {
	t.Helper()
	series := strings.TrimSuffix(line, " 1")
	labels := strings.TrimSuffix(series[strings.Index(series, "{")+1:], "}")
	series = strings.Replace(series, "{", `{instance="h1",`, 1)
	get := func(name string) string {
		m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(labels)
		if m == nil {
			t.Fatalf("scraped series %s lacks %s", line, name)
		}
		return m[1]
	}
	ns, kind, reason := get("namespace"), get("kind"), get("reason")
	test := fmt.Sprintf(`rule_files: [%q]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: '%s'
        values: '1x10'
    alert_rule_test:
      - eval_time: 6m
        alertname: ReconcilerDriftDetected
        exp_alerts:
          - exp_labels: {severity: warning, instance: h1, namespace: %q, kind: %q, reason: %q}
            exp_annotations:
              summary: "1 %s objects in %s on h1 drift from Git: %s"
              description: "Something changed the host behind the reconciler's back; with --self-heal=false it waits for the next commit."
`, filepath.Join(testenv.RepoRoot(t), "examples", "prometheus", "alerts.yaml"), series, ns, kind, reason, kind, ns, reason)
	file := filepath.Join(t.TempDir(), "drift_test.yaml")
	if err := os.WriteFile(file, []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("promtool", "test", "rules", file).CombinedOutput(); err != nil {
		t.Fatalf("the drift alert does not fire on the scraped series: %v\n%s\n%s", err, out, test)
	}
}
