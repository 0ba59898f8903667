package gitsync

import "time"

// Status is what a Repo last did, for the daemon's status API. It never
// holds credentials.
type Status struct {
	// URL is the repository, without credentials.
	URL string `json:"url"`
	// Ref is what is followed: "HEAD", "branch B", "tag T" or "rev SHA".
	Ref string `json:"ref"`
	// Path is the manifest directory inside the repository ("" for the root).
	Path string `json:"path,omitempty"`
	// LastFetched is the commit the last successful fetch resolved the ref
	// to, and LastFetchTime when that fetch ended.
	LastFetched   string    `json:"lastFetched,omitempty"`
	LastFetchTime time.Time `json:"lastFetchTime,omitzero"`
	// LastGood is the last commit whose manifests loaded: the desired state
	// in force.
	LastGood string `json:"lastGood,omitempty"`
	// LastError is the error of the last Load ("" after a success).
	LastError string `json:"lastError,omitempty"`
	// Refused tells a refused commit (LastError is ErrInvalidCommit's) from
	// an unreachable repository.
	Refused bool `json:"refused,omitempty"`
	// Fetches and FetchFailures count the fetches tried since start, and
	// those that failed.
	Fetches       int64 `json:"fetches"`
	FetchFailures int64 `json:"fetchFailures"`
	// BackoffUntil is set while the repository is unreachable: no fetch is
	// tried before it unless Trigger is called.
	BackoffUntil time.Time `json:"backoffUntil,omitzero"`
}
