package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/reconciler/reconciler/executor"
)

// podFlags are the node's policy for what pods may use of the host.
type podFlags struct {
	hostPathAllow   listFlag
	allowPrivileged bool
	volumeDir       string
}

func (p *podFlags) register(fs *flag.FlagSet) {
	fs.Var(&p.hostPathAllow, "host-path-allow", "host directory hostPath volumes (and hostPath PersistentVolumes) may use, with everything under it (repeatable, or comma-separated; default none)")
	fs.BoolVar(&p.allowPrivileged, "allow-privileged", false, "let pods run privileged containers (securityContext.privileged: true)")
	fs.StringVar(&p.volumeDir, "volume-dir", "/run/reconciler/volumes", "where pods' ConfigMap and Secret files live (keep it on a tmpfs: Secret values must not reach a disk)")
}

// apply checks the flags and sets them in the executor's options; the data
// key is read from the state directory (created on first use).
func (p *podFlags) apply(opt *executor.Options, stateDir string) error {
	for _, list := range p.hostPathAllow {
		for _, d := range strings.Split(list, ",") {
			if d = strings.TrimSpace(d); d == "" {
				continue
			}
			if !filepath.IsAbs(d) || filepath.Clean(d) == "/" {
				return fmt.Errorf("--host-path-allow %q: give an absolute directory other than /", d)
			}
			opt.HostPathAllow = append(opt.HostPathAllow, filepath.Clean(d))
		}
	}
	opt.AllowPrivileged = p.allowPrivileged
	opt.VolumeDir = p.volumeDir
	key, err := dataKey(stateDir)
	if err != nil {
		return err
	}
	opt.DataKey = key
	return nil
}

// dataKey reads the node's key for the digests of ConfigMap and Secret data
// in template hashes, creating it (32 random bytes, mode 0600) the first
// time. It must survive restarts: a new key would roll every workload that
// reads a ConfigMap or Secret.
func dataKey(stateDir string) ([]byte, error) {
	path := filepath.Join(stateDir, "data-key")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading the data key: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the state directory: %w", err)
	}
	tmp, err := os.CreateTemp(stateDir, ".data-key-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	// Link, not rename: of two daemons sharing a state directory that start
	// at once, the second keeps the first one's key.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	return os.ReadFile(path)
}
