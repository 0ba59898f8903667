package config

import (
	"bytes"
)

// document is one YAML document of a file: its zero-based index in the
// file's stream, the file line it starts on (1-based, for error messages) and
// its text.
type document struct {
	index int
	line  int
	data  []byte
}

// splitYAML cuts a YAML stream into documents the way a YAML parser numbers
// them: every "---" marker at the start of a line begins a new document
// (text after the marker on the same line belongs to it unless it is a
// comment); text before the first marker is a document only if it holds
// more than comments and blank lines. Empty documents keep their index so
// the documents after them are numbered as any YAML tool would; callers skip
// them. A "..." end marker line is dropped.
func splitYAML(data []byte) []document {
	var docs []document
	cur := document{index: 0, line: 1}
	explicit := false // cur was opened by a "---" marker
	lineNo := 0
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		lineNo++
		if rest, ok := docMarker(line); ok {
			if explicit || hasContent(cur.data) {
				docs = append(docs, cur)
				cur = document{index: cur.index + 1}
			}
			cur.line, cur.data, explicit = lineNo+1, nil, true
			if !isBlankOrComment(rest) {
				cur.line, cur.data = lineNo, append(cur.data, rest...)
			}
			continue
		}
		if isEndMarker(line) {
			continue
		}
		cur.data = append(cur.data, line...)
	}
	if explicit || hasContent(cur.data) {
		docs = append(docs, cur)
	}
	return docs
}

// docMarker reports whether line starts with a "---" document marker and
// returns what follows it on the line.
func docMarker(line []byte) ([]byte, bool) {
	if !bytes.HasPrefix(line, []byte("---")) {
		return nil, false
	}
	rest := line[3:]
	if len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r' {
		return rest, true
	}
	return nil, false
}

// isEndMarker reports whether line is a "..." document end marker.
func isEndMarker(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("...")) {
		return false
	}
	return isBlankOrComment(line[3:])
}

// isBlankOrComment reports whether s is empty, blank, or a comment.
func isBlankOrComment(s []byte) bool {
	s = bytes.TrimSpace(s)
	return len(s) == 0 || s[0] == '#'
}

// hasContent reports whether a YAML text has anything but blank lines,
// comments and directives ("%YAML 1.2").
func hasContent(data []byte) bool {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		t := bytes.TrimSpace(line)
		if len(t) > 0 && t[0] != '#' && t[0] != '%' {
			return true
		}
	}
	return false
}
