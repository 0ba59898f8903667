package gitsync

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Reasons a commit's signature is refused.
var (
	errUnsigned  = errors.New("commit is not signed")
	errUntrusted = errors.New("commit signature is not valid for a trusted key")
)

// pgpSignatureHeader opens an armored OpenPGP signature.
const pgpSignatureHeader = "-----BEGIN PGP SIGNATURE-----"

// readKeyring reads trusted OpenPGP public keys, armored (gpg --export -a)
// or binary (gpg --export).
func readKeyring(file string) (openpgp.EntityList, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%w: keyring: %w", ErrOptions, err)
	}
	keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
	if err != nil {
		keys, err = openpgp.ReadKeyRing(bytes.NewReader(b))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: keyring %s: %w", ErrOptions, file, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: keyring %s holds no keys", ErrOptions, file)
	}
	return keys, nil
}

// verifyCommit checks that c carries exactly one OpenPGP signature, made by
// a key of keyring over the commit's content, and returns the signer. It
// does what go-git's Commit.Verify does, with a keyring parsed once.
func verifyCommit(c *object.Commit, keyring openpgp.EntityList) (*openpgp.Entity, error) {
	if c.PGPSignature == "" {
		return nil, errUnsigned
	}
	if !strings.HasPrefix(c.PGPSignature, pgpSignatureHeader) || strings.Count(c.PGPSignature, pgpSignatureHeader) != 1 {
		return nil, fmt.Errorf("%w: not a single OpenPGP signature", errUntrusted)
	}
	encoded := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(encoded); err != nil {
		return nil, fmt.Errorf("encode commit: %w", err)
	}
	r, err := encoded.Reader()
	if err != nil {
		return nil, fmt.Errorf("encode commit: %w", err)
	}
	signer, err := openpgp.CheckArmoredDetachedSignature(keyring, r, strings.NewReader(c.PGPSignature), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUntrusted, err)
	}
	return signer, nil
}
