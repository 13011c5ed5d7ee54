#!/usr/bin/env bash
# Cost of the opt-in collectors that ask the kernel (network_route, qdisc,
# ethtool, perf, xfrm, wifi), one by one on this host: CPU time of one
# collection in-process (bench/collect_cycle NAME) next to the CPU time
# node_exporter spends serving one scrape with only that collector enabled, and
# the same node_exporter with no collector at all (its HTTP and registry cost,
# shown apart so the collector's own share can be read).
#
#   bench/net_collectors_cost.sh        CYCLES=1000 SCRAPES=200 by default
#
# node_exporter's CPU is the sum of its threads' time on CPU from
# /proc/PID/task/*/schedstat (nanoseconds) over SCRAPES sequential scrapes after
# 5 warm-up scrapes; a collector node_exporter 1.5 does not have is shown as "-".
# Every wait is bounded.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BUILD=${BUILD:-build}
CYCLES=${CYCLES:-1000}
SCRAPES=${SCRAPES:-200}
NODE_EXPORTER=${NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
COLLECTORS=${COLLECTORS:-network_route qdisc ethtool perf xfrm wifi}
work=$(mktemp -d)
ne_pid=""

cleanup() {
	[ -n "$ne_pid" ] && kill "$ne_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

make -s "$BUILD/bench/collect_cycle" || exit 1
[ -x "$NODE_EXPORTER" ] || { echo "net_collectors_cost: $NODE_EXPORTER is missing" >&2; exit 1; }

# ne_cpu ARGS...: node_exporter's CPU seconds per scrape with ARGS, and its samples.
ne_cpu() {
	local port
	for _ in 1 2 3; do
		port=$(free_port)
		"$NODE_EXPORTER" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
			"$@" >"$work/ne.log" 2>&1 &
		ne_pid=$!
		python3 - "$ne_pid" "$port" "$SCRAPES" <<'PY' && break
import os, sys, time, urllib.request
pid, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def cpu():
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(open(f"/proc/{pid}/task/{t}/schedstat").read().split()[0])
        except OSError:
            pass  # a thread that just ended
    return total / 1e9
def scrape():
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode()
deadline = time.monotonic() + 10
while True:
    try:
        scrape()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.1)
for _ in range(5):
    text = scrape()
t0 = cpu()
for _ in range(n):
    scrape()
samples = sum(1 for l in text.splitlines()
              if l and not l.startswith("#") and not l.startswith(("go_", "process_", "promhttp_")))
print(f"{(cpu() - t0) / n:.6f} {samples}")
PY
		kill "$ne_pid" 2>/dev/null
		wait "$ne_pid" 2>/dev/null
		ne_pid=""
	done
	kill "$ne_pid" 2>/dev/null
	wait "$ne_pid" 2>/dev/null
	ne_pid=""
}

read -r base _ < <(ne_cpu)
printf "| collector | shmetrics, one collection | series | node_exporter, one scrape | minus its empty scrape (%.0f µs) | ratio |\n" \
	"$(echo "$base * 1000000" | bc -l)"
echo "| --- | --- | --- | --- | --- | --- |"
for c in $COLLECTORS; do
	"$BUILD/bench/collect_cycle" --cycles="$CYCLES" "$c" >"$work/cycle.txt" 2>&1 || true
	us=$(awk '/^cycle / { sub("cpu_us=", "", $2); print $2 }' "$work/cycle.txt")
	series=$(awk '/^cycle / { sub("series=", "", $4); print $4 }' "$work/cycle.txt")
	if ! "$NODE_EXPORTER" --help 2>&1 | grep -Eq -- "--(\[no-\])?collector\.$c "; then
		printf "| %s | %.1f µs | %d | - | - | - |\n" "$c" "$us" "$series"
		continue
	fi
	read -r ne samples < <(ne_cpu "--collector.$c")
	awk -v c="$c" -v us="$us" -v s="$series" -v ne="$ne" -v b="$base" -v ns="$samples" 'BEGIN {
		own = (ne - b) * 1e6
		printf "| %s | %.1f µs | %d | %.0f µs (%d samples) | %.0f µs | %.1f |\n",
			c, us, s, ne * 1e6, ns, own, (us > 0 ? own / us : 0)
	}'
done
echo
echo "CYCLES=$CYCLES SCRAPES=$SCRAPES; ratio = node_exporter's own share / shmetrics"
