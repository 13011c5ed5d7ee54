#!/usr/bin/env bash
# A real pre-fork server end to end: Debian's gunicorn, 4 sync workers forked
# from a master that imported the application (--preload), the application
# instrumented with the Python package (python/tests/wsgi_app.py):
#  - N requests: app_requests_total equals N, on one line, served by several workers;
#  - a worker killed with SIGKILL (after its publish) and replaced by gunicorn:
#    nothing counted is lost, and the new worker takes a slot;
#  - a graceful stop (SIGTERM): the workers exit through the interpreter and
#    publish a last time; the total stays.
# Every wait is bounded.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

GUNICORN=/usr/bin/gunicorn
PY=/usr/bin/python3
inst="e2egu$$"
work=$(mktemp -d)
log="$work/agent.log"
agent_pid=""
gu_pid=""

cleanup() {
	[ -n "$gu_pid" ] && stop_pid "$gu_pid" 10
	stop_pid "$agent_pid"
	kill_instance "$inst"
	rm -rf "$work"
}
trap cleanup EXIT

[ -x "$GUNICORN" ] || fatal "Debian's gunicorn is installed ($GUNICORN; scripts/deps.sh)"
make -s all >"$work/build.log" 2>&1 || fatal "make" "$work/build.log"

cat >"$work/config.json" <<JSON
{
  "instance": "$inst",
  "interval": "1s",
  "web": { "listen_address": "127.0.0.1:0" },
  "collectors": { "cpu": { "enabled": false }, "meminfo": { "enabled": false } },
  "custom_collectors": {
    "gunicorn": { "external": true, "workers": 8, "max_series": 200 }
  }
}
JSON
start_agent "$log" --config "$work/config.json" || fatal "the agent started" "$log"
ok "agent listening on $port"

app_port=$(free_port)
SHMETRICS_INSTANCE=$inst SHMETRICS_SEGMENTS_DIR=$SEGBASE PYTHONPATH="$PWD/python" \
	APP_COLLECTOR=gunicorn APP_INTERVAL=0.1 \
	"$GUNICORN" --preload --workers 4 --bind "127.0.0.1:$app_port" \
	--chdir "$PWD/python/tests" --graceful-timeout 10 wsgi_app:application \
	>"$work/gunicorn.log" 2>&1 &
gu_pid=$!
wait_for 20 curl -fsS -o /dev/null "http://127.0.0.1:$app_port/" ||
	fatal "gunicorn serves the application on 127.0.0.1:$app_port" "$work/gunicorn.log"
ok "gunicorn serves the application with 4 workers"

# Requests, as fast as one client goes; prints which worker served each.
hit() {
	"$PY" - "$app_port" "$1" "$2" <<'PYCODE'
import sys, urllib.request
port, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for _ in range(n):
    with urllib.request.urlopen("http://127.0.0.1:%s%s" % (port, path), timeout=10) as r:
        print(r.read().decode().split()[-1])
PYCODE
}
total() { scrape 2>/dev/null | grep -c '^app_requests_total{path="/hello"} '; }
value_is() { served_line "app_requests_total{path=\"/hello\"} $1"; }

N=400
hit /hello $N >"$work/served1.txt" || fatal "$N requests answered" "$work/gunicorn.log"
check "$N requests answered by more than one worker ($(sort -u "$work/served1.txt" | wc -l))" \
	test "$(sort -u "$work/served1.txt" | wc -l)" -ge 2
check "app_requests_total is $N" wait_for 10 value_is $N
check "... on exactly one line" test "$(total)" = 1
check "one app_worker_pid series per worker that served" wait_for 10 bash -c \
	"[ \$(curl -fsS http://127.0.0.1:$port/metrics | grep -c '^app_worker_pid{worker=') -eq $(sort -u "$work/served1.txt" | wc -l) ]"
# A worker attaches at its first request: the master and each worker that served.
attached=$((1 + $(sort -u "$work/served1.txt" | wc -l)))
check "the collector counts the master and the $((attached - 1)) workers that served" \
	wait_for 10 served_line "shmetrics_collector_workers{collector=\"gunicorn\"} $attached"


# ---- a worker killed and replaced ----
victim=$(head -n 1 "$work/served1.txt")
sleep 0.5 # more than its publish interval: everything it counted is published
kill -KILL "$victim"
check "gunicorn replaces the killed worker" wait_for 20 bash -c \
	"[ \$(pgrep -P $gu_pid | wc -l) -eq 4 ] && ! kill -0 $victim 2>/dev/null"
check "the killed worker's requests are still counted" value_is $N
M=200
hit /hello $M >"$work/served2.txt" || fatal "$M more requests answered" "$work/gunicorn.log"
check "app_requests_total is $((N + M)) after the replacement" wait_for 10 value_is $((N + M))
# Every request (the readiness probe's on / too) was timed: _count is the sum of the counters.
hist_matches() {
	scrape | awk '/^app_requests_total\{/ { n += $2 } /^app_request_duration_seconds_count / { c = $2 }
		END { exit !(n > 0 && n == c) }'
}
check "the histogram counted every request too" wait_for 10 hist_matches
check "no request is in flight" served_line "app_requests_in_flight 0"
scrape | grep -E '^(# (HELP|TYPE) )?app_' >"$work/app.txt"
check "promtool check metrics is clean on the application's families" promtool_clean "$work/app.txt"

# ---- a graceful stop ----
stop_pid "$gu_pid" 20
rc=$?
gu_pid=""
check "gunicorn stops on SIGTERM (exit $rc)" test $rc -eq 0
"$BIN/shmetrics" dump gunicorn --instance="$inst" >"$work/dump.txt" 2>/dev/null
check "after the stop the total is still $((N + M))" \
	grep -qx "app_requests_total{path=\"/hello\"} $((N + M))" "$work/dump.txt"

finish "$log" "$work/gunicorn.log"
