// Package archtest enforces the import directions of DESIGN.md, so that the
// planner stays pure and only runtime/podman touches the Podman bindings.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/reconciler/reconciler/"

// list returns, for every package of the module, the import paths named by
// the template field: Imports (direct) or Deps (transitive).
func list(t *testing.T, field string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .`+field+` " "}}`, mod+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, list, _ := strings.Cut(line, ":")
		m[strings.TrimPrefix(pkg, mod)] = strings.Fields(list)
	}
	return m
}

func TestImportDirections(t *testing.T) {
	rules := []struct {
		pkg       string
		forbidden []string // module packages, external path prefixes, or "std:" standard packages imported directly
	}{
		{"planner", []string{"executor", "runtime/podman", "runtime/fake", "lb", "health", "gitsync", "api", "cmd",
			"github.com/containers/", "std:os", "std:net", "std:syscall", "std:log", "std:math/rand", "std:crypto/rand"}},
		{"config", []string{"runtime", "planner", "executor", "lb", "health", "gitsync", "github.com/containers/"}},
		{"runtime", []string{"github.com/containers/", "executor", "planner", "config"}},
		{"executor", []string{"runtime/podman", "github.com/containers/"}},
		{"lb", []string{"executor", "planner", "runtime", "svcnet", "config", "github.com/containers/"}},
		{"fleet", []string{"executor", "planner", "runtime", "lb", "svcnet", "health", "gitsync", "api", "cmd", "config", "github.com/containers/"}},
		{"svcnet", []string{"executor", "planner", "runtime/podman", "config", "github.com/containers/"}},
		{"health", []string{"executor", "planner", "runtime/podman", "github.com/containers/"}},
		{"gitsync", []string{"executor", "planner", "runtime", "github.com/containers/"}},
		{"api", []string{"runtime/podman", "github.com/containers/"}},
	}
	transitive, direct := list(t, "Deps"), list(t, "Imports")
	for _, r := range rules {
		if _, ok := transitive[r.pkg]; !ok {
			t.Errorf("package %s not found", r.pkg)
			continue
		}
		for _, f := range r.forbidden {
			imports := transitive[r.pkg]
			if strings.HasPrefix(f, "std:") {
				imports = direct[r.pkg]
			}
			for _, imp := range imports {
				if forbidden(imp, f) {
					t.Errorf("%s imports %s (forbidden: %s)", r.pkg, imp, f)
				}
			}
		}
	}
}

// forbidden matches an import against a rule: "std:x" is the standard
// package x and its subpackages; a dotted rule is an external path prefix;
// anything else is a package of this module and its subpackages.
func forbidden(imp, rule string) bool {
	if std, ok := strings.CutPrefix(rule, "std:"); ok {
		return !strings.Contains(imp, ".") && (imp == std || strings.HasPrefix(imp, std+"/"))
	}
	if strings.Contains(rule, ".") {
		return strings.HasPrefix(imp, rule)
	}
	rel, ok := strings.CutPrefix(imp, mod)
	return ok && (rel == rule || strings.HasPrefix(rel, rule+"/"))
}

func TestForbiddenMatcher(t *testing.T) {
	cases := []struct {
		imp, rule string
		want      bool
	}{
		{mod + "runtime/podman", "runtime/podman", true},
		{mod + "runtime", "runtime/podman", false},
		{mod + "runtime/podman", "runtime", true},
		{"os", "std:os", true},
		{"os/exec", "std:os", true},
		{"osx", "std:os", false},
		{"runtime", "runtime", false},
		{"k8s.io/apimachinery/pkg/runtime", "runtime", false},
		{"github.com/containers/podman/v4/pkg/bindings", "github.com/containers/", true},
	}
	for _, c := range cases {
		if got := forbidden(c.imp, c.rule); got != c.want {
			t.Errorf("forbidden(%q, %q) = %v", c.imp, c.rule, got)
		}
	}
}
