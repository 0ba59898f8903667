package sops

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"filippo.io/age"
)

// The golden tests pin the wire format without the test encryptor: values
// are sealed here with crypto/aes and crypto/cipher directly, from a fixed
// data key and fixed IVs, so the expected strings are constants.

// goldenKey is the data key 00 01 02 ... 1f.
func goldenKey() []byte {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	return key
}

// goldenIV returns 32 consecutive bytes starting at first.
func goldenIV(first byte) []byte {
	iv := make([]byte, 32)
	for i := range iv {
		iv[i] = first + byte(i)
	}
	return iv
}

const (
	// goldenPassword is "hunter2" sealed under goldenKey with IV a0..bf
	// and additional data "stringData:password:".
	goldenPassword = "ENC[AES256_GCM,data:wc2c8qfNLA==,iv:oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8=,tag:3ysMBnsQtkeiLPaf3SBA1A==,type:str]"
	// goldenMACHex is SHA-512("hunter2") in upper-case hex: the MAC of a
	// document whose only value is that password.
	goldenMACHex = "6B97ED68D14EB3F1AA959CE5D49C7DC612E1EB1DAFD73B1E705847483FD6A6C809F2CEB4E8DF6FF9984C6298FF0285CACE6614BF8DAA9F0070101B6C89899E22"
	// goldenMAC is goldenMACHex sealed under goldenKey with IV 40..5f and
	// additional data "2024-05-01T10:00:00Z".
	goldenMAC = "ENC[AES256_GCM,data:UjkKU8SuXdJnUN767ZLkAx36FhPoFQ6K9qtdg+n+leX4dSKT7wbwsG+Co4ynIu+d6YCdqQfz169TL3x8Xe+z+Y7nDMZDUVGT7SjuPvryjiAhcM4xQGYpQthAZvmh54CuirboHhSl0nl+lqQ1Aduj436tKJ7PVlw5XYPSB/hTSbY=,iv:QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=,tag:GeMKCp7xU7GExVxS1FFbLg==,type:str]"
)

// goldenSeal seals clear text with AES-256-GCM and a 32-byte nonce and
// lays the result out as sops does, tag apart from the ciphertext.
func goldenSeal(t *testing.T, iv []byte, clearText, aad string) string {
	t.Helper()
	block, err := aes.NewCipher(goldenKey())
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, 32)
	if err != nil {
		t.Fatal(err)
	}
	out := gcm.Seal(nil, iv, []byte(clearText), []byte(aad))
	enc := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("ENC[AES256_GCM,data:%s,iv:%s,tag:%s,type:str]",
		enc(out[:len(out)-aes.BlockSize]), enc(iv), enc(out[len(out)-aes.BlockSize:]))
}

func TestGoldenConstants(t *testing.T) {
	if got := goldenSeal(t, goldenIV(0xa0), "hunter2", "stringData:password:"); got != goldenPassword {
		t.Errorf("sealed password = %s", got)
	}
	if got := fmt.Sprintf("%X", sha512.Sum512([]byte("hunter2"))); got != goldenMACHex {
		t.Errorf("mac = %s", got)
	}
	if got := goldenSeal(t, goldenIV(0x40), goldenMACHex, "2024-05-01T10:00:00Z"); got != goldenMAC {
		t.Errorf("sealed mac = %s", got)
	}
}

func TestGoldenValue(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
		aad  string
		want error
	}{
		{name: "path of keys, each followed by a colon", key: goldenKey(), aad: "stringData:password:"},
		{name: "no trailing colon", key: goldenKey(), aad: "stringData:password", want: ErrMACMismatch},
		{name: "dotted path", key: goldenKey(), aad: "stringData.password:", want: ErrMACMismatch},
		{name: "leaf key only", key: goldenKey(), aad: "password:", want: ErrMACMismatch},
		{name: "other data key", key: make([]byte, 32), aad: "stringData:password:", want: ErrMACMismatch},
		{name: "short data key", key: goldenKey()[:16], aad: "stringData:password:", want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decryptValue(goldenPassword, tt.key, tt.aad)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && got != "hunter2" {
				t.Errorf("got %q, want hunter2", got)
			}
		})
	}
}

// goldenDocuments returns a YAML and a JSON file laid out as sops writes
// them, whose only value is goldenPassword, with goldenKey encrypted to r.
func goldenDocuments(t *testing.T, r *age.X25519Recipient) (yamlDoc, jsonDoc string) {
	t.Helper()
	armored := testWrapKey(t, r, goldenKey())
	indented := "            " + strings.ReplaceAll(strings.TrimSuffix(armored, "\n"), "\n", "\n            ")
	yamlDoc = `stringData:
    password: ` + goldenPassword + `
sops:
    age:
        - recipient: ` + r.String() + `
          enc: |
` + indented + `
    lastmodified: "2024-05-01T10:00:00Z"
    mac: ` + goldenMAC + `
    encrypted_regex: ^(data|stringData)$
    version: 3.9.0
`
	jsonDoc = `{
	"stringData": {
		"password": "` + goldenPassword + `"
	},
	"sops": {
		"age": [
			{
				"recipient": "` + r.String() + `",
				"enc": "` + strings.ReplaceAll(armored, "\n", `\n`) + `"
			}
		],
		"lastmodified": "2024-05-01T10:00:00Z",
		"mac": "` + goldenMAC + `",
		"encrypted_regex": "^(data|stringData)$",
		"version": "3.9.0"
	}
}
`
	return yamlDoc, jsonDoc
}

func TestGoldenDocument(t *testing.T) {
	id := newTestKey(t)
	yamlDoc, jsonDoc := goldenDocuments(t, id.Recipient())
	d := NewDecryptor([]age.Identity{id})
	tests := []struct {
		file, data, want string
	}{
		{"golden.yaml", yamlDoc, "stringData:\n  password: hunter2\n"},
		{"golden.json", jsonDoc, "{\n  \"stringData\": {\n    \"password\": \"hunter2\"\n  }\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, err := d.Decrypt(tt.file, []byte(tt.data))
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if string(out) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out, tt.want)
			}
		})
	}
}
