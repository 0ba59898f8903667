package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/planner"
)

func TestJobRoutes(t *testing.T) {
	st := executor.Status{Jobs: []planner.JobStatus{{Namespace: "ns", Name: "dice", Status: "Complete"}},
		CronJobs: []planner.CronJobStatus{{Namespace: "ns", Name: "tick", Schedule: "* * * * *"}}}
	var created []string
	create := func(_ context.Context, ns, name, cj string) error {
		switch cj {
		case "missing":
			return fmt.Errorf("%w: %s", executor.ErrNoCronJob, cj)
		case "taken":
			return executor.ErrJobExists
		}
		created = append(created, ns+"/"+name+" from "+cj)
		return nil
	}
	h := Handler(stubLoop{st}, Options{Token: []byte("tok"), CreateJob: create})
	for path, want := range map[string]string{"/api/v1/jobs": `"name": "dice"`, "/api/v1/cronjobs": `"schedule": "* * * * *"`} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	post := func(h http.Handler, token, body string) int {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/jobs", strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	tests := []struct {
		token, body string
		want        int
	}{
		{"", `{"name":"x","from":"cronjob/tick"}`, http.StatusUnauthorized},
		{"wrong", `{"name":"x","from":"cronjob/tick"}`, http.StatusUnauthorized},
		{"tok", `{"name":"x","from":"deployment/tick"}`, http.StatusBadRequest},
		{"tok", `{"name":"x","from":"cronjob/tick","extra":1}`, http.StatusBadRequest},
		{"tok", `{"name":"x","from":"cronjob/missing"}`, http.StatusNotFound},
		{"tok", `{"name":"x","from":"cronjob/taken"}`, http.StatusConflict},
		{"tok", `{"namespace":"ns","name":"by-hand","from":"cronjob/tick"}`, http.StatusCreated},
		{"tok", `{"name":"x2","from":"cronjob/tick"}`, http.StatusCreated},
	}
	for _, tc := range tests {
		if got := post(h, tc.token, tc.body); got != tc.want {
			t.Errorf("POST %s with token %q: %d, want %d", tc.body, tc.token, got, tc.want)
		}
	}
	if strings.Join(created, ",") != "ns/by-hand from tick,default/x2 from tick" {
		t.Errorf("created %v", created)
	}
	noToken := Handler(stubLoop{st}, Options{CreateJob: create})
	if got := post(noToken, "tok", `{"name":"x","from":"cronjob/tick"}`); got != http.StatusForbidden {
		t.Errorf("without a configured token: %d, want 403", got)
	}
}
