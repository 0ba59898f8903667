package fleet

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrNoKey is returned (wrapped) by New when Options.Key is empty, and by
// LoadKey for an empty file: an unencrypted fleet would let any host that
// reaches the gossip port join it.
var ErrNoKey = errors.New("a gossip key is required")

// LoadKey reads a gossip key file: the base64 encoding (standard alphabet,
// as `serf keygen` prints it) of 16, 24 or 32 random bytes, selecting
// AES-128, -192 or -256. Surrounding white space is ignored. Errors name the
// file and the problem, never the key.
func LoadKey(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fleet: read key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("fleet: key file %s: not base64 (generate one with `head -c 32 /dev/urandom | base64`)", path)
	}
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("fleet: key file %s: %w", path, err)
	}
	return key, nil
}

// checkKey accepts the AES key sizes memberlist supports.
func checkKey(key []byte) error {
	switch len(key) {
	case 16, 24, 32:
		return nil
	case 0:
		return ErrNoKey
	}
	return fmt.Errorf("key is %d bytes, want 16, 24 or 32", len(key))
}

// GenerateKey returns a new random 32-byte key, base64-encoded, in the form
// LoadKey reads.
func GenerateKey() (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("fleet: generate key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(key), nil
}
