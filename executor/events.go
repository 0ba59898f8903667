package executor

import (
	"log/slog"
	"sync"
	"time"
)

// Event types, as Kubernetes'.
const (
	Normal  = "Normal"
	Warning = "Warning"
)

// Event records one decision or failure of the loop.
type Event struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Reason  string    `json:"reason"`
	Object  string    `json:"object"`
	Message string    `json:"message"`
}

// recorder keeps the last events in a bounded ring and logs each one.
type recorder struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []Event
	pos int
	n   int
}

func newRecorder(log *slog.Logger, size int) *recorder {
	return &recorder{log: log, buf: make([]Event, size)}
}

func (r *recorder) record(now time.Time, typ, reason, object, msg string) {
	level := slog.LevelInfo
	if typ == Warning {
		level = slog.LevelWarn
	}
	r.log.Log(nil, level, "event", "type", typ, "reason", reason, "object", object, "message", msg)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf[r.pos] = Event{Time: now, Type: typ, Reason: reason, Object: object, Message: msg}
	r.pos = (r.pos + 1) % len(r.buf)
	if r.n < len(r.buf) {
		r.n++
	}
}

// list returns the recorded events, oldest first.
func (r *recorder) list() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Event, 0, r.n)
	start := (r.pos - r.n + len(r.buf)) % len(r.buf)
	for i := 0; i < r.n; i++ {
		out = append(out, r.buf[(start+i)%len(r.buf)])
	}
	return out
}
