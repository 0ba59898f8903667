package metrics

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func examples(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "examples", "prometheus")
}

// TestAlertRules checks and unit-tests the shipped alert rules with the
// real promtool.
func TestAlertRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is not installed (%v); run scripts/setup-test-tools.sh (make test does)", err)
	}
	dir := examples(t)
	for _, args := range [][]string{{"check", "rules", "alerts.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("promtool %v: %v\n%s", args, err, out)
		}
	}
}

// TestAlertRulesUseExportedMetrics fails when a rule names a reconciler_
// metric the collector does not export, so a rename cannot silently
// disable an alert.
func TestAlertRulesUseExportedMetrics(t *testing.T) {
	rules, err := os.ReadFile(filepath.Join(examples(t), "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	ch := make(chan *prometheus.Desc, 32)
	(&collector{}).Describe(ch)
	(&serviceCollector{}).Describe(ch)
	(&fleetCollector{}).Describe(ch)
	close(ch)
	name := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	for d := range ch {
		if m := name.FindStringSubmatch(d.String()); m != nil {
			exported[m[1]] = true
		}
	}
	used := regexp.MustCompile(`reconciler_[a-z_]+`).FindAllString(string(rules), -1)
	if len(used) == 0 {
		t.Fatal("no reconciler_ metric found in the rules")
	}
	for _, m := range used {
		if !exported[m] {
			t.Errorf("alerts.yaml uses %s, which the collector does not export", m)
		}
	}
}
