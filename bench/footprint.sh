#!/usr/bin/env bash
# Memory footprint: PSS of each shmetrics process (the agent, the collector
# group, the exporter) beside collectd's, on this host, in the same run.
# Prints a markdown table (README "Footprint").  Not a test: nothing here asserts.
#
#   bench/footprint.sh                                  # about a minute
#   BUILDS="before:/tmp/main/build/bin after:build/bin" bench/footprint.sh
#   FOOTPRINT_SECONDS=60 bench/footprint.sh
#
# Targets, all running at once, each scraped once a second over loopback (as a
# Prometheus with a 1 s interval would) for FOOTPRINT_SECONDS (default 30):
#   shmetrics  the agent with the embedded default configuration (its default
#              collectors, 5 s interval), one per build in BUILDS
#              ("label:bindir ...", default "shmetrics:build/bin")
#   collectd   Debian's collectd-core with the plugins of Debian's default
#              collectd.conf that exist on this host and write_prometheus, the
#              configuration bench/exporter_vs_peers.sh uses
# Measured per process from /proc/PID/smaps_rollup: PSS (shared pages divided
# among the processes that map them), RSS, and private (USS).
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

SECONDS_RUN=${FOOTPRINT_SECONDS:-30}
BUILDS=${BUILDS:-shmetrics:build/bin}
work=$(mktemp -d)
inst="fp$$"
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 1
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rm -f /dev/shm/shmetrics."$inst"*
	rm -rf "$work"
}
trap cleanup EXIT

[ "$BUILDS" = shmetrics:build/bin ] && { make -s all >/dev/null || exit 1; }
command -v curl >/dev/null || { echo "footprint: curl is missing (apt-get install curl)" >&2; exit 1; }

declare -A PORT AGENT
labels=()
n=0
for b in $BUILDS; do
	label=${b%%:*} bin=${b#*:}
	n=$((n + 1))
	PORT[$label]=$(free_port)
	printf '{ "instance": "%s%d", "web": { "listen_address": "127.0.0.1:%s" } }\n' \
		"$inst" "$n" "${PORT[$label]}" >"$work/$label.json"
	"$bin/shmetrics-agent" --config "$work/$label.json" >"$work/$label.log" 2>&1 &
	AGENT[$label]=$!
	pids+=($!)
	labels+=("$label")
done

collectd_pid=""
PORT[collectd]=$(free_port)
if write_collectd_conf "$work/collectd.conf" "${PORT[collectd]}"; then
	/usr/sbin/collectd -f -C "$work/collectd.conf" >"$work/collectd.log" 2>&1 &
	collectd_pid=$!
	pids+=($!)
else
	echo "footprint: collectd not installed (apt-get install collectd-core); measuring shmetrics alone" >&2
fi

# Scraped once a second for the run.
end=$((SECONDS + SECONDS_RUN))
while [ $SECONDS -lt $end ]; do
	for t in "${labels[@]}" ${collectd_pid:+collectd}; do
		curl -fs --max-time 2 -o /dev/null "http://127.0.0.1:${PORT[$t]}/metrics" &
	done
	wait_all=$(jobs -p | grep -v -x -F -f <(printf '%s\n' "${pids[@]}") || true)
	# shellcheck disable=SC2086
	[ -n "$wait_all" ] && wait $wait_all 2>/dev/null
	sleep 1
done

mem() { # "PSS RSS USS" in KiB of pid $1
	awk '/^Pss:/ { p = $2 } /^Rss:/ { r = $2 }
		/^Private_(Clean|Dirty):/ { u += $2 } END { printf "%d %d %d", p, r, u }' \
		/proc/"$1"/smaps_rollup 2>/dev/null
}
kib() { awk -v k="$1" 'BEGIN { printf "%.2f MiB", k / 1024 }'; }

echo "| process | PSS | RSS | private |"
echo "| --- | --- | --- | --- |"
declare -A TOTAL
for t in "${labels[@]}"; do
	a=${AGENT[$t]}
	procs=("$a" $(cat /proc/"$a"/task/*/children 2>/dev/null))
	sum=0
	for p in "${procs[@]}"; do
		read -r pss rss uss <<<"$(mem "$p")"
		[ -n "$pss" ] || continue
		name=$(tr '\0' ' ' </proc/"$p"/cmdline | awk '{ sub(".*/", "", $1); print $1 }')
		[ "$name" = shmetrics-collector ] &&
			name="$name ($(tr '\0' '\n' </proc/"$p"/cmdline | grep -c '^--run=') collectors)"
		echo "| $t: $name | $(kib "$pss") | $(kib "$rss") | $(kib "$uss") |"
		sum=$((sum + pss))
	done
	TOTAL[$t]=$sum
	echo "| **$t: all ${#procs[@]} processes** | **$(kib "$sum")** | | |"
done
if [ -n "$collectd_pid" ]; then
	read -r pss rss uss <<<"$(mem "$collectd_pid")"
	TOTAL[collectd]=$pss
	echo "| **collectd $(/usr/sbin/collectd -h 2>/dev/null | awk '/^collectd / { sub(",$", "", $2); print $2 }') ($(grep -c '^LoadPlugin' "$work/collectd.conf") plugins)** | **$(kib "$pss")** | $(kib "$rss") | $(kib "$uss") |"
	echo
	for t in "${labels[@]}"; do
		awk -v a="${TOTAL[$t]}" -v c="$pss" -v t="$t" \
			'BEGIN { printf "%s / collectd PSS: %.2f\n", t, a / c }'
	done
fi
