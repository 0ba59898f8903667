package sops

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"time"
)

// newMAC returns the hash a document's MAC is computed with. With
// mac_only_encrypted, sops seeds it with SHA-256("sops") so that the two
// kinds of MAC never collide.
func newMAC(macOnlyEncrypted bool) hash.Hash {
	h := sha512.New()
	if macOnlyEncrypted {
		seed := sha256.Sum256([]byte("sops"))
		h.Write(seed[:])
	}
	return h
}

// macBytes is the clear text of one value as the MAC sees it: strings as
// is, ints in decimal, floats in the shortest decimal form without an
// exponent, booleans as "True" or "False", timestamps in RFC 3339 with
// nanoseconds.
func macBytes(v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return []byte(v), nil
	case int:
		return []byte(strconv.Itoa(v)), nil
	case float64:
		return []byte(strconv.FormatFloat(v, 'f', -1, 64)), nil
	case bool:
		if v {
			return []byte("True"), nil
		}
		return []byte("False"), nil
	case time.Time:
		b, err := v.MarshalText()
		if err != nil {
			return nil, fmt.Errorf("timestamp out of range: %w", ErrMalformed)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("value of type %T is not supported by sops: %w", v, ErrMalformed)
	}
}

// verifyMAC opens the MAC stored in m with the data key and compares it
// with sum, the hash of the document's clear text.
func verifyMAC(m metadata, key, sum []byte, at position) error {
	at = at.at("sops.mac")
	if m.MAC == "" {
		return at.fail(ErrMACMismatch, "the document has no mac")
	}
	aad, err := m.macAAD(at)
	if err != nil {
		return err
	}
	stored, err := decryptValue(m.MAC, key, aad)
	if err != nil {
		return at.wrap(err)
	}
	text, ok := stored.(string)
	if !ok {
		return at.fail(ErrMalformed, "mac is not a string")
	}
	want, err := hex.DecodeString(text)
	if err != nil || subtle.ConstantTimeCompare(want, sum) != 1 {
		return at.fail(ErrMACMismatch, "values do not match the mac")
	}
	return nil
}
