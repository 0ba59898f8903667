package gitsync

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/knownhosts"
)

// One sshd serves every ssh case; each case clones afresh.
func TestSSHTransport(t *testing.T) {
	t.Parallel()
	srv := startSSHD(t)
	s, first := basicSource(t)

	t.Run("ssh URL with known_hosts", func(t *testing.T) {
		t.Parallel()
		s, first := basicSource(t) // its own: it commits
		r, _ := newTestRepo(t, Options{URL: srv.url(s), Branch: "main", SSHKeyFile: srv.userKey, KnownHostsFile: srv.knownHosts})
		d := mustLoad(t, r)
		if d.Revision != first.String() || !slices.Equal(keys(d), wantBasic) {
			t.Fatalf("got %s %v", d.Revision, keys(d))
		}
		if !isShallow(r.repo) {
			t.Errorf("the first ssh fetch was not shallow")
		}
		s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:2")})
		second := s.commit("second")
		if d := mustLoad(t, r); d.Revision != second.String() {
			t.Errorf("Revision = %s, want %s", d.Revision, second)
		}
	})
	t.Run("scp-like address", func(t *testing.T) {
		t.Parallel()
		// scp syntax has no port; go-git accepts user@host:port:path.
		url := fmt.Sprintf("root@127.0.0.1:%d:%s", srv.port, s.dir)
		r, _ := newTestRepo(t, Options{URL: url, SSHKeyFile: srv.userKey, KnownHostsFile: srv.knownHosts})
		if d := mustLoad(t, r); d.Revision != first.String() {
			t.Fatalf("Revision = %s", d.Revision)
		}
	})
	t.Run("wrong host key refused", func(t *testing.T) {
		t.Parallel()
		other := writeKey(t, filepath.Join(t.TempDir(), "other"))
		kh := filepath.Join(t.TempDir(), "known_hosts")
		line := knownhosts.Line([]string{knownhosts.Normalize(srv.addr())}, other) + "\n"
		if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
		r, _ := newTestRepo(t, Options{URL: srv.url(s), SSHKeyFile: srv.userKey, KnownHostsFile: kh})
		err := loadErr(t, r, ErrUnreachable)
		var keyErr *knownhosts.KeyError
		if !errors.As(err, &keyErr) && !strings.Contains(err.Error(), "key mismatch") {
			t.Errorf("err = %v, want a host key mismatch", err)
		}
	})
	t.Run("unknown host refused", func(t *testing.T) {
		t.Parallel()
		kh := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(kh, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		r, _ := newTestRepo(t, Options{URL: srv.url(s), SSHKeyFile: srv.userKey, KnownHostsFile: kh})
		loadErr(t, r, ErrUnreachable)
	})
	t.Run("InsecureIgnoreHostKey accepts any key and warns", func(t *testing.T) {
		t.Parallel()
		r, logs := newTestRepo(t, Options{URL: srv.url(s), SSHKeyFile: srv.userKey, InsecureIgnoreHostKey: true})
		if d := mustLoad(t, r); d.Revision != first.String() {
			t.Fatalf("Revision = %s", d.Revision)
		}
		if logs.count("host key checking is off") != 1 {
			t.Errorf("no warning logged")
		}
	})
	t.Run("unauthorised key refused", func(t *testing.T) {
		t.Parallel()
		key := filepath.Join(t.TempDir(), "id")
		writeKey(t, key)
		r, _ := newTestRepo(t, Options{URL: srv.url(s), SSHKeyFile: key, KnownHostsFile: srv.knownHosts})
		loadErr(t, r, ErrUnreachable)
	})
}
