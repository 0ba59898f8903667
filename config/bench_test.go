package config

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// BenchmarkLoad loads 1000 files of one Deployment and one Service each.
func BenchmarkLoad(b *testing.B) {
	fsys := fstest.MapFS{}
	for i := range 1000 {
		name := fmt.Sprintf("app-%04d", i)
		doc := strings.ReplaceAll(deploymentWith("  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx:1.25, ports: [{containerPort: 80}]}]}\n")+
			"---\n"+serviceWith("  selector: {app: web}\n  ports: [{port: 80}]\n"), "name: web}", "name: "+name+"}")
		fsys[name+".yaml"] = &fstest.MapFile{Data: []byte(doc)}
	}
	b.ResetTimer()
	for b.Loop() {
		d, err := Load(fsys, "r")
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Objects) != 2000 {
			b.Fatalf("objects = %d", len(d.Objects))
		}
	}
}
