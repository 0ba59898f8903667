package sops

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"gopkg.in/yaml.v3"
)

// This file is a test-only SOPS encryptor for the age key type. It writes
// what `sops --encrypt` writes, independently of the decryption code: a
// random 32-byte data key, every leaf value sealed with AES-256-GCM under a
// random 32-byte IV with its key path plus ":" as additional data, a
// SHA-512 MAC over the clear text sealed with lastmodified as additional
// data, and the data key age-encrypted, armored, to each recipient.

// testLastModified is the lastmodified time of encrypted test files.
var testLastModified = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// testEncryptor encrypts YAML and JSON documents the way sops does.
type testEncryptor struct {
	recipients []age.Recipient
	// Exactly one rule, as in sops; all empty means the default
	// unencrypted_suffix "_unencrypted".
	encryptedRegex    string
	unencryptedRegex  string
	encryptedSuffix   string
	unencryptedSuffix string
	macOnlyEncrypted  bool
}

// newTestKey returns a fresh age identity.
func newTestKey(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// encryptYAML encrypts every document of a YAML stream with one data key
// and one MAC, and appends the same sops block to each document.
func (e testEncryptor) encryptYAML(t *testing.T, plain string) string {
	t.Helper()
	var docs []*yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(plain))
	for {
		doc := new(yaml.Node)
		err := dec.Decode(doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc)
	}
	roots := make([]*yaml.Node, 0, len(docs))
	for _, doc := range docs {
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode { // an empty document gets a block too
			*root = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		roots = append(roots, root)
	}
	block := e.seal(t, roots)
	var buf bytes.Buffer
	for _, root := range roots {
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "sops"}, block)
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(4)
	for _, doc := range docs {
		if err := enc.Encode(doc); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// encryptJSON encrypts a JSON object and appends its sops block.
func (e testEncryptor) encryptJSON(t *testing.T, plain string) string {
	t.Helper()
	var doc yaml.Node // JSON is YAML; the node keeps key order and tags
	if err := yaml.Unmarshal([]byte(plain), &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	block := e.seal(t, []*yaml.Node{root})
	root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "sops"}, block)
	var buf bytes.Buffer
	testWriteJSON(t, &buf, root)
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "\t"); err != nil {
		t.Fatal(err)
	}
	return out.String() + "\n"
}

// seal encrypts the roots in place and returns their sops block.
func (e testEncryptor) seal(t *testing.T, roots []*yaml.Node) *yaml.Node {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	s := testSealer{t: t, key: key, encrypt: e.shouldEncrypt(t), mac: sha512.New(), macOnly: e.macOnlyEncrypted}
	if e.macOnlyEncrypted {
		seed := sha256.Sum256([]byte("sops"))
		s.mac.Write(seed[:])
	}
	for _, root := range roots {
		s.walk(root, nil)
	}
	mac := strings.ToUpper(fmt.Sprintf("%x", s.mac.Sum(nil)))
	block := testBlock{
		LastModified:      testLastModified.Format(time.RFC3339),
		MAC:               testSeal(t, key, []byte(mac), testLastModified.Format(time.RFC3339), "str"),
		EncryptedRegex:    e.encryptedRegex,
		UnencryptedRegex:  e.unencryptedRegex,
		EncryptedSuffix:   e.encryptedSuffix,
		UnencryptedSuffix: e.unencryptedSuffix,
		MACOnlyEncrypted:  e.macOnlyEncrypted,
		Version:           "3.9.0",
	}
	if e.encryptedRegex == "" && e.unencryptedRegex == "" && e.encryptedSuffix == "" && e.unencryptedSuffix == "" {
		block.UnencryptedSuffix = "_unencrypted"
	}
	for _, r := range e.recipients {
		block.Age = append(block.Age, testAgeEntry{Recipient: fmt.Sprint(r), Enc: testWrapKey(t, r, key)})
	}
	var n yaml.Node
	if err := n.Encode(block); err != nil {
		t.Fatal(err)
	}
	return &n
}

// testBlock is a sops metadata block in the order sops writes it.
type testBlock struct {
	Age               []testAgeEntry `yaml:"age"`
	LastModified      string         `yaml:"lastmodified"`
	MAC               string         `yaml:"mac"`
	EncryptedRegex    string         `yaml:"encrypted_regex,omitempty"`
	UnencryptedRegex  string         `yaml:"unencrypted_regex,omitempty"`
	EncryptedSuffix   string         `yaml:"encrypted_suffix,omitempty"`
	UnencryptedSuffix string         `yaml:"unencrypted_suffix,omitempty"`
	MACOnlyEncrypted  bool           `yaml:"mac_only_encrypted,omitempty"`
	Version           string         `yaml:"version"`
}

// testAgeEntry is one age recipient in a sops block.
type testAgeEntry struct {
	Recipient string `yaml:"recipient"`
	Enc       string `yaml:"enc"`
}

// shouldEncrypt returns the encryptor's rule as a predicate on key paths.
func (e testEncryptor) shouldEncrypt(t *testing.T) func(path []string) bool {
	anyKey := func(path []string, f func(string) bool) bool {
		for _, k := range path {
			if f(k) {
				return true
			}
		}
		return false
	}
	switch {
	case e.encryptedRegex != "":
		re := regexp.MustCompile(e.encryptedRegex)
		return func(p []string) bool { return anyKey(p, re.MatchString) }
	case e.unencryptedRegex != "":
		re := regexp.MustCompile(e.unencryptedRegex)
		return func(p []string) bool { return !anyKey(p, re.MatchString) }
	case e.encryptedSuffix != "":
		return func(p []string) bool {
			return anyKey(p, func(k string) bool { return strings.HasSuffix(k, e.encryptedSuffix) })
		}
	}
	suffix := e.unencryptedSuffix
	if suffix == "" {
		suffix = "_unencrypted"
	}
	return func(p []string) bool {
		return !anyKey(p, func(k string) bool { return strings.HasSuffix(k, suffix) })
	}
}

// testSealer walks a document, sealing values and hashing clear text.
type testSealer struct {
	t       *testing.T
	key     []byte
	encrypt func(path []string) bool
	mac     hash.Hash
	macOnly bool
}

// walk seals the leaves under n; path holds the mapping keys so far.
func (s *testSealer) walk(n *yaml.Node, path []string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i < len(n.Content); i += 2 {
			s.walk(n.Content[i+1], append(append([]string(nil), path...), n.Content[i].Value))
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			s.walk(item, path)
		}
	case yaml.ScalarNode:
		s.leaf(n, path)
	}
}

// leaf seals one scalar the way sops does.
func (s *testSealer) leaf(n *yaml.Node, path []string) {
	var v any
	if err := n.Decode(&v); err != nil {
		s.t.Fatal(err)
	}
	if v == nil {
		return
	}
	text, kind := testClearText(s.t, v)
	enc := s.encrypt(path)
	if enc || !s.macOnly {
		s.mac.Write([]byte(text))
	}
	if !enc || text == "" && kind == "str" {
		return
	}
	aad := strings.Join(path, ":") + ":"
	sealed := testSeal(s.t, s.key, []byte(text), aad, kind)
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: sealed}
}

// testClearText returns the bytes sops encrypts and hashes for v, and its
// type name.
func testClearText(t *testing.T, v any) (string, string) {
	switch v := v.(type) {
	case string:
		return v, "str"
	case int:
		return strconv.Itoa(v), "int"
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), "float"
	case bool:
		if v {
			return "True", "bool"
		}
		return "False", "bool"
	case time.Time:
		b, err := v.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		return string(b), "time"
	}
	t.Fatalf("unsupported test value %T", v)
	return "", ""
}

// testSeal seals clear text into an ENC[...] string with a random 32-byte
// IV.
func testSeal(t *testing.T, key, clearText []byte, aad, kind string) string {
	t.Helper()
	iv := make([]byte, 32)
	if _, err := rand.Read(iv); err != nil {
		t.Fatal(err)
	}
	return testSealWithIV(t, key, iv, clearText, aad, kind)
}

// testSealWithIV seals clear text into an ENC[...] string with a given IV.
func testSealWithIV(t *testing.T, key, iv, clearText []byte, aad, kind string) string {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		t.Fatal(err)
	}
	out := gcm.Seal(nil, iv, clearText, []byte(aad))
	data, tag := out[:len(out)-16], out[len(out)-16:]
	b64 := base64.StdEncoding.EncodeToString
	return "ENC[AES256_GCM,data:" + b64(data) + ",iv:" + b64(iv) + ",tag:" + b64(tag) + ",type:" + kind + "]"
}

// testWrapKey encrypts a data key to one age recipient, armored.
func testWrapKey(t *testing.T, r age.Recipient, key []byte) string {
	t.Helper()
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(key); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// testWriteJSON writes a node tree parsed from JSON back as compact JSON.
func testWriteJSON(t *testing.T, buf *bytes.Buffer, n *yaml.Node) {
	t.Helper()
	switch n.Kind {
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			testWriteJSON(t, buf, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: n.Content[i].Value})
			buf.WriteByte(':')
			testWriteJSON(t, buf, n.Content[i+1])
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, item := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			testWriteJSON(t, buf, item)
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		if n.ShortTag() == "!!str" {
			b, err := json.Marshal(n.Value)
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(b)
			return
		}
		buf.WriteString(n.Value)
	}
}
