package gitsync

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/internal/backoff"
)

// Repo is a Git repository as a source of desired state: Load fetches the
// followed ref into a clone under Options.StateDir and loads the manifests
// of its commit. Create it with New. Load calls are serialised; Status and
// Trigger are safe to call at any time from any goroutine. A Repo starts no
// goroutines.
type Repo struct {
	opt      Options
	remote   remote
	ref      ref
	path     string // cleaned Options.Path; "." for the root
	creds    credentials
	keyring  openpgp.EntityList
	dir      string // the clone
	maxPacks int    // see compactLater
	log      *slog.Logger

	loadMu  sync.Mutex // one Load at a time; guards the fields below
	repo    *git.Repository
	full    bool // fetch without depth: the server did not serve a shallow fetch
	reclone bool // the clone is unusable: start a new one on the next fetch
	good    *config.Desired
	refused map[plumbing.Hash]error // verdicts on refused commits
	last    result
	retry   backoff.Backoff
	next    time.Time // no fetch before this (interval or back-off), unless triggered

	mu        sync.Mutex // guards status and triggered
	status    Status
	triggered bool
}

// result is what a Load returned.
type result struct {
	set     bool
	desired *config.Desired
	err     error
}

// maxRefused bounds the verdict cache; past it, it starts again empty.
const maxRefused = 64

// New checks the options, reads the credentials, keyring and known hosts
// they name, and returns a Repo. It touches neither the network nor the
// clone: the first Load does.
func New(opt Options) (*Repo, error) {
	opt.defaults()
	rem, err := parseRemote(opt.URL)
	if err != nil {
		return nil, err
	}
	rf, err := newRef(opt.Branch, opt.Tag, opt.Rev)
	if err != nil {
		return nil, err
	}
	p, err := cleanPath(opt.Path)
	if err != nil {
		return nil, err
	}
	stateDir, err := filepath.Abs(opt.StateDir)
	if err != nil {
		return nil, fmt.Errorf("%w: state dir: %w", ErrOptions, err)
	}
	log := opt.Log.With("url", rem.display, "ref", rf.String())
	creds, err := newCredentials(opt, rem, log)
	if err != nil {
		return nil, err
	}
	r := &Repo{
		opt: opt, remote: rem, ref: rf, path: p, creds: creds,
		dir: rem.cloneDir(stateDir), maxPacks: maxPacks, log: log,
		refused: map[plumbing.Hash]error{},
		retry:   backoff.New(minBackoff, maxBackoff),
	}
	if opt.VerifyKeyringFile != "" {
		if r.keyring, err = readKeyring(opt.VerifyKeyringFile); err != nil {
			return nil, err
		}
	}
	r.status = Status{URL: rem.display, Ref: rf.String(), Path: opt.Path}
	return r, nil
}

// cleanPath checks the manifest directory: slash-separated, inside the
// repository; leading and trailing slashes are ignored.
func cleanPath(p string) (string, error) {
	c := path.Clean(strings.Trim(p, "/"))
	if !fs.ValidPath(c) {
		return "", fmt.Errorf("%w: Path %q must be a relative path inside the repository", ErrOptions, p)
	}
	return c, nil
}

// Trigger makes the next Load fetch at once, skipping the interval and any
// back-off. The webhook calls it; the caller then wakes its loop.
func (r *Repo) Trigger() {
	r.mu.Lock()
	r.triggered = true
	r.mu.Unlock()
}

// takeTrigger reports and clears a pending Trigger.
func (r *Repo) takeTrigger() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.triggered
	r.triggered = false
	return t
}

// Status returns a copy of the current status.
func (r *Repo) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

// setStatus changes the status under its lock.
func (r *Repo) setStatus(f func(*Status)) {
	r.mu.Lock()
	f(&r.status)
	r.mu.Unlock()
}

// Load returns the desired state of the followed commit, with the full
// commit SHA as Revision. It fetches unless the previous fetch was less
// than Options.Interval ago or a back-off is running (then it returns the
// previous result at once), and unless Trigger was called since.
//
// Errors wrap ErrUnreachable (fetching failed; attempts are spaced by a
// back-off of 1 s doubling to 5 min, reset by a success) or
// ErrInvalidCommit (the commit is refused; its verdict is kept, so it is
// neither parsed nor logged again). Either way the caller keeps the last
// good state. An error's text is the same on every Load that returns it.
func (r *Repo) Load(ctx context.Context) (*config.Desired, error) {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	now := r.opt.Now()
	if !r.takeTrigger() && r.last.set && now.Before(r.next) {
		return r.last.desired, r.last.err
	}
	d, err := r.sync(ctx, now)
	if ctx.Err() == nil { // a cancelled Load is not a result to repeat
		r.last = result{set: true, desired: d, err: err}
	}
	return d, err
}

// sync fetches, resolves and evaluates the followed commit, holding the
// clone's lock. A clone found to lack objects of the commit is replaced and
// the fetch tried once more. A Load cancelled by its caller neither logs
// nor backs off.
func (r *Repo) sync(parent context.Context, now time.Time) (*config.Desired, error) {
	ctx, cancel := context.WithTimeout(parent, r.opt.Timeout)
	defer cancel()
	fail := func(err error) (*config.Desired, error) {
		if parent.Err() != nil {
			return nil, fmt.Errorf("gitsync: fetch %s: %w", r.remote.display, parent.Err())
		}
		return nil, r.unreachable(now, err)
	}
	unlock, err := lockClone(ctx, r.dir)
	if err != nil {
		return fail(err)
	}
	defer unlock()
	for attempt := 0; ; attempt++ {
		commit, err := r.fetchCommit(ctx)
		if err != nil {
			return fail(err)
		}
		r.fetched(now, commit.Hash)
		d, err := r.evaluate(commit)
		if !errors.Is(err, errDamagedClone) {
			return d, err
		}
		r.log.Warn("clone lacks objects of the commit; starting a new clone", "commit", commit.Hash.String(), "err", err)
		r.reclone = true
		if attempt > 0 {
			return fail(err)
		}
	}
}

// fetched records a successful fetch and resets the back-off.
func (r *Repo) fetched(now time.Time, h plumbing.Hash) {
	if !r.retry.Idle() {
		r.log.Info("repository reachable again", "commit", h.String())
	}
	r.retry.Reset()
	r.next = now.Add(r.opt.Interval)
	r.setStatus(func(s *Status) {
		s.LastFetched, s.LastFetchTime, s.BackoffUntil = h.String(), now, time.Time{}
		s.Fetches++
	})
}

// unreachable turns a fetch failure into an ErrUnreachable error with
// credentials scrubbed, and starts or extends the back-off. The message
// does not change from one attempt to the next, so callers that report an
// error once per distinct text report an outage once.
func (r *Repo) unreachable(now time.Time, cause error) error {
	msg := r.creds.secrets.scrub(fmt.Sprintf("gitsync: fetch %s (%s): %s: %s",
		r.remote.display, r.ref, ErrUnreachable, cause))
	err := &fetchError{msg: msg, cause: cause}
	delay := r.retry.Next()
	r.next = now.Add(delay)
	prev := r.Status().LastError
	if msg != prev {
		r.log.Warn("fetch failed", "err", msg, "retry_in", delay)
	} else {
		r.log.Debug("fetch failed again", "err", msg, "retry_in", delay)
	}
	r.setStatus(func(s *Status) {
		s.LastError, s.Refused, s.BackoffUntil = msg, false, r.next
		s.Fetches++
		s.FetchFailures++
	})
	return err
}

// LoadRevision loads the desired state of a commit already in the clone,
// without fetching and without changing what Load follows: a fleet node
// applies the commit its members agree on, which may be older than the
// newest it fetched. The commit is verified and validated as Load does.
func (r *Repo) LoadRevision(ctx context.Context, sha string) (*config.Desired, error) {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	if r.good != nil && r.good.Revision == sha {
		return r.good, nil
	}
	h := plumbing.NewHash(sha)
	if h.IsZero() || h.String() != sha {
		return nil, fmt.Errorf("gitsync: %q is not a full commit hash", sha)
	}
	unlock, err := lockClone(ctx, r.dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	repo, err := r.openClone()
	if err != nil {
		return nil, err
	}
	c, err := repo.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("gitsync: commit %s is not in the clone: %w", sha, err)
	}
	return r.loadCommit(c)
}
