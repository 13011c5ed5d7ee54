#!/usr/bin/env bash
# Cost of the top collector next to Debian's prometheus-process-exporter, on the
# same processes: PROCS long-lived processes in 200 command names plus FORKS
# short-lived ones a second (tests/helpers/proc_storm), beside whatever the host
# runs.
#
#   bench/top_cost.sh                 (or: make bench-top)
#   PROCS=2000 FORKS=100 CYCLES=100 SCRAPES=50 bench/top_cost.sh
#
# shmetrics: bench/collect_cycle runs the top collector's cycle CYCLES times
# in-process and reads CLOCK_PROCESS_CPUTIME_ID (a cycle reads every process,
# ranks the groups and gathers the reported ones' details).
# process-exporter: one group per command name ({{.Comm}}, every process),
# SCRAPES sequential scrapes after 3 warm-up ones, its utime+stime from
# /proc/PID/stat; once with -threads=false -gather-smaps=false (the work nearest
# to ours) and once with its defaults (per-thread metrics and smaps too).
# Every wait is bounded; everything started here is stopped by its pid.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BUILD=${BUILD:-build}
PROCS=${PROCS:-2000}
FORKS=${FORKS:-100}
CYCLES=${CYCLES:-100}
SCRAPES=${SCRAPES:-50}
PE=${PE:-/usr/bin/prometheus-process-exporter}
work=$(mktemp -d)
storm_pid="" pe_pid=""

cleanup() {
	[ -n "$pe_pid" ] && kill "$pe_pid" 2>/dev/null && wait "$pe_pid" 2>/dev/null
	[ -n "$storm_pid" ] && kill "$storm_pid" 2>/dev/null && wait "$storm_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

make -s "$BUILD/bench/collect_cycle" "$BUILD/tests/helpers/proc_storm" || exit 1
[ -x "$PE" ] || { echo "top_cost: $PE is missing (Debian package prometheus-process-exporter)" >&2; exit 1; }

wait_http() {
	local deadline=$((SECONDS + $1))
	until curl -fsS --max-time 30 -o /dev/null "http://127.0.0.1:$2/metrics" 2>/dev/null; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.2
	done
}

"$BUILD/tests/helpers/proc_storm" "$PROCS" "$FORKS" 600 >"$work/storm.out" &
storm_pid=$!
deadline=$((SECONDS + 60))
until grep -qs ready "$work/storm.out"; do
	[ $SECONDS -ge $deadline ] && { echo "top_cost: proc_storm did not start" >&2; exit 1; }
	sleep 0.2
done
nprocs=$(ls /proc | grep -c '^[0-9]')

"$BUILD/bench/collect_cycle" --cycles="$CYCLES" top >"$work/cycle.txt" || exit 1
top_us=$(awk '/^cycle / { sub("cpu_us=", "", $2); print $2 }' "$work/cycle.txt")
top_series=$(awk '/^cycle / { sub("series=", "", $4); print $4 }' "$work/cycle.txt")

cat >"$work/pe.yml" <<'EOF'
process_names:
  - name: "{{.Comm}}"
    cmdline:
      - '.+'
EOF
# run_pe FLAGS...: prints "cpu_seconds_per_scrape series"
run_pe() {
	local port
	port=$(free_port)
	"$PE" -config.path "$work/pe.yml" -web.listen-address "127.0.0.1:$port" "$@" \
		>"$work/pe.log" 2>&1 &
	pe_pid=$!
	wait_http 60 "$port" || { echo "top_cost: process-exporter did not answer" >&2; cat "$work/pe.log"; exit 1; }
	cpu_per_scrape "$pe_pid" "$port" namedprocess_namegroup_
	kill "$pe_pid"
	wait "$pe_pid" 2>/dev/null
	pe_pid=""
}
read -r pe_lean _ pe_lean_series < <(run_pe -threads=false -gather-smaps=false)
read -r pe_full _ pe_full_series < <(run_pe)

awk -v n="$nprocs" -v f="$FORKS" -v t="$top_us" -v ts="$top_series" -v l="$pe_lean" \
	-v ls="$pe_lean_series" -v d="$pe_full" -v ds="$pe_full_series" -v c="$CYCLES" -v s="$SCRAPES" '
BEGIN {
	printf "processes on the host: %d (plus %d forks/s)\n\n", n, f
	printf "| measured | CPU per cycle or scrape | series |\n| --- | --- | --- |\n"
	printf "| shmetrics top collector, one cycle (mean of %d) | %.1f ms | %d |\n", c, t / 1000, ts
	printf "| process-exporter -threads=false -gather-smaps=false, one scrape (mean of %d) | %.1f ms | %d |\n", s, l * 1000, ls
	printf "| process-exporter defaults, one scrape (mean of %d) | %.1f ms | %d |\n\n", s, d * 1000, ds
	printf "process-exporter (lean) / shmetrics top: %.1f\n", l * 1e6 / t
	printf "process-exporter (defaults) / shmetrics top: %.1f\n", d * 1e6 / t
}'
