package gitsync

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestLoadRevision loads an older commit of the clone, as a fleet node does
// while its members have not all fetched the newest, without changing what
// Load follows.
func TestLoadRevision(t *testing.T) {
	t.Parallel()
	s, first := basicSource(t)
	r, _ := newTestRepo(t, Options{URL: s.dir, Branch: "main"})
	mustLoad(t, r)
	s.write(map[string]string{"deploy.yaml": deployment("web", "nginx:2")})
	second := s.commit("second")
	r.Trigger()
	if d := mustLoad(t, r); d.Revision != second.String() {
		t.Fatalf("Load = %s, want %s", d.Revision, second)
	}
	old, err := r.LoadRevision(context.Background(), first.String())
	if err != nil || old.Revision != first.String() || !slices.Equal(keys(old), wantBasic) {
		t.Fatalf("LoadRevision(first) = %v, %v", old, err)
	}
	if st := r.Status(); st.LastGood != second.String() {
		t.Errorf("LoadRevision changed the followed state: %+v", st)
	}
	if d := mustLoad(t, r); d.Revision != second.String() {
		t.Errorf("Load after LoadRevision = %s", d.Revision)
	}
	for _, bad := range []string{"", "1234", strings.Repeat("0", 40), strings.Repeat("a", 40)} {
		if _, err := r.LoadRevision(context.Background(), bad); err == nil {
			t.Errorf("LoadRevision(%q) gave no error", bad)
		}
	}
}
