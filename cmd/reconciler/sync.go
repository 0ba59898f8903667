package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/reconciler/reconciler/gitsync"
)

// cmdSync implements `sync pause|resume`, which need the daemon's token.
func cmdSync(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "pause" && args[0] != "resume") {
		return errors.New("usage: reconciler sync pause|resume [--token-file F] [--server URL]")
	}
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "http://127.0.0.1:9780", "daemon API")
	tokenFile := fs.String("token-file", envOr("RECONCILER_TOKEN_FILE", ""), "file holding the daemon's bearer token")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *tokenFile == "" {
		return errors.New("--token-file is required: changes through the API need the daemon's token")
	}
	token, err := gitsync.LoadSecret(*tokenFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(*server, "/")+"/api/v1/sync/"+args[0], nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+string(token))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	fmt.Fprintf(stdout, "sync %sd\n", strings.TrimSuffix(args[0], "e")) // paused, resumed
	return nil
}

// version is set at build time (-ldflags "-X main.version=...") and falls
// back to the module and VCS data Go records in the binary.
var version = ""

// cmdVersion prints the build's version and commit.
func cmdVersion(stdout io.Writer) {
	v, commit, dirty := version, "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision":
				commit = s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				dirty = " (modified)"
			}
		}
	}
	fmt.Fprintf(stdout, "reconciler %s, commit %s%s, %s\n", v, commit, dirty, goVersion())
}

func goVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return "unknown Go"
}
