package gitsync

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/reconciler/reconciler/config"
)

// Reasons an empty commit is refused without AllowEmpty.
var (
	errPathMissing = errors.New("manifest directory does not exist in the commit")
	errPathNotTree = errors.New("manifest path is not a directory")
	errNoObjects   = errors.New("commit declares no objects")
	errNoWorkloads = errors.New("commit removes every workload")
)

// errDamagedClone marks a commit that could not be read from the clone (an
// object missing): the clone, not the commit, is at fault.
var errDamagedClone = errors.New("clone damaged")

// evaluate turns a fetched commit into the desired state, or refuses it.
// The last good commit and refused commits are answered from memory: a
// commit is parsed, and its refusal logged, once.
func (r *Repo) evaluate(c *object.Commit) (*config.Desired, error) {
	sha := c.Hash.String()
	if r.good != nil && r.good.Revision == sha {
		r.setStatus(func(s *Status) { s.LastError, s.Refused = "", false })
		return r.good, nil
	}
	if err, ok := r.refused[c.Hash]; ok {
		r.setStatus(func(s *Status) { s.LastError, s.Refused = err.Error(), true })
		return nil, err
	}
	d, err := r.loadCommit(c)
	switch {
	case err == nil:
		r.accept(d)
		return d, nil
	case errors.Is(err, ErrInvalidCommit):
		r.refuse(c.Hash, err)
		return nil, err
	}
	return nil, fmt.Errorf("%w: %w", errDamagedClone, err)
}

// loadCommit verifies the commit, reads its manifest directory and loads
// it. Errors that are the commit's fault wrap ErrInvalidCommit.
func (r *Repo) loadCommit(c *object.Commit) (*config.Desired, error) {
	refuse := func(err error) error {
		return fmt.Errorf("gitsync: commit %s: %w: %w", c.Hash, ErrInvalidCommit, err)
	}
	if r.keyring != nil {
		if _, err := verifyCommit(c, r.keyring); err != nil {
			return nil, refuse(err)
		}
	}
	fsys, err := r.commitFS(c)
	switch {
	case errors.Is(err, errPathMissing) && r.opt.AllowEmpty:
		return &config.Desired{Revision: c.Hash.String()}, nil
	case errors.Is(err, errPathMissing), errors.Is(err, errPathNotTree):
		return nil, refuse(err)
	case err != nil:
		return nil, err
	}
	d, err := config.Load(fsys, c.Hash.String())
	if err != nil {
		if errors.Is(err, config.ErrInvalid) || errors.Is(err, errDecrypt) ||
			errors.Is(err, errUnsupportedEntry) || errors.Is(err, fs.ErrInvalid) {
			return nil, refuse(err)
		}
		return nil, fmt.Errorf("gitsync: commit %s: %w", c.Hash, err)
	}
	if err := r.checkEmpty(d); err != nil {
		return nil, refuse(err)
	}
	return d, nil
}

// commitFS is the commit's manifest directory as an fs.FS.
func (r *Repo) commitFS(c *object.Commit) (fs.FS, error) {
	root, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("read tree: %w", err)
	}
	if r.path != "." {
		e, err := root.FindEntry(r.path)
		if err != nil {
			return nil, fmt.Errorf("%w: %s", errPathMissing, r.path)
		}
		if e.Mode != filemode.Dir {
			return nil, fmt.Errorf("%w: %s", errPathNotTree, r.path)
		}
		if root, err = object.GetTree(r.repo.Storer, e.Hash); err != nil {
			return nil, fmt.Errorf("read tree %s: %w", r.path, err)
		}
	}
	return &treeFS{s: r.repo.Storer, root: root, decrypt: r.opt.Decrypt, modTime: c.Committer.When}, nil
}

// checkEmpty refuses, unless AllowEmpty, a commit that declares no object
// at all, or no workload while the last good commit had some: deleting
// everything is more often a mistake (a moved directory, a bad merge) than
// an intent.
func (r *Repo) checkEmpty(d *config.Desired) error {
	if r.opt.AllowEmpty {
		return nil
	}
	if len(d.Objects) == 0 {
		return errNoObjects
	}
	if len(d.Workloads) == 0 && r.good != nil && len(r.good.Workloads) > 0 {
		return fmt.Errorf("%w (the last good commit %s has %d)", errNoWorkloads, r.good.Revision, len(r.good.Workloads))
	}
	return nil
}

// accept makes d the last good state.
func (r *Repo) accept(d *config.Desired) {
	r.good = d
	r.log.Info("commit loaded", "commit", d.Revision, "objects", len(d.Objects), "workloads", len(d.Workloads))
	r.setStatus(func(s *Status) { s.LastGood, s.LastError, s.Refused = d.Revision, "", false })
}

// refuse remembers and logs, once, why a commit is refused.
func (r *Repo) refuse(h plumbing.Hash, err error) {
	if len(r.refused) >= maxRefused {
		clear(r.refused)
	}
	r.refused[h] = err
	r.log.Warn("commit refused", "commit", h.String(), "err", err)
	r.setStatus(func(s *Status) { s.LastError, s.Refused = err.Error(), true })
}
