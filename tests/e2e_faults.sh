#!/usr/bin/env bash
# Fault injection while scraping continuously (docs/reliability.md).
#
#  A. The real agent: random collectors and the exporter are SIGKILLed at random
#     moments; each must come back (and never before the backoff the agent
#     logged for it), the agent must never die, and every failed scrape must
#     fall while the exporter was down.
#  B. A test collector with a checkable batch invariant (tests/helpers/
#     invariant_writer) is SIGKILLed every few milliseconds mid-publish and
#     restarted, while a standalone exporter serving its segment is scraped
#     without pause and killed now and then: no scrape may show a torn batch.
#
# The checks judge outcomes, never how fast something happened: a loaded
# machine makes respawns slower and scrapes fewer, not wrong.  How long
# respawns took beyond their backoff is reported in the summary line.
# FAULT_SECONDS bounds the run (default 30; `make reliability-faults` runs 300);
# B keeps going past it until 20 scrapes saw a whole batch (at most 120 s more).
# The last line is a summary; FAULT_REPORT=FILE also writes it there.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

HELPERS=${HELPERS:-build/tests/helpers}
DURATION=${FAULT_SECONDS:-30}
inst="faults$$"
iinst="faultsi$$"
work=$(mktemp -d)
log="$work/agent.log"
agent_pid="" writer_pid="" exp_pid="" loop_b_pid="" scrapers=()

cleanup() {
	for p in "${scrapers[@]}" $loop_b_pid $writer_pid $exp_pid $agent_pid; do
		kill -KILL "$p" 2>/dev/null
	done
	# The agent's children stop on its death (PR_SET_PDEATHSIG); these names are
	# this run's own.
	pkill -KILL -f "instance=$iinst" 2>/dev/null
	kill_instance "$inst"
	kill_instance "$iinst"
	rm -rf "$work"
}
trap cleanup EXIT

E2E_POLL=0.05 # respawn times are measured by polling
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

for f in "$BIN/shmetrics-agent" "$BIN/shmetrics-exporter" "$HELPERS/invariant_writer"; do
	[ -x "$f" ] || { echo "missing $f: run make all tests"; exit 1; }
done

port=$(free_port)
iport=$(free_port)
cat >"$work/config.json" <<EOF
{
  "instance": "$inst",
  "interval": "500ms",
  "web": { "listen_address": "127.0.0.1:$port", "max_connections": 256,
           "max_connections_per_ip": 256 }
}
EOF

# The four original collectors keep the run light; what is measured is supervision.
# loadavg is isolated, so both a group process and a single collector's are killed.
start_agent "$log" --config "$work/config.json" --collector.disable-defaults \
	--collector.cpu --collector.meminfo --collector.loadavg --collector.stat \
	--collector.loadavg.isolated || fatal "the agent's exporter listens on $port" "$log"

start_writer() {
	"$HELPERS/invariant_writer" --segments.directory="$SEGBASE" --instance="$iinst" \
		--collector=invariant --pause-us=50 \
		2>>"$work/writer.log" &
	writer_pid=$!
}
start_exporter() {
	"$BIN/shmetrics-exporter" --segments.directory="$SEGBASE" --instance="$iinst" \
		--web.listen-address="127.0.0.1:$iport" \
		--collector=invariant --web.max-connections=256 --web.max-connections-per-ip=256 \
		>>"$work/exporter.log" 2>&1 &
	exp_pid=$!
}
"$HELPERS/invariant_writer" --segments.directory="$SEGBASE" --instance="$iinst" \
	--collector=invariant --create --pause-us=1000000 &
creator=$!
wait_for 20 test -e "$(seg_of "$iinst" invariant)"
{
	kill -KILL $creator # the segment stays; the loop below writes to it
	wait $creator
} 2>/dev/null
start_writer
start_exporter
# loop_b kills these two: no "Killed" notices from this shell
disown "$writer_pid" "$exp_pid" 2>/dev/null
wait_for 30 bash -c "curl -fsS http://127.0.0.1:$iport/metrics | grep -q '^hammer_value'" ||
	fatal "the standalone exporter serves the invariant collector" \
		"$work/exporter.log" "$work/writer.log"

# ---- scrapers: one line per scrape ----
stop="$work/stop"
# "ok|fail START_MS END_MS" per scrape of the agent's exporter.
scrape_agent() {
	local t0
	while [ ! -e "$stop" ]; do
		t0=$(now_ms)
		if curl -fsS --max-time 20 -o /dev/null "http://127.0.0.1:$port/metrics" 2>/dev/null; then
			echo "ok $t0 $(now_ms)"
		else
			echo "fail $t0 $(now_ms)"
		fi
	done >"$work/scrapes_agent"
}
# Prints "whole V", "down" (no series: the writer is being restarted), "torn V" or "fail".
check_invariant() {
	awk '$1 ~ /^hammer_value/ { n++; v = $2; if (n == 1) first = v; else if (v != first) bad = 1 }
		END {
			if (n == 0) { print "down"; exit }
			if (bad || n != 1 + first % 13) print "torn", first; else print "whole", first
		}'
}
scrape_invariant() {
	local out
	while [ ! -e "$stop" ]; do
		if out=$(curl -fsS --max-time 20 "http://127.0.0.1:$iport/metrics" 2>/dev/null); then
			check_invariant <<<"$out"
		else
			echo fail
		fi
	done >"$work/scrapes_invariant"
}
scrape_agent &
scrapers+=($!)
scrape_invariant &
scrapers+=($!)

# ---- B: kill the invariant writer every few ms, the exporter now and then ----
loop_b() {
	local kills=0 ekills=0
	while [ ! -e "$stop" ]; do
		sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
		kill -KILL "$writer_pid" 2>/dev/null
		wait "$writer_pid" 2>/dev/null
		kills=$((kills + 1))
		start_writer
		if [ $((RANDOM % 40)) -eq 0 ]; then
			kill -KILL "$exp_pid" 2>/dev/null
			wait "$exp_pid" 2>/dev/null
			ekills=$((ekills + 1))
			start_exporter
		fi
		echo "$kills $ekills" >"$work/loop_b"
	done
	kill -KILL "$writer_pid" "$exp_pid" 2>/dev/null
}
loop_b 2>/dev/null & # (bash would report every "Killed" writer)
loop_b_pid=$!

# ---- A: kill a random child of the agent, wait for it to come back ----
child_pid() {
	if [ "$1" = exporter ]; then exporter_pid; else collector_pid "$1"; fi
}
respawned() { # respawned NAME OLDPID
	local p
	p=$(child_pid "$1")
	[ -n "$p" ] && [ "$p" != "$2" ]
}
is_back() { # is_back NAME OLDPID: running again and, for a collector, up
	respawned "$1" "$2" || return 1
	local body
	body=$(curl -fsS --max-time 2 "http://127.0.0.1:$port/metrics" 2>/dev/null) || return 1
	[ "$1" = exporter ] && return 0
	grep -q "^shmetrics_collector_up{collector=\"$1\"} 1$" <<<"$body"
}
# "restarting in 1m4s" -> milliseconds
backoff_ms() {
	grep -o "\[$1\] exited on signal 9.*restarting in [0-9hms]*" "$log" |
		sed 's/.*restarting in //' |
		awk '{ ms = 0; s = $0
			while (match(s, /^[0-9]+[hms]/)) {
				n = substr(s, 1, RLENGTH - 1); u = substr(s, RLENGTH, 1)
				ms += n * (u == "h" ? 3600000 : u == "m" ? 60000 : 1000)
				s = substr(s, RLENGTH + 1)
			}
			print ms }'
}
targets=(cpu meminfo loadavg stat exporter)
kills_a=0 early=0 worst_over=0 sum_over=0 max_rec=0 sum_up=0 max_up=0
: >"$work/exporter_down" # "KILL_MS BACK_MS" per kill of the agent's exporter
deadline=$((SECONDS + DURATION))
while [ $SECONDS -lt $deadline ]; do
	sleep "0.$((RANDOM % 10))"
	t=${targets[$((RANDOM % ${#targets[@]}))]}
	old=$(child_pid "$t")
	[ -n "$old" ] || continue
	kill -KILL "$old"
	t0=$(now_ms)
	kills_a=$((kills_a + 1))
	if ! wait_for 75 respawned "$t" "$old"; then
		not_ok "$t was started again after SIGKILL of pid $old"
		continue
	fi
	rec=$(($(now_ms) - t0))
	if ! wait_for 60 is_back "$t" "$old"; then
		not_ok "$t is up again after SIGKILL of pid $old"
		[ "$t" = exporter ] && echo "$t0 $(now_ms)" >>"$work/exporter_down"
		continue
	fi
	up=$(($(now_ms) - t0))
	[ "$t" = exporter ] && echo "$t0 $(now_ms)" >>"$work/exporter_down"
	backoff=$(backoff_ms "$old")
	over=$((rec - ${backoff:-0}))
	[ $rec -gt $max_rec ] && max_rec=$rec
	[ $over -gt $worst_over ] && worst_over=$over
	sum_over=$((sum_over + over))
	sum_up=$((sum_up + up - ${backoff:-0}))
	[ $((up - ${backoff:-0})) -gt $max_up ] && max_up=$((up - ${backoff:-0}))
	# The backoff is a floor the agent must keep, however busy the machine; how
	# long after it the child ran is load and goes into the summary only.
	if [ $over -lt 0 ]; then
		early=$((early + 1))
		echo "$t respawned after ${rec}ms, before its backoff of ${backoff}ms"
	fi
done
# B needs enough whole batches for its torn-batch check to mean something; a
# loaded machine gets there later, not never.
whole_enough() { [ "$(grep -c '^whole' "$work/scrapes_invariant")" -ge 20 ]; }
wait_for 120 whole_enough
touch "$stop"
{ wait "${scrapers[@]}" "$loop_b_pid"; } 2>/dev/null
scrapers=() loop_b_pid=""

# ---- verdicts ----
agent_alive=0
kill -0 "$agent_pid" 2>/dev/null && agent_alive=1
check "the agent survived $kills_a kills of its children" test $agent_alive -eq 1
check "no killed child was started again before its backoff ($early early)" test $early -eq 0
a_total=$(wc -l <"$work/scrapes_agent")
a_fail=$(grep -c '^fail' "$work/scrapes_agent")
i_total=$(wc -l <"$work/scrapes_invariant")
i_whole=$(grep -c '^whole' "$work/scrapes_invariant")
i_torn=$(grep -c '^torn' "$work/scrapes_invariant")
i_down=$(grep -c '^down' "$work/scrapes_invariant")
i_fail=$(grep -c '^fail' "$work/scrapes_invariant")
backwards=$(awk '$1 == "whole" { if ($2 < last) b++; last = $2 } END { print b + 0 }' \
	"$work/scrapes_invariant")
read -r w_kills e_kills <"$work/loop_b"
check "no torn batch in $i_total scrapes of the invariant collector ($i_torn torn)" \
	test "$i_torn" -eq 0
check "the invariant collector's batch number never went backwards ($backwards)" \
	test "$backwards" -eq 0
# The writer is killed every 0-100 ms, so many scrapes find it down (its series
# omitted); enough must see a batch for the torn-batch check to mean something.
check "at least 20 invariant scrapes saw a whole batch ($i_whole of $i_total)" \
	test "$i_whole" -ge 20
exporter_kills=$(grep -c 'exporter\[[0-9]*\] exited on signal 9' "$log")
# A scrape may fail only if it overlapped a time the agent's exporter was down:
# from its kill until it served again.  How many do is a matter of load.
outside=$(awk 'FILENAME == ARGV[1] { n++; k[n] = $1; b[n] = $2; next }
	$1 == "fail" { for (i = 1; i <= n; i++) if ($2 <= b[i] && $3 >= k[i]) next; bad++ }
	END { print bad + 0 }' "$work/exporter_down" "$work/scrapes_agent")
check "every failed scrape of the agent ($a_fail of $a_total) fell while its exporter was down ($outside did not)" \
	test "$outside" -eq 0

stop_pid "$agent_pid" 15
rc=$?
agent_pid=""
check "the agent still stops cleanly (exit $rc)" test $rc -eq 0
check "no segment of the agent is left" test ! -e "$SEGBASE/$inst"

avg_over=0 avg_up=0
[ $kills_a -gt 0 ] && avg_over=$((sum_over / kills_a)) && avg_up=$((sum_up / kills_a))
summary="faults: ${DURATION}s; agent: $kills_a child kills ($exporter_kills exporter), $a_fail/$a_total scrapes failed, respawn beyond backoff avg ${avg_over}ms max ${worst_over}ms, up again (serving) beyond backoff avg ${avg_up}ms max ${max_up}ms, longest backoff+respawn ${max_rec}ms, agent deaths $((1 - agent_alive)); invariant: $w_kills writer kills, $e_kills exporter kills, $i_total scrapes: $i_whole whole, $i_torn torn, $i_down writer down, $i_fail failed"
if [ $fails -gt 0 ]; then
	echo "--- agent log (tail):"
	tail -n 40 "$log"
fi
echo "$summary"
[ -n "${FAULT_REPORT:-}" ] && echo "$summary" >>"$FAULT_REPORT"
finish
