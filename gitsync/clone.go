package gitsync

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// objectCacheSize bounds go-git's cache of decoded objects (its default is
// 96 MiB, much more than manifests need).
const objectCacheSize = 8 * cache.MiByte

// remoteName is the remote the clone fetches from.
const remoteName = "origin"

// maxPacks is how many pack files a clone may gather before it is made
// again: each fetch that brings something adds a pack, and go-git reads
// every pack's index. A new clone is one commit deep, so this is cheap.
const maxPacks = 50

// openClone returns the clone: the one already open, the one found in the
// state directory (a restarted daemon does not clone again), or a new
// empty bare repository. A clone marked for recloning, or one that cannot
// be opened, is removed first.
func (r *Repo) openClone() (*git.Repository, error) {
	if r.reclone {
		r.reclone, r.repo = false, nil
		r.log.Warn("starting a new clone", "dir", r.dir)
		if err := os.RemoveAll(r.dir); err != nil {
			return nil, fmt.Errorf("remove clone: %w", err)
		}
	}
	if r.repo != nil {
		return r.repo, nil
	}
	repo, err := git.Open(r.storage(), nil)
	if err != nil && !errors.Is(err, git.ErrRepositoryNotExists) {
		r.log.Warn("clone unreadable; starting a new one", "dir", r.dir, "err", err)
		if err := os.RemoveAll(r.dir); err != nil {
			return nil, fmt.Errorf("remove clone: %w", err)
		}
	}
	if err != nil {
		if err := os.MkdirAll(r.dir, 0o700); err != nil {
			return nil, fmt.Errorf("create clone: %w", err)
		}
		if repo, err = git.Init(r.storage(), nil); err != nil {
			return nil, fmt.Errorf("create clone: %w", err)
		}
	}
	if err := r.setRemote(repo); err != nil {
		return nil, err
	}
	r.repo = repo
	return repo, nil
}

// storage is the clone's object and reference store: a bare repository
// in r.dir, with no worktree, so no file of the repository is ever
// written out.
func (r *Repo) storage() *filesystem.Storage {
	return filesystem.NewStorage(osfs.New(r.dir), cache.NewObjectLRU(objectCacheSize))
}

// setRemote points the clone's remote at the URL.
func (r *Repo) setRemote(repo *git.Repository) error {
	if rem, err := repo.Remote(remoteName); err == nil {
		if urls := rem.Config().URLs; len(urls) == 1 && urls[0] == r.remote.url {
			return nil
		}
		if err := repo.DeleteRemote(remoteName); err != nil {
			return fmt.Errorf("configure clone: %w", err)
		}
	}
	_, err := repo.CreateRemote(&gitconfig.RemoteConfig{Name: remoteName, URLs: []string{r.remote.url}})
	if err != nil {
		return fmt.Errorf("configure clone: %w", err)
	}
	return nil
}

// isShallow reports whether the clone has shallow commits.
func isShallow(repo *git.Repository) bool {
	s, err := repo.Storer.Shallow()
	return err == nil && len(s) > 0
}

// compactLater marks the clone for recloning on the next fetch when it has
// gathered more than r.maxPacks pack files.
func (r *Repo) compactLater() {
	packs, err := filepath.Glob(filepath.Join(r.dir, "objects", "pack", "*.pack"))
	if err == nil && len(packs) > r.maxPacks {
		r.log.Info("clone has many packs; it will be made again on the next fetch", "packs", len(packs))
		r.reclone = true
	}
}
