package gitsync

import (
	"log/slog"
	"time"
)

// DefaultStateDir is where clones live when Options.StateDir is empty.
const DefaultStateDir = "/var/lib/reconciler/git"

// DefaultTimeout bounds one fetch when Options.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// Back-off between failed attempts to reach the repository: it starts at
// minBackoff, doubles on each failure up to maxBackoff, and resets on
// success.
const (
	minBackoff = time.Second
	maxBackoff = 5 * time.Minute
)

// Options configure a Repo. URL is required; everything else has a default.
// Credentials are never given as values: they are read from files or the
// environment once, in New.
type Options struct {
	// URL is the repository: https://, http://, ssh://, git://, file://,
	// scp-like user@host:path, or a plain local path. Credentials in the URL
	// are refused.
	URL string
	// Branch, Tag and Rev choose the commit; at most one may be set. Branch
	// follows the branch's head, Tag the commit a (lightweight or annotated)
	// tag points to, Rev one fixed commit (a full 40-digit SHA). With none,
	// the remote's HEAD is followed.
	Branch, Tag, Rev string
	// Path is the manifest directory inside the repository ("" for the
	// root), slash-separated, relative to the repository's root (leading
	// and trailing slashes are ignored; ".." is refused).
	Path string
	// StateDir holds the clones, one directory per URL (default
	// DefaultStateDir). A Repo reuses the clone it finds there.
	StateDir string

	// SSHKeyFile is the private key (OpenSSH or PEM, without passphrase)
	// for ssh URLs; required for them.
	SSHKeyFile string
	// KnownHostsFile lists the trusted host keys. Empty: $SSH_KNOWN_HOSTS,
	// else ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts.
	KnownHostsFile string
	// InsecureIgnoreHostKey turns host key checking off (logged as a
	// warning on New). It excludes KnownHostsFile.
	InsecureIgnoreHostKey bool

	// HTTPUserFile holds the user name for HTTP basic authentication
	// (default "git"); it needs a token.
	HTTPUserFile string
	// HTTPTokenFile or HTTPTokenEnv (the name of an environment variable)
	// holds the password or token for http(s) URLs; at most one may be set.
	HTTPTokenFile, HTTPTokenEnv string

	// VerifyKeyringFile, when set, holds the trusted OpenPGP public keys
	// (armored or binary): a commit not signed by one of them is refused.
	VerifyKeyringFile string
	// AllowEmpty accepts a commit that declares no objects, or whose Path
	// is missing, or that drops every workload the last good commit had.
	// Without it such a commit is refused as a probable mistake.
	AllowEmpty bool

	// Decrypt, when set, is called for every manifest file (its path
	// relative to Path, and its content) before config sees it; its result
	// replaces the content, in memory only. An error refuses the commit.
	Decrypt func(file string, data []byte) ([]byte, error)

	// Interval is the least time between two fetches: a Load sooner than
	// that after the previous one returns the previous result without
	// touching the repository (unless Trigger was called). Zero fetches on
	// every Load.
	Interval time.Duration
	// Timeout bounds one fetch (default DefaultTimeout).
	Timeout time.Duration
	// Log receives structured logs (default slog.Default()).
	Log *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// defaults fills in the zero values.
func (o *Options) defaults() {
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}
