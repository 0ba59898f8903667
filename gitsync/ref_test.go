package gitsync

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/executor"
)

var wantBasic = []string{"default/ConfigMap/settings", "default/Deployment/web"}

func TestLoadLocalTransports(t *testing.T) {
	t.Parallel()
	s, first := basicSource(t)
	for name, url := range map[string]string{
		"plain path": s.dir,
		"file URL":   "file://" + s.dir,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, _ := newTestRepo(t, Options{URL: url, Branch: "main"})
			d := mustLoad(t, r)
			if d.Revision != first.String() {
				t.Errorf("Revision = %s, want the full commit SHA %s", d.Revision, first)
			}
			if got := keys(d); !slices.Equal(got, wantBasic) {
				t.Errorf("objects = %v, want %v", got, wantBasic)
			}
			st := r.Status()
			if st.LastGood != first.String() || st.LastFetched != first.String() || st.LastError != "" || st.LastFetchTime.IsZero() {
				t.Errorf("status = %+v", st)
			}
		})
	}
}

func TestRefSelection(t *testing.T) {
	t.Parallel()
	s, first := basicSource(t)
	s.tag("v1-light", first, false)
	s.tag("v1", first, true)
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:2")})
	second := s.commit("second on main")
	s.branch("stable", first)
	// A subdirectory on a third commit.
	s.write(map[string]string{"clusters/prod/app.yaml": deployment("prod-app", "nginx:3")})
	third := s.commit("third: prod dir")

	cases := []struct {
		name     string
		opt      Options
		want     string // revision
		wantKeys []string
	}{
		{"HEAD by default", Options{}, third.String(), []string{"default/ConfigMap/settings", "default/Deployment/prod-app", "default/Deployment/web"}},
		{"branch main", Options{Branch: "main"}, third.String(), nil},
		{"branch stable", Options{Branch: "stable"}, first.String(), wantBasic},
		{"lightweight tag", Options{Tag: "v1-light"}, first.String(), wantBasic},
		{"annotated tag", Options{Tag: "v1"}, first.String(), wantBasic},
		{"rev", Options{Rev: second.String()}, second.String(), wantBasic},
		{"path", Options{Branch: "main", Path: "clusters/prod"}, third.String(), []string{"default/Deployment/prod-app"}},
		{"path with slashes", Options{Branch: "main", Path: "/clusters/prod/"}, third.String(), []string{"default/Deployment/prod-app"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opt := tc.opt
			opt.URL = s.dir
			r, _ := newTestRepo(t, opt)
			d := mustLoad(t, r)
			if d.Revision != tc.want {
				t.Errorf("Revision = %s, want %s", d.Revision, tc.want)
			}
			if tc.wantKeys != nil && !slices.Equal(keys(d), tc.wantKeys) {
				t.Errorf("objects = %v, want %v", keys(d), tc.wantKeys)
			}
		})
	}
}

func TestMissingRefIsUnreachable(t *testing.T) {
	t.Parallel()
	s, _ := basicSource(t)
	for name, opt := range map[string]Options{
		"branch": {Branch: "nope"},
		"tag":    {Tag: "nope"},
		"rev":    {Rev: strings.Repeat("ab", 20)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opt.URL = s.dir
			r, _ := newTestRepo(t, opt)
			err := loadErr(t, r, ErrUnreachable)
			if errors.Is(err, ErrInvalidCommit) {
				t.Errorf("a missing ref is not an invalid commit: %v", err)
			}
			if st := r.Status(); st.LastError != err.Error() || st.BackoffUntil.IsZero() {
				t.Errorf("status = %+v", st)
			}
		})
	}
}

func TestPathMissingOrAFile(t *testing.T) {
	t.Parallel()
	s, first := basicSource(t)
	for _, tc := range []struct {
		name, path string
		allowEmpty bool
		wantErr    error
	}{
		{"missing dir refused", "clusters/none", false, errPathMissing},
		{"missing dir with AllowEmpty is empty", "clusters/none", true, nil},
		{"a file refused", "deploy.yaml", false, errPathNotTree},
		{"a file refused even with AllowEmpty", "deploy.yaml", true, errPathNotTree},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, _ := newTestRepo(t, Options{URL: s.dir, Path: tc.path, AllowEmpty: tc.allowEmpty})
			if tc.wantErr == nil {
				d := mustLoad(t, r)
				if d.Revision != first.String() || len(d.Objects) != 0 {
					t.Errorf("got %s with %v, want an empty state at %s", d.Revision, keys(d), first)
				}
				return
			}
			err := loadErr(t, r, ErrInvalidCommit)
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("err = %v, want %v naming %s", err, tc.wantErr, tc.path)
			}
		})
	}
}

// Repo is the executor's source of desired state.
var _ executor.Source = (*Repo)(nil)
