package fleet

import (
	"context"
	"log"
	"log/slog"
	"strings"
)

// serfLogger adapts serf's and memberlist's *log.Logger to slog: every
// line becomes a debug record "gossip" with the library's own level
// (DEBUG, INFO, WARN, ERR) and component (serf, memberlist) as attributes.
// Failures that matter to an operator (a join that fails, a bad key) are
// logged by Fleet itself at warning level.
func serfLogger(l *slog.Logger) *log.Logger {
	return log.New(slogWriter{l}, "", 0)
}

type slogWriter struct{ l *slog.Logger }

// Write logs one line; it never fails.
func (w slogWriter) Write(p []byte) (int, error) {
	if !w.l.Enabled(context.Background(), slog.LevelDebug) {
		return len(p), nil
	}
	level, component, text := parseSerfLine(string(p))
	w.l.Debug("gossip", "serf_level", level, "component", component, "text", text)
	return len(p), nil
}

// parseSerfLine splits "[WARN] memberlist: text\n" into its level,
// component and text; parts that are missing come back empty.
func parseSerfLine(s string) (level, component, text string) {
	s = strings.TrimRight(s, "\n")
	if rest, ok := strings.CutPrefix(s, "["); ok {
		if lv, after, ok := strings.Cut(rest, "] "); ok {
			level, s = lv, after
		}
	}
	if c, after, ok := strings.Cut(s, ": "); ok && !strings.Contains(c, " ") {
		component, s = c, after
	}
	return level, component, s
}
