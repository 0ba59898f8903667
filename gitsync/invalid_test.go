package gitsync

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/reconciler/reconciler/config"
)

// A commit with invalid manifests is refused with file#doc and field in the
// error, logged once, not parsed again, and a later fix loads.
func TestInvalidCommitThenFix(t *testing.T) {
	t.Parallel()
	s, first := basicSource(t)
	var reads atomic.Int64
	countReads := func(_ string, data []byte) ([]byte, error) { reads.Add(1); return data, nil }
	r, logs := newTestRepo(t, Options{URL: s.dir, Branch: "main", Decrypt: countReads})
	mustLoad(t, r)

	s.write(map[string]string{"deploy.yaml": strings.Replace(deployment("web", "nginx:2"), "          image: nginx:2\n", "", 1)})
	bad := s.commit("drop the image")
	err := loadErr(t, r, ErrInvalidCommit)
	const wantField = "deploy.yaml#0: spec.template.spec.containers[0].image"
	if !strings.Contains(err.Error(), wantField) || !strings.Contains(err.Error(), bad.String()) {
		t.Errorf("err = %q, want the commit and %q in it", err, wantField)
	}
	if fes := config.Errors(err); len(fes) == 0 || fes[0].Source.File != "deploy.yaml" {
		t.Errorf("config.Errors(err) = %v, want the field errors of deploy.yaml", fes)
	}
	readsAfterFirst := reads.Load()
	for range 3 {
		again := loadErr(t, r, ErrInvalidCommit)
		if again.Error() != err.Error() {
			t.Errorf("the same refused commit gave a different error:\n%v\n%v", again, err)
		}
	}
	if n := reads.Load(); n != readsAfterFirst {
		t.Errorf("the refused commit was parsed again: %d manifest reads, want %d", n, readsAfterFirst)
	}
	if n := logs.count(`msg="commit refused"`); n != 1 {
		t.Errorf("commit refused logged %d times, want once", n)
	}
	if !strings.Contains(logs.String(), "commit="+bad.String()) {
		t.Errorf("the refusal log does not carry commit=%s", bad)
	}
	st := r.Status()
	if st.LastGood != first.String() || st.LastFetched != bad.String() || !strings.Contains(st.LastError, wantField) {
		t.Errorf("status = %+v", st)
	}

	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:3")})
	fix := s.commit("fix")
	d := mustLoad(t, r)
	if d.Revision != fix.String() {
		t.Errorf("Revision = %s, want the fix %s", d.Revision, fix)
	}
	if st := r.Status(); st.LastGood != fix.String() || st.LastError != "" {
		t.Errorf("status after the fix = %+v", st)
	}
}

// Every commit-level refusal is ErrInvalidCommit, and AllowEmpty lifts the
// empty ones only.
func TestEmptyCommitProtection(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		path       string
		change     func(s *source)
		allowEmpty bool
		wantErr    error // nil: loads
		wantKeys   int
	}{
		{"all manifests deleted", "", func(s *source) { s.remove("deploy.yaml", "configmap.yaml") }, false, errNoObjects, 0},
		{"all manifests deleted, AllowEmpty", "", func(s *source) { s.remove("deploy.yaml", "configmap.yaml") }, true, nil, 0},
		{"every workload deleted", "", func(s *source) { s.remove("deploy.yaml") }, false, errNoWorkloads, 0},
		{"every workload deleted, AllowEmpty", "", func(s *source) { s.remove("deploy.yaml") }, true, nil, 1},
		{"one of two workloads deleted", "", func(s *source) {
			s.write(map[string]string{"other.yaml": deployment("other", "nginx:1")})
			s.commit("add other")
			s.remove("deploy.yaml")
		}, false, nil, 2},
		{"manifest dir removed", "apps", func(s *source) { s.remove("apps") }, false, errPathMissing, 0},
		{"manifest dir removed, AllowEmpty", "apps", func(s *source) { s.remove("apps") }, true, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _ := basicSource(t)
			if tc.path != "" {
				s.write(map[string]string{"apps/app.yaml": deployment("app", "nginx:1")})
				s.commit("apps dir")
			}
			r, _ := newTestRepo(t, Options{URL: s.dir, Path: tc.path, AllowEmpty: tc.allowEmpty})
			mustLoad(t, r)
			tc.change(s)
			head := s.commit("change")
			if tc.wantErr != nil {
				err := loadErr(t, r, ErrInvalidCommit)
				if !strings.Contains(err.Error(), tc.wantErr.Error()) {
					t.Errorf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			d := mustLoad(t, r)
			if d.Revision != head.String() || len(d.Objects) != tc.wantKeys {
				t.Errorf("got %s %v, want %s with %d objects", d.Revision, keys(d), head, tc.wantKeys)
			}
		})
	}
}

// A first commit with objects but no workload is fine; one with no object
// at all is refused even as the first.
func TestEmptyFirstCommit(t *testing.T) {
	t.Parallel()
	s := newSource(t)
	s.write(map[string]string{"cm.yaml": configMap("only", "x")})
	s.commit("config only")
	r, _ := newTestRepo(t, Options{URL: s.dir})
	if d := mustLoad(t, r); len(d.Objects) != 1 {
		t.Errorf("objects = %v", keys(d))
	}

	e := newSource(t)
	e.write(map[string]string{"README.md": "nothing yet"})
	e.commit("empty")
	r2, _ := newTestRepo(t, Options{URL: e.dir})
	loadErr(t, r2, ErrInvalidCommit)
}
