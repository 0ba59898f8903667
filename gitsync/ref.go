package gitsync

import (
	"fmt"
	"regexp"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
)

// refKind is what a Repo follows.
type refKind int

const (
	followHead refKind = iota
	followBranch
	followTag
	followRev
)

// ref is the ref a Repo follows: the remote's HEAD, a branch, a tag or a
// fixed commit.
type ref struct {
	kind refKind
	name string // branch or tag name, or the full commit SHA
}

var fullSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// newRef checks that at most one of branch, tag and rev is set and that
// each is well-formed.
func newRef(branch, tag, rev string) (ref, error) {
	n := 0
	for _, s := range []string{branch, tag, rev} {
		if s != "" {
			n++
		}
	}
	switch {
	case n > 1:
		return ref{}, fmt.Errorf("%w: set at most one of Branch, Tag and Rev", ErrOptions)
	case branch != "":
		return checkedRef(followBranch, branch, plumbing.NewBranchReferenceName(branch))
	case tag != "":
		return checkedRef(followTag, tag, plumbing.NewTagReferenceName(tag))
	case rev != "":
		if !fullSHA.MatchString(rev) {
			return ref{}, fmt.Errorf("%w: Rev %q is not a full 40-digit lowercase commit SHA", ErrOptions, rev)
		}
		return ref{kind: followRev, name: rev}, nil
	}
	return ref{kind: followHead, name: "HEAD"}, nil
}

// checkedRef validates the name as git would.
func checkedRef(kind refKind, name string, full plumbing.ReferenceName) (ref, error) {
	if err := full.Validate(); err != nil {
		return ref{}, fmt.Errorf("%w: ref %q: %w", ErrOptions, name, err)
	}
	return ref{kind: kind, name: name}, nil
}

// String renders the ref for Status and logs: "HEAD", "branch main",
// "tag v1.2.0" or "rev <sha>".
func (r ref) String() string {
	switch r.kind {
	case followBranch:
		return "branch " + r.name
	case followTag:
		return "tag " + r.name
	case followRev:
		return "rev " + r.name
	}
	return "HEAD"
}

// local is the local reference a fetch of r updates.
func (r ref) local() plumbing.ReferenceName {
	switch r.kind {
	case followBranch:
		return plumbing.NewRemoteReferenceName("origin", r.name)
	case followTag:
		return plumbing.NewTagReferenceName(r.name)
	case followRev:
		return "refs/reconciler/rev"
	}
	return plumbing.NewRemoteHEADReferenceName("origin")
}

// refspec fetches exactly the followed ref, forced: a force-pushed branch
// or a moved tag replaces the local copy.
func (r ref) refspec() config.RefSpec {
	var src string
	switch r.kind {
	case followBranch:
		src = plumbing.NewBranchReferenceName(r.name).String()
	case followTag:
		src = plumbing.NewTagReferenceName(r.name).String()
	case followRev:
		src = r.name
	default:
		src = "HEAD"
	}
	return config.RefSpec("+" + src + ":" + r.local().String())
}

// allRefspecs fetch every branch and tag: the way to find a Rev when the
// server does not serve a commit by its SHA.
var allRefspecs = []config.RefSpec{
	"+refs/heads/*:refs/remotes/origin/*",
	"+refs/tags/*:refs/tags/*",
}
