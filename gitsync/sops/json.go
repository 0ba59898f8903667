package sops

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// JSON documents are held as yaml.Node trees, which keep key order, with
// explicit tags: !!str, !!int (numbers that fit an int64, as sops reads
// them), !!float (other numbers, Value keeping their text), !!bool, !!null.

// maxJSONDepth bounds the nesting of a JSON document.
const maxJSONDepth = 1000

// errNotObject marks JSON that is not a single object; it passes through.
var errNotObject = errors.New("not a single json object")

// decryptJSON decrypts a JSON object; see Decrypt.
func (d *Decryptor) decryptJSON(file string, data []byte) ([]byte, error) {
	r, err := parseJSON(data)
	if err != nil {
		return data, nil
	}
	m, found, err := takeMetadata(r, position{file: file})
	if err != nil {
		return nil, err
	}
	if !found {
		return data, nil
	}
	u := unit{meta: m, roots: []*yaml.Node{r}, docs: []int{0}}
	if err := d.decryptUnit(u, jsonCodec{}, file); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, r); err != nil {
		return nil, position{file: file, doc: -1}.fail(ErrMalformed, "decrypted document cannot be written as json")
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, position{file: file, doc: -1}.fail(ErrMalformed, "decrypted document cannot be written as json")
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// parseJSON reads data, which must hold exactly one JSON object.
func parseJSON(data []byte) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, errNotObject
	}
	n, err := readJSON(dec, tok, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errNotObject
	}
	return n, nil
}

// readJSON builds the node of the value that starts with tok.
func readJSON(dec *json.Decoder, tok json.Token, depth int) (*yaml.Node, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("json nested too deeply")
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if t == '[' {
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
		}
		for dec.More() {
			if err := readJSONItem(dec, n, depth); err != nil {
				return nil, err
			}
		}
		_, err := dec.Token() // the closing delimiter
		return n, err
	case string:
		return jsonScalar("!!str", t), nil
	case json.Number:
		if _, err := t.Int64(); err == nil {
			return jsonScalar("!!int", t.String()), nil
		}
		return jsonScalar("!!float", t.String()), nil
	case bool:
		return jsonScalar("!!bool", strconv.FormatBool(t)), nil
	case nil:
		return jsonScalar("!!null", "null"), nil
	}
	return nil, fmt.Errorf("unexpected json token %T", tok)
}

// readJSONItem reads one member of the object, or one element of the
// array, n and appends it.
func readJSONItem(dec *json.Decoder, n *yaml.Node, depth int) error {
	if n.Kind == yaml.MappingNode {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return errors.New("json object key is not a string")
		}
		n.Content = append(n.Content, jsonScalar("!!str", key))
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	v, err := readJSON(dec, tok, depth+1)
	if err != nil {
		return err
	}
	n.Content = append(n.Content, v)
	return nil
}

// jsonScalar returns a scalar node with an explicit tag.
func jsonScalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

// writeJSON writes n as compact JSON.
func writeJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		open, end := byte('{'), byte('}')
		if n.Kind == yaml.SequenceNode {
			open, end = '[', ']'
		}
		buf.WriteByte(open)
		for i, item := range n.Content {
			if i > 0 {
				buf.WriteByte(separator(n, i))
			}
			if err := writeJSON(buf, item); err != nil {
				return err
			}
		}
		buf.WriteByte(end)
		return nil
	case yaml.ScalarNode:
		return writeJSONScalar(buf, n)
	}
	return errors.New("unexpected node kind")
}

// separator is the byte written before the i-th child of n: ':' between a
// key and its value, ',' otherwise.
func separator(n *yaml.Node, i int) byte {
	if n.Kind == yaml.MappingNode && i%2 == 1 {
		return ':'
	}
	return ','
}

// writeJSONScalar writes one tagged scalar.
func writeJSONScalar(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Tag {
	case "!!str":
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(n.Value); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // Encode ends with a newline
		return nil
	case "!!int", "!!float", "!!bool", "!!null":
		buf.WriteString(n.Value)
		return nil
	}
	return fmt.Errorf("unexpected json tag %q", n.Tag)
}

// jsonCodec reads and writes scalars the way the sops JSON store does.
type jsonCodec struct{}

// scalar returns the value of a tagged scalar built by readJSON.
func (jsonCodec) scalar(n *yaml.Node) (any, error) {
	switch n.Tag {
	case "!!str":
		return n.Value, nil
	case "!!int":
		i, err := strconv.ParseInt(n.Value, 10, 64)
		return int(i), err
	case "!!float":
		return strconv.ParseFloat(n.Value, 64)
	case "!!bool":
		return n.Value == "true", nil
	case "!!null":
		return nil, nil
	}
	return nil, fmt.Errorf("unexpected json tag %q", n.Tag)
}

// set replaces n by a tagged scalar holding v.
func (jsonCodec) set(n *yaml.Node, v any) error {
	var repl *yaml.Node
	switch v := v.(type) {
	case string:
		repl = jsonScalar("!!str", v)
	case int:
		repl = jsonScalar("!!int", strconv.Itoa(v))
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return errBadClear
		}
		b, err := json.Marshal(v)
		if err != nil {
			return errBadClear
		}
		repl = jsonScalar("!!float", string(b))
	case bool:
		repl = jsonScalar("!!bool", strconv.FormatBool(v))
	case time.Time:
		b, err := v.MarshalText()
		if err != nil {
			return errBadClear
		}
		repl = jsonScalar("!!str", string(b))
	default:
		return errBadType
	}
	*n = *repl
	return nil
}
