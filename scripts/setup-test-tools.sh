#!/usr/bin/env bash
# setup-test-tools.sh — install the tools the gitsync tests drive for real:
# git (the test repositories, `git http-backend` behind the test HTTP server,
# and git-upload-pack for the file and ssh transports) and openssh-server
# (each ssh test starts its own sshd on 127.0.0.1 with its own config).
#
# Idempotent: installs only what is missing and runs `apt-get update` only
# then. The system's ssh service is never left enabled or running by this
# script: when it installs openssh-server it keeps the package from starting
# the service, disables it, and stops any sshd the installation started.
# An openssh-server that was already installed is left exactly as it was.
set -euo pipefail

say() { printf 'setup-test-tools: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages); try: sudo $0"

have_sshd() { command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ]; }

need_pkgs=()
command -v git >/dev/null 2>&1 || need_pkgs+=(git)
installing_prometheus=false
if ! command -v promtool >/dev/null 2>&1; then # the alert rules' tests
  need_pkgs+=(prometheus)
  installing_prometheus=true
fi
# The C headers the Podman bindings' cgo dependencies want when Go is run
# without the Makefile's build tags (a plain `go vet ./...`).
if ! pkg-config --exists gpgme devmapper 2>/dev/null || [ ! -e /usr/include/btrfs/version.h ]; then
  need_pkgs+=(pkg-config libgpgme-dev libbtrfs-dev libdevmapper-dev)
fi
installing_sshd=false
if ! have_sshd; then
  need_pkgs+=(openssh-server)
  installing_sshd=true
fi

sshd_pids() { pgrep -x sshd 2>/dev/null | sort || true; }

if [ ${#need_pkgs[@]} -eq 0 ]; then
  say "nothing to install: git, sshd, promtool and the C headers are present"
else
  command -v apt-get >/dev/null 2>&1 || die "missing ${need_pkgs[*]} and no apt-get to install them; install them by hand"
  before=$(sshd_pids)
  # A policy-rc.d that answers 101 keeps invoke-rc.d and deb-systemd-invoke
  # from starting the service during the installation. Use our own only when
  # the machine has none.
  policy=/usr/sbin/policy-rc.d
  own_policy=false
  if { $installing_sshd || $installing_prometheus; } && [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, written by reconciler setup-test-tools.sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=true
  fi
  cleanup() { if $own_policy; then rm -f "$policy"; fi; }
  trap cleanup EXIT
  export DEBIAN_FRONTEND=noninteractive
  say "installing ${need_pkgs[*]}"
  apt-get update -qq </dev/null >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" </dev/null >/dev/null \
    || die "apt-get install ${need_pkgs[*]} failed"
  cleanup
  trap - EXIT
  if $installing_prometheus; then
    # Only promtool is wanted: no Prometheus server runs on test machines.
    if command -v systemctl >/dev/null 2>&1; then
      systemctl disable --now prometheus.service >/dev/null 2>&1 || systemctl disable prometheus.service >/dev/null 2>&1 || true
    fi
    pkill -x prometheus 2>/dev/null || true
    say "installed promtool; the prometheus service is disabled"
  fi
  if $installing_sshd; then
    # Leave the system's ssh service disabled: the tests run their own sshd.
    if command -v systemctl >/dev/null 2>&1; then
      systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || systemctl disable ssh.service ssh.socket >/dev/null 2>&1 || true
      say "disabled the system ssh service (systemctl)"
    fi
    if command -v update-rc.d >/dev/null 2>&1 && [ -e /etc/init.d/ssh ]; then
      update-rc.d ssh disable >/dev/null 2>&1 || true
      service ssh stop >/dev/null 2>&1 || true
      say "disabled the system ssh service (update-rc.d)"
    fi
    # Whatever still runs and did not run before was started by the install.
    after=$(sshd_pids)
    started=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep . || true)
    if [ -n "$started" ]; then
      # shellcheck disable=SC2086 # one pid per word
      kill $started 2>/dev/null || true
      say "stopped the sshd the installation started (pid $(echo $started))"
    fi
  fi
fi

# sshd refuses to start without its privilege-separation directory; /run is
# a tmpfs, so it may be gone after a reboot.
mkdir -p /run/sshd
chmod 755 /run/sshd

command -v git >/dev/null 2>&1 || die "git still missing"
command -v promtool >/dev/null 2>&1 || die "promtool still missing"
have_sshd || die "sshd still missing"
command -v git-upload-pack >/dev/null 2>&1 || die "git-upload-pack not on PATH"
[ -x "$(git --exec-path)/git-http-backend" ] || die "git http-backend missing from $(git --exec-path)"
say "$(git --version); $(/usr/sbin/sshd -V 2>&1 | head -n1 || true); no system sshd left running by this script"
