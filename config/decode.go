package config

import (
	"bytes"
	"encoding/json"
	"path"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Decode reads one manifest file: every document of a YAML file (or every
// value of a JSON file, by the ".json" extension), "kind: List" documents
// included. Each object is decoded strictly into its k8s.io/api type,
// converted from a legacy apiVersion if need be, defaulted as Kubernetes
// does, validated, and checked against the fields this build supports.
//
// It returns the objects without errors, in document order, the warnings,
// and an error wrapping ErrInvalid that carries every *FieldError found (see
// Errors); the objects of documents with errors are left out.
func Decode(file string, data []byte) ([]Object, []string, error) {
	res := decodeFile(file, data)
	return res.objects, res.warnings, combine(res.errs)
}

// fileResult is what decoding one file produced.
type fileResult struct {
	objects  []Object
	warnings []string
	errs     []*FieldError
}

// collect adds the findings about one document.
func (r *fileResult) collect(is *issues) {
	r.warnings = append(r.warnings, is.warnings...)
	r.errs = append(r.errs, is.errs...)
}

// utf8BOM is the byte order mark some editors put at the start of a file.
var utf8BOM = []byte("\xef\xbb\xbf")

// decodeFile splits a file into documents and decodes each.
func decodeFile(file string, data []byte) fileResult {
	var res fileResult
	data = bytes.TrimPrefix(data, utf8BOM)
	var docs []document
	parse := parseYAMLDoc
	if strings.EqualFold(path.Ext(file), ".json") {
		syntax := &issues{src: Source{File: file}}
		docs, parse = splitJSON(data, syntax), parseJSONDoc
		res.collect(syntax)
	} else {
		docs = splitYAML(data)
	}
	for _, doc := range docs {
		is := &issues{src: Source{File: file, Doc: doc.index}}
		if raw, ok := parse(doc, is); ok {
			res.objects = append(res.objects, decodeDocument(raw, is)...)
		}
		res.collect(is)
	}
	return res
}

// decodeDocument decodes one parsed document: a List or a single object.
func decodeDocument(raw map[string]any, is *issues) []Object {
	apiVersion, kind, ok := typeMeta(raw, nil, is)
	if !ok {
		return nil
	}
	if kind == "List" {
		return decodeList(raw, apiVersion, is)
	}
	if o, ok := decodeObject(raw, nil, is); ok {
		return []Object{o}
	}
	return nil
}

// decodeList decodes the items of a v1 List; each item's errors carry the
// path prefix items[i] and the List document's index.
func decodeList(raw map[string]any, apiVersion string, is *issues) []Object {
	if apiVersion != "v1" {
		is.add(field.NewPath("apiVersion"), `unknown apiVersion "`+apiVersion+`" for kind List (accepted: v1)`)
		return nil
	}
	for k := range raw {
		if k != "apiVersion" && k != "kind" && k != "metadata" && k != "items" {
			is.add(field.NewPath(k), "unknown field")
		}
	}
	items, ok := raw["items"].([]any)
	if !ok && raw["items"] != nil {
		is.add(field.NewPath("items"), "must be a list")
	}
	var out []Object
	for i, item := range items {
		p := field.NewPath("items").Index(i)
		m, ok := item.(map[string]any)
		if !ok {
			is.add(p, "must be an object with apiVersion and kind")
			continue
		}
		if o, ok := decodeObject(m, p, is); ok {
			out = append(out, o)
		}
	}
	return out
}

// typeMeta reads apiVersion and kind, reporting them if missing.
func typeMeta(raw map[string]any, root *field.Path, is *issues) (apiVersion, kind string, ok bool) {
	apiVersion, aok := requiredString(raw, "apiVersion", root, is)
	kind, kok := requiredString(raw, "kind", root, is)
	return apiVersion, kind, aok && kok
}

// requiredString reads a required string field of a raw object.
func requiredString(raw map[string]any, name string, root *field.Path, is *issues) (string, bool) {
	v, present := raw[name]
	s, isString := v.(string)
	switch {
	case !present || v == nil || s == "" && isString:
		is.add(root.Child(name), "required value")
		return "", false
	case !isString:
		is.add(root.Child(name), "must be a string")
		return "", false
	}
	return s, true
}

// decodeObject decodes, converts, defaults, validates and checks one object.
// It returns false if the object has any error.
func decodeObject(raw map[string]any, root *field.Path, is *issues) (Object, bool) {
	apiVersion, kind, ok := typeMeta(raw, root, is)
	if !ok {
		return Object{}, false
	}
	info, fieldName, msg := lookupKind(apiVersion, kind)
	if msg != "" {
		is.add(root.Child(fieldName), msg)
		return Object{}, false
	}
	before := len(is.errs)
	obj := decodeTyped(raw, info, root, is)
	if obj == nil {
		return Object{}, false
	}
	if info.convert != nil {
		is.warn(root, "apiVersion "+apiVersion+" "+kind+" is deprecated; use "+info.current)
		if obj = info.convert(obj, root, is); obj == nil {
			return Object{}, false
		}
	}
	cur := obj.(runtime.Object)
	setDefaults(cur, kind)
	is.addList(validate(cur, kind, root))
	unhonoured := checkSupport(kind, raw, root, is)
	warnQuantities(cur, root, is)
	if len(is.errs) > before {
		return Object{}, false
	}
	return Object{Key: keyOf(cur, kind), Source: is.src, Obj: cur, Unhonoured: unhonoured}, true
}

// decodeTyped checks raw against the Go type of its version and decodes it;
// it returns nil (with the errors reported) if the document does not fit.
// A document whose only faults are unknown fields is still decoded without
// them, so that its other errors are reported in the same load (the object
// is refused all the same: its errors are recorded).
func decodeTyped(raw map[string]any, info kindInfo, root *field.Path, is *issues) any {
	obj := info.newObj()
	before := len(is.errs)
	checkSchema(raw, reflect.TypeOf(obj), root, is)
	strict := len(is.errs) == before
	b, err := json.Marshal(raw)
	if err == nil {
		// checkSchema has already refused unknown fields with their paths;
		// DisallowUnknownFields is a safety net behind it.
		dec := json.NewDecoder(bytes.NewReader(b))
		if strict {
			dec.DisallowUnknownFields()
		}
		err = dec.Decode(obj)
	}
	switch {
	case err != nil && strict:
		is.add(root, "cannot decode: "+err.Error())
		return nil
	case err != nil:
		return nil // the schema check has said why
	}
	return obj
}

// keyOf builds the Key of a defaulted object.
func keyOf(obj runtime.Object, kind string) Key {
	m, err := meta.Accessor(obj)
	if err != nil {
		return Key{Kind: kind}
	}
	return Key{Namespace: m.GetNamespace(), Kind: kind, Name: m.GetName()}
}
