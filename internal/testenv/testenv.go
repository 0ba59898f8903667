// Package testenv gives integration tests a real Podman engine, the example
// images and an isolated scope (a unique node and namespace) whose objects
// are removed when the test ends. It never skips: a missing engine fails the
// test with the reason and the command that fixes it.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/runtime/podman"
)

// URI returns the Podman API address tests use: $PODMAN_URI or the default.
func URI() string {
	if u := os.Getenv("PODMAN_URI"); u != "" {
		return u
	}
	return podman.DefaultURI
}

// Podman returns a client for the engine, failing the test if it does not
// answer.
func Podman(t testing.TB) *podman.Client {
	t.Helper()
	c := podman.New(URI())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("the Podman API does not answer at %s (%v); run `sudo scripts/setup-podman.sh` (make test does)", URI(), err)
	}
	return c
}

// RepoRoot returns the repository's top directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := goruntime.Caller(0)
	if !ok {
		t.Fatal("testenv: cannot locate source file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var imagesOnce sync.Once
var imagesErr error

// Images makes sure the example images (localhost/reconciler-hello:v1, :v2,
// localhost/reconciler-kv:v1) are built from the current source. The build
// script does nothing when the images' source label is current; it runs
// once per test binary, under a file lock so parallel test binaries do not
// race.
func Images(t testing.TB) {
	t.Helper()
	imagesOnce.Do(func() { imagesErr = buildImages(RepoRoot(t)) })
	if imagesErr != nil {
		t.Fatalf("building example images: %v", imagesErr)
	}
}

func buildImages(root string) error {
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "reconciler-images.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	out, err := exec.Command("bash", filepath.Join(root, "examples", "build-images.sh")).CombinedOutput()
	if err != nil {
		return &cmdError{err: err, out: string(out)}
	}
	return nil
}

type cmdError struct {
	err error
	out string
}

func (e *cmdError) Error() string { return e.err.Error() + ": " + strings.TrimSpace(e.out) }

// Scope is a test's private corner of the engine.
type Scope struct {
	// Node is a node name no other test uses; the daemon under test runs as it.
	Node string
	// Namespace is a Kubernetes namespace no other test uses.
	Namespace string
}

// NewScope returns a unique scope and registers a cleanup that removes every
// pod and record labelled with its node, and nothing else.
func NewScope(t testing.TB, rt runtime.Runtime) Scope {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	s := Scope{Node: "test-" + id, Namespace: "t-" + id}
	t.Cleanup(func() { Cleanup(t, rt, s.Node) })
	return s
}

// Cleanup removes every managed pod of node, and its revision, Job and
// CronJob records.
func Cleanup(t testing.TB, rt runtime.Runtime, node string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	obs, err := rt.Observe(ctx, node)
	if err != nil {
		t.Errorf("cleanup of node %s: %v", node, err)
		return
	}
	for _, p := range obs.Pods {
		if err := rt.RemovePod(ctx, p.ID, 0); err != nil {
			t.Errorf("cleanup: remove pod %s: %v", p.Name, err)
		}
	}
	revs, err := rt.Revisions(ctx, node)
	if err != nil {
		t.Errorf("cleanup: list revisions of node %s: %v", node, err)
	}
	for _, r := range revs {
		if err := rt.DeleteRevision(ctx, r); err != nil {
			t.Errorf("cleanup: delete revision %d of %s: %v", r.Number, r.Deployment, err)
		}
	}
	jobs, crons, err := rt.JobRecords(ctx, node)
	if err != nil {
		t.Errorf("cleanup: list job records of node %s: %v", node, err)
	}
	for _, j := range jobs {
		if err := rt.DeleteJobRecord(ctx, j); err != nil {
			t.Errorf("cleanup: delete the record of job %s: %v", j.Name, err)
		}
	}
	for _, c := range crons {
		if err := rt.DeleteCronJobRecord(ctx, c); err != nil {
			t.Errorf("cleanup: delete the record of cronjob %s: %v", c.Name, err)
		}
	}
	vols, err := rt.ListVolumes(ctx, node)
	if err != nil {
		t.Errorf("cleanup: list volumes of node %s: %v", node, err)
	}
	for _, v := range vols {
		if err := rt.RemoveVolume(ctx, v.Name); err != nil {
			t.Errorf("cleanup: remove volume %s: %v", v.Name, err)
		}
	}
	_ = os.RemoveAll(filepath.Join(VolumeDir, node))
}

// VolumeDir is the default directory of pods' ConfigMap and Secret files
// (the daemon's --volume-dir); each node has a directory in it.
const VolumeDir = "/run/reconciler/volumes"

// Service is a private `podman system service` on its own socket, sharing
// the machine's storage; a test may stop and start it without disturbing
// tests that use the shared service.
type Service struct {
	sock string
	cmd  *exec.Cmd
}

// StartService starts a private API service on sock and stops it when the
// test ends.
func StartService(t testing.TB, sock string) *Service {
	t.Helper()
	s := &Service{sock: sock}
	s.Start(t)
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Start starts the service and waits until it answers.
func (s *Service) Start(t testing.TB) {
	t.Helper()
	_ = os.Remove(s.sock)
	s.cmd = exec.Command("podman", "system", "service", "--time=0", "unix://"+s.sock)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start podman service: %v", err)
	}
	c := podman.New("unix://" + s.sock)
	// A service starting while the engine is busy (other tests run in
	// parallel) can take a while to take its locks and answer.
	deadline := time.Now().Add(90 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := c.Ping(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("private podman service on %s did not answer: %v", s.sock, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the service (idempotent).
func (s *Service) Stop(t testing.TB) {
	t.Helper()
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	s.cmd = nil
	_ = os.Remove(s.sock)
}

// Integration prepares an integration test: the engine answers, the example
// images are current, and the test has its own scope, cleaned up at its end.
func Integration(t testing.TB) (*podman.Client, Scope) {
	t.Helper()
	rt := Podman(t)
	Images(t)
	return rt, NewScope(t, rt)
}

// DeclareNamespace writes a Namespace manifest for the scope of node
// ("test-X" → namespace "t-X") into the manifest directory dir: objects
// may only live in a declared namespace. It does nothing for other node
// names, or when dir is empty.
func DeclareNamespace(t testing.TB, dir, node string) {
	t.Helper()
	id, ok := strings.CutPrefix(node, "test-")
	if !ok || dir == "" {
		return
	}
	ns := "t-" + id
	body := "# written by the test harness\napiVersion: v1\nkind: Namespace\nmetadata: {name: " + ns + "}\n"
	if err := os.WriteFile(filepath.Join(dir, "namespace-"+ns+".yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
