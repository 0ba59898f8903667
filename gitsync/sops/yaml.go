package sops

import (
	"bytes"
	"errors"
	"io"
	"reflect"

	"gopkg.in/yaml.v3"
)

// decryptYAML decrypts a YAML stream; see Decrypt.
func (d *Decryptor) decryptYAML(file string, data []byte) ([]byte, error) {
	docs, err := parseYAML(data)
	if err != nil {
		return data, nil
	}
	units, err := planYAML(docs, file)
	if err != nil {
		return nil, err
	}
	if len(units) == 0 {
		return data, nil
	}
	for _, u := range units {
		if err := d.decryptUnit(u, yamlCodec{}, file); err != nil {
			return nil, err
		}
	}
	out, err := encodeYAML(docs)
	if err != nil {
		return nil, position{file: file, doc: -1}.fail(ErrMalformed, "decrypted documents cannot be written as yaml")
	}
	return out, nil
}

// parseYAML reads every document of a YAML stream.
func parseYAML(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		doc := new(yaml.Node)
		err := dec.Decode(doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
}

// root returns the root node of a document, or nil for an empty one.
func root(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	r := doc.Content[0]
	if r.Kind == yaml.ScalarNode && r.ShortTag() == "!!null" {
		return nil
	}
	return r
}

// planYAML groups the documents that carry a sops block into units and
// removes the blocks. sops writes the same block into every document of a
// stream it encrypts, with one MAC over all of them in order, so documents
// with equal blocks form one unit; files encrypted one by one and then
// concatenated give one unit per document. Documents without a block are
// plain and left alone. No units means the stream is plain.
func planYAML(docs []*yaml.Node, file string) ([]unit, error) {
	var units []unit
	for i, doc := range docs {
		r := root(doc)
		if r == nil {
			continue
		}
		m, found, err := takeMetadata(r, position{file: file, doc: i})
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		doc.HeadComment, doc.LineComment, doc.FootComment = "", "", ""
		units = addToUnit(units, m, r, i)
	}
	return units, nil
}

// addToUnit adds the document with index doc, root r and block m to the
// unit with an equal block, or to a new unit.
func addToUnit(units []unit, m metadata, r *yaml.Node, doc int) []unit {
	for i := range units {
		if reflect.DeepEqual(units[i].meta, m) {
			units[i].roots = append(units[i].roots, r)
			units[i].docs = append(units[i].docs, doc)
			return units
		}
	}
	return append(units, unit{meta: m, roots: []*yaml.Node{r}, docs: []int{doc}})
}

// encodeYAML writes the documents back as a stream. With several
// documents each one starts with "---", so that empty documents keep their
// place and every document keeps its index.
func encodeYAML(docs []*yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	for _, doc := range docs {
		if len(docs) > 1 {
			buf.WriteString("---\n")
		}
		if root(doc) == nil {
			continue
		}
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(doc); err != nil {
			return nil, err
		}
		if err := enc.Close(); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// yamlCodec reads and writes scalars the way the sops YAML store does,
// through gopkg.in/yaml.v3.
type yamlCodec struct{}

// scalar decodes n as yaml.v3 decodes into an empty interface.
func (yamlCodec) scalar(n *yaml.Node) (any, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// set replaces n by the YAML encoding of v.
func (yamlCodec) set(n *yaml.Node, v any) error {
	return n.Encode(v)
}
