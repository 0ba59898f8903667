// Package backoff is the exponential retry delay the daemon uses wherever
// something outside it fails: the engine, the Git remote.
package backoff

import "time"

// Backoff doubles a delay on each failure from Base up to Max and resets on
// success. The zero value with Base and Max set is ready to use; it is not
// safe for concurrent use.
type Backoff struct {
	Base, Max time.Duration
	cur       time.Duration
}

// New returns a back-off from base to max.
func New(base, max time.Duration) Backoff { return Backoff{Base: base, Max: max} }

// Next returns the delay before the next attempt and doubles the following
// one.
func (b *Backoff) Next() time.Duration {
	if b.cur == 0 {
		b.cur = b.Base
	}
	d := b.cur
	b.cur = min(b.cur*2, b.Max)
	return d
}

// Reset forgets past failures.
func (b *Backoff) Reset() { b.cur = 0 }

// Idle reports whether no failure is being backed off.
func (b *Backoff) Idle() bool { return b.cur == 0 }
