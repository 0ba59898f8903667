package lb

import (
	"bufio"
	"bytes"
	"io"
)

// maxHead bounds a request or response head (start line and fields), as
// nginx's large_client_header_buffers do; net/http allows 1 MiB.
const maxHead = 64 << 10

// headError is a malformed or unsupported message head, with the status a
// request gets for it.
type headError struct {
	status int
	msg    string
}

func (e *headError) Error() string { return e.msg }

var (
	errBadRequest = &headError{400, "malformed HTTP head"}
	errSmuggling  = &headError{400, "both Content-Length and Transfer-Encoding"}
	errLength     = &headError{400, "invalid Content-Length"}
	errNoHost     = &headError{400, "missing or repeated Host"}
	errTooLarge   = &headError{431, "HTTP head too large"}
	errCoding     = &headError{501, "unsupported Transfer-Encoding"}
	errExpect     = &headError{417, "unsupported Expect"}
	errVersion    = &headError{505, "unsupported HTTP version"}
	errMethod     = &headError{405, "CONNECT is not proxied"}
)

// span is a range of head.buf.
type span struct{ off, end int32 }

func (s span) len() int { return int(s.end - s.off) }

// fieldID names the header fields the proxy acts on.
type fieldID uint8

const (
	fOther fieldID = iota
	fHost
	fContentLength
	fTransferEncoding
	fConnection
	fKeepAlive
	fProxy // Proxy-*: Proxy-Connection, Proxy-Authorization, Proxy-Authenticate...
	fTE
	fTrailer
	fUpgrade
	fExpect
	fXForwardedFor
	fXForwardedHost
	fXForwardedProto
)

type field struct {
	name, value span
	id          fieldID
}

// head is a parsed HTTP/1.x message head. Its bytes are copied into buf,
// which is reused from message to message, so parsing does not allocate
// once the buffers have grown.
type head struct {
	buf    []byte
	fields []field
	tokens []span // Connection options other than close, keep-alive, upgrade

	method, target span // request line
	status         int  // status line: the code
	reason         span // the code and the reason phrase, "200 OK"
	minor          int  // HTTP/1.minor

	length     int64 // Content-Length, -1 when absent
	chunked    bool  // Transfer-Encoding: chunked
	close      bool  // the connection ends after this message
	keepAlive  bool  // Connection: keep-alive
	upgrade    bool  // Connection: upgrade with an Upgrade field (HTTP/1.1)
	host       span  // the Host field's value
	hasHost    bool
	expect100  bool // Expect: 100-continue
	teTrailers bool // TE: trailers
	trailer    bool // a Trailer field announces trailers
	connUp     bool // Connection lists upgrade
	hasUpgrade bool // an Upgrade field
}

func (h *head) bytes(s span) []byte { return h.buf[s.off:s.end] }

func (h *head) reset() {
	h.buf, h.fields, h.tokens = h.buf[:0], h.fields[:0], h.tokens[:0]
	h.length, h.status, h.minor = -1, 0, 1
	h.chunked, h.close, h.keepAlive, h.upgrade, h.hasHost = false, false, false, false, false
	h.expect100, h.teTrailers, h.trailer, h.connUp, h.hasUpgrade = false, false, false, false, false
}

// readLine appends one line to buf and returns it without its CRLF (or
// bare LF). io.EOF means the peer closed before the head began.
func (h *head) readLine(br *bufio.Reader) (span, error) {
	start := len(h.buf)
	for {
		frag, err := br.ReadSlice('\n')
		if len(h.buf)+len(frag) > maxHead {
			return span{}, errTooLarge
		}
		h.buf = append(h.buf, frag...)
		if err == nil {
			break
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(h.buf) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return span{}, err
	}
	end := len(h.buf) - 1
	if end > start && h.buf[end-1] == '\r' {
		end--
	}
	return span{int32(start), int32(end)}, nil
}

// readFields reads header fields up to the empty line.
func (h *head) readFields(br *bufio.Reader) error {
	for {
		line, err := h.readLine(br)
		if err != nil {
			return err
		}
		if line.len() == 0 {
			return nil
		}
		if err := h.parseField(line); err != nil {
			return err
		}
	}
}

// readRequest reads and checks a request head. Up to four empty lines
// before the request line are ignored (RFC 9112 section 2.2).
func (h *head) readRequest(br *bufio.Reader) error {
	h.reset()
	var line span
	var err error
	for i := 0; line.len() == 0; i++ {
		if i == 5 {
			return errBadRequest
		}
		if line, err = h.readLine(br); err != nil {
			return err
		}
	}
	if err := h.parseRequestLine(line); err != nil {
		return err
	}
	if err := h.readFields(br); err != nil {
		return err
	}
	return h.requestSemantics()
}

// readResponse reads and checks a response head.
func (h *head) readResponse(br *bufio.Reader) error {
	h.reset()
	line, err := h.readLine(br)
	if err != nil {
		return err
	}
	if err := h.parseStatusLine(line); err != nil {
		return err
	}
	if err := h.readFields(br); err != nil {
		return err
	}
	return h.semantics(false)
}

func (h *head) parseRequestLine(s span) error {
	b := h.bytes(s)
	sp1 := bytes.IndexByte(b, ' ')
	if sp1 <= 0 || !isToken(b[:sp1]) {
		return errBadRequest
	}
	rest := b[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return errBadRequest
	}
	for _, c := range rest[:sp2] {
		if c <= ' ' || c == 0x7f {
			return errBadRequest
		}
	}
	h.method = span{s.off, s.off + int32(sp1)}
	h.target = span{h.method.end + 1, h.method.end + 1 + int32(sp2)}
	if string(b[:sp1]) == "CONNECT" {
		return errMethod
	}
	return h.parseVersion(rest[sp2+1:])
}

func (h *head) parseVersion(v []byte) error {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' || !isDigit(v[5]) || !isDigit(v[7]) {
		return errBadRequest
	}
	if v[5] != '1' || v[7] > '1' {
		return errVersion
	}
	h.minor = int(v[7] - '0')
	return nil
}

// parseStatusLine reads "HTTP/1.x 200 OK"; the reason phrase may be empty.
func (h *head) parseStatusLine(s span) error {
	b := h.bytes(s)
	if len(b) < 12 || b[8] != ' ' || (len(b) > 12 && b[12] != ' ') {
		return errBadRequest
	}
	if err := h.parseVersion(b[:8]); err != nil {
		return err
	}
	code := b[9:12]
	if !isDigit(code[0]) || !isDigit(code[1]) || !isDigit(code[2]) || code[0] == '0' {
		return errBadRequest
	}
	h.status = int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	if !validValue(b[12:]) {
		return errBadRequest
	}
	h.reason = span{s.off + 9, s.end}
	return nil
}

// parseField checks a field line and records it. Obsolete line folding and
// whitespace before the colon are rejected (RFC 9112 section 5).
func (h *head) parseField(s span) error {
	b := h.bytes(s)
	colon := bytes.IndexByte(b, ':')
	if colon <= 0 || !isToken(b[:colon]) {
		return errBadRequest
	}
	v0, v1 := colon+1, len(b)
	for v0 < v1 && (b[v0] == ' ' || b[v0] == '\t') {
		v0++
	}
	for v1 > v0 && (b[v1-1] == ' ' || b[v1-1] == '\t') {
		v1--
	}
	if !validValue(b[v0:v1]) {
		return errBadRequest
	}
	h.fields = append(h.fields, field{
		name:  span{s.off, s.off + int32(colon)},
		value: span{s.off + int32(v0), s.off + int32(v1)},
		id:    classify(b[:colon]),
	})
	return nil
}

// requestSemantics adds the rules that only requests have.
func (h *head) requestSemantics() error {
	if err := h.semantics(true); err != nil {
		return err
	}
	if h.chunked && h.minor == 0 {
		return errBadRequest // Transfer-Encoding is HTTP/1.1
	}
	if h.minor == 1 && !h.hasHost {
		return errNoHost
	}
	return nil
}

// semantics derives framing and connection handling from the fields. A
// message with both Content-Length and Transfer-Encoding, with conflicting
// or invalid lengths, or with a coding other than chunked is refused, as
// net/http refuses it: that is what request smuggling relies on.
func (h *head) semantics(request bool) error {
	for i := range h.fields {
		f := &h.fields[i]
		v := h.bytes(f.value)
		switch f.id {
		case fContentLength:
			n, ok := parseLength(v)
			if !ok || (h.length >= 0 && h.length != n) {
				return errLength
			}
			h.length = n
		case fTransferEncoding:
			if h.chunked || !equalFold(v, "chunked") {
				return errCoding
			}
			h.chunked = true
		case fConnection:
			h.connectionOptions(f.value)
		case fHost:
			if !request {
				continue
			}
			if h.hasHost {
				return errNoHost
			}
			h.hasHost, h.host = true, f.value
		case fExpect:
			if !request {
				continue
			}
			if !equalFold(v, "100-continue") {
				return errExpect
			}
			h.expect100 = true
		case fTE:
			h.teTrailers = hasToken(v, "trailers")
		case fTrailer:
			h.trailer = true
		case fUpgrade:
			h.hasUpgrade = true
		}
	}
	if h.length >= 0 && h.chunked {
		return errSmuggling
	}
	if h.minor == 0 && !h.keepAlive {
		h.close = true
	}
	h.upgrade = h.connUp && h.hasUpgrade && h.minor == 1
	return nil
}

// connectionOptions reads a Connection field's comma-separated options.
func (h *head) connectionOptions(s span) {
	b := h.buf
	for i := s.off; i < s.end; {
		j := i
		for j < s.end && b[j] != ',' {
			j++
		}
		t0, t1 := i, j
		for t0 < t1 && (b[t0] == ' ' || b[t0] == '\t') {
			t0++
		}
		for t1 > t0 && (b[t1-1] == ' ' || b[t1-1] == '\t') {
			t1--
		}
		switch tok := b[t0:t1]; {
		case len(tok) == 0:
		case equalFold(tok, "close"):
			h.close = true
		case equalFold(tok, "keep-alive"):
			h.keepAlive = true
		case equalFold(tok, "upgrade"):
			h.connUp = true
		default:
			h.tokens = append(h.tokens, span{t0, t1})
		}
		i = j + 1
	}
}

// nominated reports whether the Connection field names the field f, which
// makes it hop-by-hop.
func (h *head) nominated(f *field) bool {
	name := h.bytes(f.name)
	for _, t := range h.tokens {
		if bytes.EqualFold(name, h.bytes(t)) {
			return true
		}
	}
	return false
}

// isHopByHop reports the fields that apply to one connection only and are
// never forwarded as received; the proxy writes its own framing and
// connection fields.
func (h *head) isHopByHop(f *field) bool {
	switch f.id {
	case fConnection, fKeepAlive, fProxy, fTE, fTransferEncoding, fUpgrade, fContentLength:
		return true
	}
	return len(h.tokens) > 0 && h.nominated(f)
}

func classify(name []byte) fieldID {
	switch len(name) {
	case 2:
		if equalFold(name, "te") {
			return fTE
		}
	case 4:
		if equalFold(name, "host") {
			return fHost
		}
	case 6:
		if equalFold(name, "expect") {
			return fExpect
		}
	case 7:
		if equalFold(name, "trailer") {
			return fTrailer
		}
		if equalFold(name, "upgrade") {
			return fUpgrade
		}
	case 10:
		if equalFold(name, "connection") {
			return fConnection
		}
		if equalFold(name, "keep-alive") {
			return fKeepAlive
		}
	case 14:
		if equalFold(name, "content-length") {
			return fContentLength
		}
	case 15:
		if equalFold(name, "x-forwarded-for") {
			return fXForwardedFor
		}
	case 16:
		if equalFold(name, "x-forwarded-host") {
			return fXForwardedHost
		}
	case 17:
		if equalFold(name, "transfer-encoding") {
			return fTransferEncoding
		}
		if equalFold(name, "x-forwarded-proto") {
			return fXForwardedProto
		}
	}
	if len(name) > 6 && equalFold(name[:6], "proxy-") {
		return fProxy
	}
	return fOther
}

// equalFold compares ASCII case-insensitively with a lower-case constant.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// hasToken reports whether a comma-separated list has the token.
func hasToken(v []byte, lower string) bool {
	for len(v) > 0 {
		var t []byte
		t, v, _ = bytes.Cut(v, []byte{','})
		if equalFold(bytes.TrimSpace(t), lower) {
			return true
		}
	}
	return false
}

// parseLength parses a Content-Length: decimal digits only, no sign, no
// list, at most 18 digits so that it cannot overflow.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// tchar is RFC 9110's token character set.
var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func isToken(b []byte) bool {
	for _, c := range b {
		if !tchar[c] {
			return false
		}
	}
	return len(b) > 0
}

// validValue rejects control characters other than tab, as net/http does.
func validValue(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
