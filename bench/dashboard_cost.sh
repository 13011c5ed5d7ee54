#!/usr/bin/env bash
# What the dashboard costs (docs/dashboard.md, "Cost"):
#  - the page: bytes of the page and its files as served gzipped (target: at
#    most 150 KB);
#  - the exporter's CPU with a browser watching at 1 s (target: at most 1 % of
#    one core), side by side in the same run with the same exporter nobody
#    watches, and with one whose history is off: three exporters over the same
#    segments of one agent (every default collector at 1 s), for SECONDS each;
#  - the history's memory for that host set (target: at most 8 MiB).
#
#   bench/dashboard_cost.sh          (or: make bench-dashboard)
#   SECONDS_RUN=120 bench/dashboard_cost.sh
#
# CPU is utime+stime from /proc/PID/stat (10 ms ticks) over the same window for
# the three exporters; the browser is headless Debian Chromium with the page
# open.  Every wait is bounded.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

SECONDS_RUN=${SECONDS_RUN:-60}
inst="dcost$$"
work=$(mktemp -d)
log="$work/agent.log"
agent_pid=""
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	[ -n "$agent_pid" ] && kill -TERM "$agent_pid" 2>/dev/null && sleep 1
	kill_instance "$inst"
	rm -rf "$work"
}
trap cleanup EXIT

make -s all || exit 1
[ -x /usr/bin/chromium ] || { echo "dashboard_cost: /usr/bin/chromium is missing (scripts/deps.sh)" >&2; exit 1; }

cat >"$work/config.json" <<JSON
{ "instance": "$inst", "interval": "1s", "web": { "listen_address": "127.0.0.1:0" } }
JSON
start_agent "$log" --config "$work/config.json" || { cat "$log"; exit 1; }
wait_for 10 served '^node_load1 ' || { echo "no data" >&2; exit 1; }

# The collectors the agent's exporter serves, for our own exporters.
mapfile -t cols < <(tr '\0' '\n' <"/proc/$(exporter_pid "$inst")/cmdline" | grep '^--collector=')

start_exporter() { # start_exporter NAME EXTRA_ARGS... ; sets the NAME_port and NAME_pid
	local name=$1 p
	shift
	p=$(free_port)
	"$BIN/shmetrics-exporter" --instance="$inst" --web.listen-address="127.0.0.1:$p" "${cols[@]}" \
		"$@" >"$work/$name.log" 2>&1 &
	pids+=($!)
	disown $!
	eval "${name}_pid=$! ${name}_port=$p"
	wait_for 10 grep -q 'listening on' "$work/$name.log" || { cat "$work/$name.log"; exit 1; }
}
start_exporter watched
start_exporter idle
start_exporter nohistory --history.retention=0s

# ---- the page ----
total=0
for path in / /dashboard/app.js /dashboard/app.css /dashboard/uPlot.min.js /dashboard/uPlot.min.css; do
	n=$(curl -fsS -H 'Accept-Encoding: gzip' "http://127.0.0.1:$watched_port$path" | wc -c)
	plain=$(curl -fsS "http://127.0.0.1:$watched_port$path" | wc -c)
	printf '%-26s %7d bytes, %6d gzipped\n' "$path" "$plain" "$n"
	total=$((total + n))
done
echo "page and files, gzipped: $total bytes (target 153600)"

# ---- a browser watching ----
mkdir -p "$work/profile"
/usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$work/profile" "http://127.0.0.1:$watched_port/" >"$work/chromium.log" 2>&1 &
pids+=($!)
disown $!
sleep 8 # the page loads its history and settles into polling

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
requests() {
	curl -fsS "http://127.0.0.1:$1/metrics" |
		awk '/^shmetrics_exporter_requests_total/ { s += $2 } END { print s + 0 }'
}
hz=$(getconf CLK_TCK)
r0=$(requests "$watched_port")
declare -A t0
for n in watched idle nohistory; do t0[$n]=$(cpu_ticks "$(eval echo \$${n}_pid)"); done
sleep "$SECONDS_RUN"
for n in watched idle nohistory; do
	t1=$(cpu_ticks "$(eval echo \$${n}_pid)")
	awk -v n="$n" -v d=$((t1 - t0[$n])) -v hz="$hz" -v s="$SECONDS_RUN" \
		'BEGIN { printf "exporter %-10s %6.3f %% of one core (%d ticks in %d s)\n", n, 100 * d / hz / s, d, s }'
done
echo "requests answered to the browser: $(($(requests "$watched_port") - r0 - 1)) in $SECONDS_RUN s"
bytes=$(curl -fsS "http://127.0.0.1:$watched_port/metrics" | awk '$1 == "shmetrics_history_bytes" { print $2 }')
series=$(curl -fsS "http://127.0.0.1:$watched_port/metrics" | awk '$1 == "shmetrics_history_series" { print $2 }')
awk -v b="$bytes" -v s="$series" 'BEGIN { printf "history: %d series, %.2f MiB (target 8 MiB)\n", s, b / 1048576 }'
