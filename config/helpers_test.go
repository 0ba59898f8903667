package config

import (
	"strings"
	"testing"
	"testing/fstest"
)

// errorLines renders every FieldError of err, one string each.
func errorLines(err error) []string {
	var out []string
	for _, e := range Errors(err) {
		out = append(out, e.Error())
	}
	return out
}

// decodeOne decodes a single-object manifest that must be valid.
func decodeOne(t *testing.T, file, manifest string) (Object, []string) {
	t.Helper()
	objs, warnings, err := Decode(file, []byte(strings.TrimLeft(manifest, "\n")))
	if err != nil {
		t.Fatalf("Decode(%s): unexpected error: %v", file, err)
	}
	if len(objs) != 1 {
		t.Fatalf("Decode(%s): got %d objects, want 1", file, len(objs))
	}
	return objs[0], warnings
}

// memFS builds an in-memory tree from file contents.
func memFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}
