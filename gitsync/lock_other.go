//go:build !unix

package gitsync

import "context"

// lockClone is a no-op where flock does not exist: there, one state
// directory must serve one process.
func lockClone(context.Context, string) (func(), error) { return func() {}, nil }
