package gitsync

import (
	"errors"
	"io/fs"
	"testing"
	"testing/fstest"
)

// treeFS passes the standard library's file system conformance test.
func TestTreeFSConformance(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	s.write(map[string]string{
		"a.yaml":         "a",
		"dir/b.yaml":     "bb",
		"dir/sub/c.json": "ccc",
		"dir.d/x.yml":    "x", // sorts before dir/ in git's order, after it in fs's
	})
	h := s.commit("files")
	c, err := s.repo.CommitObject(h)
	if err != nil {
		t.Fatal(err)
	}
	root, err := c.Tree()
	if err != nil {
		t.Fatal(err)
	}
	fsys := &treeFS{s: s.repo.Storer, root: root, modTime: c.Committer.When}
	if err := fstest.TestFS(fsys, "a.yaml", "dir/b.yaml", "dir/sub/c.json", "dir.d/x.yml"); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Open("missing.yaml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want ErrNotExist", err)
	}
	if _, err := fsys.Open("../x"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Open(../x) = %v, want ErrInvalid", err)
	}
}

// A manifest that is a symlink refuses the commit rather than being read
// as its target path.
func TestSymlinkManifestRefused(t *testing.T) {
	t.Parallel()
	s, _ := basicSource(t)
	if err := symlink(s.dir, "deploy.yaml", "link.yaml"); err != nil {
		t.Fatal(err)
	}
	s.commit("symlink")
	r, _ := newTestRepo(t, Options{URL: s.dir})
	err := loadErr(t, r, ErrInvalidCommit)
	if !errors.Is(err, errUnsupportedEntry) {
		t.Errorf("err = %v, want %v", err, errUnsupportedEntry)
	}
}
