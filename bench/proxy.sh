#!/usr/bin/env bash
# bench/proxy.sh — the embedded proxy (package lb) against nginx and HAProxy.
#
# Drives the same three Go backends (bench/backend) with wrk, directly and
# through each proxy, all on loopback, and prints a markdown table of
# requests/s and p50/p99 latency, written to bench/RESULTS.md as well.
#
# Layout (2 cores): every proxy is pinned to CPU 0, wrk and the backends to
# CPU 1, so each proxy gets exactly one core and the load side is the same
# for all. The proxies are configured alike: one worker/thread, keep-alive
# to the backends (nginx keepalive 256, HAProxy http-reuse always), no
# limit on requests per connection, round robin, X-Forwarded-For added (lb
# also adds X-Forwarded-Host and X-Forwarded-Proto).
#
# "direct" is wrk against one backend with the same connections. The three
# backends share CPU 1 with wrk, so one backend has the same CPU as three:
# direct is the ceiling of the load side, and the ratio to it says how much
# of that ceiling a proxy in between keeps.
#
# Installs wrk, nginx and haproxy with apt-get when missing, and then stops
# and disables their system services: only the private instances started
# here (configs in a temp dir, 127.0.0.1 ports) run, and they are killed on
# exit. Environment: BENCH_DURATION (wrk -d of one round, default 4s),
# BENCH_ROUNDS (default 5), BENCH_CONNECTIONS (default 64), BENCH_WARMUP
# (default 2s), BENCH_KEEP (set: keep the temp dir with configs and logs).
# About 1.5 minutes with the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_DURATION:-4s}
ROUNDS=${BENCH_ROUNDS:-5}
CONNS=${BENCH_CONNECTIONS:-64}
WARMUP=${BENCH_WARMUP:-2s}
# nginx keeps at most this many idle upstream connections. With 64 (the
# usual advice) and 64 client connections it was measured here closing and
# reopening ~1000 upstream connections/s, at half its throughput; 256 keeps
# them all, which is nginx at its best.
NGINX_KEEPALIVE=${BENCH_NGINX_KEEPALIVE:-256}
# With a quota (percent of one CPU, cgroup v1 cpu controller), each proxy
# gets that much CPU time in its own cgroup, so the proxy, not the load
# side, bounds throughput and the req/s column compares the proxies
# themselves. 0 = no quota: the proxies get all of CPU 0.
QUOTA=${BENCH_PROXY_CPU_QUOTA:-0}
export GOFLAGS=${GOFLAGS:--tags=remote,exclude_graphdriver_btrfs,btrfs_noversion,exclude_graphdriver_devicemapper,containers_image_openpgp}

install_tools() {
	local missing=()
	command -v wrk >/dev/null || missing+=(wrk)
	command -v nginx >/dev/null || missing+=(nginx)
	command -v haproxy >/dev/null || missing+=(haproxy)
	[ ${#missing[@]} -eq 0 ] && return
	echo "installing ${missing[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	# Only our own instances may run: no system service left enabled.
	for svc in nginx haproxy; do
		if [ -d /run/systemd/system ]; then
			systemctl disable --now "$svc" >/dev/null 2>&1 || true
		else
			service "$svc" stop >/dev/null 2>&1 || true
			update-rc.d "$svc" disable >/dev/null 2>&1 || true
		fi
	done
}

tmp=$(mktemp -d)
pids=()
cgroups=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for cg in "${cgroups[@]}"; do rmdir "$cg" 2>/dev/null || true; done
	[ -n "${BENCH_KEEP:-}" ] && echo "kept $tmp" >&2 && return
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { # a port nothing listens on, from a random start
	local p=$((20000 + RANDOM % 30000))
	while ss -Hltn "sport = :$p" | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

wait_port() { # until something accepts on 127.0.0.1:$1 (5 s at most)
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nothing listens on 127.0.0.1:$1" >&2
	return 1
}

start() { # start CPU COMMAND...: run pinned in the background, remember it
	local cpu=$1
	shift
	taskset -c "$cpu" "$@" >>"$tmp/log" 2>&1 &
	pids+=($!)
}

install_tools
load=$(cut -d' ' -f1-3 /proc/loadavg)
go build -o "$tmp/backend" ./bench/backend
go build -o "$tmp/lbproxy" ./bench/lbproxy

backends=()
for _ in 1 2 3; do
	p=$(free_port)
	start 1 "$tmp/backend" -addr "127.0.0.1:$p"
	wait_port "$p"
	backends+=("$p")
done

lb_port=$(free_port)
start 0 "$tmp/lbproxy" -listen "127.0.0.1:$lb_port" \
	-backends "127.0.0.1:${backends[0]},127.0.0.1:${backends[1]},127.0.0.1:${backends[2]}"
lb_pid=${pids[-1]}
wait_port "$lb_port"

nginx_port=$(free_port)
cat >"$tmp/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 1000000;
	client_body_temp_path $tmp; proxy_temp_path $tmp; fastcgi_temp_path $tmp;
	uwsgi_temp_path $tmp; scgi_temp_path $tmp;
	upstream backends {
		server 127.0.0.1:${backends[0]}; server 127.0.0.1:${backends[1]}; server 127.0.0.1:${backends[2]};
		keepalive $NGINX_KEEPALIVE;
		keepalive_requests 1000000;
	}
	server {
		listen 127.0.0.1:$nginx_port;
		location / {
			proxy_pass http://backends;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
		}
	}
}
EOF
start 0 nginx -e "$tmp/nginx-error.log" -p "$tmp" -c "$tmp/nginx.conf"
wait_port "$nginx_port"
nginx_pid=$(pgrep -P "${pids[-1]}" | head -1) # the worker

haproxy_port=$(free_port)
cat >"$tmp/haproxy.cfg" <<EOF
global
	nbthread 1
	maxconn 4096
defaults
	mode http
	option forwardfor
	http-reuse always
	timeout connect 5s
	timeout client 60s
	timeout server 60s
frontend fe
	bind 127.0.0.1:$haproxy_port
	default_backend be
backend be
	balance roundrobin
	server b1 127.0.0.1:${backends[0]}
	server b2 127.0.0.1:${backends[1]}
	server b3 127.0.0.1:${backends[2]}
EOF
start 0 haproxy -db -f "$tmp/haproxy.cfg"
haproxy_pid=${pids[-1]}
wait_port "$haproxy_port"

limit() { # limit NAME PID...: put the processes in a cgroup with the quota
	[ "$QUOTA" -gt 0 ] || return 0
	local cg=/sys/fs/cgroup/cpu/reconciler-bench-$$-$1
	shift
	mkdir "$cg"
	cgroups+=("$cg")
	echo 100000 >"$cg/cpu.cfs_period_us"
	echo $((QUOTA * 1000)) >"$cg/cpu.cfs_quota_us"
	for pid in "$@"; do echo "$pid" >"$cg/cgroup.procs"; done
}
limit lb "$lb_pid"
limit nginx "${pids[-2]}" $(pgrep -P "${pids[-2]}")
limit haproxy "$haproxy_pid"

ms() { # wrk's latency (850.00us, 1.20ms, 1.01s) in milliseconds
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
		printf "%.3f", n }'
}

median() { tr -s ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

targets=(direct lb nginx haproxy)
declare -A ports=([direct]=${backends[0]} [lb]=$lb_port [nginx]=$nginx_port [haproxy]=$haproxy_port)
declare -A pid=([lb]=$lb_pid [nginx]=$nginx_pid [haproxy]=$haproxy_pid)
declare -A all_rps all_p50 all_p99 all_cpu rps p50 p99 cpu
tick=$(getconf CLK_TCK)
cputime() { # user+system clock ticks of a process, all its threads
	if [ -n "${1:-}" ]; then awk '{print $14 + $15}' "/proc/$1/stat"; else echo 0; fi
}
for t in "${targets[@]}"; do
	taskset -c 1 wrk -t1 -c"$CONNS" -d"$WARMUP" "http://127.0.0.1:${ports[$t]}/" >/dev/null
done
# Rounds interleave the targets, so that a disturbance of the machine
# (other work on CPU 1 or 0) spreads over all of them; each figure is the
# median of its rounds.
for round in $(seq "$ROUNDS"); do
	for t in "${targets[@]}"; do
		before=$(cputime "${pid[$t]:-}")
		out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:${ports[$t]}/")
		after=$(cputime "${pid[$t]:-}")
		n=$(awk '/requests in/ {print $1}' <<<"$out")
		c=$(awk -v d=$((after - before)) -v t="$tick" -v n="$n" 'BEGIN {printf "%.1f", d * 1e6 / t / n}')
		if grep -q 'Non-2xx\|Socket errors' <<<"$out"; then
			echo "$t: errors during the run:" >&2
			grep 'Non-2xx\|Socket errors' <<<"$out" >&2
		fi
		r=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
		l50=$(ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
		l99=$(ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
		all_rps[$t]+=" $r" all_p50[$t]+=" $l50" all_p99[$t]+=" $l99" all_cpu[$t]+=" $c"
		echo "round $round $t: $r req/s, p50 $l50 ms, p99 $l99 ms, proxy CPU $c us/request" | tee -a "$tmp/rounds" >&2
	done
done
for t in "${targets[@]}"; do
	rps[$t]=$(median <<<"${all_rps[$t]}")
	p50[$t]=$(median <<<"${all_p50[$t]}")
	p99[$t]=$(median <<<"${all_p99[$t]}")
	cpu[$t]=$(median <<<"${all_cpu[$t]}")
done
cpu[direct]="-"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
added() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.3f", a - b}'; }
table() {
	echo "| target | req/s | p50 (ms) | p99 (ms) | added p99 (ms) | ratio to direct | ratio to nginx | proxy CPU (us/req) |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for t in "${targets[@]}"; do
		echo "| $t | ${rps[$t]} | ${p50[$t]} | ${p99[$t]} | $(added "${p99[$t]}" "${p99[direct]}") |" \
			"$(ratio "${rps[$t]}" "${rps[direct]}") | $(ratio "${rps[$t]}" "${rps[nginx]}") | ${cpu[$t]} |"
	done
}

table
{
	echo "# Proxy benchmark"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)),"
	echo "$(nginx -v 2>&1 | sed 's/.*: //'), HAProxy $(haproxy -v | awk 'NR == 1 {print $3}'), $(go version | awk '{print $3}')."
	echo "Proxies pinned to CPU 0; wrk (-t1 -c$CONNS -d$DURATION, $ROUNDS rounds interleaving the targets,"
	echo "medians shown, after a $WARMUP warm-up) and three Go backends answering 19 bytes pinned to CPU 1;"
	echo "everything on 127.0.0.1. nginx: 1 worker, upstream keepalive $NGINX_KEEPALIVE; HAProxy: nbthread 1,"
	echo "http-reuse always; lb: bench/lbproxy. Load average before the run: $load (the machine is"
	echo "shared: other work there shows as spread between rounds; see the log of rounds below)."
	echo "direct = wrk against one backend (the load side's ceiling: the backends share CPU 1)."
	echo "proxy CPU = user+system CPU time of the proxy process (nginx: its worker) per request, which"
	echo "other work on the machine disturbs less than throughput does."
	if [ "$QUOTA" -gt 0 ]; then
		echo "Each proxy ran in its own cgroup limited to $QUOTA % of one CPU (BENCH_PROXY_CPU_QUOTA), so"
		echo "the proxy, not the load side, bounds throughput."
	fi
	echo "Generated by bench/proxy.sh (make bench)."
	echo
	table
	echo
	echo '```'
	cat "$tmp/rounds"
	echo '```'
} >bench/RESULTS.md
