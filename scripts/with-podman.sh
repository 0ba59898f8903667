#!/usr/bin/env bash
# with-podman.sh CMD... — run CMD with a working Podman API service and the
# test tools (git, sshd) installed. If the
# service was not running before, the one setup-podman.sh started is stopped
# again afterwards, so `make test` leaves the machine as it found it.
set -uo pipefail
cd "$(dirname "$0")/.."
SOCK_PATH="${PODMAN_SOCK_PATH:-/run/podman/podman.sock}"
PIDFILE=${PODMAN_SERVICE_PIDFILE:-/run/reconciler-podman-service.pid}
export PODMAN_SERVICE_PIDFILE=$PIDFILE

was_up=0
curl -fsS --max-time 2 --unix-socket "$SOCK_PATH" http://d/_ping >/dev/null 2>&1 && was_up=1
rm -f "$PIDFILE"
bash scripts/setup-podman.sh || exit 1
bash scripts/setup-test-tools.sh || exit 1 # git and sshd for the gitsync tests
"$@"
rc=$?
if [ "$was_up" -eq 0 ] && [ -s "$PIDFILE" ]; then
  pid=$(cat "$PIDFILE")
  kill "$pid" 2>/dev/null && echo "with-podman: stopped the Podman API service it started (pid $pid)" >&2
  rm -f "$PIDFILE"
fi
exit $rc
