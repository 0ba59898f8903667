package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
	yamlv2 "sigs.k8s.io/yaml/goyaml.v2"
)

// parseYAMLDoc parses one YAML document strictly: syntax errors and
// duplicate keys (with their path) are reported to is. It returns nil, false
// for an empty document (only comments, or null) and on error.
func parseYAMLDoc(doc document, is *issues) (map[string]any, bool) {
	var top yamlv2.MapSlice
	if err := yamlv2.Unmarshal(doc.data, &top); err != nil {
		var te *yamlv2.TypeError
		if errors.As(err, &te) {
			is.add(nil, "document must be a mapping with apiVersion and kind")
		} else {
			is.add(nil, fileLines(err.Error(), doc.line))
		}
		return nil, false
	}
	if len(top) == 0 {
		return nil, false
	}
	before := len(is.errs)
	yamlDuplicates(top, nil, is)
	if len(is.errs) > before {
		return nil, false
	}
	j, err := yaml.YAMLToJSON(doc.data)
	if err != nil {
		is.add(nil, fileLines(err.Error(), doc.line))
		return nil, false
	}
	return decodeJSONObject(j, is)
}

// yamlDuplicates reports every key that appears twice in the same mapping.
func yamlDuplicates(v any, path *field.Path, is *issues) {
	switch t := v.(type) {
	case yamlv2.MapSlice:
		seen := make(map[string]bool, len(t))
		for _, item := range t {
			k := fmt.Sprint(item.Key)
			p := path.Child(k)
			if seen[k] {
				is.add(p, "duplicate field")
			}
			seen[k] = true
			yamlDuplicates(item.Value, p, is)
		}
	case []any:
		for i, e := range t {
			yamlDuplicates(e, path.Index(i), is)
		}
	}
}

// lineRef matches the line references in YAML parser errors.
var lineRef = regexp.MustCompile(`line (\d+)`)

// fileLines rewrites "line N" in a parser message, counted from the start of
// a document, into the line of the file (the document starts on line start).
func fileLines(msg string, start int) string {
	return lineRef.ReplaceAllStringFunc(msg, func(m string) string {
		n, err := strconv.Atoi(m[len("line "):])
		if err != nil {
			return m
		}
		return "line " + strconv.Itoa(n+start-1)
	})
}

// splitJSON cuts a JSON file into its top-level values: usually one object,
// but a stream of several is accepted, each counted as one document. A
// syntax error is reported to is, on the document where it occurs.
func splitJSON(data []byte, is *issues) []document {
	dec := json.NewDecoder(bytes.NewReader(data))
	var docs []document
	for i := 0; ; i++ {
		start := dec.InputOffset()
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			is.src.Doc = i
			is.add(nil, jsonSyntax(err, data))
			return docs
		}
		line := 1 + bytes.Count(data[:start], []byte("\n"))
		docs = append(docs, document{index: i, line: line, data: raw})
	}
}

// jsonSyntax words a JSON syntax error with the line it is on.
func jsonSyntax(err error, data []byte) string {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset <= int64(len(data)) {
		line := 1 + bytes.Count(data[:se.Offset], []byte("\n"))
		return fmt.Sprintf("json: line %d: %s", line, se.Error())
	}
	return "json: " + err.Error()
}

// parseJSONDoc parses one JSON document, reporting duplicate keys with their
// path.
func parseJSONDoc(doc document, is *issues) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(doc.data))
	before := len(is.errs)
	if err := jsonDuplicates(dec, nil, is); err != nil {
		is.add(nil, "json: "+err.Error())
		return nil, false
	}
	if len(is.errs) > before {
		return nil, false
	}
	return decodeJSONObject(doc.data, is)
}

// jsonDuplicates walks one JSON value token by token and reports keys that
// appear twice in the same object.
func jsonDuplicates(dec *json.Decoder, path *field.Path, is *issues) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			k, _ := kt.(string)
			if seen[k] {
				is.add(path.Child(k), "duplicate field")
			}
			seen[k] = true
			if err := jsonDuplicates(dec, path.Child(k), is); err != nil {
				return err
			}
		}
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := jsonDuplicates(dec, path.Index(i), is); err != nil {
				return err
			}
		}
	default:
		return nil
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// decodeJSONObject decodes JSON text into plain values, numbers kept as
// json.Number; the document must be an object.
func decodeJSONObject(j []byte, is *issues) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		is.add(nil, "json: "+err.Error())
		return nil, false
	}
	switch t := v.(type) {
	case nil:
		return nil, false
	case map[string]any:
		return t, len(t) > 0
	}
	is.add(nil, "document must be a mapping with apiVersion and kind")
	return nil, false
}
