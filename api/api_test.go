package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/runtime"
)

type stubLoop struct{ st executor.Status }

func (s stubLoop) Status() executor.Status { return s.st }
func (s stubLoop) Objects() []config.Object {
	return []config.Object{
		{Key: config.Key{Namespace: "ns", Kind: "Secret", Name: "db"}, Obj: &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns"},
			Data:       map[string][]byte{"password": []byte("hunter2-very-secret")},
			StringData: map[string]string{"user": "admin-secret-user"}}},
		{Key: config.Key{Namespace: "ns", Kind: "ConfigMap", Name: "cm"}, Obj: &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns"}, Data: map[string]string{"k": "visible"}}},
	}
}

func TestObjectsRedactSecrets(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler(stubLoop{}, Options{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/objects", nil))
	body := rec.Body.String()
	if rec.Code != 200 || strings.Contains(body, "hunter2") || strings.Contains(body, "aHVudGVy") ||
		strings.Contains(body, "admin-secret-user") {
		t.Fatalf("objects leak a secret value: %d %s", rec.Code, body)
	}
	if !strings.Contains(body, "(redacted, 19 bytes)") || !strings.Contains(body, "visible") || !strings.Contains(body, `"kind": "ConfigMap"`) {
		t.Fatalf("objects view: %s", body)
	}
}

func (s stubLoop) Pods() []runtime.Pod {
	return []runtime.Pod{{Namespace: "ns", Name: "web-1", Containers: []runtime.Container{{Name: "c", Ready: true}}}}
}

func TestPodsAndRollouts(t *testing.T) {
	h := Handler(stubLoop{executor.Status{Workloads: []executor.WorkloadStatus{{Namespace: "ns", Kind: "Deployment", Name: "web"}}}}, Options{})
	for path, want := range map[string]string{"/api/v1/pods": `"Name": "web-1"`, "/api/v1/rollouts": `"name": "web"`} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
}

func (s stubLoop) Events() []executor.Event {
	return []executor.Event{{Type: executor.Warning, Reason: "ErrImagePull", Object: "pod/ns/p"}}
}

func TestHandler(t *testing.T) {
	tests := []struct {
		path string
		st   executor.Status
		code int
	}{
		{"/healthz", executor.Status{}, 200},
		{"/readyz", executor.Status{}, 503},
		{"/readyz", executor.Status{EngineUp: true, Revision: "r1"}, 200},
		{"/api/v1/status", executor.Status{Node: "n1"}, 200},
		{"/api/v1/events", executor.Status{}, 200},
		{"/nope", executor.Status{}, 404},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		Handler(stubLoop{tc.st}, Options{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if rec.Code != tc.code {
			t.Errorf("GET %s = %d, want %d", tc.path, rec.Code, tc.code)
		}
	}
	rec := httptest.NewRecorder()
	Handler(stubLoop{executor.Status{Node: "n1", Revision: "r9"}}, Options{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/status", nil))
	var st executor.Status
	if err := json.NewDecoder(rec.Body).Decode(&st); err != nil || st.Node != "n1" || st.Revision != "r9" {
		t.Errorf("status JSON: %v %+v", err, st)
	}
	rec = httptest.NewRecorder()
	Handler(stubLoop{}, Options{}).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/status", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST status = %d, want 405", rec.Code)
	}
}

func TestOptionalRoutes(t *testing.T) {
	hit := ""
	h := Handler(stubLoop{}, Options{
		Source:  func() any { return map[string]string{"url": "file:///repo"} },
		Webhook: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit = "webhook " + r.Method }),
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit = "metrics" }),
	})
	for _, tc := range []struct{ method, path, want string }{
		{http.MethodPost, "/hooks/git", "webhook POST"},
		{http.MethodGet, "/metrics", "metrics"},
	} {
		hit = ""
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, tc.path, nil))
		if hit != tc.want {
			t.Errorf("%s %s reached %q", tc.method, tc.path, hit)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/source", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "file:///repo") {
		t.Errorf("source: %d %s", rec.Code, rec.Body)
	}
}

func TestMutatingRoutesNeedTheToken(t *testing.T) {
	var paused []bool
	pause := func(p bool) { paused = append(paused, p) }
	do := func(h http.Handler, path, auth string) int {
		req := httptest.NewRequest(http.MethodPost, path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	noToken := Handler(stubLoop{}, Options{Pause: pause})
	if code := do(noToken, "/api/v1/sync/pause", "Bearer anything"); code != http.StatusForbidden {
		t.Errorf("without a configured token: %d, want 403", code)
	}
	h := Handler(stubLoop{}, Options{Pause: pause, Token: []byte("s3cret")})
	for _, auth := range []string{"", "Bearer wrong", "Basic s3cret", "s3cret"} {
		if code := do(h, "/api/v1/sync/pause", auth); code != http.StatusUnauthorized {
			t.Errorf("auth %q: %d, want 401", auth, code)
		}
	}
	if len(paused) != 0 {
		t.Fatalf("unauthorized requests paused the loop: %v", paused)
	}
	if code := do(h, "/api/v1/sync/pause", "Bearer s3cret"); code != http.StatusNoContent {
		t.Errorf("pause with the token: %d", code)
	}
	if code := do(h, "/api/v1/sync/resume", "Bearer s3cret"); code != http.StatusNoContent {
		t.Errorf("resume with the token: %d", code)
	}
	if len(paused) != 2 || !paused[0] || paused[1] {
		t.Fatalf("pause calls %v, want [true false]", paused)
	}
}
