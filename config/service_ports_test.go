package config

import (
	"strings"
	"testing"
)

func TestServicePortClashes(t *testing.T) {
	svc := func(ns, name, extra string) string {
		return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n  selector: {app: x}\n" + extra + "\n---\n"
	}
	fsys := memFS(map[string]string{
		"a.yaml": svc("one", "web", "  type: NodePort\n  ports: [{name: http, port: 80, nodePort: 30080}]") +
			svc("one", "udp", "  ports: [{port: 53, protocol: UDP}]"),
		"b.yaml": svc("two", "web", "  ports: [{name: http, port: 80}]") +
			svc("two", "np", "  type: NodePort\n  ports: [{name: a, port: 81, nodePort: 30080}]") +
			svc("two", "dns", "  ports: [{port: 53, protocol: UDP}]") +
			svc("two", "headless", "  clusterIP: None\n  ports: [{port: 81}]") +
			svc("two", "fine", "  ports: [{port: 82}]"),
		"ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: one}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: two}\n",
	})
	_, err := Load(fsys, "r1")
	got := errorLines(err)
	want := []string{
		`b.yaml#0: spec.ports[0].port: port 80 clashes with Service "one/web" (a.yaml#0), which already uses it`,
		`b.yaml#1: spec.ports[0].nodePort: nodePort 30080 clashes with Service "one/web" (a.yaml#0), which already uses it`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
