package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// manifestFiles lists the manifest files directly in dir.
func manifestFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && manifestExts[strings.ToLower(filepath.Ext(e.Name()))] {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	return files
}

// TestReferenceManifestsLoad decodes every manifest extracted from the
// Kubernetes guides the product is modelled on: each must load without
// error (warnings are fine). The files are independent examples that reuse
// names, so each is decoded on its own.
func TestReferenceManifestsLoad(t *testing.T) {
	files := manifestFiles(t, filepath.Join("testdata", "reference"))
	if len(files) == 0 {
		t.Fatal("testdata/reference holds no manifests")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			objs, _, err := Decode(filepath.Base(f), data)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if len(objs) == 0 {
				t.Error("no objects")
			}
		})
	}
}

// TestReferenceInvalidManifestsFail checks that the guide examples that are
// wrong as authored are refused.
func TestReferenceInvalidManifestsFail(t *testing.T) {
	dir := filepath.Join("testdata", "reference-invalid")
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		t.Skip("no testdata/reference-invalid")
	}
	for _, f := range manifestFiles(t, dir) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = Decode(filepath.Base(f), data)
			if !errors.Is(err, ErrInvalid) || len(Errors(err)) == 0 {
				t.Fatalf("err = %v, want field errors wrapping ErrInvalid", err)
			}
			t.Log(err)
		})
	}
}

// TestReferenceRedTeamLoadsTogether loads the guide's resource-quota
// chapter as one tree: a Namespace, its quota and the pods in it.
func TestReferenceRedTeamLoadsTogether(t *testing.T) {
	fsys := map[string]string{}
	for _, name := range []string{
		"003-31-namespace-red-team.yaml", "003-32-resourcequota-red-team.yaml",
		"003-33-pod-illegal-no-resources.yaml", "003-34-pod-one-resources.yaml", "003-35-pod-two-resources.yaml",
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "reference", name))
		if err != nil {
			t.Skipf("reference manifest missing: %v", err)
		}
		fsys[name] = string(data)
	}
	d, err := Load(memFS(fsys), "r")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range d.Objects {
		keys = append(keys, o.Key.String())
	}
	want := "Namespace/red-team,red-team/Pod/pod-illegal,red-team/Pod/pod-one,red-team/Pod/pod-two,red-team/ResourceQuota/red-team-resource-quota"
	if strings.Join(keys, ",") != want {
		t.Errorf("objects = %s, want %s", strings.Join(keys, ","), want)
	}
	if len(d.Workloads) != 3 || len(d.Warnings) != 6 {
		t.Errorf("workloads = %d, warnings = %d %q; want 3 and 6 (milli memory)", len(d.Workloads), len(d.Warnings), d.Warnings)
	}
	if len(d.Workloads[0].Unhonoured) != 0 || len(d.Workloads[1].Unhonoured) != 0 {
		t.Errorf("unhonoured: %q, %q", d.Workloads[0].Unhonoured, d.Workloads[1].Unhonoured)
	}
}
