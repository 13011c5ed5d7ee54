#!/usr/bin/env bash
# End to end: the shmetrics CLI, the exec and textfile collectors under the real
# agent and exporter on 127.0.0.1.
#  - an "external" custom collector takes set/inc/add from the CLI; concurrent
#    incs lose nothing (flock); the exporter serves them with writer pid 0;
#  - `shmetrics dump` prints exactly the exporter's lines for that collector;
#  - `shmetrics list` shows the collector up with writer 0;
#  - errors: unknown collector, a built-in collector's resident writer, bad input;
#  - an "exec" custom collector and the textfile collector are served;
#  - after the staleness window the CLI's series are omitted and up says 0.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

CLI=${CLI:-$BIN/shmetrics}
inst="cli$$"
work=$(mktemp -d)
log="$work/agent.log"
agent_pid=""

cleanup() {
	stop_pid "$agent_pid"
	kill_instance "$inst"
	rm -rf "$work"
}
trap cleanup EXIT

sm() { "$CLI" --instance="$inst" "$@"; }

mkdir -p "$work/textfile"
printf '# HELP e2e_textfile_value From a file.\n# TYPE e2e_textfile_value gauge\ne2e_textfile_value 42\n' \
	>"$work/textfile/e2e.prom"
cat >"$work/config.json" <<EOF
{
  "instance": "$inst",
  "interval": "1s",
  "web": { "listen_address": "127.0.0.1:0" },
  "collectors": { "textfile": { "directory": "$work/textfile" } },
  "custom_collectors": {
    "scripts": { "external": true, "interval": "1s", "mode": "0660" },
    "check": { "exec": ["$PWD/tests/fixtures/exec/good.sh", "from-agent"], "timeout": "1s",
               "interval": "2s" }
  }
}
EOF
start_agent "$log" --config "$work/config.json" ||
	fatal "the agent started with custom collectors" "$log"
ok "agent with an external and an exec custom collector listening on $port"

# ---- writes ----
check "set creates a gauge" sm set e2e_queue_depth'{queue="mail"}' 7 --collector=scripts \
	--help="Messages waiting."
check "inc creates a counter" sm inc e2e_jobs_total'{result="ok"}' --collector=scripts
incs=()
for i in 1 2 3 4 5 6 7 8 9 10; do
	sm inc e2e_jobs_total'{result="ok"}' --collector=scripts &
	incs+=($!)
done
wait "${incs[@]}"
check "add adds" sm add e2e_bytes_total 1.5 --collector=scripts
check "set changes the existing series" \
	sm set e2e_queue_depth'{queue="mail"}' 9 --collector=scripts
check "the exporter serves the gauge" wait_for 20 served_line 'e2e_queue_depth{queue="mail"} 9'
check "11 concurrent incs made 11 (flock)" served_line 'e2e_jobs_total{result="ok"} 11'
check "help is served" served_line '# HELP e2e_queue_depth Messages waiting.'
check "type is served" served_line '# TYPE e2e_jobs_total counter'
check "the collector is up although no process is attached (writer pid 0)" \
	served_line 'shmetrics_collector_up{collector="scripts"} 1'

# ---- observe: a histogram, bucket, sum and count in one publish ----
check "observe creates a histogram with the given buckets" \
	sm observe e2e_job_seconds'{job="backup"}' 0.3 --buckets=0.1,0.5,1 --collector=scripts \
	--help="Backup durations."
obs_pids=()
for v in 0.05 0.7 4 0.2; do
	sm observe e2e_job_seconds'{job="backup"}' "$v" --collector=scripts &
	obs_pids+=($!)
done
wait "${obs_pids[@]}"
check "concurrent observations all land in their buckets" wait_for 20 served_line \
	'e2e_job_seconds_bucket{job="backup",le="0.5"} 3'
check "the +Inf bucket counts all five" \
	served_line 'e2e_job_seconds_bucket{job="backup",le="+Inf"} 5'
check "and equals the count" served_line 'e2e_job_seconds_count{job="backup"} 5'
check "the sum adds up" served_line 'e2e_job_seconds_sum{job="backup"} 5.25'
sm observe e2e_job_seconds'{job="backup"}' 1 --buckets=1,2 --collector=scripts 2>"$work/err.txt"
check "other buckets for an existing histogram are refused" grep -q 'other buckets' "$work/err.txt"
sm observe e2e_queue_depth'{queue="mail"}' 1 --collector=scripts 2>"$work/err.txt"
check "observe on a gauge is refused" grep -q 'not a histogram' "$work/err.txt"

# ---- dump equals the exporter's lines ----
sm dump scripts >"$work/dump.txt" 2>"$work/dump.err"
scrape >"$work/scrape.txt"
check "dump prints exactly the exporter's lines for the collector" bash -c \
	"grep -F -x -f '$work/dump.txt' '$work/scrape.txt' | diff -q - '$work/dump.txt' >/dev/null"
check "dump output passes promtool" promtool_clean "$work/dump.txt"

# ---- list ----
sm list >"$work/list.txt"
check "list shows the external collector up with writer 0" \
	grep -Eq '^scripts +up +0 ' "$work/list.txt"
check "list shows the built-in cpu collector with its writer" grep -Eq '^cpu +up +[1-9]' "$work/list.txt"

# ---- errors ----
sm set x 1 --collector=nope 2>"$work/err.txt"
rc=$?
check "an unknown collector exits 69 and says to declare it (exit $rc)" bash -c \
	"[ $rc -eq 69 ] && grep -q 'declare it in custom_collectors' '$work/err.txt'"
sm set x 1 --collector=cpu 2>"$work/err.txt"
rc=$?
check "a collector with a resident writer is refused (exit $rc)" bash -c \
	"[ $rc -eq 75 ] && grep -q 'resident writer' '$work/err.txt'"
sm set 'bad name' 1 --collector=scripts 2>/dev/null
check "an invalid name exits 65" test $? -eq 65
sm add e2e_jobs_total'{result="ok"}' -1 --collector=scripts 2>"$work/err.txt"
check "a counter does not go down" grep -q 'only goes up' "$work/err.txt"
sm set e2e_queue_depth'{queue="mail"}' 1 --type=counter --collector=scripts 2>/dev/null
check "a type change is refused" test $? -eq 65
printf 'ok 1\nbad{ 2\n' >"$work/bad.prom"
sm check "$work/bad.prom" 2>"$work/err.txt"
rc=$?
check "check names file:line:column (exit $rc)" bash -c \
	"[ $rc -eq 65 ] && grep -q '^$work/bad.prom:2:6: expected a label name' '$work/err.txt'"
check "and does not echo the file" bash -c "! grep -q 'bad{' '$work/err.txt'"
check "check accepts a good file" sm check "$work/textfile/e2e.prom"

# ---- exec and textfile under the agent ----
check "the exec collector's output is served" wait_for 20 served_line 'check_ok{args="from-agent"} 1'
check "the textfile collector serves the file" served_line 'e2e_textfile_value 42'
check "and its mtime" served "^node_textfile_mtime_seconds{file=\"$work/textfile/e2e.prom\"}"
check "and no scrape error" served_line 'node_textfile_scrape_error 0'
scrape >"$work/all.txt"
grep -E '^(# (HELP|TYPE) )?(e2e_|check_|node_textfile_)' "$work/all.txt" >"$work/ours.txt"
check "our families in the scrape pass promtool" promtool_clean "$work/ours.txt"

# ---- staleness: 3 intervals of 1 s ----
check "after the staleness window the CLI's series are omitted" wait_for 20 not_served '^e2e_queue_depth'
check "and the collector is reported down" served_line 'shmetrics_collector_up{collector="scripts"} 0'
sm list | grep -Eq '^scripts +stale ' && ok "list says stale" || not_ok "list says stale"
check "a new write brings it back" sm inc e2e_jobs_total'{result="ok"}' --collector=scripts
check "with the counter continuing from 11" wait_for 20 served_line 'e2e_jobs_total{result="ok"} 12'

finish "$log"
