package sops

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors wrapped by Decrypt. Every error Decrypt returns names the
// file, the document ("file#0" for the first, as package config numbers
// them) and, when there is one, the key path; none quotes a decrypted value
// or the data key.
var (
	// ErrNoMatchingKey reports that none of the Decryptor's age identities
	// opens the data key of a document (or that the data key is only
	// encrypted to non-age keys). The fix is a key, not the file.
	ErrNoMatchingKey = errors.New("no age identity matches a recipient of the data key")

	// ErrMACMismatch reports that a document fails its integrity check: a
	// value or the MAC does not authenticate under the data key, or the MAC
	// over the clear-text values differs from the one stored. The file was
	// changed without sops, or was damaged.
	ErrMACMismatch = errors.New("mac mismatch")

	// ErrMalformed reports a document that is not valid SOPS: a missing or
	// unreadable metadata field, an encrypted value that does not parse, a
	// data key of the wrong size.
	ErrMalformed = errors.New("malformed sops document")

	// ErrUnsupported reports valid SOPS that this package does not decrypt:
	// Shamir key groups, comment-regex encryption rules, YAML aliases.
	ErrUnsupported = errors.New("unsupported sops feature")
)

// position is where in a file an error happened: the file, the zero-based
// document index (-1 for the file as a whole) and, when known, the key path
// ("stringData.password", "spec.containers[0].env[1].value", "sops.mac").
type position struct {
	file string
	doc  int
	key  string
}

// at returns p with its key path set to key.
func (p position) at(key string) position {
	p.key = key
	return p
}

// String renders p as "file#doc: key \"path\"", "file#doc" or "file".
func (p position) String() string {
	s := p.file
	if p.doc >= 0 {
		s += "#" + strconv.Itoa(p.doc)
	}
	if p.key != "" {
		s += ": key " + strconv.Quote(p.key)
	}
	return s
}

// fail builds an error located at p whose message is msg and which wraps
// sentinel. msg must never contain plain text from the document.
func (p position) fail(sentinel error, msg string) error {
	return fmt.Errorf("sops: %v: %s: %w", p, msg, sentinel)
}

// wrap locates err at p. err must already be free of plain text.
func (p position) wrap(err error) error {
	return fmt.Errorf("sops: %v: %w", p, err)
}

// malformed marks err, a parse or format failure, as ErrMalformed.
func malformed(err error) error {
	if errors.Is(err, ErrMalformed) {
		return err
	}
	return fmt.Errorf("%w: %w", err, ErrMalformed)
}
