// Package sops decrypts, in memory, Kubernetes manifests that were encrypted
// with SOPS (https://github.com/getsops/sops) to age recipients: the files
// Flux users keep in Git next to their plain manifests.
//
// # Why not the SOPS module
//
// SOPS ships a decryption package, github.com/getsops/sops/v3/decrypt, but
// it links every key service SOPS knows (AWS KMS, GCP KMS, Azure Key Vault,
// HashiCorp Vault, PGP) and their SDKs: dozens of modules for a daemon that
// only ever opens age-encrypted data keys. This package implements the
// age-only subset of the SOPS file format on filippo.io/age and the standard
// library instead, and verifies each file's MAC the way SOPS does.
//
// # The format, as implemented here
//
// A SOPS file is a YAML stream or a JSON object whose mapping keys are in
// clear text and whose leaf values are replaced by strings of the form
//
//	ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:<str|int|float|bool|bytes|time|comment>]
//
// with standard, padded base64. Each value is sealed with AES-256-GCM under
// the file's random 32-byte data key, with a 32-byte IV (the IV length is
// taken from the value) and a 16-byte tag stored apart from the ciphertext.
// The additional data is the path of mapping keys from the document root to
// the value, each followed by ":" ("stringData:password:"); list indices
// are not part of it. Empty strings and nulls are never encrypted.
//
// Which values are encrypted follows the single rule in the metadata:
// unencrypted_suffix (the default, "_unencrypted"), encrypted_suffix,
// unencrypted_regex or encrypted_regex, each tested against every key on
// the value's path; Flux users typically set encrypted_regex to
// "^(data|stringData)$".
//
// The metadata lives under the top-level key "sops". sops.age lists one
// entry per recipient, whose "enc" holds the data key encrypted to that
// recipient as an ASCII-armored age file. sops.mac is the MAC: SHA-512 over
// the clear-text bytes of every leaf value in document order (strings as
// is, ints in decimal, floats in the shortest decimal form without
// exponent, booleans as "True" or "False", timestamps in RFC 3339; nulls
// and comments contribute nothing), written as upper-case hex and itself
// encrypted as a "str" value whose additional data is sops.lastmodified
// re-formatted in RFC 3339. With mac_only_encrypted the hash starts with
// SHA-256("sops") and covers only the encrypted values.
//
// A multi-document YAML file that sops encrypted carries the same sops block
// in every document: one data key and one MAC over all documents in order.
// Documents are therefore grouped by equal sops blocks, and each group is
// decrypted and verified as one; documents encrypted one by one and then
// concatenated form groups of one, and documents without a block pass
// through as they are.
//
// # Not supported
//
// Data keys encrypted only to PGP, cloud KMS or Vault keys give
// ErrNoMatchingKey. Shamir secret sharing over several key groups, the
// encrypted_comment_regex and unencrypted_comment_regex rules, and YAML
// aliases inside encrypted documents (which sops never writes) give
// ErrUnsupported. Comments of an encrypted document, encrypted or not, are
// dropped rather than decrypted; the MAC does not cover them. Values of
// type "bytes" come back as strings. Only the YAML and JSON stores are
// read (not INI, dotenv or binary), and sops.version is not checked.
package sops
