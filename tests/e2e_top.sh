#!/usr/bin/env bash
# End to end: the top and processes collectors on a host with 2000 more
# processes in 200 command names and 100 short-lived forks a second
# (tests/helpers/proc_storm), scraped every second for a few seconds:
#  - the processes collector has node_exporter's families, types and labels
#    (Debian's node_exporter beside it), and counts the processes;
#  - top reports at most top-cpu + top-memory groups (the series stay under the
#    cap) while the host has hundreds of groups;
#  - the collections succeed and nothing is logged about processes that
#    vanished between the listing and the reading of their files;
#  - promtool accepts the output.
# Every wait is bounded; everything started here is stopped by its pid.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

inst="top$$"
work=$(mktemp -d)
log="$work/agent.log"
agent_pid="" storm_pid="" ne_pid=""
STORM=build/tests/helpers/proc_storm
[ -x "$STORM" ] || fatal "$STORM is built (make tests)"

cleanup() {
	for p in $agent_pid $ne_pid $storm_pid; do stop_pid "$p" 2; done
	kill_instance "$inst"
	rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/config.json" <<EOF
{ "instance": "$inst", "web": { "listen_address": "127.0.0.1:0" } }
EOF
start_agent "$log" --config "$work/config.json" --collector.disable-defaults \
	--collector.top --collector.top.interval=1s --collector.processes \
	--collector.processes.interval=1s || fatal "agent started with --collector.top" "$log"
wait_for 10 served '^shmetrics_top_groups ' || fatal "shmetrics_top_* served" "$log"

# ---- processes: node_exporter's families ----
ne_port=$(free_port)
prometheus-node-exporter --collector.disable-defaults --collector.processes \
	--web.listen-address="127.0.0.1:$ne_port" >"$work/ne.log" 2>&1 &
ne_pid=$!
wait_for 10 curl -fsS -o "$work/ne.txt" "http://127.0.0.1:$ne_port/metrics" 2>/dev/null ||
	fatal "node_exporter answers" "$work/ne.log"
stop_pid "$ne_pid"
ne_pid=""
scrape /metrics >"$work/ours.txt"
# "# TYPE name type" and the label keys of each family.
shape() {
	grep '^node_processes\|^# TYPE node_processes' "$1" |
		sed -E 's/=("[^"]*")//g; s/ [^ ]*$//' | sort -u
}
check "node_processes_* have node_exporter's families, types and label keys" \
	diff <(shape "$work/ne.txt") <(shape "$work/ours.txt")

# ---- the storm ----
"$STORM" 2000 100 30 >"$work/storm.out" &
storm_pid=$!
wait_for 30 grep -qs ready "$work/storm.out" || fatal "proc_storm started 2000 processes"
value() { scrape /metrics 2>/dev/null | awk -v m="$1" '$1 == m { print $2; exit }'; }
many() { [ "$(value node_processes_pids)" -gt 2000 ] 2>/dev/null; }
check "node_processes_pids counts the 2000 processes" wait_for 10 many
cap=$(((10 + 10) * 11 + 1)) # groups x series per group, and shmetrics_top_groups
max=0 groups=0 failed=0
for _ in $(seq 8); do
	scrape /metrics >"$work/scrape.txt" 2>/dev/null
	n=$(grep -c '^shmetrics_top_' "$work/scrape.txt")
	[ "$n" -gt "$max" ] && max=$n
	g=$(awk '$1 == "shmetrics_top_groups" { print $2 }' "$work/scrape.txt")
	[ "${g:-0}" -gt "$groups" ] && groups=$g
	grep -q '^node_scrape_collector_success{collector="top"} 1$' "$work/scrape.txt" ||
		failed=$((failed + 1))
	sleep 1
done
check "the host had hundreds of process groups ($groups)" test "$groups" -ge 200
check "top stayed under its cap of $cap series (at most $max)" test "$max" -le "$cap"
check "top reported some groups ($max series)" test "$max" -gt 20
check "every collection of top succeeded ($failed failed)" test "$failed" -eq 0
check "nothing was logged for vanished processes" \
	bash -c "! grep -E 'collector/(top|processes)' '$log'"
grep 'shmetrics_top_' "$work/scrape.txt" >"$work/top.txt"
check "promtool accepts the top families" promtool_clean "$work/top.txt"
stop_pid "$storm_pid"
storm_pid=""

stop_pid "$agent_pid"
agent_pid=""
finish "$log"
