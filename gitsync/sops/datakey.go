package sops

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// openDataKey recovers the 32-byte data key from the first age entry one of
// d's identities opens. It fails with ErrNoMatchingKey when none does, and
// with ErrMalformed when the entries could not even be read.
func (d *Decryptor) openDataKey(entries []ageEntry, at position) ([]byte, error) {
	at = at.at("sops.age")
	if len(entries) == 0 {
		return nil, at.fail(ErrNoMatchingKey, "the data key has no age recipients")
	}
	if len(d.identities) == 0 {
		return nil, at.fail(ErrNoMatchingKey, "no age identities are configured")
	}
	var (
		broken  error
		noMatch bool
	)
	for _, e := range entries {
		key, err := d.openEntry(e)
		if err == nil {
			return key, nil
		}
		var nm *age.NoIdentityMatchError
		switch {
		case errors.As(err, &nm):
			noMatch = true
		case broken == nil:
			broken = err
		}
	}
	if !noMatch {
		return nil, at.wrap(malformed(broken))
	}
	return nil, at.fail(ErrNoMatchingKey, "recipients "+recipients(entries))
}

// openEntry decrypts one armored age file and checks that it holds a data
// key of the right size.
func (d *Decryptor) openEntry(e ageEntry) ([]byte, error) {
	r, err := age.Decrypt(armor.NewReader(strings.NewReader(e.Enc)), d.identities...)
	if err != nil {
		return nil, err
	}
	key, err := io.ReadAll(io.LimitReader(r, keySize+1))
	if err != nil {
		return nil, fmt.Errorf("read age payload: %w", err)
	}
	if len(key) != keySize {
		return nil, errBadDataKey
	}
	return key, nil
}

// recipients lists the entries' public recipients for an error message.
func recipients(entries []ageEntry) string {
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Recipient)
	}
	return strings.Join(names, ", ")
}
