package executor

import (
	"fmt"
	"testing"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/runtime"
)

func TestHandOver(t *testing.T) {
	web := config.Key{Namespace: "ns", Kind: "Deployment", Name: "web"}
	zoned := config.Key{Namespace: "ns", Kind: "Deployment", Name: "zoned"}
	full := []config.Workload{{Key: web, Replicas: 6}, {Key: zoned, Replicas: 2}}
	pods := func(k config.Key, n int) []runtime.Pod {
		var ps []runtime.Pod
		for i := range n {
			ps = append(ps, runtime.Pod{Namespace: k.Namespace, Name: fmt.Sprintf("%s-%d", k.Name, i), Owner: runtime.Owner{Kind: k.Kind, Name: k.Name}})
		}
		return ps
	}
	report := func(node string, web int32) PeerReport {
		return PeerReport{Node: node, Available: map[string]int32{"ns/Deployment/web": web}}
	}
	tests := []struct {
		name    string
		mine    []config.Workload
		running []runtime.Pod
		reports []PeerReport
		pending map[config.Key]int32
		want    string
	}{
		{"outside a fleet nothing is held", []config.Workload{{Key: web, Replicas: 2}}, pods(web, 3), nil, nil, "web=2"},
		{"a rejoining node's share is not yet available: keep one more",
			[]config.Workload{{Key: web, Replicas: 2}}, pods(web, 3), []PeerReport{report("b", 3), report("c", 0)}, nil, "web=3"},
		{"once it is, give it up", []config.Workload{{Key: web, Replicas: 2}}, pods(web, 3),
			[]PeerReport{report("b", 3), report("c", 2)}, nil, "web=2"},
		{"a drained node keeps what the others do not run yet", nil, append(pods(web, 2), pods(zoned, 2)...),
			[]PeerReport{report("a", 2), report("c", 2)}, map[config.Key]int32{zoned: 2}, "web=2"},
		{"and lets go when they do", nil, append(pods(web, 2), pods(zoned, 2)...),
			[]PeerReport{report("a", 3), report("c", 3)}, map[config.Key]int32{zoned: 2}, ""},
		{"a terminating pod is not counted", nil, func() []runtime.Pod {
			ps := pods(web, 2)
			ps[0].Terminating = true
			return ps
		}(), []PeerReport{report("a", 2), report("c", 2)}, nil, "web=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var kept []string
			got := handOver(full, tt.mine, &runtime.Observed{Pods: tt.running}, tt.reports, tt.pending, "b", &kept)
			s := ""
			for _, wl := range got {
				if s != "" {
					s += " "
				}
				s += fmt.Sprintf("%s=%d", wl.Key.Name, wl.Replicas)
				if wl.Key == web && len(tt.reports) > 0 && len(tt.mine) == 0 && wl.PodNameSeed != "b" {
					t.Errorf("a held-back workload has pod name seed %q", wl.PodNameSeed)
				}
			}
			if s != tt.want {
				t.Errorf("got %q, want %q (held back: %v)", s, tt.want, kept)
			}
		})
	}
}
