package sops

import (
	"errors"
	"testing"
)

func TestRuleEncrypted(t *testing.T) {
	tests := []struct {
		name string
		meta metadata
		path []string
		want bool
	}{
		{"default rule encrypts", metadata{}, []string{"stringData", "password"}, true},
		{"default suffix on the leaf", metadata{}, []string{"a", "b_unencrypted"}, false},
		{"default suffix on a parent", metadata{}, []string{"list_unencrypted", "item"}, false},
		{"custom unencrypted suffix", metadata{UnencryptedSuffix: "_clear"}, []string{"x_clear"}, false},
		{"custom suffix replaces the default", metadata{UnencryptedSuffix: "_clear"}, []string{"x_unencrypted"}, true},
		{"encrypted suffix matches", metadata{EncryptedSuffix: "_enc"}, []string{"db", "password_enc"}, true},
		{"encrypted suffix misses", metadata{EncryptedSuffix: "_enc"}, []string{"db", "password"}, false},
		{"flux regex on data", metadata{EncryptedRegex: fluxRegex}, []string{"data", "token"}, true},
		{"flux regex on stringData", metadata{EncryptedRegex: fluxRegex}, []string{"stringData", "password"}, true},
		{"flux regex anywhere on the path", metadata{EncryptedRegex: fluxRegex}, []string{"spec", "data"}, true},
		{"flux regex is anchored", metadata{EncryptedRegex: fluxRegex}, []string{"metadata", "name"}, false},
		{"flux regex on a near miss", metadata{EncryptedRegex: fluxRegex}, []string{"binaryData", "x"}, false},
		{"unencrypted regex matches", metadata{UnencryptedRegex: "^meta"}, []string{"metadata", "name"}, false},
		{"unencrypted regex misses", metadata{UnencryptedRegex: "^meta"}, []string{"spec", "x"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.meta.rule(position{file: "f"})
			if err != nil {
				t.Fatal(err)
			}
			if got := r.encrypted(tt.path); got != tt.want {
				t.Errorf("encrypted(%v) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

func TestRuleErrors(t *testing.T) {
	tests := []struct {
		name string
		meta metadata
		want error
	}{
		{"suffix and regex", metadata{UnencryptedSuffix: "_u", EncryptedRegex: "x"}, ErrMalformed},
		{"two regexes", metadata{UnencryptedRegex: "a", EncryptedRegex: "b"}, ErrMalformed},
		{"bad regex", metadata{EncryptedRegex: "("}, ErrMalformed},
		{"encrypted comment regex", metadata{EncryptedCommentRegex: "sops:enc"}, ErrUnsupported},
		{"unencrypted comment regex", metadata{UnencryptedCommentRegex: "sops:plain"}, ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.meta.rule(position{file: "f"}); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMACAdditionalData(t *testing.T) {
	tests := []struct {
		lastModified, want string
	}{
		{"2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"},
		{"2024-05-01T12:00:00+02:00", "2024-05-01T12:00:00+02:00"},
		{"2024-05-01T10:00:00.123456Z", "2024-05-01T10:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.lastModified, func(t *testing.T) {
			got, err := metadata{LastModified: tt.lastModified}.macAAD(position{file: "f"})
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestAgeEntries(t *testing.T) {
	top := []ageEntry{{Recipient: "age1top"}}
	grouped := []ageEntry{{Recipient: "age1group"}}
	tests := []struct {
		name string
		meta metadata
		want string
		err  error
	}{
		{"top-level list", metadata{Age: top}, "age1top", nil},
		{"single key group", metadata{KeyGroups: []keyGroup{{Age: grouped}}}, "age1group", nil},
		{"shamir", metadata{KeyGroups: []keyGroup{{Age: top}, {Age: grouped}}}, "", ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.meta.ageEntries(position{file: "f"})
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && (len(got) != 1 || got[0].Recipient != tt.want) {
				t.Errorf("got %v, want %s", got, tt.want)
			}
		})
	}
}
