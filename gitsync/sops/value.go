package sops

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors of decryptValue, which the walker locates. They say what is wrong
// with a value without quoting it.
var (
	errNotEncrypted = fmt.Errorf("value is not an ENC[AES256_GCM,...] string: %w", ErrMalformed)
	errBadBase64    = fmt.Errorf("encrypted value has invalid base64: %w", ErrMalformed)
	errBadIV        = fmt.Errorf("encrypted value has an empty iv: %w", ErrMalformed)
	errBadTag       = fmt.Errorf("encrypted value has a tag that is not 16 bytes: %w", ErrMalformed)
	errBadType      = fmt.Errorf("encrypted value has an unknown type: %w", ErrMalformed)
	errCommentValue = fmt.Errorf("encrypted value is a comment: %w", ErrMalformed)
	errBadClear     = fmt.Errorf("decrypted value does not parse as its declared type: %w", ErrMalformed)
	errBadDataKey   = fmt.Errorf("data key is not 32 bytes: %w", ErrMalformed)
	errUnauthentic  = fmt.Errorf("value does not authenticate under the data key: %w", ErrMACMismatch)
)

const (
	encPrefix = "ENC[AES256_GCM,"
	encSuffix = "]"
	tagSize   = 16
	keySize   = 32
)

// comment is the plain text of a value of type "comment": an encrypted YAML
// comment. It is only ever dropped.
type comment string

// sealed is one parsed ENC[...] value.
type sealed struct {
	data, iv, tag []byte
	kind          string
}

// parseSealed splits an ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]
// string into its decoded parts.
func parseSealed(s string) (sealed, error) {
	inner, ok := strings.CutPrefix(s, encPrefix)
	if !ok {
		return sealed{}, errNotEncrypted
	}
	inner, ok = strings.CutSuffix(inner, encSuffix)
	if !ok {
		return sealed{}, errNotEncrypted
	}
	fields := strings.Split(inner, ",")
	if len(fields) != 4 {
		return sealed{}, errNotEncrypted
	}
	var parts [3][]byte
	for i, name := range [3]string{"data:", "iv:", "tag:"} {
		text, ok := strings.CutPrefix(fields[i], name)
		if !ok {
			return sealed{}, errNotEncrypted
		}
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return sealed{}, errBadBase64
		}
		parts[i] = b
	}
	kind, ok := strings.CutPrefix(fields[3], "type:")
	if !ok || kind == "" {
		return sealed{}, errNotEncrypted
	}
	v := sealed{data: parts[0], iv: parts[1], tag: parts[2], kind: kind}
	if len(v.iv) == 0 {
		return sealed{}, errBadIV
	}
	if len(v.tag) != tagSize {
		return sealed{}, errBadTag
	}
	return v, nil
}

// open authenticates and decrypts v under key with the given additional
// data. A failure wraps ErrMACMismatch: the value was altered, moved to
// another key, or sealed under another data key.
func (v sealed) open(key []byte, aad string) ([]byte, error) {
	if len(key) != keySize {
		return nil, errBadDataKey
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errBadDataKey
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(v.iv))
	if err != nil {
		return nil, errBadIV
	}
	msg := make([]byte, 0, len(v.data)+len(v.tag))
	msg = append(append(msg, v.data...), v.tag...)
	plain, err := gcm.Open(nil, v.iv, msg, []byte(aad))
	if err != nil {
		return nil, errUnauthentic
	}
	return plain, nil
}

// decryptValue decrypts one ENC[...] string sealed under key with additional
// data aad and returns it as the Go value of its declared type: string,
// int, float64, bool, time.Time or comment. The empty string, which sops
// never encrypts, decrypts to itself.
func decryptValue(s string, key []byte, aad string) (any, error) {
	if s == "" {
		return "", nil
	}
	v, err := parseSealed(s)
	if err != nil {
		return nil, err
	}
	plain, err := v.open(key, aad)
	if err != nil {
		return nil, err
	}
	return typed(v.kind, plain)
}

// typed converts decrypted bytes to the Go value of the sops type kind. Its
// errors never quote the bytes.
func typed(kind string, plain []byte) (any, error) {
	text := string(plain)
	var (
		v   any
		err error
	)
	switch kind {
	case "str", "bytes":
		v = text
	case "int":
		v, err = strconv.Atoi(text)
	case "float":
		v, err = strconv.ParseFloat(text, 64)
	case "bool":
		v, err = strconv.ParseBool(text)
	case "time":
		var t time.Time
		err = t.UnmarshalText(plain)
		v = t
	case "comment":
		v = comment(text)
	default:
		return nil, errBadType
	}
	if err != nil {
		return nil, errBadClear
	}
	return v, nil
}
