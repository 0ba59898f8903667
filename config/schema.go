package config

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// checkSchema compares a plain JSON value (as decodeJSONObject produces)
// with the Go type it is about to be decoded into and reports, with full
// paths, everything a strict decoder rejects: unknown fields (matched
// case-sensitively, as Kubernetes does), values of the wrong JSON type,
// integers out of range, malformed quantities and invalid base64. Collecting
// these here, rather than taking the first error of encoding/json, is what
// lets one pass report every problem of a document. Messages do not include
// the offending value, except what a type's own decoder says about it (a
// malformed timestamp), which cannot occur in Secret or ConfigMap data.
func checkSchema(v any, t reflect.Type, path *field.Path, is *issues) {
	if v == nil {
		return // null decodes to the zero value of any type
	}
	if t.Kind() == reflect.Pointer {
		checkSchema(v, t.Elem(), path, is)
		return
	}
	if check, ok := specialTypes[t]; ok {
		if msg := check(v); msg != "" {
			is.add(path, msg)
		}
		return
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		if msg := checkUnmarshaler(v, t); msg != "" {
			is.add(path, msg)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		checkStruct(v, t, path, is)
	case reflect.Map:
		checkMap(v, t, path, is)
	case reflect.Slice:
		checkSlice(v, t, path, is)
	case reflect.Interface:
	default:
		if msg := checkScalar(v, t.Kind()); msg != "" {
			is.add(path, msg)
		}
	}
}

// checkStruct checks an object against a struct's JSON fields.
func checkStruct(v any, t reflect.Type, path *field.Path, is *issues) {
	m, ok := v.(map[string]any)
	if !ok {
		is.add(path, "must be an object")
		return
	}
	fields := jsonFields(t)
	for k, val := range m {
		ft, known := fields[k]
		if !known {
			is.add(path.Child(k), "unknown field")
			continue
		}
		checkSchema(val, ft, path.Child(k), is)
	}
}

// checkMap checks an object against a map type; keys are rendered as
// path[key], as Kubernetes does.
func checkMap(v any, t reflect.Type, path *field.Path, is *issues) {
	m, ok := v.(map[string]any)
	if !ok {
		is.add(path, "must be an object")
		return
	}
	for k, val := range m {
		checkSchema(val, t.Elem(), path.Key(k), is)
	}
}

// checkSlice checks a list, or for []byte a base64 string.
func checkSlice(v any, t reflect.Type, path *field.Path, is *issues) {
	if t.Elem().Kind() == reflect.Uint8 {
		s, ok := v.(string)
		if !ok {
			is.add(path, "must be a base64-encoded string")
			return
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			is.add(path, "must be a base64-encoded string (decoding failed)")
		}
		return
	}
	list, ok := v.([]any)
	if !ok {
		is.add(path, "must be a list")
		return
	}
	for i, e := range list {
		checkSchema(e, t.Elem(), path.Index(i), is)
	}
}

// checkScalar checks a string, boolean or number; it returns "" when v fits
// a Go value of the given kind.
func checkScalar(v any, k reflect.Kind) string {
	switch k {
	case reflect.String:
		if _, ok := v.(string); !ok {
			return "must be a string"
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return "must be a boolean"
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return checkInt(v, intBits(k), false)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return checkInt(v, intBits(k), true)
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			return "must be a number"
		}
		if _, err := strconv.ParseFloat(string(n), 64); err != nil {
			return "must be a number"
		}
	}
	return ""
}

// checkInt checks that v is an integer that fits in bits (unsigned if asked).
func checkInt(v any, bits int, unsigned bool) string {
	n, ok := v.(json.Number)
	if !ok || strings.ContainsAny(string(n), ".eE") {
		return "must be an integer"
	}
	var err error
	if unsigned {
		_, err = strconv.ParseUint(string(n), 10, bits)
	} else {
		_, err = strconv.ParseInt(string(n), 10, bits)
	}
	if err != nil {
		return "integer out of range"
	}
	return ""
}

// intBits is the size of an integer kind.
func intBits(k reflect.Kind) int {
	switch k {
	case reflect.Int8, reflect.Uint8:
		return 8
	case reflect.Int16, reflect.Uint16:
		return 16
	case reflect.Int32, reflect.Uint32:
		return 32
	}
	return 64
}

// specialTypes are the API types with their own JSON decoding: each check
// returns "" when the value decodes. Types implementing json.Unmarshaler
// that are not listed are checked by calling their UnmarshalJSON.
var specialTypes = map[reflect.Type]func(any) string{
	reflect.TypeFor[resource.Quantity]():  checkQuantity,
	reflect.TypeFor[intstr.IntOrString](): checkIntOrString,
}

// checkQuantity checks a resource quantity ("500m", "1Gi", 2).
func checkQuantity(v any) string {
	var s string
	switch t := v.(type) {
	case string:
		s = t
	case json.Number:
		s = string(t)
	default:
		return "must be a quantity (a string such as \"500m\" or \"1Gi\")"
	}
	if _, err := resource.ParseQuantity(strings.TrimSpace(s)); err != nil {
		return "invalid quantity: " + err.Error()
	}
	return ""
}

// checkIntOrString checks a value that is an int32 or a string (ports,
// maxSurge).
func checkIntOrString(v any) string {
	if _, ok := v.(string); ok {
		return ""
	}
	if checkInt(v, 32, false) != "" {
		return "must be an integer or a string"
	}
	return ""
}

// unmarshalerType is json.Unmarshaler, for types with custom decoding.
var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// checkUnmarshaler lets a type with its own JSON decoding (metav1.Time, for
// instance) judge the value.
func checkUnmarshaler(v any, t reflect.Type) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "cannot be encoded: " + err.Error()
	}
	u := reflect.New(t).Interface().(json.Unmarshaler)
	if err := u.UnmarshalJSON(b); err != nil {
		return "invalid value: " + err.Error()
	}
	return ""
}

// fieldCache holds jsonFields results by type.
var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// jsonFields lists the JSON field names of a struct with their types,
// including those of embedded structs without a name (",inline").
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || (!f.IsExported() && !f.Anonymous):
			continue
		case f.Anonymous && name == "":
			inner := f.Type
			if inner.Kind() == reflect.Pointer {
				inner = inner.Elem()
			}
			for k, ft := range jsonFields(inner) {
				if _, ok := out[k]; !ok {
					out[k] = ft
				}
			}
			continue
		case name == "":
			name = f.Name
		}
		out[name] = f.Type
	}
	fieldCache.Store(t, out)
	return out
}
