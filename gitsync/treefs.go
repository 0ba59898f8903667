package gitsync

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// errUnsupportedEntry is returned when a symlink or a submodule is opened:
// the tree is read from the object store, where neither can be followed.
var errUnsupportedEntry = errors.New("symlinks and submodules are not supported in the manifest directory")

// errDecrypt wraps the errors of the Decrypt hook.
var errDecrypt = errors.New("decrypt")

// treeFS is a read-only fs.FS over a git tree, read straight from the
// object store: nothing is checked out to disk. Each file opened passes
// through decrypt (when set), in memory. All modification times are the
// commit's. It is not safe for concurrent use (go-git's Tree caches
// lookups).
type treeFS struct {
	s       storer.EncodedObjectStorer
	root    *object.Tree
	decrypt func(file string, data []byte) ([]byte, error)
	modTime time.Time
}

var _ fs.FS = (*treeFS)(nil)

// Open implements fs.FS.
func (t *treeFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return t.openDir(name, t.root), nil
	}
	e, err := t.root.FindEntry(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	switch e.Mode {
	case filemode.Dir:
		tree, err := object.GetTree(t.s, e.Hash)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return t.openDir(name, tree), nil
	case filemode.Regular, filemode.Executable, filemode.Deprecated:
		return t.openFile(name, *e)
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: errUnsupportedEntry}
}

// openFile reads a blob into memory and passes it through decrypt.
func (t *treeFS) openFile(name string, e object.TreeEntry) (fs.File, error) {
	blob, err := object.GetBlob(t.s, e.Hash)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	r, err := blob.Reader()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if t.decrypt != nil {
		if data, err = t.decrypt(name, data); err != nil {
			return nil, fmt.Errorf("%w %s: %w", errDecrypt, name, err)
		}
	}
	info := t.info(path.Base(name), e.Mode, int64(len(data)))
	return &memFile{info: info, Reader: bytes.NewReader(data)}, nil
}

// openDir lists a tree, sorted by name as fs.ReadDir promises.
func (t *treeFS) openDir(name string, tree *object.Tree) fs.File {
	entries := make([]fs.DirEntry, len(tree.Entries))
	for i, e := range tree.Entries {
		entries[i] = dirEntry{fsys: t, e: e}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return &dirFile{info: t.info(path.Base(name), filemode.Dir, 0), entries: entries}
}

// info describes an entry: directories r-x, files r-- (r-x if
// executable), symlinks and submodules as such.
func (t *treeFS) info(name string, m filemode.FileMode, size int64) fileInfo {
	mode := fs.FileMode(0o444)
	switch m {
	case filemode.Dir:
		mode = fs.ModeDir | 0o555
	case filemode.Executable:
		mode = 0o555
	case filemode.Symlink:
		mode = fs.ModeSymlink | 0o777
	case filemode.Submodule:
		mode = fs.ModeIrregular | 0o444
	}
	return fileInfo{name: name, mode: mode, size: size, modTime: t.modTime}
}

// fileInfo implements fs.FileInfo.
type fileInfo struct {
	name    string
	mode    fs.FileMode
	size    int64
	modTime time.Time
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return i.mode }
func (i fileInfo) ModTime() time.Time { return i.modTime }
func (i fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i fileInfo) Sys() any           { return nil }

// dirEntry implements fs.DirEntry for one tree entry. Its Info reports the
// stored size, before any decryption.
type dirEntry struct {
	fsys *treeFS
	e    object.TreeEntry
}

func (d dirEntry) Name() string      { return d.e.Name }
func (d dirEntry) IsDir() bool       { return d.e.Mode == filemode.Dir }
func (d dirEntry) Type() fs.FileMode { return d.fsys.info("", d.e.Mode, 0).mode.Type() }

func (d dirEntry) Info() (fs.FileInfo, error) {
	var size int64
	if d.e.Mode != filemode.Dir && d.e.Mode != filemode.Submodule {
		n, err := d.fsys.s.EncodedObjectSize(d.e.Hash)
		if err != nil {
			return nil, &fs.PathError{Op: "stat", Path: d.e.Name, Err: err}
		}
		size = n
	}
	return d.fsys.info(d.e.Name, d.e.Mode, size), nil
}

// memFile is an opened file, held in memory.
type memFile struct {
	info fileInfo
	*bytes.Reader
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

// dirFile is an opened directory.
type dirFile struct {
	info    fileInfo
	entries []fs.DirEntry
	off     int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error               { return nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}

// ReadDir implements fs.ReadDirFile.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return rest[:n], nil
}
