// Package gitsync makes a Git repository the source of the desired state.
// It fetches with go-git, chooses and verifies the commit, and hands that
// commit's manifest directory to config.Load. It also serves the push
// webhook.
//
// # Loading
//
// New checks the Options and reads the credentials. (*Repo).Load
// implements executor.Source. Each call does the following:
//
//   - It fetches the followed ref (the remote's HEAD, a branch, a tag, or a
//     fixed Rev) into a bare clone under Options.StateDir. The clone lives
//     in one directory per URL. A restarted daemon finds its clone again
//     and does not clone a second time. A flock beside the clone keeps two
//     processes from writing it at once.
//   - The first fetch of a ref is shallow (one commit deep) on every
//     transport that serves shallow fetches: http(s), ssh, git, file and
//     local paths. If a shallow fetch fails, it is retried in full. Later
//     fetches negotiate against the commits the clone already has, so only
//     new objects travel. (A shallow fetch would send each new commit's
//     whole tree again, because go-git does not ask for thin packs.)
//   - A clone that lacks an object of a fetched commit is replaced by a
//     new clone, within the same Load. This can happen after a force-push
//     onto an older base. A clone that has gathered many pack files is
//     replaced on the next fetch.
//   - With Options.VerifyKeyringFile set, the head commit must carry an
//     OpenPGP signature by one of the trusted keys.
//   - The manifest directory (Options.Path) is read straight from the
//     object store through an io/fs.FS. Nothing is checked out. Each
//     manifest passes through Options.Decrypt in memory, so decrypted
//     secrets never reach the disk.
//   - Desired.Revision is the full commit SHA.
//
// # Errors
//
// Load's errors fall into two kinds, so the caller can tell them apart:
//
//   - ErrUnreachable: the network, authentication, host keys, a missing
//     repository or ref, or the local clone failed. Attempts are spaced by
//     a back-off of 1 s doubling to 5 min, reset by a success. During the
//     back-off, Load returns the last error at once without touching the
//     network. Options.Interval spaces the fetches in the same way.
//     Trigger (called by the webhook) skips both waits.
//   - ErrInvalidCommit: the commit is refused, for one of these reasons:
//     its manifests do not load (the config error is wrapped, so
//     config.Errors gives file#doc: field: message); it is unsigned or
//     untrusted; a manifest cannot be decrypted; or it looks like a
//     mistake (see Empty commits below). The verdict is kept by SHA. A
//     refused commit is parsed once and logged once, at warn level with
//     the keys "commit" and "err".
//
// In both cases the executor keeps running the last good state.
//
// # Force-pushes
//
// A force-push to a followed branch or tag is followed. The new head is
// what the repository says now, and it is loaded and checked like any
// other commit. A Rev that is already in the clone is used without
// touching the network, because a commit never changes. A Rev that a
// force-push removed from every ref cannot be fetched into a new clone,
// so it is ErrUnreachable.
//
// # Empty commits
//
// Unless Options.AllowEmpty is set, these commits are refused as probable
// mistakes, because applying them would remove everything:
//
//   - a commit that declares no object;
//   - a commit that declares no workload when the last good commit had
//     some;
//   - a commit whose manifest directory is missing.
//
// # Credentials
//
// Credentials never come from a value that ps would show. URLs that carry
// them are refused. Tokens are read from a file or an environment
// variable, and SSH keys from a file. SSH host keys are checked against
// known_hosts unless that check is turned off explicitly. Credentials
// never appear in an error, a log line or Status.
//
// # Webhook
//
// WebhookHandler accepts GitHub-, Gitea-, Gogs- and GitLab-style push
// requests. Each request is authenticated by HMAC-SHA256 or, for GitLab,
// by its token, and an accepted request calls Trigger.
//
// A Repo starts no goroutines. Load calls are serialised. Status and
// Trigger may be called from any goroutine.
package gitsync
