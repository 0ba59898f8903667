package config

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrChanging is returned by Dir.Load while the directory's manifests are
// being written.
var ErrChanging = errors.New("manifests changed while being read; waiting for them to settle")

// Dir is a directory of manifests as a source of desired state. A file
// that an editor or a copy is writing can be read half-written (an empty
// file is even valid: it declares nothing); so a new revision is accepted
// only when a second read, Settle later, finds the same content.
type Dir struct {
	Path string
	// Settle is the wait before the confirming read (default 200 ms).
	Settle time.Duration

	mu   sync.Mutex
	last string // the last accepted revision
}

// Load reads the directory; see Dir for when a new revision is accepted.
func (d *Dir) Load(ctx context.Context) (*Desired, error) {
	first, err := LoadDir(d.Path)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	known := first.Revision == d.last
	d.mu.Unlock()
	if known {
		return first, nil
	}
	settle := d.Settle
	if settle <= 0 {
		settle = 200 * time.Millisecond
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(settle):
	}
	second, err := LoadDir(d.Path)
	if err != nil {
		return nil, err
	}
	if second.Revision != first.Revision {
		return nil, ErrChanging
	}
	d.mu.Lock()
	d.last = second.Revision
	d.mu.Unlock()
	return second, nil
}
