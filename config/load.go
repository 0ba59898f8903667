package config

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// manifestExts are the extensions of the files Load reads.
var manifestExts = map[string]bool{".yaml": true, ".yml": true, ".json": true}

// manifestFile is one manifest file read from the tree.
type manifestFile struct {
	name string
	data []byte
}

// Load reads every *.yaml, *.yml and *.json file under fsys (recursively,
// skipping directories whose name starts with "."), in sorted path order,
// and returns the desired state they declare, tagged with revision.
//
// Every problem of every file is reported at once: the error wraps
// ErrInvalid and carries each *FieldError (see Errors), sorted by file,
// document and field, and no Desired is returned. Besides the per-document
// rules of Decode, an object declared twice (same namespace, kind and name)
// anywhere in the tree is an error naming both places. A failure to read
// the tree is returned as such, without ErrInvalid.
func Load(fsys fs.FS, revision string) (*Desired, error) {
	files, err := readManifests(fsys)
	if err != nil {
		return nil, err
	}
	return load(files, revision)
}

// LoadDir loads the manifests under dir, with a revision derived from their
// content: "dir-" and the first 12 hex digits of a SHA-256 over each file's
// relative path, a NUL, its length and its content, in path order. An
// unchanged directory always gets the same revision; any change to a
// manifest (content, name, a file added or removed) gives a new one.
func LoadDir(dir string) (*Desired, error) {
	files, err := readManifests(os.DirFS(dir))
	if err != nil {
		return nil, err
	}
	return load(files, dirRevision(files))
}

// readManifests lists and reads the manifest files of fsys, sorted by path.
func readManifests(fsys fs.FS) ([]manifestFile, error) {
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if manifestExts[strings.ToLower(path.Ext(p))] {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("config: list manifests: %w", err)
	}
	sort.Strings(names)
	files := make([]manifestFile, 0, len(names))
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("config: read %s: %w", name, err)
		}
		files = append(files, manifestFile{name: name, data: data})
	}
	return files, nil
}

// dirRevision hashes the manifests into a revision string. The length
// before each content keeps bytes moved from one file to the next from
// producing the same stream.
func dirRevision(files []manifestFile) string {
	h := sha256.New()
	var n [8]byte
	for _, f := range files {
		h.Write([]byte(f.name))
		h.Write([]byte{0})
		binary.BigEndian.PutUint64(n[:], uint64(len(f.data)))
		h.Write(n[:])
		h.Write(f.data)
	}
	return "dir-" + hex.EncodeToString(h.Sum(nil))[:12]
}

// load decodes the files and assembles the Desired state.
func load(files []manifestFile, revision string) (*Desired, error) {
	d := &Desired{Revision: revision}
	var errs []*FieldError
	for _, f := range files {
		res := decodeFile(f.name, f.data)
		d.Objects = append(d.Objects, res.objects...)
		d.Warnings = append(d.Warnings, res.warnings...)
		errs = append(errs, res.errs...)
	}
	errs = append(errs, duplicates(d.Objects)...)
	errs = append(errs, portClashes(d.Objects)...)
	errs = append(errs, undeclaredNamespaces(d.Objects)...)
	errs = append(errs, objectCountQuotas(d.Objects)...)
	if err := combine(errs); err != nil {
		return nil, err
	}
	sort.SliceStable(d.Objects, func(i, j int) bool { return d.Objects[i].Key.Less(d.Objects[j].Key) })
	for _, o := range d.Objects {
		if w, ok := workloadOf(o); ok {
			d.Workloads = append(d.Workloads, w)
		}
	}
	d.Jobs, d.CronJobs = batchOf(d.Objects)
	return d, nil
}

// duplicates reports every object whose key was already declared, on the
// later declaration (in file and document order), naming the first.
func duplicates(objs []Object) []*FieldError {
	first := make(map[Key]Source, len(objs))
	var errs []*FieldError
	for _, o := range objs {
		if src, dup := first[o.Key]; dup {
			errs = append(errs, &FieldError{
				Source: o.Source,
				Field:  "metadata.name",
				Msg:    fmt.Sprintf("duplicate %s %q: already declared at %s", o.Key.Kind, path.Join(o.Key.Namespace, o.Key.Name), src),
			})
			continue
		}
		first[o.Key] = o.Source
	}
	return errs
}
