#!/usr/bin/env bash
# Resource exhaustion (docs/reliability.md):
#  - the segment directory's file system full at startup: a clear error, exit 1,
#    no segment and no process left behind;
#  - that file system too small for the batches: nothing crashes, the collectors
#    report why, and once space is back they publish again without any restart;
#  - no free file descriptors: the agent stays up and logs why its exporter cannot
#    start; an exporter that runs out of descriptors under a connection storm
#    keeps serving once the storm is over;
#  - too many series: a limit beyond the maximum is refused before anything
#    starts; a limit below what a collector has keeps the first series and reports
#    the refusal in the collector's status.
# The segment directory is a tiny tmpfs mounted inside a private mount namespace
# (unshare -m, root only); without that those checks are skipped.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

work=$(mktemp -d)
inst="exh$$"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for i in a b c d e f; do kill_instance "$inst$i"; done
	rm -rf "$work"
}
trap cleanup EXIT

config() { # config INSTANCE [EXTRA_JSON]
	printf '{ "instance": "%s", "interval": "500ms", "web": { "listen_address": "127.0.0.1:0" }%s }\n' \
		"$1" "${2:-}"
}
no_process_of() { ! pgrep -f "[=.]$1[. ]" >/dev/null; }

# ---- the segment directory's file system ----
tiny="$work/tiny"
mkdir -p "$tiny"
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	config "${inst}a" >"$work/a.json"
	out=$(unshare -m --propagation private bash -c "
		mount -t tmpfs -o size=8k,mode=0755 tmpfs '$tiny' || exit 99
		'$BIN/shmetrics-agent' --config '$work/a.json' --segments.directory='$tiny' 2>&1
		echo \"exit \$?\"
		echo \"left: \$(ls '$tiny' | tr '\n' ' ')\"" 2>&1)
	echo "$out" | sed 's/^/    /'
	check "a full segment directory stops the agent with exit 1" grep -qx 'exit 1' <<<"$out"
	check "the error names the call, the segment and the file system" \
		grep -q 'cannot create the segment of .*: fallocate(".*/'"${inst}a"'/.*\.seg") failed: No space left on device (is the segment directory.s file system full?)' <<<"$out"
	check "no segment is left in the full file system" grep -qx 'left: ' <<<"$out"
	check "no process of that agent is left" no_process_of "${inst}a"

	# Room for the segments, not for the batches; then room again.  Three
	# segments (agent, cpu, loadavg) take 12 kB each at creation.
	config "${inst}b" >"$work/b.json"
	unshare -m --propagation private bash -c "
		mount -t tmpfs -o size=48k,mode=0755 tmpfs '$tiny' || exit 99
		'$BIN/shmetrics-agent' --config '$work/b.json' --segments.directory='$tiny' \
			--collector.disable-defaults \
			--collector.cpu --collector.loadavg >'$work/b.log' 2>&1 &
		agent=\$!
		for _ in \$(seq 300); do grep -q 'listening on' '$work/b.log' && break; sleep 0.1; done
		for _ in \$(seq 300); do grep -q 'publish failed' '$work/b.log' && break; sleep 0.1; done
		port=\$(grep -o 'listening on [^ ]*' '$work/b.log' | sed 's/.*://')
		curl -fsS http://127.0.0.1:\$port/metrics >'$work/b.full'
		mount -o remount,size=8m '$tiny'
		for _ in \$(seq 300); do
			curl -fsS http://127.0.0.1:\$port/metrics >'$work/b.room'
			grep -q '^shmetrics_collector_up{collector=\"cpu\"} 1\$' '$work/b.room' && break
			sleep 0.1
		done
		kill -TERM \$agent
		wait \$agent
		echo \"exit \$?\" >'$work/b.exit'" &
	pids+=($!)
	wait_for 90 test -e "$work/b.exit"
	check "with the file system full of segments the collectors say why" \
		grep -q 'publish failed: fallocate(.*No space left on device (is the file system full?)' "$work/b.log"
	check "... and none of them crashed" bash -c "! grep -q 'exited on signal' '$work/b.log'"
	check "... the exporter serves, reporting them down" \
		grep -q '^shmetrics_collector_up{collector="cpu"} 0$' "$work/b.full"
	check "once there is room, they publish again without a restart" \
		bash -c "grep -q '^shmetrics_collector_up{collector=\"cpu\"} 1$' '$work/b.room' &&
			grep -q '^node_cpu_seconds_total{' '$work/b.room' &&
			! grep -q 'restarting in' '$work/b.log'"
	check "... and the agent stops cleanly" grep -qx 'exit 0' "$work/b.exit"
else
	skip "not root or no unshare -m: no tiny tmpfs for the segment directory"
fi

# ---- file descriptors ----
config "${inst}c" >"$work/c.json"
"$BIN/shmetrics-agent" --config "$work/c.json" >"$work/c.log" 2>&1 &
agent=$!
pids+=($agent)
# The agent keeps the descriptors it has (its segment directory, its own
# segment); the exporter it starts next gets no room beyond stdio.
if await_port "$work/c.log" 30 && prlimit --pid "$agent" --nofile=5:5; then
	kill -KILL "$(exporter_pid "${inst}c")"
	check "with 5 descriptors the exporter reports why it cannot serve" \
		wait_for 30 grep -q 'exporter: error: .*Too many open files' "$work/c.log"
	check "... and is restarted with backoff, not in a loop" \
		wait_for 30 grep -q 'exporter\[[0-9]*\] exited with status 1, restarting in 2s' "$work/c.log"
	check "... while the agent stays up" kill -0 "$agent"
	check "... and nothing died on a signal but the exporter we killed" \
		test "$(grep -c 'exited on signal' "$work/c.log")" -eq 1
else
	not_ok "the agent for the descriptor test starts"
fi
stop_pid "$agent" 10
check "... and it still stops cleanly (exit $?)" test $? -eq 0

# A running exporter that runs out of descriptors under a connection storm.
config "${inst}d" ', "segments": { "max_series": 10000 }' >"$work/d.json"
sed -i 's/"listen_address": "127.0.0.1:0"/"listen_address": "127.0.0.1:0", "max_connections": 1000, "max_connections_per_ip": 1000/' \
	"$work/d.json"
"$BIN/shmetrics-agent" --config "$work/d.json" >"$work/d.log" 2>&1 &
agent=$!
pids+=($agent)
if await_port "$work/d.log" 10; then
	exporter=$(exporter_pid "${inst}d")
	# At its limit: what it holds once every segment is mapped (one descriptor
	# each, kept for the writer-lock probe), and room for 8 connections.
	wait_for 30 served '^node_load1 ' >/dev/null
	held=$(ls "/proc/$exporter/fd" | wc -l)
	prlimit --pid "$exporter" --nofile=$((held + 8)):$((held + 8))

	if command -v wrk >/dev/null; then
		wrk -t2 -c200 -d3s "http://127.0.0.1:$port/metrics" >"$work/wrk.log" 2>&1
	else
		for _ in $(seq 200); do curl -s --max-time 10 -o /dev/null "http://127.0.0.1:$port/metrics" & done
		wait
	fi
	check "an exporter at its descriptor limit survives a storm of 200 connections" \
		test "$(exporter_pid "${inst}d")" = "$exporter"
	check "... and serves again once it is over" wait_for 30 served '^node_load1 '
else
	not_ok "the agent for the descriptor storm starts"
fi
stop_pid "$agent" 10

# ---- series limits ----
config "${inst}e" ', "segments": { "max_series": 2000000 }' >"$work/e.json"
out=$("$BIN/shmetrics-agent" --config "$work/e.json" 2>&1)
rc=$?
echo "    $out"
check "a series limit beyond the maximum is a configuration error (exit $rc)" test $rc -eq 78
check "... that names the key and the range" grep -q 'max_series' <<<"$out"
check "... and nothing was created" test ! -e "$SEGBASE/${inst}e"

config "${inst}f" ', "segments": { "max_series": 5 }' >"$work/f.json"
"$BIN/shmetrics-agent" --config "$work/f.json" >"$work/f.log" 2>&1 &
agent=$!
pids+=($agent)
if await_port "$work/f.log" 10; then
	wait_for 30 bash -c "curl -fsS http://127.0.0.1:$port/metrics.json |
		jq -e '.collectors[] | select(.name == \"cpu\") | .up' >/dev/null"
	scrape /metrics.json >"$work/f.json.out"
	check "a collector over the series limit keeps its first 5 series" \
		test "$(jq '.collectors[] | select(.name == "cpu") | .series' "$work/f.json.out")" = 5
	check "... and reports the refusal as its collection error" \
		jq -e '.collectors[] | select(.name == "cpu") |
			(.success == false) and (.error | test("limit of 5 series"))' "$work/f.json.out" >/dev/null
	check "... which the log says once, not on every collection" \
		test "$(grep -c 'collector/cpu: error: .*limit of 5 series' "$work/f.log")" -eq 1
else
	not_ok "the agent with max_series 5 starts"
fi
stop_pid "$agent" 10

finish
