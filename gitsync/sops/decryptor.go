package sops

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"filippo.io/age"
	"gopkg.in/yaml.v3"
)

// Decryptor decrypts SOPS-encrypted manifests with a fixed set of age
// identities. It holds no other state and is safe for concurrent use.
type Decryptor struct {
	identities []age.Identity
}

// NewDecryptor returns a Decryptor that opens data keys with identities
// (for example from LoadAgeKeyFile). With no identities every encrypted
// file fails with ErrNoMatchingKey, and plain files still pass through.
func NewDecryptor(identities []age.Identity) *Decryptor {
	return &Decryptor{identities: slices.Clone(identities)}
}

// LoadAgeKeyFile reads an age key file, as written by age-keygen and read
// by sops through SOPS_AGE_KEY_FILE: one AGE-SECRET-KEY-1... per line,
// with blank lines and "#" comments ignored. It fails if the file holds no
// key.
func LoadAgeKeyFile(path string) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sops: load age key file: %w", err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("sops: load age key file %q: %w", path, err)
	}
	return ids, nil
}

// Decrypt returns the clear text of data, the content of file (a path used
// to choose the format and to name the file in errors): JSON when file
// ends in ".json", YAML otherwise.
//
// Data without a top-level "sops" key in any document, and data that does
// not parse (the manifest decoder reports that), is returned unchanged.
// Otherwise Decrypt returns the documents with their values decrypted, the
// "sops" key removed and comments dropped, in the same format; key order is
// kept. Nothing is returned unless every encrypted document's MAC verifies.
//
// Errors wrap ErrNoMatchingKey, ErrMACMismatch, ErrMalformed or
// ErrUnsupported and name the file, document and key path; they never
// contain decrypted values or the data key.
func (d *Decryptor) Decrypt(file string, data []byte) ([]byte, error) {
	if !bytes.Contains(data, []byte(metadataKey)) {
		return data, nil
	}
	if strings.EqualFold(path.Ext(file), ".json") {
		return d.decryptJSON(file, data)
	}
	return d.decryptYAML(file, data)
}

// unit is a set of documents that share one sops block: one data key and
// one MAC over all their values, in order.
type unit struct {
	meta  metadata
	roots []*yaml.Node // root mappings, "sops" key removed
	docs  []int        // document index of each root, for errors
}

// decryptUnit decrypts a unit's documents in place and verifies its MAC.
func (d *Decryptor) decryptUnit(u unit, c codec, file string) error {
	at := position{file: file, doc: u.docs[0]}
	r, err := u.meta.rule(at)
	if err != nil {
		return err
	}
	entries, err := u.meta.ageEntries(at)
	if err != nil {
		return err
	}
	key, err := d.openDataKey(entries, at)
	if err != nil {
		return err
	}
	defer clear(key)
	w := walker{
		key:     key,
		rule:    r,
		codec:   c,
		mac:     newMAC(u.meta.MACOnlyEncrypted),
		macOnly: u.meta.MACOnlyEncrypted,
	}
	for i, root := range u.roots {
		w.at = position{file: file, doc: u.docs[i]}
		if err := w.document(root); err != nil {
			return err
		}
	}
	return verifyMAC(u.meta, key, w.mac.Sum(nil), at)
}

// sopsKey returns the index in root.Content of the top-level "sops" key,
// or -1.
func sopsKey(root *yaml.Node) int {
	if root == nil || root.Kind != yaml.MappingNode {
		return -1
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if k.Kind == yaml.ScalarNode && k.Value == metadataKey && k.ShortTag() == "!!str" {
			return i
		}
	}
	return -1
}

// takeMetadata parses and removes the "sops" key of a root mapping. found
// is false when root has none.
func takeMetadata(root *yaml.Node, at position) (m metadata, found bool, err error) {
	i := sopsKey(root)
	if i < 0 {
		return metadata{}, false, nil
	}
	value := root.Content[i+1]
	root.Content = slices.Delete(root.Content, i, i+2)
	if sopsKey(root) >= 0 {
		return metadata{}, true, at.at(metadataKey).fail(ErrMalformed, "duplicate key")
	}
	m, err = parseMetadata(value, at)
	return m, true, err
}
