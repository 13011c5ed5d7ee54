#!/usr/bin/env bash
# Fault injection while scraping continuously (docs/reliability.md).
#
#  A. The real agent: random collectors and the exporter are SIGKILLed at random
#     moments; each must come back within the backoff the agent logged for it,
#     the agent must never die, and scrapes outside exporter restarts must succeed.
#  B. A test collector with a checkable batch invariant (tests/helpers/
#     invariant_writer) is SIGKILLed every few milliseconds mid-publish and
#     restarted, while a standalone exporter serving its segment is scraped
#     without pause and killed now and then: no scrape may show a torn batch.
#
# FAULT_SECONDS bounds the run (default 30; `make reliability-faults` runs 300);
# FAULT_SLACK_MS (2000) is what a respawn may take beyond its backoff (fork, exec,
# polling; a loaded machine needs more than an idle one).
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
now_ms() { echo $(($(date +%s%N) / 1000000)); }

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
wait_for 5 test -e "$(seg_of "$iinst" invariant)"
{
	kill -KILL $creator # the segment stays; the loop below writes to it
	wait $creator
} 2>/dev/null
start_writer
start_exporter
wait_for 10 bash -c "curl -fsS http://127.0.0.1:$iport/metrics | grep -q '^hammer_value'" ||
	fatal "the standalone exporter serves the invariant collector" \
		"$work/exporter.log" "$work/writer.log"

# ---- scrapers: one line per scrape ----
stop="$work/stop"
scrape_agent() {
	while [ ! -e "$stop" ]; do
		if curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$port/metrics" 2>/dev/null; then
			echo ok
		else
			echo fail
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
		if out=$(curl -fsS --max-time 5 "http://127.0.0.1:$iport/metrics" 2>/dev/null); then
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
kills_a=0 late=0 worst_over=0 sum_over=0 max_rec=0 sum_up=0 max_up=0
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
	if ! wait_for 30 is_back "$t" "$old"; then
		not_ok "$t is up again after SIGKILL of pid $old"
		continue
	fi
	up=$(($(now_ms) - t0))
	backoff=$(backoff_ms "$old")
	over=$((rec - ${backoff:-0}))
	[ $rec -gt $max_rec ] && max_rec=$rec
	[ $over -gt $worst_over ] && worst_over=$over
	sum_over=$((sum_over + over))
	sum_up=$((sum_up + up - ${backoff:-0}))
	[ $((up - ${backoff:-0})) -gt $max_up ] && max_up=$((up - ${backoff:-0}))
	# Respawned within its backoff, plus FAULT_SLACK_MS for fork, exec and polling.
	if [ $over -gt "${FAULT_SLACK_MS:-2000}" ]; then
		late=$((late + 1))
		echo "$t respawned after ${rec}ms, backoff ${backoff}ms"
	fi
done
touch "$stop"
{ wait "${scrapers[@]}" "$loop_b_pid"; } 2>/dev/null
scrapers=() loop_b_pid=""

# ---- verdicts ----
agent_alive=0
kill -0 "$agent_pid" 2>/dev/null && agent_alive=1
check "the agent survived $kills_a kills of its children" test $agent_alive -eq 1
check "every killed child was started again within its backoff + ${FAULT_SLACK_MS:-2000} ms ($late late)" test $late -eq 0
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
# A scrape fails only while the exporter is being restarted: at most a handful each.
check "failed scrapes of the agent ($a_fail of $a_total) only around $exporter_kills exporter restarts" \
	test "$a_fail" -le $((exporter_kills * 40 + 2))

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
