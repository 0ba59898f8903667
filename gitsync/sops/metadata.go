package sops

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// metadataKey is the top-level key under which sops stores its metadata.
const metadataKey = "sops"

// defaultUnencryptedSuffix is the rule sops applies when the metadata names
// none.
const defaultUnencryptedSuffix = "_unencrypted"

// metadata is the part of a sops block this package reads. Fields of other
// key services (pgp, kms, gcp_kms, azure_kv, hc_vault) are ignored.
type metadata struct {
	Age                     []ageEntry `yaml:"age"`
	KeyGroups               []keyGroup `yaml:"key_groups"`
	ShamirThreshold         int        `yaml:"shamir_threshold"`
	LastModified            string     `yaml:"lastmodified"`
	MAC                     string     `yaml:"mac"`
	UnencryptedSuffix       string     `yaml:"unencrypted_suffix"`
	EncryptedSuffix         string     `yaml:"encrypted_suffix"`
	UnencryptedRegex        string     `yaml:"unencrypted_regex"`
	EncryptedRegex          string     `yaml:"encrypted_regex"`
	UnencryptedCommentRegex string     `yaml:"unencrypted_comment_regex"`
	EncryptedCommentRegex   string     `yaml:"encrypted_comment_regex"`
	MACOnlyEncrypted        bool       `yaml:"mac_only_encrypted"`
	Version                 string     `yaml:"version"`
}

// ageEntry is one age recipient of the data key and the data key encrypted
// to it, as an ASCII-armored age file.
type ageEntry struct {
	Recipient string `yaml:"recipient"`
	Enc       string `yaml:"enc"`
}

// keyGroup is one entry of sops.key_groups; only its age keys matter here.
type keyGroup struct {
	Age []ageEntry `yaml:"age"`
}

// parseMetadata decodes the value of a top-level "sops" key.
func parseMetadata(n *yaml.Node, at position) (metadata, error) {
	at = at.at(metadataKey)
	if n.Kind != yaml.MappingNode {
		return metadata{}, at.fail(ErrMalformed, "metadata is not a mapping")
	}
	var m metadata
	if err := n.Decode(&m); err != nil {
		return metadata{}, at.wrap(malformed(err))
	}
	return m, nil
}

// ageEntries returns the age keys that encrypt the whole data key: the
// top-level list, or the age keys of the only key group. Several key
// groups split the data key with Shamir's scheme, which is unsupported.
func (m metadata) ageEntries(at position) ([]ageEntry, error) {
	if len(m.KeyGroups) > 1 {
		return nil, at.at("sops.key_groups").fail(ErrUnsupported, "data key is split across key groups (shamir)")
	}
	if len(m.Age) == 0 && len(m.KeyGroups) == 1 {
		return m.KeyGroups[0].Age, nil
	}
	return m.Age, nil
}

// macAAD returns the additional data the MAC is sealed with: lastmodified,
// parsed and re-formatted in RFC 3339 as sops does.
func (m metadata) macAAD(at position) (string, error) {
	t, err := time.Parse(time.RFC3339, m.LastModified)
	if err != nil {
		return "", at.at("sops.lastmodified").fail(ErrMalformed, "not an RFC 3339 time")
	}
	return t.Format(time.RFC3339), nil
}

// rule decides which values of a document are encrypted. sops allows one
// rule per file; with none, unencrypted_suffix "_unencrypted" applies.
type rule struct {
	// suffix is matched with strings.HasSuffix, re with MatchString.
	suffix string
	re     *regexp.Regexp
	// encrypt tells whether a path with a matching key is encrypted (the
	// encrypted_* rules) or left in clear text (the unencrypted_* rules).
	encrypt bool
}

// rule returns the document's encryption rule.
func (m metadata) rule(at position) (rule, error) {
	at = at.at(metadataKey)
	if m.UnencryptedCommentRegex != "" || m.EncryptedCommentRegex != "" {
		return rule{}, at.fail(ErrUnsupported, "comment-regex encryption rules are not supported")
	}
	set := 0
	for _, s := range []string{m.UnencryptedSuffix, m.EncryptedSuffix, m.UnencryptedRegex, m.EncryptedRegex} {
		if s != "" {
			set++
		}
	}
	if set > 1 {
		return rule{}, at.fail(ErrMalformed, "more than one of unencrypted_suffix, encrypted_suffix, unencrypted_regex and encrypted_regex")
	}
	switch {
	case m.EncryptedSuffix != "":
		return rule{suffix: m.EncryptedSuffix, encrypt: true}, nil
	case m.EncryptedRegex != "":
		return compileRule(m.EncryptedRegex, true, at.at("sops.encrypted_regex"))
	case m.UnencryptedRegex != "":
		return compileRule(m.UnencryptedRegex, false, at.at("sops.unencrypted_regex"))
	case m.UnencryptedSuffix != "":
		return rule{suffix: m.UnencryptedSuffix}, nil
	default:
		return rule{suffix: defaultUnencryptedSuffix}, nil
	}
}

// compileRule builds a regex rule.
func compileRule(expr string, encrypt bool, at position) (rule, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return rule{}, at.wrap(malformed(err))
	}
	return rule{re: re, encrypt: encrypt}, nil
}

// encrypted reports whether the value at path (its mapping keys from the
// root) is encrypted: whether any key on the path matches, for the
// encrypted_* rules, or none does, for the unencrypted_* rules.
func (r rule) encrypted(path []string) bool {
	match := slices.ContainsFunc(path, func(key string) bool {
		if r.re != nil {
			return r.re.MatchString(key)
		}
		return strings.HasSuffix(key, r.suffix)
	})
	return match == r.encrypt
}
