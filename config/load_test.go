package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	corev1 "k8s.io/api/core/v1"
)

func TestLoadAssemblesDesired(t *testing.T) {
	fsys := memFS(map[string]string{
		"b/web.yaml": deploymentWith("  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx:1.25}]}\n") +
			"---\n" + serviceWith("  selector: {app: web}\n  ports: [{port: 80}]\n"),
		"a.yml":             podWith(""),
		"c.json":            `{"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "rc"}, "spec": {"minReadySeconds": 5, "template": {"metadata": {"labels": {"app": "rc"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}`,
		"README.md":         "not a manifest",
		".git/config.yaml":  "not: [valid",
		"x/.hidden/a.yaml":  "not: [valid",
		"d/quota.yaml":      "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q}\nspec: {hard: {requests.memory: 1024m}}\n",
		"legacy/old.yaml":   strings.Replace(legacyDeployment("extensions/v1beta1"), "name: web", "name: old", 1),
		"legacy/empty.yaml": "# nothing yet\n",
	})
	d, err := Load(fsys, "abc123")
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "Revision", d.Revision, "abc123")
	var keys []string
	for _, o := range d.Objects {
		keys = append(keys, o.Key.String())
	}
	wantKeys := "default/Deployment/old,default/Deployment/web,default/Pod/web,default/ReplicationController/rc,default/ResourceQuota/q,default/Service/web"
	if strings.Join(keys, ",") != wantKeys {
		t.Fatalf("objects = %v, want %v", keys, wantKeys)
	}
	wantWarnings := []string{
		"d/quota.yaml#0: spec.hard[requests.memory]: 1024m is 1.024 bytes (the m suffix means milli); probably meant 1024Mi",
		"legacy/old.yaml#0: apiVersion extensions/v1beta1 Deployment is deprecated; use apps/v1",
	}
	if strings.Join(d.Warnings, "\n") != strings.Join(wantWarnings, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(d.Warnings, "\n"), strings.Join(wantWarnings, "\n"))
	}
	if len(d.Workloads) != 4 {
		t.Fatalf("workloads = %d, want 4", len(d.Workloads))
	}
	tests := []struct {
		key      string
		replicas int32
		strategy string
		minReady int32
		source   Source
	}{
		{"default/Deployment/old", 3, "RollingUpdate", 0, Source{"legacy/old.yaml", 0}},
		{"default/Deployment/web", 2, "RollingUpdate", 0, Source{"b/web.yaml", 0}},
		{"default/Pod/web", 1, "Recreate", 0, Source{"a.yml", 0}},
		{"default/ReplicationController/rc", 1, "Recreate", 5, Source{"c.json", 0}},
	}
	for i, tt := range tests {
		w := d.Workloads[i]
		if w.Key.String() != tt.key || w.Replicas != tt.replicas || string(w.Strategy.Type) != tt.strategy ||
			w.MinReadySeconds != tt.minReady || w.Source != tt.source || w.TemplateHash == "" {
			t.Errorf("workload %d = %v replicas %d strategy %s minReady %d source %v hash %q; want %+v",
				i, w.Key, w.Replicas, w.Strategy.Type, w.MinReadySeconds, w.Source, w.TemplateHash, tt)
		}
	}
}

func TestPodWorkloadTemplate(t *testing.T) {
	pod := strings.Replace(podWith(""), "metadata: {name: web}", "metadata: {name: web, labels: {app: web}, annotations: {note: x}}", 1)
	d, err := Load(memFS(map[string]string{"pod.yaml": pod}), "r")
	if err != nil {
		t.Fatal(err)
	}
	w := d.Workloads[0]
	expect(t, "label", w.Template.Labels["app"], "web")
	expect(t, "annotation", w.Template.Annotations["note"], "x")
	expect(t, "image", w.Template.Spec.Containers[0].Image, "nginx:1.25")
	expect(t, "defaulted", w.Template.Spec.RestartPolicy, corev1.RestartPolicyAlways)
	w.Template.Labels["app"] = "changed"
	if d.Objects[0].Obj.(*corev1.Pod).Labels["app"] != "web" {
		t.Error("the workload template shares maps with the object")
	}
}

func TestLoadCollectsAllErrors(t *testing.T) {
	fsys := memFS(map[string]string{
		"z.yaml": podWith("    imagee: x\n"),
		"a.yaml": cmYAML("dup") + "---\n" + serviceWith("  ports: [{port: 0}]\n"),
		"m/b.yaml": "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: ok}}\n" +
			"---\n" + cmYAML("dup"),
		"n.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup, namespace: other}\n",
	})
	_, err := Load(fsys, "r")
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %v does not wrap ErrInvalid", err)
	}
	want := []string{
		"a.yaml#1: spec.ports[0].port: must be between 1 and 65535, inclusive",
		`m/b.yaml#1: metadata.name: duplicate ConfigMap "default/dup": already declared at a.yaml#0`,
		`n.yaml#0: metadata.namespace: namespace "other" not found: declare it with a Namespace manifest`,
		"z.yaml#0: spec.containers[0].imagee: unknown field",
	}
	if got := errorLines(err); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(err.Error(), "invalid manifests: 4 errors:\n\ta.yaml#1: ") {
		t.Errorf("error text = %q", err.Error())
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Source.File != "a.yaml" {
		t.Errorf("errors.As found %v", fe)
	}
}

func TestLoadReadFailureIsNotInvalid(t *testing.T) {
	fsys := fstest.MapFS{"a.yaml": &fstest.MapFile{Data: []byte(cmYAML("a")), Mode: fs.ModeSymlink}}
	_, err := Load(brokenFS{fsys}, "r")
	if err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want a read error without ErrInvalid", err)
	}
}

// brokenFS lists its files but fails to open them.
type brokenFS struct{ fs.FS }

// Open fails for files.
func (b brokenFS) Open(name string) (fs.File, error) {
	if name == "." {
		return b.FS.Open(name)
	}
	return nil, fs.ErrPermission
}

func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		err  FieldError
		want string
	}{
		{FieldError{Source{"deploy.yaml", 1}, "spec.replicas", "must be greater than or equal to 0"}, "deploy.yaml#1: spec.replicas: must be greater than or equal to 0"},
		{FieldError{Source{"a/b.yaml", 0}, "", "document must be a mapping with apiVersion and kind"}, "a/b.yaml#0: document must be a mapping with apiVersion and kind"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	if Errors(nil) != nil || Errors(errors.New("x")) != nil {
		t.Error("Errors of a non-load error should be nil")
	}
}

func TestLoadDirRevision(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	revision := func() string {
		t.Helper()
		d, err := LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		return d.Revision
	}
	write("a.yaml", cmYAML("a"))
	write("sub/b.yaml", cmYAML("b"))
	first := revision()
	if !regexp.MustCompile(`^dir-[0-9a-f]{12}$`).MatchString(first) {
		t.Fatalf("revision %q is not dir-<12 hex>", first)
	}
	if again := revision(); again != first {
		t.Fatalf("unchanged directory: revision %q then %q", first, again)
	}
	write("notes.txt", "not a manifest")
	if r := revision(); r != first {
		t.Errorf("a non-manifest file changed the revision")
	}
	seen := map[string]string{first: "initial"}
	changes := []struct {
		name   string
		change func()
	}{
		{"content edited", func() { write("a.yaml", cmYAML("a")+"# comment\n") }},
		{"file added", func() { write("c.yaml", cmYAML("c")) }},
		{"file renamed", func() {
			if err := os.Rename(filepath.Join(dir, "c.yaml"), filepath.Join(dir, "d.yaml")); err != nil {
				t.Fatal(err)
			}
		}},
		{"file removed", func() {
			if err := os.Remove(filepath.Join(dir, "sub", "b.yaml")); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range changes {
		c.change()
		r := revision()
		if prev, dup := seen[r]; dup {
			t.Errorf("%s: revision %q already seen after %s", c.name, r, prev)
		}
		seen[r] = c.name
	}
}

func TestDirRevisionSeparatesFiles(t *testing.T) {
	a := dirRevision([]manifestFile{{"a.yaml", []byte("x")}, {"b.yaml", []byte("y")}})
	b := dirRevision([]manifestFile{{"a.yaml", []byte("x" + "b.yaml\x00y")}})
	if a == b {
		t.Error("moving bytes between files gave the same revision")
	}
}

func TestObjectCountQuota(t *testing.T) {
	ns := "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n"
	quota := "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: team}\nspec: {hard: {count/configmaps: \"2\", services: \"1\"}}\n"
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: team}\n"
	}
	_, err := Load(memFS(map[string]string{
		"ns.yaml": ns, "q.yaml": quota, "cm.yaml": cm("a") + "---\n" + cm("c") + "---\n" + cm("b"),
		"svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: team}\nspec: {ports: [{port: 80}]}\n",
	}), "r")
	want := []string{`cm.yaml#1: metadata.name: configmaps "c" is forbidden: exceeded quota: q, requested: count/configmaps=1, used: count/configmaps=2, limited: count/configmaps=2`}
	if got := errorLines(err); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
