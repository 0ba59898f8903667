#!/usr/bin/env bash
# bench-daemon.sh BIN — run the daemon on 20 pods and report
#   * its resident memory and CPU use while idle (IDLE_SECONDS, default 60),
#   * the time from `podman rm -f` of a managed container to its replacement
#     running (REPLACE_ROUNDS rounds, default 5).
# Everything it creates is scoped by a unique node label and removed at the end.
set -euo pipefail
BIN=${1:-bin/reconciler}
IDLE_SECONDS=${IDLE_SECONDS:-60}
REPLACE_ROUNDS=${REPLACE_ROUNDS:-5}
SOCK=${PODMAN_SOCK:-/run/podman/podman.sock}
NODE="bench-$$"
NS="bench-$$"
DIR=$(mktemp -d)
API="http://d/v4.0.0/libpod"

cleanup() {
  [ -n "${pid:-}" ] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  for id in $(podman pod ps -q --filter "label=reconciler.dev/node=$NODE"); do
    podman pod rm -f -t 0 "$id" >/dev/null 2>&1 || true
  done
  rm -rf "$DIR"
}
trap cleanup EXIT

for d in a b; do
  cat >"$DIR/$d.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: bench-$d, namespace: $NS}
spec:
  replicas: 10
  selector: {matchLabels: {app: bench-$d}}
  template:
    metadata: {labels: {app: bench-$d}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: hello, image: "localhost/reconciler-hello:v1", imagePullPolicy: IfNotPresent, ports: [{containerPort: 8080}]}
YAML
done

running() { # number of running managed app containers of this node
  curl -fsS --unix-socket "$SOCK" -G "$API/containers/json" \
    --data-urlencode "filters={\"label\":[\"reconciler.dev/node=$NODE\",\"reconciler.dev/container\"],\"status\":[\"running\"]}" |
    grep -o '"Id"' | wc -l
}

"$BIN" run --source "$DIR" --node-name "$NODE" --listen "" --log-level warn &
pid=$!
start=$(date +%s.%N)
until [ "$(running)" -eq 20 ]; do sleep 0.1; done
awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "converged on 20 pods in %.1f s\n", b-a}' 
sleep 2 # let the post-convergence resync settle

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$pid/stat"; }
c0=$(cpu)
sleep "$IDLE_SECONDS"
c1=$(cpu)
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
awk -v s="$IDLE_SECONDS" -v r="$rss_kb" -v c0="$c0" -v c1="$c1" -v t="$ticks" 'BEGIN {
  printf "idle %ds: RSS %.1f MB, CPU %.2f s (%.3f%% of one core)\n", s, r/1024, (c1-c0)/t, 100*(c1-c0)/t/s }' 

times=()
for _ in $(seq 1 "$REPLACE_ROUNDS"); do
  victim=$(curl -fsS --unix-socket "$SOCK" -G "$API/containers/json" \
    --data-urlencode "filters={\"label\":[\"reconciler.dev/node=$NODE\",\"reconciler.dev/container\"],\"status\":[\"running\"]}" |
    grep -o '"Id":"[0-9a-f]*"' | head -1 | cut -d'"' -f4)
  t0=$(date +%s.%N)
  podman rm -f -t 0 "$victim" >/dev/null
  until [ "$(running)" -eq 20 ]; do sleep 0.005; done
  t1=$(date +%s.%N)
  times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", (b-a)*1000}')")
  sleep 1
done
printf 'podman rm -f → replacement running (ms):'
printf ' %s' "${times[@]}"
printf '\nmedian: %s ms\n' "$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
