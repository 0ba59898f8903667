package fleet

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"
)

func TestNewValidatesEverythingAtOnce(t *testing.T) {
	_, err := New(Options{
		Node: "Bad_Name", Bind: "nope", Advertise: "1.2.3.4:x", Key: []byte("short"),
		NotReadyAfter: -time.Second, Labels: map[string]string{"bad key!": "v", "ok": "bad value!"},
		Tags: map[string]string{"l:x": "y"},
	})
	if err == nil {
		t.Fatal("bad options accepted")
	}
	for _, want := range []string{`node name "Bad_Name"`, `bind: address "nope"`, `advertise: address "1.2.3.4:x"`,
		"key is 5 bytes", "not-ready timeout -1s is negative", `label key "bad key!"`, `label ok value "bad value!"`,
		`reserved tag keys "l:x"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := New(Options{Node: "n"}); !errors.Is(err, ErrNoKey) {
		t.Errorf("no key: %v, want ErrNoKey", err)
	}
	_, err = New(Options{Node: "n", Key: key(1), Labels: map[string]string{"big": strings.Repeat("v", 63)},
		Tags: map[string]string{"blob": strings.Repeat("x", 500)}})
	if !errors.Is(err, ErrTagsTooLarge) {
		t.Errorf("oversized tags: %v, want ErrTagsTooLarge", err)
	}
}

func TestNewDefaults(t *testing.T) {
	f, err := New(Options{Node: "n1", Key: key(1), Labels: map[string]string{"zone": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if f.opt.Bind != DefaultBind || f.opt.NotReadyAfter != DefaultNotReadyAfter || f.opt.Timing.ProbeInterval != time.Second ||
		f.opt.Timing.Refresh != time.Second || f.opt.Timing.JoinRetryMax != 30*time.Second {
		t.Errorf("defaults: %+v", f.opt)
	}
	if want := map[string]string{"zone": "a", HostnameLabel: "n1"}; !maps.Equal(f.id.labels, want) {
		t.Errorf("labels %v, want %v", f.id.labels, want)
	}
	g, _ := New(Options{Node: "n2", Key: key(1), NotReadyAfter: 200 * time.Millisecond})
	if g.opt.Timing.Refresh != 50*time.Millisecond {
		t.Errorf("refresh with a short timeout: %v", g.opt.Timing.Refresh)
	}
}

func TestBeforeRun(t *testing.T) {
	f, err := New(Options{Node: "n1", Key: key(1), Address: "192.0.2.9", Bind: "127.0.0.1:7946", Tags: map[string]string{TagPods: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetTags(map[string]string{TagApplied: "abc", TagPods: ""}); err != nil {
		t.Fatal(err)
	}
	ms := f.Members()
	if len(ms) != 1 || ms[0].Name != "n1" || ms[0].Status != Ready || ms[0].Address != "192.0.2.9" ||
		ms[0].Labels[HostnameLabel] != "n1" || !maps.Equal(ms[0].Tags, map[string]string{TagApplied: "abc"}) {
		t.Fatalf("before Run, Members = %+v", ms)
	}
	if err := f.SetTags(map[string]string{"a": "x"}); err == nil {
		t.Error("SetTags accepted the reserved key a")
	}
	if err := f.SetTags(map[string]string{"blob": strings.Repeat("x", 600)}); !errors.Is(err, ErrTagsTooLarge) {
		t.Errorf("SetTags too large: %v", err)
	}
	if f.Members()[0].Tags["blob"] != "" {
		t.Error("a refused SetTags changed the tags")
	}
	if f.Addr() != "" || f.JoinError() != nil {
		t.Error("Addr or JoinError set before Run")
	}
}
