package sops

import (
	"hash"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// codec is what the walker needs to know about a file format: how a plain
// scalar reads as a sops value, and how a decrypted value is written back.
type codec interface {
	// scalar returns the value sops sees in n: string, int, float64, bool,
	// time.Time, or nil for null.
	scalar(n *yaml.Node) (any, error)
	// set turns n into a scalar holding v, one of the types scalar returns.
	set(n *yaml.Node, v any) error
}

// walker decrypts the values of one or more documents in place, in
// document order, and feeds their plain text to the MAC.
type walker struct {
	key     []byte
	rule    rule
	codec   codec
	mac     hash.Hash
	macOnly bool // mac_only_encrypted: the MAC covers encrypted values only
	at      position
}

// document decrypts a document's root mapping. Comments are dropped on the
// way: sops may have encrypted them, and the MAC does not cover them.
func (w *walker) document(root *yaml.Node) error {
	return w.node(root, nil, "")
}

// node walks any node. path holds the mapping keys from the root, which
// form the additional data; shown is the readable path for errors.
func (w *walker) node(n *yaml.Node, path []string, shown string) error {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	switch n.Kind {
	case yaml.MappingNode:
		return w.mapping(n, path, shown)
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if err := w.node(item, path, shown+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		return nil
	case yaml.ScalarNode:
		return w.leaf(n, path, shown)
	case yaml.AliasNode:
		return w.at.at(shown).fail(ErrUnsupported, "yaml alias in an encrypted document")
	default:
		return w.at.at(shown).fail(ErrMalformed, "unexpected yaml node")
	}
}

// mapping walks the values of a mapping, extending the path by each key.
func (w *walker) mapping(n *yaml.Node, path []string, shown string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		k.HeadComment, k.LineComment, k.FootComment = "", "", ""
		name, ok := keyName(k)
		if !ok {
			return w.at.at(shown).fail(ErrMalformed, "mapping key is not a string")
		}
		sub := name
		if shown != "" {
			sub = shown + "." + name
		}
		if err := w.node(v, append(path[:len(path):len(path)], name), sub); err != nil {
			return err
		}
	}
	return nil
}

// keyName returns the text of a mapping key, which sops requires to be a
// string; "<<" (a YAML merge key) is one too.
func keyName(k *yaml.Node) (string, bool) {
	if k.Kind != yaml.ScalarNode {
		return "", false
	}
	switch k.ShortTag() {
	case "!!str", "!!merge":
		return k.Value, true
	}
	return "", false
}

// leaf decrypts one scalar if the rule says it is encrypted, and adds its
// plain text to the MAC. Nulls are neither encrypted nor hashed.
func (w *walker) leaf(n *yaml.Node, path []string, shown string) error {
	at := w.at.at(shown)
	v, err := w.codec.scalar(n)
	if err != nil {
		return at.fail(ErrMalformed, "value cannot be read")
	}
	if v == nil {
		return nil
	}
	encrypted := w.rule.encrypted(path)
	if encrypted {
		if v, err = w.open(n, v, path); err != nil {
			return at.wrap(err)
		}
	}
	if encrypted || !w.macOnly {
		b, err := macBytes(v)
		if err != nil {
			return at.wrap(err)
		}
		w.mac.Write(b)
	}
	return nil
}

// open decrypts the ENC[...] string v found at path and writes the plain
// value into n.
func (w *walker) open(n *yaml.Node, v any, path []string) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, errNotEncrypted
	}
	plain, err := decryptValue(s, w.key, additionalData(path))
	if err != nil {
		return nil, err
	}
	if _, ok := plain.(comment); ok {
		return nil, errCommentValue
	}
	if err := w.codec.set(n, plain); err != nil {
		return nil, err
	}
	return plain, nil
}

// additionalData is the AES-GCM additional data of a value: its mapping
// keys from the root, each followed by ":".
func additionalData(path []string) string {
	var b strings.Builder
	for _, key := range path {
		b.WriteString(key)
		b.WriteByte(':')
	}
	return b.String()
}
