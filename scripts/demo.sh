#!/usr/bin/env bash
# demo.sh BIN MANIFESTS — run the reconciler on the bundled examples, print
# where each app answers, and keep the daemon in the foreground until Ctrl-C.
# The containers stay when the daemon stops: they are desired state, not the
# daemon's children. Running it again adopts them; nothing is recreated.
set -euo pipefail
BIN=${1:-bin/reconciler}
DIR=${2:-examples/manifests}
LISTEN=${LISTEN:-127.0.0.1:9780}

"$BIN" validate "$DIR"
"$BIN" run --source "$DIR" --listen "$LISTEN" &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; echo; echo "daemon stopped; the containers keep running (podman pod ps)"; exit 0' INT TERM

echo "waiting for the example pods to run..."
for _ in $(seq 1 120); do
  kill -0 $pid 2>/dev/null || { echo "the daemon exited" >&2; wait $pid; exit 1; }
  out=$("$BIN" get pods -n demo -o wide --server "http://$LISTEN" 2>/dev/null || true)
  total=$(printf '%s\n' "$out" | tail -n +2 | grep -c . || true)
  running=$(printf '%s\n' "$out" | tail -n +2 | awk '$3=="Running"' | grep -c . || true)
  if [ "$total" -gt 0 ] && [ "$total" -eq "$running" ]; then break; fi
  sleep 0.5
done
echo
"$BIN" get pods -n demo -o wide --server "http://$LISTEN"
echo
echo "each app answers on its published port:"
"$BIN" get pods -n demo -o wide --server "http://$LISTEN" | tail -n +2 | while read -r name _ _ _ _ _ ports; do
  for p in ${ports//,/ }; do
    hp=${p%%->*}
    [ "$hp" = "<none>" ] || echo "  $name: curl http://$hp/"
  done
done
echo
echo "the Services answer on the host loopback and on their cluster IPs (containers use their names):"
"$BIN" get services -n demo --server "http://$LISTEN" | tail -n +2 | while read -r name _ ip ports; do
  for p in ${ports//,/ }; do
    port=${p%%/*}; port=${port%%:*}
    echo "  service $name: curl http://127.0.0.1:$port/   (from a container: http://$name.demo:$port/, cluster IP $ip)"
  done
done
echo
echo "daemon API: http://$LISTEN/api/v1/status — Ctrl-C stops the daemon"
wait $pid
