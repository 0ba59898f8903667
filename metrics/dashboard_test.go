package metrics

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reconciler/reconciler/lb"
)

// describing is a Registerer that keeps what is registered, to list the
// metric names every part of the daemon exports.
type describing struct{ cs []prometheus.Collector }

func (d *describing) Register(c prometheus.Collector) error { d.cs = append(d.cs, c); return nil }
func (d *describing) MustRegister(cs ...prometheus.Collector) {
	d.cs = append(d.cs, cs...)
}
func (d *describing) Unregister(prometheus.Collector) bool { return true }

// exportedNames lists the metric names of the collector, the counters and
// the proxy.
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	reg := &describing{}
	if err := New(reg, Sources{}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewCounters(reg); err != nil {
		t.Fatal(err)
	}
	p, err := lb.New(lb.Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	names := map[string]bool{}
	fq := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	for _, c := range reg.cs {
		ch := make(chan *prometheus.Desc, 64)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			if m := fq.FindStringSubmatch(d.String()); m != nil {
				names[m[1]] = true
			}
		}
	}
	return names
}

// TestDashboardUsesExportedMetrics checks the shipped Grafana dashboard:
// valid JSON, and every reconciler_ metric it queries is exported.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(examples(t), "..", "grafana", "reconciler-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	exported := exportedNames(t)
	used := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range regexp.MustCompile(`reconciler_[a-z_]+`).FindAllString(tg.Expr, -1) {
				used++
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")
				if !exported[m] && !exported[base] {
					t.Errorf("panel %q queries %s, which is not exported", p.Title, m)
				}
			}
		}
	}
	if used < 10 {
		t.Errorf("only %d metric references in the dashboard", used)
	}
}
