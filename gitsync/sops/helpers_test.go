package sops

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"
	"gopkg.in/yaml.v3"
)

// secret is a distinctive clear-text value: it must never appear in an
// error message.
const secret = "s3cr3t-Zebra-Horizon-42"

// fluxRegex is the encrypted_regex Flux users configure.
const fluxRegex = "^(data|stringData)$"

// secretYAML is a Secret as Flux users keep it before encryption.
const secretYAML = `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
  labels:
    app: db
type: Opaque
stringData:
  password: s3cr3t-Zebra-Horizon-42
  username: admin
  empty: ""
data:
  token: c2VjcmV0LXRva2Vu
`

// configMapYAML has nested maps and lists and every scalar type.
const configMapYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  replicas: "3"
  mode: fast
  multiline: |
    line one
    line two
nested:
  list:
    - 1
    - two
    - 3.5
    - true
    - null
    - inner: value
      n: 7
  deep: {a: {b: {c: false}}}
  when: 2024-01-02
  ratio: 0.25
  big: 1000000
  negative: -12
note_unencrypted: stays in clear text
`

// secretJSON is a Secret in JSON.
const secretJSON = `{
  "apiVersion": "v1",
  "kind": "Secret",
  "metadata": {"name": "db", "labels": {"app": "db"}, "generation": 3, "weight": 1.5e3, "paused": false, "owner": null},
  "stringData": {
    "password": "s3cr3t-Zebra-Horizon-42",
    "port": 5432,
    "ratio": 0.5,
    "enabled": true,
    "nothing": null,
    "list": ["a", 2, false, "<&>"]
  },
  "zeta": "last"
}`

// newTestDecryptor returns an identity, a Decryptor holding it and an
// encryptor to its recipient with the given rule set.
func newTestDecryptor(t *testing.T, e testEncryptor) (*Decryptor, testEncryptor) {
	t.Helper()
	id := newTestKey(t)
	e.recipients = append(e.recipients, id.Recipient())
	return NewDecryptor([]age.Identity{id}), e
}

// shape renders a YAML stream (or JSON, which is YAML) as one line per
// scalar, "path = type value", in document order: two texts with the same
// shape have the same documents, keys in the same order and equal values,
// whatever their formatting.
func shape(t *testing.T, text string) []string {
	t.Helper()
	var lines []string
	dec := yaml.NewDecoder(strings.NewReader(text))
	for i := 0; ; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return lines
		}
		if err != nil {
			t.Fatalf("shape: %v", err)
		}
		if len(doc.Content) == 0 {
			lines = append(lines, fmt.Sprintf("doc%d: empty", i))
			continue
		}
		lines = appendShape(t, lines, doc.Content[0], "doc"+strconv.Itoa(i))
	}
}

// appendShape appends the shape of n, found at path.
func appendShape(t *testing.T, lines []string, n *yaml.Node, path string) []string {
	t.Helper()
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			return append(lines, path+" = {}")
		}
		for i := 0; i < len(n.Content); i += 2 {
			lines = appendShape(t, lines, n.Content[i+1], path+"."+n.Content[i].Value)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			lines = appendShape(t, lines, item, fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			t.Fatalf("shape %s: %v", path, err)
		}
		lines = append(lines, fmt.Sprintf("%s = %T %v", path, v, v))
	}
	return lines
}

// jsonTokens lists the tokens of a JSON text, to compare key order and
// values of JSON documents.
func jsonTokens(t *testing.T, text string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	var out []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("json tokens: %v", err)
		}
		out = append(out, fmt.Sprintf("%T %v", tok, tok))
	}
}

// editYAML parses an encrypted YAML stream, lets edit change its
// documents' roots, and encodes it again.
func editYAML(t *testing.T, text string, edit func(roots []*yaml.Node)) string {
	t.Helper()
	var docs []*yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(text))
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
	roots := make([]*yaml.Node, len(docs))
	for i, doc := range docs {
		roots[i] = doc.Content[0]
	}
	edit(roots)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
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

// lookup returns the value node at the key path under root.
func lookup(t *testing.T, root *yaml.Node, keys ...string) *yaml.Node {
	t.Helper()
	n := root
	for _, key := range keys {
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				n, found = n.Content[i+1], true
				break
			}
		}
		if !found {
			t.Fatalf("lookup: no key %q in path %v", key, keys)
		}
	}
	return n
}

// removeKey deletes key from mapping n.
func removeKey(t *testing.T, n *yaml.Node, key string) {
	t.Helper()
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content = append(n.Content[:i], n.Content[i+2:]...)
			return
		}
	}
	t.Fatalf("removeKey: no key %q", key)
}

// flipCiphertext changes one bit of the data of an ENC[...] value.
func flipCiphertext(t *testing.T, enc string) string {
	t.Helper()
	start := strings.Index(enc, "data:") + len("data:")
	end := strings.Index(enc, ",iv:")
	data, err := base64.StdEncoding.DecodeString(enc[start:end])
	if err != nil || len(data) == 0 {
		t.Fatalf("flipCiphertext: %v", err)
	}
	data[0] ^= 1
	return enc[:start] + base64.StdEncoding.EncodeToString(data) + enc[end:]
}

// assertNoLeak fails if the error text contains any of the clear values.
func assertNoLeak(t *testing.T, err error, clear ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, c := range clear {
		if strings.Contains(err.Error(), c) {
			t.Errorf("error text leaks %q: %v", c, err)
		}
	}
}
