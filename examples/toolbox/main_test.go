package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunDispatches(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "a.txt")
	var out, errb bytes.Buffer
	if code := run([]string{"write", f, "hi"}, &out, &errb); code != 0 {
		t.Fatalf("write: %d %s", code, errb.String())
	}
	if code := run([]string{"cat", f}, &out, &errb); code != 0 || out.String() != "hi\n" {
		t.Fatalf("cat: %d %q %s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"ls", "-l", dir}, &out, &errb); code != 0 || !strings.HasSuffix(out.String(), " 3 a.txt\n") {
		t.Fatalf("ls: %d %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"id"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "uid=") {
		t.Fatalf("id: %d %q", code, out.String())
	}
	if code := run([]string{"nope"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "commands:") {
		t.Fatalf("unknown command: %d %q", code, errb.String())
	}
	if code := run([]string{"cat", filepath.Join(dir, "missing")}, &out, &errb); code != 1 {
		t.Fatalf("cat of a missing file: %d", code)
	}
	_ = os.Remove(f)
}

func TestAdapt(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "top.txt"), filepath.Join(dir, "status.txt")
	if err := os.WriteFile(in, []byte("date 2026-11-23\nmemory: 12M\n\ncpu 3%\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := adapt(in, out); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if string(b) != "date=2026-11-23\nmemory=12M\ncpu=3%\n" {
		t.Fatalf("adapted: %q", b)
	}
}
