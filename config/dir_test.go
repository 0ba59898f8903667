package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDirWaitsForFilesToSettle(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cm.yaml")
	write := func(name string) {
		body := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\n"
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a")
	d := &Dir{Path: dir, Settle: 300 * time.Millisecond}
	got, err := d.Load(context.Background())
	if err != nil || len(got.Objects) != 1 {
		t.Fatalf("first load: %v, %+v", err, got)
	}
	// The file changes again during the confirming wait: not accepted.
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(100 * time.Millisecond)
		write("c")
	}()
	write("b")
	if _, err := d.Load(context.Background()); !errors.Is(err, ErrChanging) {
		t.Fatalf("load during a write: %v, want ErrChanging", err)
	}
	<-done
	got, err = d.Load(context.Background())
	if err != nil || got.Objects[0].Key.Name != "c" {
		t.Fatalf("settled load: %v, %+v", err, got)
	}
	// A known revision is returned at once.
	start := time.Now()
	if _, err := d.Load(context.Background()); err != nil || time.Since(start) > 250*time.Millisecond {
		t.Fatalf("unchanged load: %v after %v", err, time.Since(start))
	}
}
