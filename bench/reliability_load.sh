#!/usr/bin/env bash
# Load: wrk with LOAD_CONNECTIONS (1000) connections for LOAD_SECONDS (60 s) on
# loopback against /metrics, twice: with the default connection limits (64 in
# all, 16 per address: most of the 1000 are refused by design) and with the
# limits raised to fit (1024).  Reports requests/s, latency, errors, and the
# exporter's CPU and memory; checks that the agent and its exporter are still
# healthy afterwards.  Results: docs/reliability.md.
#   BIN=build/bin LOAD_SECONDS=60 LOAD_CONNECTIONS=1000 bench/reliability_load.sh
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/reliability_lib.sh

BIN=${BIN:-build/bin}
secs=${LOAD_SECONDS:-60}
conns=${LOAD_CONNECTIONS:-1000}
threads=${LOAD_WRK_THREADS:-2}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk"; exit 1; }
work=$(mktemp -d)
inst="load$$"
REL_AGENT=""
trap '[ -n "$REL_AGENT" ] && kill -TERM "$REL_AGENT" 2>/dev/null; wait; rm -rf "$work"' EXIT
ulimit -n 8192 2>/dev/null
rc=0

run() { # run NAME WEB_JSON
	local name=$1
	local port
	port=$(rel_free_port)
	cat >"$work/config.json" <<EOC
{ "instance": "$inst", "web": { "listen_address": "127.0.0.1:$port" $2 } }
EOC
	rel_start_agent "$BIN" "$work/config.json" "$work/agent.log" || return 1
	sleep 6 # every collector has published
	local exp
	exp=$(rel_exporter_pid "$inst")
	local rss0 cpu0
	rss0=$(rel_kb Rss "$exp")
	cpu0=$(rel_cpu_s "$exp")
	echo "=== $name: wrk -t$threads -c$conns -d${secs}s --latency http://127.0.0.1:$REL_PORT/metrics"
	wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 10s --latency \
		"http://127.0.0.1:$REL_PORT/metrics" | tee "$work/wrk.$name"
	local rss1 cpu1 hwm
	rss1=$(rel_kb Rss "$exp")
	cpu1=$(rel_cpu_s "$exp")
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$exp/status")
	echo "exporter: RSS ${rss0} kB before, ${rss1} kB after, peak ${hwm} kB;" \
		"CPU $(awk -v a="$cpu0" -v b="$cpu1" -v s="$secs" 'BEGIN { printf "%.1f s (%.0f%% of one core)", b - a, (b - a) * 100 / s }')"
	local alive=yes
	kill -0 "$REL_AGENT" 2>/dev/null && [ "$(rel_exporter_pid "$inst")" = "$exp" ] || alive=no
	local after
	after=$(curl -fsS --max-time 5 "http://127.0.0.1:$REL_PORT/metrics" | grep -c '^shmetrics_collector_up{.*} 1$')
	echo "after the load: agent and exporter unchanged: $alive; collectors up: $after"
	[ "$alive" = yes ] && [ "$after" -ge 4 ] || rc=1
	grep -E 'warn|error' "$work/agent.log" | sort | uniq -c | sort -rn | head -n 5
	kill -TERM "$REL_AGENT"
	wait "$REL_AGENT"
	REL_AGENT=""
}

run default-limits ''
run raised-limits ', "max_connections": 1024, "max_connections_per_ip": 1024'
exit $rc
