package gitsync

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// ErrUnreachable is wrapped by every error of Load that comes from reaching
// the repository: the network, authentication, host key checking, a
// repository or ref that does not exist (or no longer does, after a
// force-push), or a local clone that could not be read. Such errors are
// transient from the caller's point of view: keep running the last good
// state and call Load again; Repo itself spaces the attempts with a back-off.
var ErrUnreachable = errors.New("repository unreachable")

// ErrInvalidCommit is wrapped by every error of Load that refuses the commit
// itself: manifests that fail to load or validate (the config error is
// wrapped too, so config.Errors lists each file#doc: field: message), a
// missing or untrusted signature, a manifest directory that is missing, a
// manifest that cannot be decrypted, or an empty result without AllowEmpty.
// Load does not fetch the same commit's verdict twice: it stays refused
// until the ref moves.
var ErrInvalidCommit = errors.New("commit refused")

// ErrOptions is wrapped by the errors of New for options that cannot work.
var ErrOptions = errors.New("invalid gitsync options")

// fetchError is a failure to fetch or read the repository. Its message is
// scrubbed of credentials; it unwraps to ErrUnreachable and its cause.
type fetchError struct {
	msg   string
	cause error
}

func (e *fetchError) Error() string   { return e.msg }
func (e *fetchError) Unwrap() []error { return []error{ErrUnreachable, e.cause} }

// permanentFetch tells the errors after which a failed shallow fetch is
// not tried again in full: the full fetch would fail the same way (the
// network, authentication, host keys, a missing repository or ref, the
// caller's deadline).
func permanentFetch(err error) bool {
	var nomatch git.NoMatchingRefSpecError
	var netErr net.Error
	var permanent *plumbing.PermanentError
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, transport.ErrAuthenticationRequired) || errors.Is(err, transport.ErrAuthorizationFailed) ||
		errors.Is(err, transport.ErrRepositoryNotFound) || errors.Is(err, transport.ErrEmptyRemoteRepository) ||
		errors.As(err, &nomatch) || errors.As(err, &netErr) || errors.As(err, &permanent) ||
		strings.Contains(err.Error(), "ssh: handshake failed")
}

// scrubber removes secret values from messages before they leave the
// package in an error or a log line.
type scrubber []string

// scrub replaces every secret in s by "***".
func (sc scrubber) scrub(s string) string {
	for _, secret := range sc {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
}
