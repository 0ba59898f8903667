package gitsync

import (
	"bytes"
	"errors"
	"fmt"
	"os"
)

// errEmptySecret is returned for a secret file with nothing in it.
var errEmptySecret = errors.New("file is empty")

// LoadSecret reads a secret (a webhook secret, a token) from a file, without
// the trailing newline editors and `echo` leave. An empty file is an error:
// an empty HMAC key would accept signatures anyone can compute. Errors name
// the file, never its content.
func LoadSecret(path string) ([]byte, error) {
	b, err := readSecretFile(path)
	if err != nil {
		return nil, fmt.Errorf("gitsync: secret: %w", err)
	}
	return b, nil
}

// readSecretFile reads path and trims trailing CR and LF characters.
func readSecretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err // an *fs.PathError: it names the file
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: %w", path, errEmptySecret)
	}
	return b, nil
}
