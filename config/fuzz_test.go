package config

import (
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds are small manifests exercising each path of Decode.
var fuzzSeeds = []string{
	podWith("    ports: [{containerPort: 80}]\n    env: [{name: A, value: b}]\n"),
	deploymentWith("  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n"),
	legacyDeployment("extensions/v1beta1"),
	serviceWith("  type: NodePort\n  ports: [{port: 80, targetPort: http, nodePort: 30080}]\n"),
	cmYAML("a") + "---\n---\n" + cmYAML("b"),
	"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: dmFsdWU=}\nstringData: {p: q}\n",
	"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n",
	"apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: '@hourly'\n  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: a}]}}}}\n",
	"apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\nspec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /x}}\n",
	"a: &x [*x]\n",
	"- just\n- a list\n",
}

// FuzzDecode checks that Decode never panics, whatever the input, and that
// every object it accepts has a name and a kind.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add("seed.yaml", []byte(s))
	}
	f.Add("seed.json", []byte(`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}`))
	refs, _ := filepath.Glob(filepath.Join("testdata", "reference", "*.yaml"))
	for _, r := range refs {
		if data, err := os.ReadFile(r); err == nil {
			f.Add(filepath.Base(r), data)
		}
	}
	f.Fuzz(func(t *testing.T, file string, data []byte) {
		objs, _, err := Decode(file, data)
		if err != nil && len(Errors(err)) == 0 {
			t.Fatalf("error without field errors: %v", err)
		}
		for _, o := range objs {
			if o.Key.Name == "" || o.Key.Kind == "" || o.Obj == nil {
				t.Fatalf("accepted object without name or kind: %+v", o.Key)
			}
		}
	})
}
