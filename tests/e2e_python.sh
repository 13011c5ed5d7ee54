#!/usr/bin/env bash
# End to end for the Python package (python/shmetrics, docs/python.md), with
# Debian's python3:
#  - it imports with PYTHONPATH=python after make, and is the C extension (not ctypes);
#  - python/tests/test_shmetrics.py against a running agent: the API, 8 forked
#    workers with one SIGKILLed (exactly 80000 on one line), 1000 short-lived
#    workers in bounded slots, a multiprocessing child, the limit on workers,
#    every gauge aggregate, reset;
#  - make install PREFIX=... puts it where that python3 finds it.
# Every wait is bounded.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

PY=/usr/bin/python3
inst="e2epy$$"
work=$(mktemp -d)
log="$work/agent.log"
agent_pid=""

cleanup() {
	stop_pid "$agent_pid"
	kill_instance "$inst"
	rm -rf "$work"
}
trap cleanup EXIT

make -s all >"$work/build.log" 2>&1 || fatal "make" "$work/build.log"
check "PYTHONPATH=python imports the package after make" \
	env PYTHONPATH=python "$PY" -c 'import shmetrics, shmetrics._shmetrics'
check "its updates are the C extension's" env PYTHONPATH=python "$PY" -c '
import shmetrics, shmetrics._shmetrics as ext
assert ext.__file__.endswith(".so"), ext.__file__
assert shmetrics.Collector.__mro__[1] is ext.Collector'

cat >"$work/config.json" <<EOF
{
  "instance": "$inst",
  "interval": "1s",
  "web": { "listen_address": "127.0.0.1:0" },
  "collectors": { "cpu": { "enabled": false }, "meminfo": { "enabled": false } },
  "custom_collectors": {
    "py_api": { "external": true, "workers": 4, "max_series": 100 },
    "py_count": { "external": true, "workers": 9, "max_series": 100 },
    "py_churn": { "external": true, "workers": 4, "max_series": 100 },
    "py_mp": { "external": true, "workers": 6, "max_series": 100 },
    "py_limit": { "external": true, "workers": 2, "max_series": 100 },
    "py_gauges": { "external": true, "workers": 4, "max_series": 100 },
    "py_reset": { "external": true, "workers": 3, "max_series": 100 },
    "py_cmd": { "command": ["$PY", "$PWD/python/tests/command_workers.py"], "workers": 4,
                "max_series": 100, "env": { "PYTHONPATH": "$PWD/python" } }
  }
}
EOF
start_agent "$log" --config "$work/config.json" || fatal "the agent started" "$log"
ok "agent listening on $port"

SHMETRICS_INSTANCE=$inst SHMETRICS_TEST_PORT=$port SHMETRICS_SEGMENTS_DIR=$SEGBASE \
	SHMETRICS_CLI=$BIN/shmetrics PYTHONPATH=python \
	timeout 300 "$PY" -m unittest -v python/tests/test_shmetrics.py >"$work/unittest.log" 2>&1
rc=$?
sed 's/^/    /' "$work/unittest.log"
check "python/tests/test_shmetrics.py passes (exit $rc)" test $rc -eq 0

scrape >"$work/metrics.txt"
grep -E '^(# (HELP|TYPE) )?py_' "$work/metrics.txt" >"$work/py.txt"
check "promtool check metrics is clean on what the package published" promtool_clean "$work/py.txt"

# ---- a "command" collector whose program forks workers ----
check "a command collector's forked workers attach through its descriptor" wait_for 20 \
	served_line 'cmd_jobs_total 300'
check "... each in a slot of its own, beside the program itself" wait_for 10 \
	served_line 'shmetrics_collector_workers{collector="py_cmd"} 4'
check "... with one cmd_worker_up series per worker that set it" \
	bash -c "[ \$(curl -fsS http://127.0.0.1:$port/metrics | grep -c '^cmd_worker_up{worker=') -eq 3 ]"

# ---- the CLI and collectors with workers ----
out=$("$BIN/shmetrics" inc py_cli_total --collector=py_api --instance="$inst" 2>&1)
rc=$?
check "the CLI refuses to write a collector with workers, saying why (exit $rc)" \
	bash -c "[ $rc -eq 1 ] && grep -q 'has workers' <<<'$out'"
check "shmetrics list shows the workers of a collector with workers" \
	bash -c "'$BIN/shmetrics' list --instance='$inst' | grep -Eq '^py_api +[a-z()-]+ +[0-9]+ +[^ ]+ +[0-9]+ +0/4$'"

# ---- installed for Debian's python3 ----
prefix="$work/prefix"
make -s install PREFIX="$prefix" >"$work/install.log" 2>&1 || fatal "make install" "$work/install.log"
site=$(find "$prefix" -type d -name shmetrics -path '*packages*' | head -n 1)
check "make install puts the package in a dist-packages directory ($site)" \
	test -f "$site/__init__.py" -a -n "$(ls "$site"/_shmetrics*.so 2>/dev/null)"
check "the installed package imports from there" \
	env PYTHONPATH="$(dirname "$site")" "$PY" -c "
import shmetrics; assert shmetrics.__file__.startswith('$prefix'), shmetrics.__file__"
site_usr=$(make -s --no-print-directory print-python-sitedir PREFIX=/usr)
check "for PREFIX=/usr that is Debian's /usr/lib/python3/dist-packages" \
	test "$site_usr" = /usr/lib/python3/dist-packages

finish "$log"
