package sops

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseSealed(t *testing.T) {
	const (
		iv  = "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8="
		tag = "3ysMBnsQtkeiLPaf3SBA1A=="
	)
	tests := []struct {
		name, in string
		want     error
		kind     string
	}{
		{name: "valid", in: "ENC[AES256_GCM,data:wc2c8qfNLA==,iv:" + iv + ",tag:" + tag + ",type:str]", kind: "str"},
		{name: "empty data", in: "ENC[AES256_GCM,data:,iv:" + iv + ",tag:" + tag + ",type:int]", kind: "int"},
		{name: "plain string", in: "hunter2", want: errNotEncrypted},
		{name: "other cipher", in: "ENC[AES128_CBC,data:AA==,iv:" + iv + ",tag:" + tag + ",type:str]", want: errNotEncrypted},
		{name: "no closing bracket", in: "ENC[AES256_GCM,data:AA==,iv:" + iv + ",tag:" + tag + ",type:str", want: errNotEncrypted},
		{name: "fields out of order", in: "ENC[AES256_GCM,iv:" + iv + ",data:AA==,tag:" + tag + ",type:str]", want: errNotEncrypted},
		{name: "missing type", in: "ENC[AES256_GCM,data:AA==,iv:" + iv + ",tag:" + tag + "]", want: errNotEncrypted},
		{name: "empty type", in: "ENC[AES256_GCM,data:AA==,iv:" + iv + ",tag:" + tag + ",type:]", want: errNotEncrypted},
		{name: "extra field", in: "ENC[AES256_GCM,data:AA==,iv:" + iv + ",tag:" + tag + ",type:str,x:y]", want: errNotEncrypted},
		{name: "unpadded base64", in: "ENC[AES256_GCM,data:AA,iv:" + iv + ",tag:" + tag + ",type:str]", want: errBadBase64},
		{name: "empty iv", in: "ENC[AES256_GCM,data:AA==,iv:,tag:" + tag + ",type:str]", want: errBadIV},
		{name: "short tag", in: "ENC[AES256_GCM,data:AA==,iv:" + iv + ",tag:AAAAAAAAAAAAAAAA,type:str]", want: errBadTag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSealed(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Errorf("err %v does not wrap ErrMalformed", err)
				}
				return
			}
			if got.kind != tt.kind || len(got.iv) != 32 || len(got.tag) != 16 {
				t.Errorf("got kind %q, iv %d bytes, tag %d bytes", got.kind, len(got.iv), len(got.tag))
			}
		})
	}
}

func TestTyped(t *testing.T) {
	tests := []struct {
		kind, clear string
		want        any
		err         error
	}{
		{"str", "hello", "hello", nil},
		{"bytes", "raw", "raw", nil},
		{"int", "-42", -42, nil},
		{"float", "0.25", 0.25, nil},
		{"float", "1000", 1000.0, nil},
		{"bool", "True", true, nil},
		{"bool", "False", false, nil},
		{"time", "2024-01-02T03:04:05Z", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), nil},
		{"comment", " a note", comment(" a note"), nil},
		{"int", "forty-two", nil, ErrMalformed},
		{"bool", "yes", nil, ErrMalformed},
		{"float", "", nil, ErrMalformed},
		{"blob", "x", nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.clear, func(t *testing.T) {
			got, err := typed(tt.kind, []byte(tt.clear))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				if tt.clear != "" && strings.Contains(err.Error(), tt.clear) {
					t.Errorf("error quotes the clear text: %v", err)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDecryptValueKeepsEmptyString(t *testing.T) {
	got, err := decryptValue("", goldenKey(), "any:")
	if err != nil || got != "" {
		t.Errorf("got %q, %v; want empty string", got, err)
	}
}
