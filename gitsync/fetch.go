package gitsync

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxTagDepth bounds the chain of annotated tags peeled to reach a commit.
const maxTagDepth = 8

// fetchCommit brings the followed ref up to date in the clone and returns
// its commit.
func (r *Repo) fetchCommit(ctx context.Context) (*object.Commit, error) {
	repo, err := r.openClone()
	if err != nil {
		return nil, err
	}
	if r.ref.kind == followRev {
		return r.fetchRev(ctx, repo)
	}
	_, err = repo.Reference(r.ref.local(), false)
	first := err != nil
	if err := r.fetch(ctx, repo, []gitconfig.RefSpec{r.ref.refspec()}, first); err != nil {
		return nil, err
	}
	r.compactLater()
	ref, err := repo.Reference(r.ref.local(), true)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.ref.local(), err)
	}
	return peel(repo, ref.Hash())
}

// fetch fetches the refspecs. The first fetch of a ref is shallow (one
// commit deep): go-git then downloads the whole tree of that commit but no
// history. Later fetches are not shallow, so the server negotiates against
// the commits the clone has and sends only the objects of new commits (a
// shallow fetch would send each new commit's whole tree again, as go-git
// does not ask for thin packs). Should the server hold back an object the
// shallow clone lacks, reading the commit fails and the clone is started
// again (see sync).
//
// A shallow fetch that fails for a reason other than the network,
// authentication or a missing ref is tried again in full at once, and
// later fetches stay full: the server may not serve shallow fetches.
func (r *Repo) fetch(ctx context.Context, repo *git.Repository, specs []gitconfig.RefSpec, shallow bool) error {
	depth := 0
	if shallow && !r.full {
		depth = 1
	}
	err := repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: remoteName, RefSpecs: specs, Depth: depth,
		Auth: r.creds.auth, Tags: git.NoTags, Force: true,
	})
	switch {
	case err == nil || errors.Is(err, git.NoErrAlreadyUpToDate):
		return nil
	case depth == 0 || permanentFetch(err) || errors.Is(err, git.ErrExactSHA1NotSupported) || isShallow(repo):
		return err
	}
	r.log.Warn("shallow fetch failed; fetching the full history", "err", r.creds.secrets.scrub(err.Error()))
	if err := r.fetch(ctx, repo, specs, false); err != nil {
		return err
	}
	r.full = true
	return nil
}

// fetchRev returns the fixed commit Rev. A commit never changes, so one
// already in the clone is used without touching the network. Otherwise it
// is fetched by its SHA, one commit deep, when the server allows that, and
// else found by fetching every branch and tag in full.
func (r *Repo) fetchRev(ctx context.Context, repo *git.Repository) (*object.Commit, error) {
	h := plumbing.NewHash(r.ref.name)
	if c, err := repo.CommitObject(h); err == nil {
		return c, nil
	}
	err := r.fetch(ctx, repo, []gitconfig.RefSpec{r.ref.refspec()}, true)
	if errors.Is(err, git.ErrExactSHA1NotSupported) {
		if isShallow(repo) {
			// A full fetch on top of shallow commits can miss objects.
			r.reclone = true
			if repo, err = r.openClone(); err != nil {
				return nil, err
			}
		}
		err = r.fetch(ctx, repo, allRefspecs, false)
	}
	if err != nil {
		return nil, err
	}
	c, err := repo.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("commit %s is on no branch or tag of the remote: %w", h, err)
	}
	return c, nil
}

// peel follows annotated tags from h to the commit they point to.
func peel(repo *git.Repository, h plumbing.Hash) (*object.Commit, error) {
	for range maxTagDepth {
		obj, err := repo.Object(plumbing.AnyObject, h)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", h, err)
		}
		switch o := obj.(type) {
		case *object.Commit:
			return o, nil
		case *object.Tag:
			h = o.Target
		default:
			return nil, fmt.Errorf("%s is a %s, not a commit", h, obj.Type())
		}
	}
	return nil, fmt.Errorf("more than %d nested tags", maxTagDepth)
}
