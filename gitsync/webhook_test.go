package gitsync

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const hookSecret = "hook-s3cret"

const pushPayload = `{"ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567"}`

func sign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return hex.EncodeToString(mac.Sum(nil))
}

func TestWebhookHandler(t *testing.T) {
	t.Parallel()
	good := sign(hookSecret, pushPayload)
	bad := sign("other", pushPayload)
	cases := []struct {
		name    string
		method  string
		headers map[string]string
		body    string
		secret  string
		want    int
	}{
		{"GitHub", "POST", map[string]string{"X-Hub-Signature-256": "sha256=" + good, "X-GitHub-Event": "push"}, pushPayload, hookSecret, 202},
		{"GitHub upper-case hex", "POST", map[string]string{"X-Hub-Signature-256": "sha256=" + strings.ToUpper(good)}, pushPayload, hookSecret, 202},
		{"Gitea", "POST", map[string]string{"X-Gitea-Signature": good, "X-Gitea-Event": "push"}, pushPayload, hookSecret, 202},
		{"Gogs", "POST", map[string]string{"X-Gogs-Signature": good}, pushPayload, hookSecret, 202},
		{"generic", "POST", map[string]string{"X-Signature-256": "sha256=" + good}, pushPayload, hookSecret, 202},
		{"GitLab token", "POST", map[string]string{"X-Gitlab-Token": hookSecret, "X-Gitlab-Event": "Push Hook"}, pushPayload, hookSecret, 202},
		{"any branch triggers", "POST", map[string]string{"X-Hub-Signature-256": "sha256=" + sign(hookSecret, `{"ref":"refs/heads/other"}`)}, `{"ref":"refs/heads/other"}`, hookSecret, 202},

		{"no signature", "POST", nil, pushPayload, hookSecret, 401},
		{"GitHub wrong secret", "POST", map[string]string{"X-Hub-Signature-256": "sha256=" + bad}, pushPayload, hookSecret, 401},
		{"GitHub without prefix", "POST", map[string]string{"X-Hub-Signature-256": good}, pushPayload, hookSecret, 401},
		{"GitHub sha1 prefix", "POST", map[string]string{"X-Hub-Signature-256": "sha1=" + good}, pushPayload, hookSecret, 401},
		{"GitHub not hex", "POST", map[string]string{"X-Hub-Signature-256": "sha256=zz"}, pushPayload, hookSecret, 401},
		{"GitHub body changed", "POST", map[string]string{"X-Hub-Signature-256": "sha256=" + good}, pushPayload + " ", hookSecret, 401},
		{"GitHub sha1 header only", "POST", map[string]string{"X-Hub-Signature": "sha1=abcd"}, pushPayload, hookSecret, 401},
		{"Gitea wrong", "POST", map[string]string{"X-Gitea-Signature": bad}, pushPayload, hookSecret, 401},
		{"GitLab wrong token", "POST", map[string]string{"X-Gitlab-Token": "nope"}, pushPayload, hookSecret, 401},
		{"bad signature wins over a good token", "POST", map[string]string{"X-Hub-Signature-256": "sha256=" + bad, "X-Gitlab-Token": hookSecret}, pushPayload, hookSecret, 401},
		{"empty secret refuses all", "POST", map[string]string{"X-Hub-Signature-256": "sha256=" + sign("", pushPayload)}, pushPayload, "", 401},
		{"GET", "GET", map[string]string{"X-Hub-Signature-256": "sha256=" + good}, "", hookSecret, 405},
		{"too large", "POST", map[string]string{"X-Hub-Signature-256": "sha256=" + sign(hookSecret, strings.Repeat("x", 1<<20+1))}, strings.Repeat("x", 1<<20+1), hookSecret, 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var triggered atomic.Int64
			log, logs := testLog(t)
			h := WebhookHandler([]byte(tc.secret), func() { triggered.Add(1) }, log)
			req := httptest.NewRequest(tc.method, "/hooks/git", strings.NewReader(tc.body))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status = %d, want %d (body %q)", rec.Code, tc.want, rec.Body)
			}
			wantTriggers := int64(0)
			if tc.want == http.StatusAccepted {
				wantTriggers = 1
			}
			if n := triggered.Load(); n != wantTriggers {
				t.Errorf("trigger called %d times, want %d", n, wantTriggers)
			}
			if tc.want == 405 && rec.Header().Get("Allow") != "POST" {
				t.Errorf("405 without Allow: POST")
			}
			if tc.secret != "" && strings.Contains(logs.String(), tc.secret) {
				t.Errorf("the secret is in the log")
			}
		})
	}
}

// The webhook, wired to Repo.Trigger, makes the next Load fetch at once:
// within the interval, and during a back-off.
func TestWebhookTriggersLoad(t *testing.T) {
	t.Parallel()
	s, _ := basicSource(t)
	clock := newClock()
	r, _ := newTestRepo(t, Options{URL: s.dir, Interval: time.Hour, Now: clock.Now})
	mustLoad(t, r)
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:2")})
	second := s.commit("second")
	poked := make(chan struct{}, 1)
	h := WebhookHandler([]byte(hookSecret), func() { r.Trigger(); poked <- struct{}{} }, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/hooks/git", strings.NewReader(pushPayload))
	req.Header.Set("X-Hub-Signature-256", "sha256="+sign(hookSecret, pushPayload))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d", resp.StatusCode)
	}
	select {
	case <-poked:
	case <-time.After(time.Second):
		t.Fatal("trigger not called within 1 s")
	}
	if d := mustLoad(t, r); d.Revision != second.String() {
		t.Errorf("Revision = %s, want %s", d.Revision, second)
	}
}

func TestLoadSecret(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, path, want string
		wantErr          bool
	}{
		{"trailing newline trimmed", write("nl", "abc\n"), "abc", false},
		{"CRLF trimmed", write("crlf", "abc\r\n"), "abc", false},
		{"inner spaces kept", write("sp", " a b \n"), " a b ", false},
		{"empty refused", write("empty", ""), "", true},
		{"only newline refused", write("nl-only", "\n"), "", true},
		{"missing", filepath.Join(dir, "missing"), "", true},
	}
	for _, tc := range cases {
		got, err := LoadSecret(tc.path)
		if (err != nil) != tc.wantErr || string(got) != tc.want {
			t.Errorf("%s: LoadSecret = %q, %v", tc.name, got, err)
		}
	}
}
