package fleet

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestParseSerfLine(t *testing.T) {
	cases := []struct{ in, level, component, text string }{
		{"[WARN] memberlist: Refuting a suspect message (from: a)\n", "WARN", "memberlist", "Refuting a suspect message (from: a)"},
		{"[DEBUG] serf: messageJoinType: b", "DEBUG", "serf", "messageJoinType: b"},
		{"no level here: at all", "", "", "no level here: at all"},
		{"plain", "", "", "plain"},
	}
	for _, c := range cases {
		l, comp, text := parseSerfLine(c.in)
		if l != c.level || comp != c.component || text != c.text {
			t.Errorf("parseSerfLine(%q) = %q %q %q", c.in, l, comp, text)
		}
	}
}

func TestSerfLogsAreDebugRecords(t *testing.T) {
	var buf bytes.Buffer
	l := serfLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l.Printf("[ERR] memberlist: Failed to receive: %s", "boom")
	out := buf.String()
	for _, want := range []string{"level=DEBUG", "msg=gossip", "serf_level=ERR", "component=memberlist", `text="Failed to receive: boom"`} {
		if !strings.Contains(out, want) {
			t.Errorf("record %q lacks %q", out, want)
		}
	}
	buf.Reset()
	quiet := serfLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	quiet.Printf("[ERR] serf: hidden")
	if buf.Len() != 0 {
		t.Errorf("serf logs above debug: %q", buf.String())
	}
}
