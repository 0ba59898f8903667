package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reconciler/reconciler/gitsync"
	"github.com/reconciler/reconciler/internal/testenv"
	"github.com/reconciler/reconciler/runtime"
)

// gitServer serves bare repositories under root over smart HTTP (git
// http-backend behind net/http/cgi) on a fixed loopback port, with basic
// authentication, and can be stopped and started again on the same port.
type gitServer struct {
	root, token, addr string
	srv               *http.Server
}

func (g *gitServer) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", g.addr)
	if err != nil {
		t.Fatalf("git server listen: %v", err)
	}
	g.addr = ln.Addr().String()
	backend := &cgi.Handler{Path: gitPath(t), Args: []string{"http-backend"},
		Env: []string{"GIT_PROJECT_ROOT=" + g.root, "GIT_HTTP_EXPORT_ALL=1"}}
	g.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "git" || p != g.token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	})}
	go func() { _ = g.srv.Serve(ln) }()
}

func (g *gitServer) stop() {
	if g.srv != nil {
		_ = g.srv.Close()
		g.srv = nil
	}
}

func gitPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("git is not installed (%v); run scripts/setup-test-tools.sh (make test does)", err)
	}
	return p
}

// gitRun runs git in dir and returns its trimmed output.
func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(gitPath(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// hook posts a GitHub-style push notification signed with secret.
func hook(t *testing.T, listen string, secret []byte) int {
	t.Helper()
	body := []byte(`{"ref":"refs/heads/main"}`)
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	req, _ := http.NewRequest(http.MethodPost, "http://"+listen+"/hooks/git", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("webhook: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func sourceStatus(t *testing.T, listen string) gitsync.Status {
	t.Helper()
	var s gitsync.Status
	if err := getJSON(context.Background(), "http://"+listen+"/api/v1/source", &s); err != nil {
		t.Fatalf("source status: %v", err)
	}
	return s
}

const gitopsDeploy = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %[1]s}
spec:
  replicas: 2
  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: hello, image: "localhost/reconciler-hello:%[2]s", imagePullPolicy: IfNotPresent, ports: [{containerPort: 8080}]}
`

// TestGitOps drives the daemon from a Git repository served over
// authenticated HTTP on loopback: push to deploy, webhook-triggered sync
// within a second, a refused webhook, git revert to roll back, a broken
// commit that changes nothing, its fix, and a git server outage.
func TestGitOps(t *testing.T) {
	t.Parallel()
	rt, sc := testenv.Integration(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	token, secret := "tok-"+sc.Node+"-s3cr3t", []byte("hook-"+sc.Node+"-s3cr3t")
	writeSecret := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokenFile, secretFile := writeSecret("token", []byte(token+"\n")), writeSecret("hook", secret)
	remote, work := filepath.Join(dir, "srv", "apps.git"), filepath.Join(dir, "work")
	gitRun(t, dir, "init", "-q", "--bare", "-b", "main", remote)
	gitRun(t, dir, "clone", "-q", remote, work)
	commit := func(msg, body string) string {
		if err := os.MkdirAll(filepath.Join(work, "apps"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, "apps", "web.yaml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		testenv.DeclareNamespace(t, filepath.Join(work, "apps"), sc.Node)
		gitRun(t, work, "add", "-A")
		gitRun(t, work, "commit", "-q", "-m", msg)
		gitRun(t, work, "push", "-q", "origin", "HEAD:main")
		return gitRun(t, work, "rev-parse", "HEAD")
	}
	c1 := commit("web v1", fmt.Sprintf(gitopsDeploy, sc.Namespace, "v1"))

	srv := &gitServer{root: filepath.Join(dir, "srv"), token: token, addr: "127.0.0.1:0"}
	srv.start(t)
	t.Cleanup(srv.stop)
	listen := freePort(t)
	d := startProc(t, bin, "run", "--repo", "http://"+srv.addr+"/apps.git", "--branch", "main", "--path", "apps",
		"--interval", "1h", "--http-token-file", tokenFile, "--webhook-secret-file", secretFile,
		"--state-dir", filepath.Join(dir, "state"), "--node-name", sc.Node, "--listen", listen,
		"--resync", "1s", "--podman", testenv.URI())
	on := func(tag string) func(runtime.Pod) bool {
		return func(p runtime.Pod) bool {
			return p.Current("hello").Image == "localhost/reconciler-hello:"+tag
		}
	}
	first := waitPodsWhere(t, rt, sc.Node, map[string]int{"web": 2}, d.log, on("v1"))
	if first["web"][0].Revision != c1 {
		t.Fatalf("pods record revision %q, want the commit %s", first["web"][0].Revision, c1)
	}

	// Push v2 and notify: the sync starts within a second.
	c2 := commit("web v2", fmt.Sprintf(gitopsDeploy, sc.Namespace, "v2"))
	start := time.Now()
	if code := hook(t, listen, secret); code != http.StatusAccepted {
		t.Fatalf("webhook with a good signature: %d", code)
	}
	for sourceStatus(t, listen).LastFetched != c2 {
		if time.Since(start) > time.Second {
			t.Fatalf("the webhook-triggered sync did not fetch %s within 1 s", c2)
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitPodsWhere(t, rt, sc.Node, map[string]int{"web": 2}, d.log, on("v2"))

	// A badly signed webhook does nothing.
	gitRun(t, work, "revert", "--no-edit", "HEAD")
	gitRun(t, work, "push", "-q", "origin", "HEAD:main")
	c3 := gitRun(t, work, "rev-parse", "HEAD")
	if code := hook(t, listen, []byte("wrong")); code != http.StatusUnauthorized {
		t.Fatalf("webhook with a bad signature: %d, want 401", code)
	}
	time.Sleep(1500 * time.Millisecond) // a resync of the daemon, which must not fetch (interval 1h)
	if got := sourceStatus(t, listen).LastFetched; got != c2 {
		t.Fatalf("a refused webhook synced: fetched %s", got)
	}
	// git revert rolls back, with the same rollout rules.
	hook(t, listen, secret)
	waitPodsWhere(t, rt, sc.Node, map[string]int{"web": 2}, d.log, on("v1"))
	if got := sourceStatus(t, listen).LastGood; got != c3 {
		t.Fatalf("applied %s, want the revert %s", got, c3)
	}

	// A broken commit changes nothing and is reported with file and field.
	before := podsByOwner(t, rt, sc.Node)["web"]
	commit("broken", strings.Replace(fmt.Sprintf(gitopsDeploy, sc.Namespace, "v2"), "replicas: 2", "replicas: -2", 1))
	hook(t, listen, secret)
	var out []byte
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out, _ = exec.Command(bin, "status", "--server", "http://"+listen).CombinedOutput()
		if strings.Contains(string(out), "web.yaml#0: spec.replicas") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status does not show the broken commit's error:\n%s", out)
		}
	}
	for _, want := range []string{"Repository:", "apps.git", "branch main", "Applied:", c3} {
		if !strings.Contains(string(out), want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if m := metricsText(t, listen); !strings.Contains(m, `reconciler_source_error{reason="invalid"} 1`) {
		t.Errorf("metrics do not report the refused commit:\n%s", m)
	}
	if after := podsByOwner(t, rt, sc.Node)["web"]; !samePods(before, after) {
		t.Fatal("a broken commit changed the running pods")
	}

	// Its fix is applied.
	commit("fixed", fmt.Sprintf(gitopsDeploy, sc.Namespace, "v2"))
	hook(t, listen, secret)
	waitPodsWhere(t, rt, sc.Node, map[string]int{"web": 2}, d.log, on("v2"))

	// The git server goes away: everything keeps running; when it is back,
	// the next push is applied.
	srv.stop()
	c6 := commit("v1 again", fmt.Sprintf(gitopsDeploy, sc.Namespace, "v1"))
	hook(t, listen, secret)
	for deadline := time.Now().Add(20 * time.Second); sourceStatus(t, listen).LastError == ""; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the outage of the git server is not reported")
		}
	}
	if n := len(podsByOwner(t, rt, sc.Node)["web"]); n != 2 {
		t.Fatalf("%d pods during the git outage, want 2", n)
	}
	srv.start(t)
	for deadline := time.Now().Add(30 * time.Second); sourceStatus(t, listen).LastGood != c6; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not synced after the git server came back: %+v", sourceStatus(t, listen))
		}
		hook(t, listen, secret)
	}
	waitPodsWhere(t, rt, sc.Node, map[string]int{"web": 2}, d.log, on("v1"))

	d.signal(t, syscall.SIGINT)
	for _, s := range []string{token, string(secret)} {
		if strings.Contains(d.log.String(), s) {
			t.Errorf("the daemon's log contains a secret")
		}
	}
	if strings.Contains(d.log.String(), "s3cr3t") {
		t.Error("a credential leaked into the log")
	}
}

func metricsText(t *testing.T, listen string) string {
	t.Helper()
	resp, err := http.Get("http://" + listen + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func samePods(a, b []runtime.Pod) bool {
	if len(a) != len(b) {
		return false
	}
	ids := map[string]bool{}
	for _, p := range a {
		ids[p.ID+p.Current("hello").ID] = true
	}
	for _, p := range b {
		if !ids[p.ID+p.Current("hello").ID] {
			return false
		}
	}
	return true
}
