package config

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/hashicorp/go-multierror"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ErrInvalid is wrapped by every error Load, LoadDir and Decode return for
// manifests that cannot be accepted; errors.Is(err, ErrInvalid) tells a bad
// manifest (fix the repository) from an I/O failure (retry).
var ErrInvalid = errors.New("invalid manifests")

// FieldError is one problem in one document: where it is (Source and,
// when known, the field path such as "spec.template.spec.containers[0].image")
// and what is wrong. Msg never contains the value of a Secret or ConfigMap
// entry.
type FieldError struct {
	Source Source
	Field  string
	Msg    string
}

// Error renders the error as "file#doc: field: msg", or "file#doc: msg"
// when no field is known.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Source.String() + ": " + e.Msg
	}
	return e.Source.String() + ": " + e.Field + ": " + e.Msg
}

// Errors returns every *FieldError carried by err (an error returned by
// Load, LoadDir or Decode), in the order they were reported. It returns nil
// for nil or for errors that carry none.
func Errors(err error) []*FieldError {
	if err == nil {
		return nil
	}
	var merr *multierror.Error
	if !errors.As(err, &merr) {
		var fe *FieldError
		if errors.As(err, &fe) {
			return []*FieldError{fe}
		}
		return nil
	}
	out := make([]*FieldError, 0, len(merr.Errors))
	for _, e := range merr.Errors {
		var fe *FieldError
		if errors.As(e, &fe) {
			out = append(out, fe)
		}
	}
	return out
}

// sortFieldErrors orders errors by file, document, then field; errors on the
// same field keep the order in which they were found.
func sortFieldErrors(errs []*FieldError) {
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if a.Source.File != b.Source.File {
			return a.Source.File < b.Source.File
		}
		if a.Source.Doc != b.Source.Doc {
			return a.Source.Doc < b.Source.Doc
		}
		return a.Field < b.Field
	})
}

// combine sorts errs and returns them as one error wrapping ErrInvalid and a
// *multierror.Error holding each *FieldError, or nil when errs is empty.
func combine(errs []*FieldError) error {
	if len(errs) == 0 {
		return nil
	}
	sortFieldErrors(errs)
	merr := &multierror.Error{ErrorFormat: formatErrors}
	for _, e := range errs {
		merr = multierror.Append(merr, e)
	}
	return fmt.Errorf("%w: %w", ErrInvalid, merr)
}

// formatErrors renders a list of errors one per line, without the bullets of
// multierror's default format.
func formatErrors(errs []error) string {
	if len(errs) == 1 {
		return errs[0].Error()
	}
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = "\t" + e.Error()
	}
	return fmt.Sprintf("%d errors:\n%s", len(errs), strings.Join(lines, "\n"))
}

// fromFieldErrors converts apimachinery validation errors found in the
// document at src into FieldErrors (see fieldMessage for the wording).
func fromFieldErrors(src Source, list field.ErrorList) []*FieldError {
	out := make([]*FieldError, 0, len(list))
	for _, e := range list {
		out = append(out, &FieldError{Source: src, Field: e.Field, Msg: fieldMessage(e)})
	}
	return out
}

// fieldMessage words a field.Error without its field path. Offending values
// are only quoted for enumerations and duplicates (values that are never
// secret); every other message is the validator's detail alone, so the data of
// a Secret or ConfigMap can never leak into an error.
func fieldMessage(e *field.Error) string {
	switch e.Type {
	case field.ErrorTypeNotSupported:
		return fmt.Sprintf("unsupported value %s: %s", quoteValue(e.BadValue), e.Detail)
	case field.ErrorTypeDuplicate:
		return "duplicate value " + quoteValue(e.BadValue)
	case field.ErrorTypeNotFound:
		return "not found: " + quoteValue(e.BadValue)
	case field.ErrorTypeRequired:
		if e.Detail == "" {
			return "required value"
		}
		return e.Detail
	}
	if e.Detail == "" {
		return strings.ToLower(e.Type.String())
	}
	return e.Detail
}

// quoteValue renders a bad value for a message: strings quoted, other values
// as fmt prints them.
func quoteValue(v any) string {
	if s, ok := v.(fmt.Stringer); ok {
		return fmt.Sprintf("%q", s.String())
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
		return fmt.Sprintf("%q", rv.String())
	}
	return fmt.Sprint(v)
}

// issues accumulates the findings about one document: errors, warnings and
// the fields parsed but not run yet.
type issues struct {
	src        Source
	errs       []*FieldError
	warnings   []string
	unhonoured []string
}

// add records a FieldError on the given field path (nil for none).
// A field already reported as unknown is not reported again as unsupported.
func (is *issues) add(path *field.Path, msg string) {
	f := pathString(path)
	if msg == msgNotSupported {
		for _, e := range is.errs {
			if e.Field == f && e.Source == is.src {
				return
			}
		}
	}
	is.errs = append(is.errs, &FieldError{Source: is.src, Field: f, Msg: msg})
}

// msgNotSupported is the message for a field outside the product's surface.
const msgNotSupported = "not supported by reconciler"

// addList records apimachinery validation errors.
func (is *issues) addList(list field.ErrorList) {
	is.errs = append(is.errs, fromFieldErrors(is.src, list)...)
}

// warn records a warning on the given field path (nil for none).
func (is *issues) warn(path *field.Path, msg string) {
	if path == nil {
		is.warnings = append(is.warnings, is.src.String()+": "+msg)
		return
	}
	is.warnings = append(is.warnings, is.src.String()+": "+path.String()+": "+msg)
}

// pathString renders a field path, "" for nil.
func pathString(p *field.Path) string {
	if p == nil {
		return ""
	}
	return p.String()
}
