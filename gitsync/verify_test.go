package gitsync

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// newPGPKey generates an OpenPGP key (EdDSA: fast) that can sign.
func newPGPKey(t *testing.T, name string) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", name+"@example.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// writeKeyring writes the public keys, armored or binary, and returns the
// file.
func writeKeyring(t *testing.T, armored bool, keys ...*openpgp.Entity) string {
	t.Helper()
	var buf bytes.Buffer
	w := &buf
	var closer interface{ Close() error }
	if armored {
		aw, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
		if err != nil {
			t.Fatal(err)
		}
		closer = aw
		for _, k := range keys {
			if err := k.Serialize(aw); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		for _, k := range keys {
			if err := k.Serialize(w); err != nil {
				t.Fatal(err)
			}
		}
	}
	if closer != nil {
		if err := closer.Close(); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "keyring")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifyCommits(t *testing.T) {
	t.Parallel()
	trusted, other, stranger := newPGPKey(t, "trusted"), newPGPKey(t, "other"), newPGPKey(t, "stranger")
	cases := []struct {
		name    string
		signKey *openpgp.Entity
		armored bool
		wantErr error // nil: accepted
	}{
		{"signed by a trusted key", trusted, true, nil},
		{"signed by the second trusted key, binary keyring", other, false, nil},
		{"unsigned", nil, true, errUnsigned},
		{"signed by an untrusted key", stranger, true, errUntrusted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSource(t)
			s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:1")})
			var head = s.commit("head")
			if tc.signKey != nil {
				head = s.commit("signed head", tc.signKey)
			}
			r, _ := newTestRepo(t, Options{URL: s.dir, VerifyKeyringFile: writeKeyring(t, tc.armored, trusted, other)})
			if tc.wantErr == nil {
				if d := mustLoad(t, r); d.Revision != head.String() {
					t.Errorf("Revision = %s, want %s", d.Revision, head)
				}
				return
			}
			err := loadErr(t, r, ErrInvalidCommit)
			if !strings.Contains(err.Error(), tc.wantErr.Error()) || !strings.Contains(err.Error(), head.String()) {
				t.Errorf("err = %v, want %v for %s", err, tc.wantErr, head)
			}
		})
	}
}

// A signed head accepted after an unsigned one was refused.
func TestVerifyUnsignedThenSigned(t *testing.T) {
	t.Parallel()
	key := newPGPKey(t, "ops")
	s := newSource(t)
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:1")})
	first := s.commit("signed", key)
	r, _ := newTestRepo(t, Options{URL: s.dir, VerifyKeyringFile: writeKeyring(t, true, key)})
	mustLoad(t, r)
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:2")})
	s.commit("pushed unsigned")
	loadErr(t, r, ErrInvalidCommit)
	if st := r.Status(); st.LastGood != first.String() {
		t.Errorf("LastGood = %s, want %s", st.LastGood, first)
	}
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:3")})
	signed := s.commit("signed again", key)
	if d := mustLoad(t, r); d.Revision != signed.String() {
		t.Errorf("Revision = %s, want %s", d.Revision, signed)
	}
}

func TestKeyringOptions(t *testing.T) {
	t.Parallel()
	empty := filepath.Join(t.TempDir(), "empty")
	garbage := filepath.Join(t.TempDir(), "garbage")
	os.WriteFile(empty, nil, 0o600)
	os.WriteFile(garbage, []byte("not a key"), 0o600)
	for _, f := range []string{empty, garbage, filepath.Join(t.TempDir(), "missing")} {
		if _, err := New(Options{URL: "/tmp/x", VerifyKeyringFile: f}); err == nil {
			t.Errorf("keyring %s accepted", f)
		}
	}
}
