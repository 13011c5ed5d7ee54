#!/usr/bin/env bash
# Cost of collecting: CPU time of one full collection cycle of every default
# shmetrics collector (bench/collect_cycle, in-process) next to the CPU time
# node_exporter spends serving one scrape with its default collectors, on this
# host, and the ratio.  Also the shmetrics exporter's CPU per scrape (it renders
# what the collectors published; it does not collect).
#
#   bench/collectors_cost.sh            (or: make bench-collectors)
#   CYCLES=1000 SCRAPES=200 bench/collectors_cost.sh
#
# Process CPU is utime+stime from /proc/PID/stat over SCRAPES sequential scrapes
# (plain text, no gzip) after 5 warm-up scrapes.  Every wait is bounded.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BUILD=${BUILD:-build}
BIN=${BIN:-$BUILD/bin}
CYCLES=${CYCLES:-1000}
SCRAPES=${SCRAPES:-200}
NODE_EXPORTER=${NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
inst="ccost$$"
work=$(mktemp -d)
ne_pid=""
agent_pid=""

cleanup() {
	[ -n "$ne_pid" ] && kill "$ne_pid" 2>/dev/null
	[ -n "$agent_pid" ] && kill -TERM "$agent_pid" 2>/dev/null && sleep 1
	pkill -KILL -f "instance=$inst( |$)" 2>/dev/null
	rm -rf "/run/shmetrics/$inst"
	rm -rf "$work"
}
trap cleanup EXIT

make -s "$BUILD/bench/collect_cycle" "$BIN/shmetrics-agent" "$BIN/shmetrics-collector" \
	"$BIN/shmetrics-exporter" || exit 1
[ -x "$NODE_EXPORTER" ] || { echo "collectors_cost: $NODE_EXPORTER is missing" >&2; exit 1; }

# wait_http SECONDS PORT
wait_http() {
	local deadline=$((SECONDS + $1))
	until curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$2/metrics" 2>/dev/null; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.1
	done
}

# ---- shmetrics: one full collection cycle, in-process ----
"$BUILD/bench/collect_cycle" --cycles="$CYCLES" >"$work/cycle.txt" || exit 1
cycle_us=$(awk '/^cycle / { sub("cpu_us=", "", $2); print $2 }' "$work/cycle.txt")
series=$(awk '/^cycle / { sub("series=", "", $4); print $4 }' "$work/cycle.txt")
ncol=$(awk '/^cycle / { sub("collectors=", "", $5); print $5 }' "$work/cycle.txt")

# ---- node_exporter: one scrape with its default collectors ----
for _ in 1 2 3; do # another process may take the free port first
	ne_port=$(free_port)
	"$NODE_EXPORTER" --web.listen-address="127.0.0.1:$ne_port" >"$work/ne.log" 2>&1 &
	ne_pid=$!
	wait_http 10 "$ne_port" && break
	kill "$ne_pid" 2>/dev/null
	ne_pid=""
done
[ -n "$ne_pid" ] || { echo "collectors_cost: node_exporter did not start" >&2; exit 1; }
read -r ne_cpu ne_bytes _ < <(cpu_per_scrape "$ne_pid" "$ne_port")
ne_series=$(curl -fsS --max-time 5 "http://127.0.0.1:$ne_port/metrics" | grep -vc '^#')
ne_cols=$(curl -fsS --max-time 5 "http://127.0.0.1:$ne_port/metrics" |
	grep -c '^node_scrape_collector_success{')
kill "$ne_pid"
ne_pid=""

# ---- shmetrics exporter: one scrape (rendering only) ----
"$BIN/shmetrics-agent" --instance="$inst" --web.listen-address=127.0.0.1:0 >"$work/agent.log" 2>&1 &
agent_pid=$!
deadline=$((SECONDS + 15))
until grep -q 'listening on' "$work/agent.log"; do
	[ $SECONDS -ge $deadline ] && { echo "collectors_cost: agent did not start" >&2; exit 1; }
	sleep 0.1
done
sh_port=$(grep -o 'listening on [^ ]*' "$work/agent.log" | tail -n 1 | sed 's/.*://')
wait_http 10 "$sh_port" && sleep 6 # every collector has published once
exporter_pid=$(pgrep -f "shmetrics-exporter .*--instance=$inst( |$)" | head -n 1)
read -r sh_cpu sh_bytes _ < <(cpu_per_scrape "$exporter_pid" "$sh_port")

cat "$work/cycle.txt"
echo
awk -v c="$cycle_us" -v s="$series" -v nc="$ncol" -v ne="$ne_cpu" -v nb="$ne_bytes" \
	-v ns="$ne_series" -v ncl="$ne_cols" -v sh="$sh_cpu" -v sb="$sh_bytes" \
	-v cycles="$CYCLES" -v scrapes="$SCRAPES" 'BEGIN {
	printf "| measured | CPU time | what |\n| --- | --- | --- |\n"
	printf "| shmetrics, one full collection cycle | %.0f µs | %d collectors, %d series, mean of %d cycles |\n", c, nc, s, cycles
	printf "| node_exporter 1.5.0, one scrape | %.0f µs | %d collectors, %d samples (%d bytes), mean of %d scrapes |\n", ne * 1e6, ncl, ns, nb, scrapes
	printf "| shmetrics exporter, one scrape | %.0f µs | rendering %d bytes from shared memory, mean of %d scrapes |\n", sh * 1e6, sb, scrapes
	printf "\nratio: node_exporter per scrape / shmetrics per collection cycle = %.1f\n", ne * 1e6 / c
	printf "ratio: node_exporter per scrape / (shmetrics cycle + exporter scrape) = %.1f\n", ne * 1e6 / (c + sh * 1e6)
}'
