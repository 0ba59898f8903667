package runtime

import (
	"context"
	"time"
)

// Revision is one remembered pod template of a Deployment, the
// reconciler's counterpart of the ReplicaSets that Kubernetes keeps for
// `rollout history` and `rollout undo`. It lives in the engine (the Podman
// implementation keeps it as an empty, labelled volume), so revisions
// survive daemon restarts without a local database.
type Revision struct {
	Namespace  string
	Deployment string
	Node       string
	// Number orders revisions: the desired template always has the highest.
	Number int64
	// Hash is the template hash; Template its JSON encoding.
	Hash     string
	Template []byte
	// Source is the source revision (git commit) the template came from.
	Source  string
	Created time.Time
	// Complete is set once this template was fully rolled out and available.
	Complete bool
	// PinFor, when set, makes this revision run instead of the desired
	// template for as long as the desired template's hash is PinFor: an
	// undo or an automatic revert, overridden by the next change in git.
	PinFor string
	// PinReason is "undo" or "auto-revert".
	PinReason string
}

// RevisionStore keeps Deployment revisions in the engine.
type RevisionStore interface {
	// Revisions lists the node's revisions (every node's when node is empty).
	Revisions(ctx context.Context, node string) ([]Revision, error)
	// PutRevision creates or replaces the revision of (namespace,
	// deployment, node, hash).
	PutRevision(ctx context.Context, r Revision) error
	// DeleteRevision removes it; a missing revision is not an error.
	DeleteRevision(ctx context.Context, r Revision) error
}
