package sops

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"filippo.io/age"
	"gopkg.in/yaml.v3"
)

func TestDecryptYAMLRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		enc   testEncryptor
		plain string
		// clearInFile lists values that stay readable in the encrypted file.
		clearInFile []string
		// hidden lists values the encrypted file must not contain.
		hidden []string
	}{
		{
			name:        "flux secret, encrypted_regex on data and stringData",
			enc:         testEncryptor{encryptedRegex: fluxRegex},
			plain:       secretYAML,
			clearInFile: []string{"name: db", "namespace: prod", "app: db", "type: Opaque"},
			hidden:      []string{secret, "admin", "c2VjcmV0LXRva2Vu"},
		},
		{
			name:   "whole secret, default unencrypted_suffix",
			enc:    testEncryptor{},
			plain:  secretYAML,
			hidden: []string{secret, "admin", "Opaque", "prod"},
		},
		{
			name:        "configmap with nested maps, lists and every scalar type",
			enc:         testEncryptor{},
			plain:       configMapYAML,
			clearInFile: []string{"stays in clear text"},
			hidden:      []string{"line one", "fast", "1000000", "0.25", "2024-01-02"},
		},
		{
			name:        "custom unencrypted_suffix",
			enc:         testEncryptor{unencryptedSuffix: "_plain"},
			plain:       "user_plain: alice\npassword: " + secret + "\n",
			clearInFile: []string{"alice"},
			hidden:      []string{secret},
		},
		{
			name:        "encrypted_suffix",
			enc:         testEncryptor{encryptedSuffix: "_secret"},
			plain:       "user: alice\ndb:\n  password_secret: " + secret + "\n  host: db.local\n",
			clearInFile: []string{"alice", "db.local"},
			hidden:      []string{secret},
		},
		{
			name:        "unencrypted_regex",
			enc:         testEncryptor{unencryptedRegex: "^(apiVersion|kind|metadata)$"},
			plain:       secretYAML,
			clearInFile: []string{"name: db", "kind: Secret"},
			hidden:      []string{secret, "Opaque"},
		},
		{
			name:        "mac_only_encrypted",
			enc:         testEncryptor{encryptedRegex: fluxRegex, macOnlyEncrypted: true},
			plain:       secretYAML,
			clearInFile: []string{"name: db"},
			hidden:      []string{secret},
		},
		{
			name:   "multi-document stream, one block per document",
			enc:    testEncryptor{encryptedRegex: fluxRegex},
			plain:  secretYAML + "---\n" + configMapYAML,
			hidden: []string{secret, "line one"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, e := newTestDecryptor(t, tt.enc)
			encrypted := e.encryptYAML(t, tt.plain)
			for _, s := range tt.clearInFile {
				if !strings.Contains(encrypted, s) {
					t.Errorf("encrypted file lacks clear text %q", s)
				}
			}
			for _, s := range tt.hidden {
				if strings.Contains(encrypted, s) {
					t.Errorf("encrypted file shows %q", s)
				}
			}
			out, err := d.Decrypt("secrets/app.yaml", []byte(encrypted))
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if got, want := shape(t, string(out)), shape(t, tt.plain); !reflect.DeepEqual(got, want) {
				t.Errorf("decrypted document differs\n got: %q\nwant: %q\nout:\n%s", got, want, out)
			}
			if bytes.Contains(out, []byte("sops")) || bytes.Contains(out, []byte("ENC[")) {
				t.Errorf("output still holds sops data:\n%s", out)
			}
		})
	}
}

func TestDecryptJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		enc  testEncryptor
	}{
		{name: "encrypted_regex", enc: testEncryptor{encryptedRegex: fluxRegex}},
		{name: "everything", enc: testEncryptor{}},
		{name: "mac_only_encrypted", enc: testEncryptor{encryptedRegex: fluxRegex, macOnlyEncrypted: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, e := newTestDecryptor(t, tt.enc)
			encrypted := e.encryptJSON(t, secretJSON)
			if strings.Contains(encrypted, secret) {
				t.Fatalf("encrypted file shows the secret")
			}
			out, err := d.Decrypt("secrets/app.JSON", []byte(encrypted))
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if !json.Valid(out) {
				t.Fatalf("output is not JSON:\n%s", out)
			}
			if got, want := jsonTokens(t, string(out)), jsonTokens(t, secretJSON); !reflect.DeepEqual(got, want) {
				t.Errorf("decrypted JSON differs\n got: %q\nwant: %q", got, want)
			}
			if !bytes.Contains(out, []byte(`"<&>"`)) {
				t.Errorf("string escaping changed:\n%s", out)
			}
		})
	}
}

func TestDecryptPassesPlainDataThrough(t *testing.T) {
	tests := []struct {
		name, file, data string
	}{
		{"plain yaml", "app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"},
		{"plain multi-document yaml", "app.yaml", "a: 1\n---\nb: 2\n"},
		{"sops below the top level", "app.yaml", "metadata:\n  labels:\n    sops: enabled\n"},
		{"sops as a value", "app.yaml", "tool: sops\n"},
		{"invalid yaml", "app.yaml", "sops: [unclosed\n"},
		{"plain json", "app.json", `{"kind": "ConfigMap", "data": {"sops": "no"}}`},
		{"json array", "app.json", `[{"sops": {}}]`},
		{"invalid json", "app.json", `{"sops": `},
		{"json with trailing data", "app.json", `{"sops": {}} {}`},
		{"empty", "app.yaml", ""},
	}
	d := NewDecryptor(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.data)
			out, err := d.Decrypt(tt.file, in)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if !bytes.Equal(out, in) {
				t.Errorf("data changed:\n%s", out)
			}
		})
	}
}

func TestDecryptKeepsKeyOrder(t *testing.T) {
	d, e := newTestDecryptor(t, testEncryptor{})
	plain := "zulu: 1\nalpha: 2\nmike:\n  yankee: a\n  bravo: b\n"
	out, err := d.Decrypt("order.yaml", []byte(e.encryptYAML(t, plain)))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != plain {
		t.Errorf("got\n%s\nwant\n%s", out, plain)
	}
}

func TestDecryptWrongIdentity(t *testing.T) {
	_, e := newTestDecryptor(t, testEncryptor{encryptedRegex: fluxRegex})
	encrypted := []byte(e.encryptYAML(t, secretYAML))
	tests := []struct {
		name string
		d    *Decryptor
	}{
		{"other identity", NewDecryptor([]age.Identity{newTestKey(t)})},
		{"no identities", NewDecryptor(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.d.Decrypt("secret.yaml", encrypted)
			if !errors.Is(err, ErrNoMatchingKey) {
				t.Fatalf("err = %v, want ErrNoMatchingKey", err)
			}
			if out != nil {
				t.Errorf("output returned with an error")
			}
			if !strings.Contains(err.Error(), "secret.yaml#0") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

func TestDecryptTriesEveryRecipient(t *testing.T) {
	mine := newTestKey(t)
	e := testEncryptor{recipients: []age.Recipient{newTestKey(t).Recipient(), mine.Recipient()}}
	out, err := NewDecryptor([]age.Identity{mine}).Decrypt("s.yaml", []byte(e.encryptYAML(t, secretYAML)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(secret)) {
		t.Errorf("secret not decrypted:\n%s", out)
	}
}

func TestDecryptDetectsTampering(t *testing.T) {
	d, e := newTestDecryptor(t, testEncryptor{encryptedRegex: fluxRegex})
	encrypted := e.encryptYAML(t, secretYAML)
	tests := []struct {
		name string
		edit func(t *testing.T, root *yaml.Node)
		key  string // key path the error must name
	}{
		{"flipped ciphertext bit", func(t *testing.T, r *yaml.Node) {
			n := lookup(t, r, "stringData", "password")
			n.Value = flipCiphertext(t, n.Value)
		}, "stringData.password"},
		{"value moved to another key", func(t *testing.T, r *yaml.Node) {
			a, b := lookup(t, r, "stringData", "password"), lookup(t, r, "stringData", "username")
			a.Value, b.Value = b.Value, a.Value
		}, "stringData.password"},
		{"clear value changed", func(t *testing.T, r *yaml.Node) {
			lookup(t, r, "metadata", "name").Value = "other"
		}, "sops.mac"},
		{"encrypted value removed", func(t *testing.T, r *yaml.Node) {
			removeKey(t, lookup(t, r, "stringData"), "username")
		}, "sops.mac"},
		{"values reordered", func(t *testing.T, r *yaml.Node) {
			sd := lookup(t, r, "stringData")
			sd.Content[0], sd.Content[2] = sd.Content[2], sd.Content[0]
			sd.Content[1], sd.Content[3] = sd.Content[3], sd.Content[1]
		}, "sops.mac"},
		{"mac ciphertext changed", func(t *testing.T, r *yaml.Node) {
			n := lookup(t, r, "sops", "mac")
			n.Value = flipCiphertext(t, n.Value)
		}, "sops.mac"},
		{"lastmodified changed", func(t *testing.T, r *yaml.Node) {
			lookup(t, r, "sops", "lastmodified").Value = "2024-05-01T10:00:01Z"
		}, "sops.mac"},
		{"mac removed", func(t *testing.T, r *yaml.Node) {
			removeKey(t, lookup(t, r, "sops"), "mac")
		}, "sops.mac"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tampered := editYAML(t, encrypted, func(roots []*yaml.Node) { tt.edit(t, roots[0]) })
			out, err := d.Decrypt("secret.yaml", []byte(tampered))
			if !errors.Is(err, ErrMACMismatch) {
				t.Fatalf("err = %v, want ErrMACMismatch", err)
			}
			if out != nil {
				t.Errorf("output returned with an error")
			}
			if !strings.Contains(err.Error(), `"`+tt.key+`"`) {
				t.Errorf("error does not name key %q: %v", tt.key, err)
			}
			assertNoLeak(t, err, secret, "admin")
		})
	}
}

func TestDecryptUnencryptedSuffixIsAuthenticated(t *testing.T) {
	d, e := newTestDecryptor(t, testEncryptor{})
	encrypted := e.encryptYAML(t, "host_unencrypted: db.local\npassword: "+secret+"\n")
	if !strings.Contains(encrypted, "host_unencrypted: db.local") {
		t.Fatalf("suffixed value was encrypted:\n%s", encrypted)
	}
	if _, err := d.Decrypt("s.yaml", []byte(encrypted)); err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(encrypted, "db.local", "evil.example", 1)
	_, err := d.Decrypt("s.yaml", []byte(tampered))
	if !errors.Is(err, ErrMACMismatch) {
		t.Fatalf("err = %v, want ErrMACMismatch", err)
	}
}

func TestDecryptEncryptedRegexLeavesOtherValuesAlone(t *testing.T) {
	// A clear value that looks encrypted stays as it is, and a "data" key
	// deep in the tree is encrypted like the top-level one.
	const lookalike = "ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]"
	plain := "metadata:\n  annotations:\n    note: " + lookalike + "\nspec:\n  data: deep-" + secret + "\n"
	d, e := newTestDecryptor(t, testEncryptor{encryptedRegex: fluxRegex})
	encrypted := e.encryptYAML(t, plain)
	if strings.Contains(encrypted, "deep-") {
		t.Fatalf("nested data key was not encrypted:\n%s", encrypted)
	}
	out, err := d.Decrypt("s.yaml", []byte(encrypted))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := shape(t, string(out)), shape(t, plain); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDecryptMultiDocument(t *testing.T) {
	d, e := newTestDecryptor(t, testEncryptor{encryptedRegex: fluxRegex})
	single := func(plain string) string { return e.encryptYAML(t, plain) }
	stream := e.encryptYAML(t, secretYAML+"---\n"+configMapYAML)
	plainDoc := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n"
	tests := []struct {
		name, data, want string
		err              error
	}{
		{name: "sops stream", data: stream, want: secretYAML + "---\n" + configMapYAML},
		{name: "files encrypted one by one, then concatenated",
			data: single(secretYAML) + "---\n" + single(configMapYAML),
			want: secretYAML + "---\n" + configMapYAML},
		{name: "plain document among encrypted ones",
			data: plainDoc + "---\n" + single(secretYAML),
			want: plainDoc + "---\n" + secretYAML},
		{name: "plain document appended to a sops stream",
			data: stream + "---\n" + plainDoc,
			want: secretYAML + "---\n" + configMapYAML + "---\n" + plainDoc},
		{name: "sops stream and a single file concatenated",
			data: single(plainDoc) + "---\n" + stream,
			want: plainDoc + "---\n" + secretYAML + "---\n" + configMapYAML},
		{name: "empty documents keep their place",
			data: "---\n" + single(secretYAML) + "---\n---\n" + plainDoc,
			want: "---\n" + secretYAML + "---\n---\n" + plainDoc},
		{name: "document dropped from a sops stream",
			data: strings.SplitN(stream, "\n---\n", 2)[0] + "\n",
			err:  ErrMACMismatch},
		{name: "document of a sops stream changed",
			data: editYAML(t, stream, func(r []*yaml.Node) { lookup(t, r[1], "metadata", "name").Value = "x" }),
			err:  ErrMACMismatch},
		{name: "sops block removed from one document",
			data: editYAML(t, stream, func(r []*yaml.Node) { removeKey(t, r[1], "sops") }),
			err:  ErrMACMismatch},
		{name: "documents swapped",
			data: strings.Join(reverse(strings.Split(stream, "\n---\n")), "\n---\n"),
			err:  ErrMACMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := d.Decrypt("all.yaml", []byte(tt.data))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if got, want := shape(t, string(out)), shape(t, tt.want); !reflect.DeepEqual(got, want) {
				t.Errorf("got %q\nwant %q\nout:\n%s", got, want, out)
			}
		})
	}
}

// reverse returns s in reverse order.
func reverse(s []string) []string {
	out := make([]string, 0, len(s))
	for i := len(s) - 1; i >= 0; i-- {
		out = append(out, s[i])
	}
	return out
}

func TestDecryptDropsEncryptedComments(t *testing.T) {
	d, e := newTestDecryptor(t, testEncryptor{})
	encrypted := e.encryptYAML(t, "a: 1\nb: two\n")
	// sops writes encrypted comments as "#ENC[...,type:comment]" lines; the
	// MAC does not cover them.
	comment := testSeal(t, make([]byte, 32), []byte("a comment"), "", "comment")
	withComments := "#" + comment + "\n" + strings.Replace(encrypted, "\nb:", "\n#"+comment+"\nb:", 1) + "# plain trailing comment\n"
	out, err := d.Decrypt("c.yaml", []byte(withComments))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "a: 1\nb: two\n" {
		t.Errorf("got\n%s", out)
	}
}

func TestDecryptErrorsNeverContainPlainText(t *testing.T) {
	d, e := newTestDecryptor(t, testEncryptor{encryptedRegex: fluxRegex})
	encrypted := e.encryptYAML(t, secretYAML)
	retype := func(kind string) string {
		return editYAML(t, encrypted, func(r []*yaml.Node) {
			n := lookup(t, r[0], "stringData", "password")
			n.Value = strings.Replace(n.Value, "type:str]", "type:"+kind+"]", 1)
		})
	}
	tests := []struct {
		name string
		data string
		want error
	}{
		{"declared type does not parse", retype("int"), ErrMalformed},
		{"declared type unknown", retype("blob"), ErrMalformed},
		{"value decrypted as a comment", retype("comment"), ErrMalformed},
		{"mac mismatch after decryption", editYAML(t, encrypted, func(r []*yaml.Node) {
			lookup(t, r[0], "type").Value = "kubernetes.io/tls"
		}), ErrMACMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.data == encrypted {
				t.Fatal("test edit did not apply")
			}
			_, err := d.Decrypt("secret.yaml", []byte(tt.data))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			assertNoLeak(t, err, secret, "admin", "c2VjcmV0LXRva2Vu")
			if !strings.Contains(err.Error(), "secret.yaml") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

func TestDecryptRejectsBadMetadata(t *testing.T) {
	d, e := newTestDecryptor(t, testEncryptor{encryptedRegex: fluxRegex})
	encrypted := e.encryptYAML(t, secretYAML)
	set := func(key, value string) string {
		return editYAML(t, encrypted, func(r []*yaml.Node) {
			s := lookup(t, r[0], "sops")
			s.Content = append(s.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Value: key},
				&yaml.Node{Kind: yaml.ScalarNode, Value: value})
		})
	}
	tests := []struct {
		name, data string
		want       error
	}{
		{"two rules", set("unencrypted_suffix", "_x"), ErrMalformed},
		{"comment regex", strings.Replace(encrypted, "encrypted_regex:", "encrypted_comment_regex:", 1), ErrUnsupported},
		{"shamir key groups", editYAML(t, encrypted, func(r []*yaml.Node) {
			var groups yaml.Node
			if err := groups.Encode([]map[string]any{{"age": []any{}}, {"age": []any{}}}); err != nil {
				t.Fatal(err)
			}
			s := lookup(t, r[0], "sops")
			s.Content = append(s.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "key_groups"}, &groups)
		}), ErrUnsupported},
		{"invalid regex", editYAML(t, encrypted, func(r []*yaml.Node) {
			lookup(t, r[0], "sops", "encrypted_regex").Value = "^(data"
		}), ErrMalformed},
		{"bad lastmodified", editYAML(t, encrypted, func(r []*yaml.Node) {
			lookup(t, r[0], "sops", "lastmodified").Value = "yesterday"
		}), ErrMalformed},
		{"metadata not a mapping", "a: b\nsops: 1\n", ErrMalformed},
		{"duplicate sops key", "sops: {}\nsops: {}\n", ErrMalformed},
		{"no age recipients", "a: b\nsops:\n  pgp: []\n  mac: x\n", ErrNoMatchingKey},
		{"bad armor", "a: b\nsops:\n  age:\n    - recipient: age1x\n      enc: nonsense\n", ErrMalformed},
		{"bad base64 in a value", editYAML(t, encrypted, func(r []*yaml.Node) {
			n := lookup(t, r[0], "stringData", "password")
			n.Value = strings.Replace(n.Value, "iv:", "iv:!", 1)
		}), ErrMalformed},
		{"encrypted key holds a number", editYAML(t, encrypted, func(r []*yaml.Node) {
			n := lookup(t, r[0], "stringData", "password")
			n.Value, n.Tag, n.Style = "42", "!!int", 0
		}), ErrMalformed},
		{"non-string key", editYAML(t, encrypted, func(r []*yaml.Node) {
			n := lookup(t, r[0], "stringData")
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "1"},
				&yaml.Node{Kind: yaml.ScalarNode, Value: "x"})
		}), ErrMalformed},
		{"alias", editYAML(t, encrypted, func(r []*yaml.Node) {
			n := lookup(t, r[0], "stringData")
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "again"},
				&yaml.Node{Kind: yaml.AliasNode, Value: "meta", Alias: lookup(t, r[0], "metadata")})
			lookup(t, r[0], "metadata").Anchor = "meta"
		}), ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.Decrypt("bad.yaml", []byte(tt.data))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			assertNoLeak(t, err, secret, "admin")
		})
	}
}

func TestLoadAgeKeyFile(t *testing.T) {
	id := newTestKey(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "keys.txt")
	content := "# created: 2024-05-01T10:00:00Z\n# public key: " + id.Recipient().String() + "\n" + id.String() + "\n"
	if err := os.WriteFile(good, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.txt")
	if err := os.WriteFile(empty, []byte("# nothing\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	ids, err := LoadAgeKeyFile(good)
	if err != nil {
		t.Fatal(err)
	}
	e := testEncryptor{recipients: []age.Recipient{id.Recipient()}}
	if _, err := NewDecryptor(ids).Decrypt("s.yaml", []byte(e.encryptYAML(t, secretYAML))); err != nil {
		t.Errorf("loaded key does not decrypt: %v", err)
	}
	for _, path := range []string{empty, filepath.Join(dir, "missing.txt")} {
		if _, err := LoadAgeKeyFile(path); err == nil {
			t.Errorf("LoadAgeKeyFile(%q) succeeded", path)
		}
	}
}

func TestDecryptorIsSafeForConcurrentUse(t *testing.T) {
	d, e := newTestDecryptor(t, testEncryptor{encryptedRegex: fluxRegex})
	data := []byte(e.encryptYAML(t, secretYAML))
	done := make(chan error)
	for range 8 {
		go func() {
			_, err := d.Decrypt("s.yaml", data)
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
