package gitsync

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// packs maps each pack file of the clone to its object count (from the
// pack header: "PACK", version, count).
func packs(t *testing.T, r *Repo) map[string]uint32 {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(r.dir, "objects", "pack", "*.pack"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint32{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil || len(b) < 12 || string(b[:4]) != "PACK" {
			t.Fatalf("pack %s: %v", name, err)
		}
		out[filepath.Base(name)] = binary.BigEndian.Uint32(b[8:12])
	}
	return out
}

// A restarted Repo on the same state directory reuses the clone and
// fetches only what the new commit brought.
func TestRestartReusesCloneAndFetchesIncrementally(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	files := map[string]string{"deploy.yaml": deployment("web", "nginx:1")}
	for i := range 40 {
		files[fmt.Sprintf("cm/%02d.yaml", i)] = configMap(fmt.Sprintf("cm-%02d", i), "v1")
	}
	s.write(files)
	s.commit("many files")
	state := t.TempDir()

	r1, _ := newTestRepo(t, Options{URL: s.dir, Branch: "main", StateDir: state})
	mustLoad(t, r1)
	before := packs(t, r1)
	if len(before) != 1 {
		t.Fatalf("after the first clone: packs %v, want one", before)
	}
	for _, n := range before {
		if n < 40 {
			t.Fatalf("first pack has %d objects, want the whole tree", n)
		}
	}
	if !isShallow(r1.repo) {
		t.Errorf("the clone is not shallow: the file transport should fetch one commit deep")
	}

	s.write(map[string]string{"cm/07.yaml": configMap("cm-07", "v2")})
	second := s.commit("change one")
	r2, _ := newTestRepo(t, Options{URL: s.dir, Branch: "main", StateDir: state}) // the daemon restarted
	if d := mustLoad(t, r2); d.Revision != second.String() {
		t.Fatalf("Revision = %s, want %s", d.Revision, second)
	}
	after := packs(t, r2)
	var added []uint32
	for name, n := range after {
		if _, ok := before[name]; !ok {
			added = append(added, n)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			t.Errorf("pack %s of the first clone is gone: the clone was made again", name)
		}
	}
	// commit + root tree + cm tree + one blob
	if len(added) != 1 || added[0] > 6 {
		t.Errorf("the restart fetched packs with %v objects, want one pack with the few new objects", added)
	}

	mustLoad(t, r2) // nothing new: no pack
	if n := len(packs(t, r2)); n != len(after) {
		t.Errorf("an up-to-date fetch added packs: %d, want %d", n, len(after))
	}
}

// A force-push that rewrites the followed branch is followed: the new head
// is what the repository says now, and it loads like any other commit.
// The rewritten commit is still known to be good or bad by its SHA.
func TestForcePushOnBranchFollowsTheNewHead(t *testing.T) {
	t.Parallel()
	s, first := basicSource(t)
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:2")})
	s.commit("second")
	r, _ := newTestRepo(t, Options{URL: s.dir, Branch: "main"})
	mustLoad(t, r)

	s.resetHard(first)
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:3")})
	rewritten := s.commit("rewritten second")
	if d := mustLoad(t, r); d.Revision != rewritten.String() {
		t.Errorf("Revision = %s, want the force-pushed head %s", d.Revision, rewritten)
	}
}

// A Rev already in the clone is used without the network (a commit never
// changes); a Rev that a force-push removed from every ref is unreachable
// for a new clone, and retried with back-off.
func TestRevRemovedByForcePush(t *testing.T) {
	t.Parallel()
	s, first := basicSource(t)
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:2")})
	pinned := s.commit("second")
	r, _ := newTestRepo(t, Options{URL: s.dir, Rev: pinned.String()})
	mustLoad(t, r)

	s.resetHard(first)
	s.commit("rewritten")
	// What a force-push and a gc on the server do to the pinned commit:
	// no ref reaches it and its object is gone. go-git writes loose
	// objects and no reflog, so removing the object file is exactly that
	// (git gc here was flaky: its repack read stray output on a busy
	// machine).
	obj := filepath.Join(s.dir, ".git", "objects", pinned.String()[:2], pinned.String()[2:])
	if err := os.Remove(obj); err != nil {
		t.Fatal(err)
	}

	if d := mustLoad(t, r); d.Revision != pinned.String() {
		t.Errorf("the existing clone: Revision = %s, want %s", d.Revision, pinned)
	}
	fresh, _ := newTestRepo(t, Options{URL: s.dir, Rev: pinned.String()})
	loadErr(t, fresh, ErrUnreachable)
}

// Rev is fetched one commit deep by its SHA when the server allows it, and
// found in the full history otherwise.
func TestRevFetch(t *testing.T) {
	t.Parallel()
	for _, allowSHA := range []bool{false, true} {
		t.Run(fmt.Sprintf("allowReachableSHA1InWant=%v", allowSHA), func(t *testing.T) {
			t.Parallel()
			s, first := basicSource(t)
			s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:2")})
			s.commit("second")
			if allowSHA {
				s.gitCLI("config", "uploadpack.allowReachableSHA1InWant", "true")
			}
			r, _ := newTestRepo(t, Options{URL: s.dir, Rev: first.String()})
			if d := mustLoad(t, r); d.Revision != first.String() {
				t.Fatalf("Revision = %s, want %s", d.Revision, first)
			}
			if got := isShallow(r.repo); got != allowSHA {
				t.Errorf("shallow clone = %v, want %v", got, allowSHA)
			}
			if got := keys(mustLoad(t, r)); !slices.Equal(got, wantBasic) {
				t.Errorf("objects = %v", got)
			}
		})
	}
}

// A clone that cannot be opened is replaced by a new one.
func TestDamagedCloneIsReplaced(t *testing.T) {
	t.Parallel()
	s, first := basicSource(t)
	state := t.TempDir()
	r1, _ := newTestRepo(t, Options{URL: s.dir, StateDir: state})
	mustLoad(t, r1)
	if err := os.WriteFile(filepath.Join(r1.dir, "config"), []byte("[core\ngarbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	r2, logs := newTestRepo(t, Options{URL: s.dir, StateDir: state})
	if d := mustLoad(t, r2); d.Revision != first.String() {
		t.Errorf("Revision = %s, want %s", d.Revision, first)
	}
	if logs.count("clone unreadable") != 1 {
		t.Errorf("no warning about the damaged clone")
	}
	if _, err := git.PlainOpen(r2.dir); err != nil {
		t.Errorf("the new clone does not open: %v", err)
	}
	_ = plumbing.ZeroHash
}

// A force-push onto a commit older than the shallow clone's base: the
// incremental fetch assumes the clone has that older commit's objects, so
// an object it lacks is not sent. Reading the commit finds the gap; the
// clone is made again at once and the new head loads in the same Load.
func TestForcePushOntoOlderBaseRecloneOnMissingObjects(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:1"), "extra.yaml": configMap("extra", "only in the old base")})
	base := s.commit("base with extra")
	s.remove("extra.yaml")
	s.commit("drop extra")
	r, logs := newTestRepo(t, Options{URL: s.dir, Branch: "main"})
	mustLoad(t, r)

	s.resetHard(base)
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:2")})
	head := s.commit("rewrite on the old base")
	d := mustLoad(t, r)
	if d.Revision != head.String() || !slices.Contains(keys(d), "default/ConfigMap/extra") {
		t.Errorf("got %s %v, want %s with the extra ConfigMap", d.Revision, keys(d), head)
	}
	if logs.count("clone lacks objects") != 1 {
		t.Errorf("no reclone logged:\n%s", logs)
	}
}

// A clone that gathered too many packs is made again, one commit deep.
func TestManyPacksRecloned(t *testing.T) {
	t.Parallel()
	s, _ := basicSource(t)
	r, logs := newTestRepo(t, Options{URL: s.dir})
	r.maxPacks = 2
	mustLoad(t, r)
	for i := range 3 {
		s.write(map[string]string{"configmap.yaml": configMap("settings", fmt.Sprint(i))})
		s.commit("change")
		mustLoad(t, r)
	}
	if n := len(packs(t, r)); n != 1 || logs.count("clone has many packs") != 1 {
		t.Errorf("packs = %d after compaction (want 1); log:\n%s", n, logs)
	}
	if !isShallow(r.repo) {
		t.Errorf("the new clone is not shallow")
	}
}
