#!/usr/bin/env bash
# setup-podman.sh — make a working Podman API service on this machine.
#
# Idempotent: installs podman and runc only when missing, writes
# /etc/containers/containers.conf only when the engine does not work as
# shipped, and starts `podman system service` only when nothing answers on the
# socket. Safe to run before every `make demo` and `make test`.
set -euo pipefail

SOCK_PATH="${PODMAN_SOCK_PATH:-/run/podman/podman.sock}"
CONF=/etc/containers/containers.conf
LOG=/var/log/reconciler-podman-service.log
PIDFILE=${PODMAN_SERVICE_PIDFILE:-/run/reconciler-podman-service.pid}

say() { printf 'setup-podman: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and starts the Podman API service); try: sudo $0"

need_pkgs=()
command -v podman >/dev/null 2>&1 || need_pkgs+=(podman)
command -v runc >/dev/null 2>&1 || need_pkgs+=(runc)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
command -v iptables >/dev/null 2>&1 || need_pkgs+=(iptables) # netavark needs it
command -v catatonit >/dev/null 2>&1 || need_pkgs+=(catatonit) # pods build their pause image from it (no registry)
# go test -race needs cgo: a C compiler and the C library headers.
command -v gcc >/dev/null 2>&1 || need_pkgs+=(gcc libc6-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing ${need_pkgs[*]} and no apt-get to install them; install them by hand"
  say "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" uidmap slirp4netns fuse-overlayfs netavark aardvark-dns </dev/null >/dev/null \
    || apt-get install -y -qq "${need_pkgs[@]}" </dev/null >/dev/null \
    || die "apt-get install ${need_pkgs[*]} failed"
fi

# engine_works runs a throw-away container on an overlay of the host's own
# root (changes are discarded), so no image and no registry are needed. It
# proves the OCI runtime, cgroups, rlimits and networking (netavark) work.
engine_works() {
  podman run --rm --rootfs /:O /bin/true >/dev/null 2>&1
}

if ! engine_works; then
  if [ -f "$CONF" ] && grep -q 'written by reconciler setup-podman' "$CONF"; then
    die "engine still fails with $CONF in place; see 'podman --log-level=debug run' output"
  fi
  hard_nofile=$(ulimit -Hn); hard_nproc=$(ulimit -Hu)
  nofile=20000; nproc=4096
  [ "$hard_nofile" != unlimited ] && [ "$hard_nofile" -lt "$nofile" ] && nofile=$hard_nofile
  [ "$hard_nproc" != unlimited ] && [ "$hard_nproc" -lt "$nproc" ] && nproc=$hard_nproc
  say "engine does not work as shipped; writing $CONF (runtime runc, ulimits nofile=$nofile nproc=$nproc)"
  mkdir -p /etc/containers
  [ -f "$CONF" ] && cp "$CONF" "$CONF.reconciler-backup"
  cat >"$CONF" <<CONFEOF
# written by reconciler setup-podman.sh
# crun refuses the hybrid cgroup layout of these hosts, so use runc; the
# sandbox cannot raise rlimits, so default ulimits stay at the hard limits.
[containers]
default_ulimits = [
  "nofile=${nofile}:${nofile}",
  "nproc=${nproc}:${nproc}",
]

[engine]
runtime = "runc"
CONFEOF
  engine_works || die "engine still fails after writing $CONF; run 'podman --log-level=debug create' to see why"
fi

ping() { curl -fsS --max-time 2 --unix-socket "$SOCK_PATH" http://d/_ping >/dev/null 2>&1; }

if ! ping; then
  say "starting podman system service on unix://$SOCK_PATH (log: $LOG)"
  mkdir -p "$(dirname "$SOCK_PATH")"
  rm -f "$SOCK_PATH"
  nohup setsid podman system service --time=0 "unix://$SOCK_PATH" >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE" # scripts/with-podman.sh stops what it started
  for _ in $(seq 1 100); do ping && break; sleep 0.1; done
  ping || die "podman API did not answer on $SOCK_PATH within 10 s; see $LOG"
fi
say "podman $(podman version --format '{{.Server.Version}}' 2>/dev/null || echo '?') answers on unix://$SOCK_PATH"
