package gitsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/reconciler/reconciler/config"
)

// setupHint is appended to every failure caused by a missing tool.
const setupHint = "run scripts/setup-test-tools.sh (as root) to install git and openssh-server"

// requireTool fails the test, never skips it, when a program is missing.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/" + name); serr == nil {
			return "/usr/sbin/" + name
		}
		t.Fatalf("%s not found (%v): %s", name, err, setupHint)
	}
	return p
}

// source is a repository the tests commit to, served by the transports.
type source struct {
	t    *testing.T
	dir  string
	repo *git.Repository
	wt   *git.Worktree
	when time.Time
}

// newSource creates an empty repository with branch main in a temp dir.
func newSource(t *testing.T) *source {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.Main},
	})
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	return &source{t: t, dir: dir, repo: repo, wt: wt, when: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// write creates or replaces files (slash-separated paths).
func (s *source) write(files map[string]string) *source {
	s.t.Helper()
	for name, content := range files {
		p := filepath.Join(s.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			s.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
	return s
}

// remove deletes files or directories.
func (s *source) remove(names ...string) *source {
	s.t.Helper()
	for _, name := range names {
		if err := os.RemoveAll(filepath.Join(s.dir, filepath.FromSlash(name))); err != nil {
			s.t.Fatal(err)
		}
	}
	return s
}

// commit stages everything and commits it; signKey signs when not nil.
func (s *source) commit(msg string, signKey ...*openpgp.Entity) plumbing.Hash {
	s.t.Helper()
	if err := s.wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		s.t.Fatal(err)
	}
	s.when = s.when.Add(time.Minute)
	opt := &git.CommitOptions{
		All:               true,
		AllowEmptyCommits: true,
		Author:            &object.Signature{Name: "Test", Email: "test@example.com", When: s.when},
	}
	if len(signKey) > 0 {
		opt.SignKey = signKey[0]
	}
	h, err := s.wt.Commit(msg, opt)
	if err != nil {
		s.t.Fatal(err)
	}
	return h
}

// tag creates a lightweight or annotated tag on h.
func (s *source) tag(name string, h plumbing.Hash, annotated bool) {
	s.t.Helper()
	var opt *git.CreateTagOptions
	if annotated {
		opt = &git.CreateTagOptions{
			Message: "release " + name,
			Tagger:  &object.Signature{Name: "Test", Email: "test@example.com", When: s.when},
		}
	}
	if _, err := s.repo.CreateTag(name, h, opt); err != nil {
		s.t.Fatal(err)
	}
}

// branch points branch name at h (creating it), as a push would.
func (s *source) branch(name string, h plumbing.Hash) {
	s.t.Helper()
	if err := s.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(name), h)); err != nil {
		s.t.Fatal(err)
	}
}

// resetHard moves main and the worktree back to h: the next commit then
// rewrites history, as a force-push does.
func (s *source) resetHard(h plumbing.Hash) {
	s.t.Helper()
	if err := s.wt.Reset(&git.ResetOptions{Commit: h, Mode: git.HardReset}); err != nil {
		s.t.Fatal(err)
	}
}

// gitCLI runs git in the source repository (for settings go-git does not
// write).
func (s *source) gitCLI(args ...string) {
	s.t.Helper()
	cmd := exec.Command(requireTool(s.t, "git"), args...)
	cmd.Dir = s.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// deployment is a valid Deployment manifest.
func deployment(name, image string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: 2
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      containers:
        - name: app
          image: %[2]s
`, name, image)
}

// configMap is a valid ConfigMap manifest.
func configMap(name, value string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
data:
  key: %q
`, name, value)
}

// logBuffer collects log output; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// count is how many lines contain s.
func (b *logBuffer) count(s string) int {
	n := 0
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// testLog returns a debug-level logger writing to a buffer, which is
// printed when the test fails.
func testLog(t *testing.T) (*slog.Logger, *logBuffer) {
	t.Helper()
	buf := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", buf)
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newTestRepo calls New with a fresh StateDir (unless set) and a test log.
func newTestRepo(t *testing.T, opt Options) (*Repo, *logBuffer) {
	t.Helper()
	if opt.StateDir == "" {
		opt.StateDir = t.TempDir()
	}
	var buf *logBuffer
	if opt.Log == nil {
		opt.Log, buf = testLog(t)
	}
	r, err := New(opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r, buf
}

// mustLoad loads and fails the test on error.
//
// A transient failure to reach the repository (the loopback sshd of a
// loaded machine closing a session) is retried for up to 10 s, as the
// daemon retries with backoff; any other error, or one that lasts, fails
// the test.
func mustLoad(t *testing.T, r *Repo) *config.Desired {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := r.Load(ctx)
		if err == nil {
			return d
		}
		if !errors.Is(err, ErrUnreachable) || time.Now().After(deadline) {
			t.Fatalf("Load: %v", err)
		}
		t.Logf("Load: %v; retrying", err)
		time.Sleep(250 * time.Millisecond)
	}
}

// loadErr loads, expects an error wrapping want, and returns it.
func loadErr(t *testing.T, r *Repo, want error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := r.Load(ctx)
	if !errors.Is(err, want) {
		t.Fatalf("Load = %v, %v; want an error wrapping %v", d, err, want)
	}
	return err
}

// keys lists the object keys of d, for comparisons.
func keys(d *config.Desired) []string {
	var out []string
	for _, o := range d.Objects {
		out = append(out, o.Key.String())
	}
	return out
}

// basicSource is a source with a Deployment and a ConfigMap committed on
// main; it returns the commit.
func basicSource(t *testing.T) (*source, plumbing.Hash) {
	t.Helper()
	s := newSource(t)
	s.write(map[string]string{
		"deploy.yaml":    deployment("web", "nginx:1"),
		"configmap.yaml": configMap("settings", "v1"),
		"README.md":      "not a manifest",
	})
	return s, s.commit("initial")
}

// symlink creates dir/name pointing at target.
func symlink(dir, target, name string) error {
	return os.Symlink(target, filepath.Join(dir, name))
}
