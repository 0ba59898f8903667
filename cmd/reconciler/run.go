package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/reconciler/reconciler/api"
	"github.com/reconciler/reconciler/config"
	"github.com/reconciler/reconciler/executor"
	"github.com/reconciler/reconciler/fleet"
	"github.com/reconciler/reconciler/gitsync"
	"github.com/reconciler/reconciler/gitsync/sops"
	"github.com/reconciler/reconciler/lb"
	"github.com/reconciler/reconciler/metrics"
	"github.com/reconciler/reconciler/runtime/podman"
	"github.com/reconciler/reconciler/svcnet"
)

// runFlags are the flags of `run`.
type runFlags struct {
	source, node, uri, listen, logFormat, logLevel string
	resync                                         time.Duration
	autoRevert, selfHeal                           bool
	git                                            gitsync.Options
	sopsKeyFile, webhookSecretFile                 string
	tokenFile                                      string
	serviceCIDR, serviceLoopback, nodeAddress      string
	fleet                                          fleetFlags
	pod                                            podFlags
}

func parseRunFlags(args []string, stderr io.Writer) (*runFlags, error) {
	f := &runFlags{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.source, "source", "", "directory of Kubernetes manifests (or use --repo)")
	fs.StringVar(&f.node, "node-name", hostname(), "this node's name; the daemon owns exactly the engine objects labelled with it")
	fs.StringVar(&f.uri, "podman", envOr("PODMAN_URI", podman.DefaultURI), "Podman API service address")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:9780", "address of the daemon's HTTP API, webhook and /metrics: host:port or unix:/path/api.sock (empty to disable)")
	fs.DurationVar(&f.resync, "resync", 10*time.Second, "longest time between two observations of the engine")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&f.selfHeal, "self-heal", true, "correct drift (containers that died or were removed by hand, unexpected managed pods); false: only report it until the next commit")
	fs.BoolVar(&f.autoRevert, "auto-revert", false, "revert every Deployment whose rollout misses its progress deadline (per Deployment: annotation reconciler.io/auto-revert: \"true\")")
	g := &f.git
	fs.StringVar(&g.URL, "repo", "", "Git repository of manifests: https://, http://, ssh://, git@host:path, file:// or a local path")
	fs.StringVar(&g.Branch, "branch", "", "follow this branch (default: the remote's HEAD)")
	fs.StringVar(&g.Tag, "tag", "", "follow this tag")
	fs.StringVar(&g.Rev, "rev", "", "apply this commit (full SHA)")
	fs.StringVar(&g.Path, "path", "", "manifest directory inside the repository")
	fs.DurationVar(&g.Interval, "interval", 30*time.Second, "how often the repository is fetched (the webhook syncs at once)")
	fs.StringVar(&g.StateDir, "state-dir", gitsync.DefaultStateDir, "where the clone and the node's cordon live")
	fs.StringVar(&g.SSHKeyFile, "ssh-key-file", "", "private key for ssh URLs")
	fs.StringVar(&g.KnownHostsFile, "known-hosts-file", "", "trusted host keys for ssh (default ~/.ssh/known_hosts)")
	fs.BoolVar(&g.InsecureIgnoreHostKey, "insecure-ignore-host-key", false, "do not check the ssh host key (dangerous)")
	fs.StringVar(&g.HTTPUserFile, "http-user-file", "", "file holding the HTTP user name (default git)")
	fs.StringVar(&g.HTTPTokenFile, "http-token-file", "", "file holding the HTTP password or token")
	fs.StringVar(&g.HTTPTokenEnv, "http-token-env", "", "environment variable holding the HTTP password or token")
	fs.StringVar(&g.VerifyKeyringFile, "verify-commits", "", "file of trusted OpenPGP public keys: refuse heads not signed by one of them")
	fs.BoolVar(&g.AllowEmpty, "allow-empty", false, "accept a commit that removes every object, or whose --path is gone")
	fs.StringVar(&f.sopsKeyFile, "sops-age-key-file", "", "age identities that decrypt SOPS-encrypted manifests")
	fs.StringVar(&f.webhookSecretFile, "webhook-secret-file", "", "secret that signs POST /hooks/git (HMAC-SHA256); without it the webhook is off")
	fs.StringVar(&f.tokenFile, "token-file", "", "bearer token that API calls which change state must carry; required to listen beyond loopback")
	fs.StringVar(&f.serviceCIDR, "service-cidr", svcnet.DefaultCIDR.String(), "range of Service cluster IPs, added to the host's loopback interface")
	fs.StringVar(&f.serviceLoopback, "service-loopback", "127.0.0.1", "host address every Service port is also served on (empty: none)")
	fs.StringVar(&f.nodeAddress, "node-address", "", "address NodePorts listen on (default: all interfaces), and that other nodes and clients use to reach this node")
	f.fleet.register(fs)
	f.pod.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if (f.source == "") == (g.URL == "") {
		return nil, errors.New("give exactly one of --source DIR and --repo URL")
	}
	if err := f.fleet.check(f.listen, f.nodeAddress); err != nil {
		return nil, err
	}
	if f.listen != "" && !isLoopback(f.listen) && f.tokenFile == "" {
		return nil, fmt.Errorf("--listen %s is reachable beyond this host: give --token-file too", f.listen)
	}
	return f, nil
}

func cmdRun(ctx context.Context, args []string, stderr io.Writer) error {
	f, err := parseRunFlags(args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		return err
	}
	src, repo, err := newSource(f, log)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	counters, err := metrics.NewCounters(reg)
	if err != nil {
		return err
	}
	opt := executor.Options{Node: f.node, Resync: f.resync, Log: log, AutoRevert: f.autoRevert,
		NoSelfHeal: !f.selfHeal, Observer: counters}
	if err := f.pod.apply(&opt, f.git.StateDir); err != nil {
		return err
	}
	if repo != nil {
		opt.Reload = time.Millisecond // the repository keeps its own interval; Load is cheap in between
	}
	plane, err := newPlane(f, log, reg)
	if err != nil {
		return err
	}
	opt.Services = plane
	fl, err := newFleet(f, log)
	if err != nil {
		return err
	}
	cordoned, err := newCordon(fl, f.git.StateDir, f.node)
	if err != nil {
		return err
	}
	// A fleet of one places too: nodeSelector, nodeName, node affinity and
	// resource requests are checked against this node alone.
	opt.Fleet = &fleetPlacement{fl: fl, start: time.Now(), alone: 2 * f.fleet.notReadyAfter, log: log}
	var peers *peerPoller
	var exec *executor.Executor
	if f.fleet.gossips() {
		peers = newPeerPoller(fl, f.node, func() { exec.Poke() }, log)
		opt.Peers, opt.PublishIP = peers, f.nodeAddress
	}
	agreed := &agreedSource{inner: src, members: fl.Members, self: f.node, log: log}
	if repo != nil {
		agreed.older = repo.LoadRevision
	}
	exec = executor.New(podman.New(f.uri), agreed, opt)
	log.Info("starting", "source", f.source, "repo", repoURL(repo), "podman", f.uri, "listen", f.listen,
		"dns", plane.DNSServer())
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return plane.Run(ctx) })
	g.Go(func() error { return exec.Run(ctx) })
	if repo != nil {
		g.Go(func() error { return tick(ctx, f.git.Interval, exec.Poke) })
	}
	if f.fleet.gossips() {
		g.Go(func() error { return fl.Run(ctx) })
		g.Go(func() error { return peers.Run(ctx) })
	}
	self := newNodeState(exec, agreed, f.listen)
	g.Go(func() error { return self.publish(ctx, fl, log) })
	if f.listen != "" {
		h, err := apiHandler(f, exec, repo, func() []fleet.Member { return self.members(fl, f.node) }, cordoned.set, log, reg)
		if err != nil {
			return err
		}
		ln, err := listenAPI(f.listen)
		if err != nil {
			return fmt.Errorf("listen %s: %w", f.listen, err)
		}
		g.Go(func() error { return serveAPI(ctx, ln, h) })
	}
	err = g.Wait()
	log.Info("stopped; containers keep running")
	return err
}

// newPlane builds the Services' data plane: the proxy, the cluster IPs on
// the host and the cluster DNS.
func newPlane(f *runFlags, log *slog.Logger, reg prometheus.Registerer) (*svcnet.Plane, error) {
	opt := svcnet.PlaneOptions{Node: f.node, Log: log}
	var err error
	if opt.Prefix, err = netip.ParsePrefix(f.serviceCIDR); err != nil {
		return nil, fmt.Errorf("--service-cidr: %w", err)
	}
	if f.serviceLoopback != "" {
		if opt.Loopback, err = netip.ParseAddr(f.serviceLoopback); err != nil {
			return nil, fmt.Errorf("--service-loopback: %w", err)
		}
	}
	if f.nodeAddress != "" {
		if opt.NodeAddress, err = netip.ParseAddr(f.nodeAddress); err != nil {
			return nil, fmt.Errorf("--node-address: %w", err)
		}
	}
	proxy, err := lb.New(lb.Options{Logger: log, Registerer: reg})
	if err != nil {
		return nil, err
	}
	opt.Proxy = proxy
	return svcnet.NewPlane(opt)
}

// newSource builds the desired-state source: a directory, or a Git
// repository with optional SOPS decryption.
func newSource(f *runFlags, log *slog.Logger) (executor.Source, *gitsync.Repo, error) {
	if f.source != "" {
		return &config.Dir{Path: f.source}, nil, nil
	}
	f.git.Log = log
	if f.sopsKeyFile != "" {
		ids, err := sops.LoadAgeKeyFile(f.sopsKeyFile)
		if err != nil {
			return nil, nil, err
		}
		f.git.Decrypt = sops.NewDecryptor(ids).Decrypt
	}
	repo, err := gitsync.New(f.git)
	if err != nil {
		return nil, nil, err
	}
	return repo, repo, nil
}

// apiHandler assembles the HTTP API: status, events, source status,
// webhook and metrics.
func apiHandler(f *runFlags, exec *executor.Executor, repo *gitsync.Repo, members func() []fleet.Member, cordon func(bool) error, log *slog.Logger, reg *prometheus.Registry) (http.Handler, error) {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opt := api.Options{Pause: exec.SetPaused, CreateJob: exec.CreateJobFrom, Nodes: members, Peer: exec.PeerReport,
		Cordon: cordon}
	if f.tokenFile != "" {
		token, err := gitsync.LoadSecret(f.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		opt.Token = token
	}
	sources := metrics.Sources{Loop: exec.Status, Pods: exec.Pods, Members: members}
	if repo != nil {
		sources.Source = func() *gitsync.Status { s := repo.Status(); return &s }
		opt.Source = func() any { return repo.Status() }
		if f.webhookSecretFile != "" {
			secret, err := gitsync.LoadSecret(f.webhookSecretFile)
			if err != nil {
				return nil, err
			}
			opt.Webhook = gitsync.WebhookHandler(secret, func() { repo.Trigger(); exec.Poke() }, log)
		}
	}
	if err := metrics.New(reg, sources); err != nil {
		return nil, err
	}
	opt.Metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return api.Handler(exec, opt), nil
}

// isLoopback reports whether a listen address is reachable from this host
// only.
func isLoopback(addr string) bool {
	if strings.HasPrefix(addr, unixPrefix) {
		return true // reachable through the file system only
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tick calls f every d until ctx ends.
func tick(ctx context.Context, d time.Duration, f func()) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			f()
		}
	}
}

func repoURL(r *gitsync.Repo) string {
	if r == nil {
		return ""
	}
	return r.Status().URL
}

// serveAPI serves h on ln until ctx ends.
func serveAPI(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("api: %w", err)
	}
	return nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is neither text nor json", format)
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
