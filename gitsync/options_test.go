package gitsync

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRemote(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw, display, proto, user string
		wantErr                   bool
	}{
		{raw: "https://git.example.com/org/repo.git", display: "https://git.example.com/org/repo.git", proto: "https"},
		{raw: "http://127.0.0.1:8080/repo", display: "http://127.0.0.1:8080/repo", proto: "http"},
		{raw: "ssh://deploy@git.example.com:2222/org/repo.git", display: "ssh://deploy@git.example.com:2222/org/repo.git", proto: "ssh", user: "deploy"},
		{raw: "ssh://git.example.com/org/repo.git", display: "ssh://git.example.com/org/repo.git", proto: "ssh", user: "git"},
		{raw: "git@github.com:org/repo.git", display: "git@github.com:org/repo.git", proto: "ssh", user: "git"},
		{raw: "file:///srv/git/repo", display: "file:///srv/git/repo", proto: "file"},
		{raw: "/srv/git/repo", display: "/srv/git/repo", proto: "file"},
		{raw: "git://git.example.com/repo", display: "git://git.example.com/repo", proto: "git"},
		{raw: "", wantErr: true},
		{raw: "https://user:tok@git.example.com/repo", wantErr: true},
		{raw: "https://tok@git.example.com/repo", wantErr: true},
		{raw: "ssh://git:pw@git.example.com/repo", wantErr: true},
		{raw: "git:pw@git.example.com:org/repo", wantErr: true},
		{raw: "ftp://git.example.com/repo", wantErr: true},
		{raw: "https:///repo", wantErr: true},
		{raw: "file://host/repo", wantErr: true},
		{raw: "https://tok%zz@host/repo", wantErr: true},
	}
	for _, tc := range cases {
		r, err := parseRemote(tc.raw)
		if tc.wantErr {
			if err == nil {
				t.Errorf("parseRemote(%q) accepted", tc.raw)
			} else if !errors.Is(err, ErrOptions) || strings.Contains(err.Error(), "tok") || strings.Contains(err.Error(), "pw") {
				t.Errorf("parseRemote(%q) error %q: want ErrOptions without the credentials", tc.raw, err)
			}
			continue
		}
		if err != nil || r.display != tc.display || r.proto != tc.proto || r.user != tc.user {
			t.Errorf("parseRemote(%q) = %+v, %v", tc.raw, r, err)
		}
	}
	rel, err := parseRemote("relative/repo")
	if err != nil || !filepath.IsAbs(rel.url) || rel.proto != "file" {
		t.Errorf("a relative path: %+v, %v; want an absolute local path", rel, err)
	}
}

func TestNewRejectsOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	token, empty := file("token", "t0ken\n"), file("empty", "\n")
	key := filepath.Join(dir, "id")
	writeKey(t, key)
	kh := file("known_hosts", "")
	cases := []struct {
		name string
		opt  Options
	}{
		{"two refs", Options{URL: "/r", Branch: "main", Tag: "v1"}},
		{"short rev", Options{URL: "/r", Rev: "abc123"}},
		{"bad branch", Options{URL: "/r", Branch: "a..b"}},
		{"path escapes", Options{URL: "/r", Path: "../etc"}},
		{"token for ssh", Options{URL: "ssh://h/r", SSHKeyFile: key, HTTPTokenFile: token}},
		{"ssh without key", Options{URL: "ssh://h/r"}},
		{"ssh key for https", Options{URL: "https://h/r", SSHKeyFile: key}},
		{"insecure and known_hosts", Options{URL: "ssh://h/r", SSHKeyFile: key, KnownHostsFile: kh, InsecureIgnoreHostKey: true}},
		{"missing key file", Options{URL: "ssh://h/r", SSHKeyFile: filepath.Join(dir, "nope"), KnownHostsFile: kh}},
		{"token file and env", Options{URL: "https://h/r", HTTPTokenFile: token, HTTPTokenEnv: "X"}},
		{"empty token file", Options{URL: "https://h/r", HTTPTokenFile: empty}},
		{"unset token env", Options{URL: "https://h/r", HTTPTokenEnv: "GITSYNC_TEST_UNSET_VARIABLE"}},
		{"user without token", Options{URL: "https://h/r", HTTPUserFile: token}},
		{"credentials for a local path", Options{URL: "/r", HTTPTokenFile: token}},
	}
	for _, tc := range cases {
		if _, err := New(tc.opt); !errors.Is(err, ErrOptions) {
			t.Errorf("%s: New = %v, want ErrOptions", tc.name, err)
		} else if strings.Contains(err.Error(), "t0ken") {
			t.Errorf("%s: the error shows the token: %v", tc.name, err)
		}
	}
}

func TestNewTouchesNothing(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state")
	r, err := New(Options{URL: "https://unreachable.invalid/repo", StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("New created the state dir (%v)", err)
	}
	st := r.Status()
	if st.URL != "https://unreachable.invalid/repo" || st.Ref != "HEAD" || st.LastFetched != "" {
		t.Errorf("status = %+v", st)
	}
	if !strings.HasPrefix(r.dir, state+string(filepath.Separator)) {
		t.Errorf("clone dir %s is not under %s", r.dir, state)
	}
}
