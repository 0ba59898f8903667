package sops

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestMACBytes(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"string", "hunter2", "hunter2"},
		{"empty string", "", ""},
		{"int", -7, "-7"},
		{"float", 0.25, "0.25"},
		{"whole float", 3.0, "3"},
		{"large float without exponent", 1e21, "1000000000000000000000"},
		{"true", true, "True"},
		{"false", false, "False"},
		{"time", time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC), "2024-01-02T03:04:05.000000006Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := macBytes(tt.in)
			if err != nil || string(got) != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := macBytes(uint64(1)); !errors.Is(err, ErrMalformed) {
		t.Errorf("uint64: err = %v, want ErrMalformed", err)
	}
}

func TestMACOnlyEncrypted(t *testing.T) {
	// With mac_only_encrypted, clear values are outside the MAC (the point
	// of the option); without it they are inside.
	tests := []struct {
		name    string
		macOnly bool
		want    error
	}{
		{"mac over encrypted values only", true, nil},
		{"mac over all values", false, ErrMACMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, e := newTestDecryptor(t, testEncryptor{encryptedRegex: fluxRegex, macOnlyEncrypted: tt.macOnly})
			renamed := editYAML(t, e.encryptYAML(t, secretYAML), func(r []*yaml.Node) {
				lookup(t, r[0], "metadata", "name").Value = "renamed"
			})
			out, err := d.Decrypt("s.yaml", []byte(renamed))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil && !strings.Contains(string(out), "name: renamed") {
				t.Errorf("got\n%s", out)
			}
		})
	}
}
