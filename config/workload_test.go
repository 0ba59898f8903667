package config

import (
	"regexp"
	"strings"
	"testing"
)

// hashOf loads one workload manifest and returns its template hash.
func hashOf(t *testing.T, manifest string) string {
	t.Helper()
	d, err := Load(memFS(map[string]string{"w.yaml": manifest}), "r")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Workloads) != 1 {
		t.Fatalf("workloads = %d, want 1", len(d.Workloads))
	}
	return d.Workloads[0].TemplateHash
}

func TestTemplateHash(t *testing.T) {
	base := deploymentWith("  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx:1.25}]}\n")
	h := hashOf(t, base)
	if !regexp.MustCompile(`^[bcdfghjklmnpqrstvwxz2456789]{1,10}$`).MatchString(h) {
		t.Fatalf("hash %q is not a SafeEncodeString of a uint32", h)
	}
	// Pinned: a change here means every running pod would be replaced after
	// an upgrade; make such a change deliberately.
	const golden = "7d546666df"
	if h != golden {
		t.Errorf("hash of the base template = %q, want %q", h, golden)
	}
	tests := []struct {
		name     string
		manifest string
		same     bool
	}{
		{"identical", base, true},
		{"defaults written out", deploymentWith("  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      restartPolicy: Always\n      dnsPolicy: ClusterFirst\n      terminationGracePeriodSeconds: 30\n      containers: [{name: web, image: nginx:1.25, imagePullPolicy: IfNotPresent, ports: []}]\n"), true},
		{"replicas are not part of the template", strings.Replace(base, "spec:\n  selector", "spec:\n  replicas: 5\n  selector", 1), true},
		{"image changed", strings.Replace(base, "nginx:1.25", "nginx:1.26", 1), false},
		{"label added", strings.Replace(base, "labels: {app: web}}\n    spec", "labels: {app: web, v: \"2\"}}\n    spec", 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hashOf(t, tt.manifest)
			if (got == h) != tt.same {
				t.Errorf("hash %q vs base %q: same = %v, want %v", got, h, got == h, tt.same)
			}
		})
	}
}
