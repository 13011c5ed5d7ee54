#!/usr/bin/env bash
# End to end for custom collectors, built the way a user builds them:
#  - make install PREFIX=$tmp/prefix installs the library, header and pkg-config file;
#  - examples/request_counter builds against the installed library through pkg-config;
#  - the agent runs it as a "command" custom collector, and a second copy attaches by
#    name to an "external" one;
#  - their families are served on /metrics and promtool check metrics is clean on them;
#  - kill -9 of the command collector: shmetrics_collector_up 0 and its series omitted,
#    then the agent restarts it and they come back;
#  - the external collector's attach is refused to a second writer.
# Every wait is bounded.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

inst="e2ecc$$"
work=$(mktemp -d)
prefix="$work/prefix"
AGENT="$prefix/bin/shmetrics-agent"
log="$work/agent.log"
agent_pid=""
ext_pid=""

cleanup() {
	[ -n "$ext_pid" ] && kill -KILL "$ext_pid" 2>/dev/null
	stop_pid "$agent_pid"
	kill_instance "$inst"
	rm -rf "$work"
}
trap cleanup EXIT

# The pid of the command collector: the example started with no argument.
app_pid() { pgrep -f "^$work/request_counter\$" | head -n 1; }

# ---- install, and build the example against the installed library ----
make -s install PREFIX="$prefix" >"$work/install.log" 2>&1 ||
	fatal "make install PREFIX=$prefix" "$work/install.log"
ok "make install PREFIX=$prefix"
check "the shared and static libraries, the header and shmetrics.pc are installed" \
	test -e "$prefix/lib/libshmetrics.so.0" -a -e "$prefix/lib/libshmetrics.so" -a \
	-e "$prefix/lib/libshmetrics.a" -a -e "$prefix/include/shmetrics.h" -a \
	-e "$prefix/lib/pkgconfig/shmetrics.pc"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
check "pkg-config finds shmetrics under the prefix" \
	bash -c "pkg-config --cflags shmetrics | grep -q -- '-I$prefix/include'"
check "the shared library exports only the shmetrics_ API" \
	bash -c "! nm -D --defined-only '$prefix/lib/libshmetrics.so.0' | awk '\$2 ~ /^[TDB]\$/ { print \$3 }' | grep -v '^shmetrics_'"
cp -r examples/request_counter "$work/src"
make -s -C "$work/src" >"$work/build.log" 2>&1 ||
	fatal "the example builds against the installed library" "$work/build.log"
cp "$work/src/request_counter" "$work/request_counter"
ok "the example builds against the installed library"
check "the example is linked to the installed libshmetrics.so.0" \
	bash -c "ldd '$work/request_counter' | grep -q '$prefix/lib/libshmetrics.so.0'"
out=$(env -u SHMETRICS_SEGMENT_FD "$work/request_counter" 2>&1)
rc=$?
check "outside the agent the example exits 78 and says why (exit $rc)" \
	bash -c "[ $rc -eq 78 ] && grep -q SHMETRICS_SEGMENT_FD <<<'$out'"

# ---- the agent runs the command collector and hosts the external one ----
cat >"$work/config.json" <<EOF
{
  "instance": "$inst",
  "interval": "1s",
  "staleness_intervals": 2,
  "web": { "listen_address": "127.0.0.1:0" },
  "collectors": { "cpu": { "enabled": false }, "meminfo": { "enabled": false },
                  "stat": { "enabled": false } },
  "custom_collectors": {
    "app": { "command": ["$work/request_counter"], "interval": "1s",
             "env": { "APP_MODE": "test" } },
    "ext": { "external": true, "interval": "1s", "mode": "0600", "max_series": 100 }
  }
}
EOF
out=$("$AGENT" --config "$work/config.json" --check-config 2>&1)
check "--check-config accepts custom_collectors" test $? -eq 0
[ -n "$out" ] && echo "$out"
start_agent "$log" --config "$work/config.json" || fatal "exporter started listening" "$log"
ok "exporter listening on 127.0.0.1:$port"
check "the agent created a segment for each custom collector" \
	test -e "$(seg_of "$inst" app)" -a -e "$(seg_of "$inst" ext)"
check "the external collector's segment has the configured mode" \
	test "$(stat -c %a "$(seg_of "$inst" ext)")" = 600
check "the agent started the command collector" wait_for 30 bash -c "[ -n \"\$(pgrep -f '^$work/request_counter\$')\" ]"
pid=$(app_pid)
check "it got SHMETRICS_* and its env in its environment" \
	bash -c "tr '\\0' '\\n' </proc/$pid/environ | grep -qx 'SHMETRICS_SEGMENT_FD=3' &&
		tr '\\0' '\\n' </proc/$pid/environ | grep -qx 'SHMETRICS_INTERVAL=1s' &&
		tr '\\0' '\\n' </proc/$pid/environ | grep -qx 'APP_MODE=test'"
check "the example's counter is served" \
	wait_for 30 served '^example_requests_total{method="GET",code="200"} [1-9]'
check "its histogram is served with +Inf equal to _count" wait_for 30 bash -c \
	"curl -fsS http://127.0.0.1:$port/metrics >'$work/m.txt' &&
	 inf=\$(awk -F' ' '/^example_request_duration_seconds_bucket\\{method=\"GET\",le=\"\\+Inf\"\\}/ { print \$2 }' '$work/m.txt') &&
	 cnt=\$(awk -F' ' '/^example_request_duration_seconds_count\\{method=\"GET\"\\}/ { print \$2 }' '$work/m.txt') &&
	 [ -n \"\$inf\" ] && [ \"\$inf\" = \"\$cnt\" ]"
check "the collector is up" served '^shmetrics_collector_up{collector="app"} 1$'
scrape | grep -E '^(# (HELP|TYPE) )?(example_|shmetrics_client_)' >"$work/app.txt"
check "promtool check metrics is clean on the example's families" promtool_clean "$work/app.txt"

# ---- an external collector, attached by name ----
check "the external collector is down before anyone attaches" \
	served '^shmetrics_collector_up{collector="ext"} 0$'
SHMETRICS_INSTANCE=$inst "$work/request_counter" ext >"$work/ext.log" 2>&1 &
ext_pid=$!
check "a program attached by name is served" wait_for 30 \
	served '^shmetrics_collector_up{collector="ext"} 1$'
out=$(SHMETRICS_INSTANCE=$inst "$work/request_counter" ext 2>&1)
check "a second writer for the same collector is refused" grep -q "already has a writer" <<<"$out"
stop_pid "$ext_pid"
rc=$?
ext_pid=""
check "the attached program stops cleanly on SIGTERM (exit $rc)" test $rc -eq 0
check "after it stopped the external collector goes down" wait_for 30 \
	served '^shmetrics_collector_up{collector="ext"} 0$'

# ---- kill -9: stale, down, restarted, back ----
old=$(app_pid)
kill -KILL "$old"
check "the agent logs the death" wait_for 20 grep -q "collector app\\[[0-9]*\\] exited on signal 9 in its sandbox" "$log"
check "shmetrics_collector_up{collector=\"app\"} is 0 and its series are omitted" wait_for 20 \
	bash -c "curl -fsS http://127.0.0.1:$port/metrics >'$work/dead.txt' &&
		grep -q '^shmetrics_collector_up{collector=\"app\"} 0$' '$work/dead.txt' &&
		! grep -q '^example_requests_total' '$work/dead.txt'"
check "the agent restarts it under a new pid" wait_for 30 \
	bash -c "p=\$(pgrep -f '^$work/request_counter\$'); [ -n \"\$p\" ] && [ \"\$p\" != $old ]"
check "its series are back and it is up" wait_for 30 bash -c \
	"curl -fsS http://127.0.0.1:$port/metrics >'$work/back.txt' &&
		grep -q '^shmetrics_collector_up{collector=\"app\"} 1$' '$work/back.txt' &&
		grep -q '^example_requests_total{' '$work/back.txt'"
check "the restart is counted" served '^shmetrics_collector_restarts_total{collector="app"} 1$'

# ---- SIGTERM stops the command collector with the agent ----
stop_pid "$agent_pid" 10
rc=$?
agent_pid=""
check "the agent exits 0 on SIGTERM (exit $rc)" test $rc -eq 0
check "the command collector was stopped with it" bash -c "[ -z \"\$(pgrep -f '^$work/request_counter\$')\" ]"
check "the custom collectors' segments are removed" test ! -e "$SEGBASE/$inst"

finish "$log"
