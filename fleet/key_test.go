package fleet

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secret := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	k, err := LoadKey(write("good", secret+"\n"))
	if err != nil || string(k) != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("LoadKey = %q, %v", k, err)
	}
	for _, size := range []int{16, 24} {
		if _, err := LoadKey(write("size", base64.StdEncoding.EncodeToString(make([]byte, size)))); err != nil {
			t.Errorf("a %d-byte key: %v", size, err)
		}
	}
	short := base64.StdEncoding.EncodeToString([]byte("short-secret"))
	cases := []struct {
		name, path, want string
	}{
		{"missing file", filepath.Join(dir, "nope"), "fleet: read key"},
		{"not base64", write("garbage", "not base64!"), "not base64"},
		{"wrong size", write("short", short), "key is 12 bytes, want 16, 24 or 32"},
		{"empty", write("empty", "\n"), "a gossip key is required"},
	}
	for _, c := range cases {
		_, err := LoadKey(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), short) || strings.Contains(err.Error(), "short-secret") {
			t.Errorf("%s: the error shows the key: %v", c.name, err)
		}
	}
	if _, err := LoadKey(write("empty2", "")); !errors.Is(err, ErrNoKey) {
		t.Errorf("an empty key file: %v, want ErrNoKey", err)
	}
}

func TestGenerateKeyLoads(t *testing.T) {
	s, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := LoadKey(p); err != nil || len(k) != 32 {
		t.Fatalf("a generated key loads as %d bytes, %v", len(k), err)
	}
}
