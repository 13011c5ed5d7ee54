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

BIN=${BIN:-build/bin}
CLI=${CLI:-$BIN/shmetrics}
inst="cli$$"
work=$(mktemp -d)
log="$work/agent.log"
agent_pid=""
fails=0

cleanup() {
	[ -n "$agent_pid" ] && kill -TERM "$agent_pid" 2>/dev/null && sleep 0.5
	[ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null
	rm -f /dev/shm/shmetrics."$inst".*
	rm -rf "$work"
}
trap cleanup EXIT

ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	fails=$((fails + 1))
}
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.1
	done
}
scrape() { curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics"; }
port_from_log() { grep -o 'listening on [^ ]*' "$log" | tail -n 1 | sed 's/.*://'; }
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
"$BIN/shmetrics-agent" --config "$work/config.json" >"$log" 2>&1 &
agent_pid=$!
if ! wait_for 10 grep -q 'listening on' "$log"; then
	not_ok "the agent started with custom collectors"
	cat "$log"
	exit 1
fi
port=$(port_from_log)
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
check "the exporter serves the gauge" wait_for 5 bash -c \
	"curl -fsS http://127.0.0.1:$port/metrics | grep -qx 'e2e_queue_depth{queue=\"mail\"} 9'"
check "11 concurrent incs made 11 (flock)" bash -c \
	"curl -fsS http://127.0.0.1:$port/metrics | grep -qx 'e2e_jobs_total{result=\"ok\"} 11'"
check "help and type are served" bash -c \
	"curl -fsS http://127.0.0.1:$port/metrics | grep -qx '# HELP e2e_queue_depth Messages waiting.' &&
	 curl -fsS http://127.0.0.1:$port/metrics | grep -qx '# TYPE e2e_jobs_total counter'"
check "the collector is up although no process is attached (writer pid 0)" bash -c \
	"curl -fsS http://127.0.0.1:$port/metrics | grep -qx 'shmetrics_collector_up{collector=\"scripts\"} 1'"

# ---- dump equals the exporter's lines ----
sm dump scripts >"$work/dump.txt" 2>"$work/dump.err"
scrape >"$work/scrape.txt"
check "dump prints exactly the exporter's lines for the collector" bash -c \
	"grep -F -x -f '$work/dump.txt' '$work/scrape.txt' | diff -q - '$work/dump.txt' >/dev/null"
check "dump output passes promtool" bash -c "promtool check metrics <'$work/dump.txt'"

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
check "check names file:line (exit $rc)" bash -c \
	"[ $rc -eq 65 ] && grep -q '^$work/bad.prom:2: ' '$work/err.txt'"
check "check accepts a good file" sm check "$work/textfile/e2e.prom"

# ---- exec and textfile under the agent ----
check "the exec collector's output is served" wait_for 5 bash -c \
	"curl -fsS http://127.0.0.1:$port/metrics | grep -qx 'check_ok{args=\"from-agent\"} 1'"
check "the textfile collector serves the file and its mtime" bash -c \
	"curl -fsS http://127.0.0.1:$port/metrics | grep -qx 'e2e_textfile_value 42' &&
	 curl -fsS http://127.0.0.1:$port/metrics | grep -q '^node_textfile_mtime_seconds{file=\"$work/textfile/e2e.prom\"}' &&
	 curl -fsS http://127.0.0.1:$port/metrics | grep -qx 'node_textfile_scrape_error 0'"
scrape >"$work/all.txt"
grep -E '^(# (HELP|TYPE) )?(e2e_|check_|node_textfile_)' "$work/all.txt" >"$work/ours.txt"
check "our families in the scrape pass promtool" bash -c "promtool check metrics <'$work/ours.txt'"

# ---- staleness: 3 intervals of 1 s ----
check "after the staleness window the CLI's series are omitted" wait_for 8 bash -c \
	"! curl -fsS http://127.0.0.1:$port/metrics | grep -q '^e2e_queue_depth'"
check "and the collector is reported down" bash -c \
	"curl -fsS http://127.0.0.1:$port/metrics | grep -qx 'shmetrics_collector_up{collector=\"scripts\"} 0'"
sm list | grep -Eq '^scripts +stale ' && ok "list says stale" || not_ok "list says stale"
check "a new write brings it back" sm inc e2e_jobs_total'{result="ok"}' --collector=scripts
check "with the counter continuing from 11" wait_for 5 bash -c \
	"curl -fsS http://127.0.0.1:$port/metrics | grep -qx 'e2e_jobs_total{result=\"ok\"} 12'"

if [ $fails -gt 0 ]; then
	echo "--- agent log:"
	cat "$log"
fi
echo "$fails failure(s)"
[ $fails -eq 0 ]
