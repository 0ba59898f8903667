package gitsync

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// remote is a parsed repository address.
type remote struct {
	// url is what go-git fetches: the address as given, with a local path
	// made absolute.
	url string
	// display is the address without credentials, for Status, logs and
	// errors; it also names the clone's directory.
	display string
	// proto is "file", "http", "https", "ssh" or "git".
	proto string
	// user is the SSH login ("git" unless the address names one).
	user string
}

// parseRemote accepts https://, http://, ssh://, git://, file:// addresses,
// scp-like user@host:path and plain local paths. Credentials in an address
// are refused: they would show in ps and in logs. Errors never repeat the
// address, which may hold such credentials.
func parseRemote(raw string) (remote, error) {
	switch {
	case raw == "":
		return remote{}, fmt.Errorf("%w: URL is required", ErrOptions)
	case strings.Contains(raw, "://"):
		return parseURLRemote(raw)
	}
	if ep, err := transport.NewEndpoint(raw); err == nil && ep.Protocol == "ssh" {
		if strings.Contains(ep.User, ":") {
			return remote{}, fmt.Errorf("%w: URL carries a password; use SSHKeyFile", ErrOptions)
		}
		user := ep.User
		if user == "" {
			user = "git"
		}
		return remote{url: raw, display: raw, proto: "ssh", user: user}, nil
	}
	abs, err := filepath.Abs(raw)
	if err != nil {
		return remote{}, fmt.Errorf("%w: local path: %w", ErrOptions, err)
	}
	return remote{url: abs, display: abs, proto: "file"}, nil
}

// parseURLRemote handles the addresses with a scheme.
func parseURLRemote(raw string) (remote, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return remote{}, fmt.Errorf("%w: URL does not parse", ErrOptions)
	}
	r := remote{proto: strings.ToLower(u.Scheme)}
	switch r.proto {
	case "http", "https", "git":
		if u.User != nil {
			return remote{}, fmt.Errorf("%w: credentials in the URL are refused; use HTTPUserFile and HTTPTokenFile or HTTPTokenEnv", ErrOptions)
		}
	case "ssh":
		if _, has := u.User.Password(); has {
			return remote{}, fmt.Errorf("%w: URL carries a password; use SSHKeyFile", ErrOptions)
		}
		r.user = u.User.Username()
		if r.user == "" {
			r.user = "git"
		}
	case "file":
		if u.User != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			return remote{}, fmt.Errorf("%w: a file URL needs an absolute path and no host (file:///path)", ErrOptions)
		}
	default:
		return remote{}, fmt.Errorf("%w: unsupported URL scheme %q", ErrOptions, u.Scheme)
	}
	if u.Host == "" && r.proto != "file" {
		return remote{}, fmt.Errorf("%w: URL has no host", ErrOptions)
	}
	r.url, r.display = raw, u.Redacted()
	return r, nil
}

// cloneDir is the directory of the clone of r under stateDir: the first 16
// hex digits of a SHA-256 over the address without credentials, so a
// restarted daemon finds its clone again.
func (r remote) cloneDir(stateDir string) string {
	sum := sha256.Sum256([]byte(r.display))
	return filepath.Join(stateDir, hex.EncodeToString(sum[:8]))
}
