#!/usr/bin/env bash
# End to end: the logind collector against a private dbus-daemon on which
# tests/lib/fake_logind.py plays org.freedesktop.login1 (this machine runs no
# systemd-logind).  Checks:
#  - the agent serves node_logind_sessions for every remote x type x class x
#    seat combination, counting the fake's sessions as node_exporter counts them
#    (unknown types and classes as "other", seats ListSeats does not name left
#    out, unreadable sessions skipped);
#  - Debian's node_exporter, pointed at the same bus ($DBUS_SYSTEM_BUS_ADDRESS),
#    reports exactly the same series and values;
#  - a hung logind (the fake stopped with SIGSTOP) makes the collection fail
#    with a timeout while loadavg, in the same collector process, keeps
#    publishing every second; it recovers on SIGCONT;
#  - a bus that is gone makes it fail with the reason, not hang.
# Every wait is bounded; every process started here is stopped by its pid.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

NODE_EXPORTER=${NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
inst="logind$$"
work=$(mktemp -d)
log="$work/agent.log"
agent_pid="" bus_pid="" fake_pid="" ne_pid=""
address="unix:path=$work/bus"

cleanup() {
	[ -n "$fake_pid" ] && kill -CONT "$fake_pid" 2>/dev/null
	for p in $agent_pid $ne_pid $fake_pid $bus_pid; do stop_pid "$p" 2; done
	kill_instance "$inst"
	rm -rf "$work"
}
trap cleanup EXIT

command -v dbus-daemon >/dev/null || fatal "dbus-daemon is installed (Debian package dbus-daemon)"
/usr/bin/python3 -c 'import dbus, gi' 2>/dev/null ||
	fatal "python3-dbus and python3-gi are installed"

start_fake_bus_service fake_logind org.freedesktop.login1
ok "private bus and fake logind up"

cat >"$work/config.json" <<EOF
{ "instance": "$inst", "web": { "listen_address": "127.0.0.1:0" } }
EOF
# The bus comes from the environment here, as on a host; bus-address is tried below.
DBUS_SYSTEM_BUS_ADDRESS="$address" start_agent "$log" --config "$work/config.json" \
	--collector.disable-defaults --collector.logind --collector.logind.interval=1s \
	--collector.logind.timeout=1s --collector.loadavg --collector.loadavg.interval=1s ||
	fatal "agent started with --collector.logind" "$log"
wait_for 10 served '^node_logind_sessions' || fatal "node_logind_sessions served" "$log"

# ---- what is served ----
scrape /metrics >"$work/ours.txt"
sessions() { grep "^node_logind_sessions{" "$1" | sort; }
check "node_scrape_collector_success is 1" \
	grep -qx 'node_scrape_collector_success{collector="logind"} 1' "$work/ours.txt"
check "70 series per seat (seat0 and the seatless \"\"): 140" \
	test "$(sessions "$work/ours.txt" | wc -l)" -eq 140
for line in \
	'node_logind_sessions{class="user",remote="false",seat="seat0",type="x11"} 1' \
	'node_logind_sessions{class="user",remote="true",seat="",type="tty"} 2' \
	'node_logind_sessions{class="greeter",remote="false",seat="seat0",type="wayland"} 1' \
	'node_logind_sessions{class="other",remote="false",seat="",type="unspecified"} 1' \
	'node_logind_sessions{class="background",remote="false",seat="seat0",type="other"} 1' \
	'node_logind_sessions{class="lock-screen",remote="true",seat="seat0",type="web"} 0'; do
	check "served: $line" grep -qxF -- "$line" "$work/ours.txt"
done
total=$(sessions "$work/ours.txt" | awk '{ s += $NF } END { print s }')
check "6 sessions counted (seat1's and the unreadable one are not): $total" test "$total" = 6
check "no series for a seat ListSeats does not name" not_served 'seat="seat1"'
promtool_clean <(grep -E '^(# (HELP|TYPE) )?node_logind' "$work/ours.txt") &&
	ok "promtool check metrics: clean" || not_ok "promtool check metrics"

# ---- node_exporter on the same bus ----
if [ -x "$NODE_EXPORTER" ]; then
	ne_port=$(free_port)
	DBUS_SYSTEM_BUS_ADDRESS="$address" "$NODE_EXPORTER" \
		--web.listen-address="127.0.0.1:$ne_port" --collector.disable-defaults \
		--collector.logind >"$work/ne.log" 2>&1 &
	ne_pid=$!
	if wait_for 10 curl -fsS -o "$work/ne.txt" "http://127.0.0.1:$ne_port/metrics"; then
		curl -fsS -o "$work/ne.txt" "http://127.0.0.1:$ne_port/metrics"
		check "node_exporter succeeds on the fake bus" \
			grep -qx 'node_scrape_collector_success{collector="logind"} 1' "$work/ne.txt"
		if diff <(sessions "$work/ne.txt") <(sessions "$work/ours.txt") >"$work/diff"; then
			ok "node_logind_sessions: the same 140 series and values as node_exporter"
		else
			not_ok "node_logind_sessions differs from node_exporter's"
			head -20 "$work/diff"
		fi
	else
		not_ok "node_exporter started" && cat "$work/ne.log"
	fi
	stop_pid "$ne_pid"
	ne_pid=""
else
	skip "node_exporter comparison ($NODE_EXPORTER missing)"
fi

# ---- a hung logind: the collection fails fast, loadavg goes on ----
published() {
	scrape 2>/dev/null |
		sed -n "s/^shmetrics_collector_last_publish_timestamp_seconds{collector=\"$1\"} //p"
}
success() { scrape 2>/dev/null | sed -n "s/^node_scrape_collector_success{collector=\"$1\"} //p"; }
success_is() { test "$(success "$1")" = "$2"; }
error_of() { scrape /metrics.json 2>/dev/null | jq -r ".collectors[] | select(.name==\"$1\") | .error"; }
# error_matches COLLECTOR REGEX: its last collection failed with a matching error.
error_matches() { error_of "$1" | grep -Eq -- "$2"; }
kill -STOP "$fake_pid"
hung='did not answer over D-Bus within 1000 ms|previous query to logind has not returned|Manager.List(Seats|Sessions): Connection timed out'
if wait_for 8 error_matches logind "$hung"; then
	ok "hung logind: the collection fails with a timeout ($(error_of logind))"
	check "hung logind: node_scrape_collector_success 0" success_is logind 0
else
	not_ok "hung logind: the collection fails with a timeout (error: $(error_of logind))"
fi
t1=$(published loadavg)
sleep 3
t2=$(published loadavg)
check "loadavg kept publishing while logind hung ($t1 -> $t2)" \
	awk -v a="$t1" -v b="$t2" 'BEGIN { exit !(b - a >= 2) }'
check "the collector process is still the same one" test -n "$(collector_pid logind)"
kill -CONT "$fake_pid"
check "logind recovers after SIGCONT" wait_for 10 success_is logind 1

# ---- a bus that is gone ----
stop_pid "$bus_pid"
bus_pid=""
gone='connecting to the system bus failed|Connection reset|Transport endpoint|Broken pipe|not connected|No such file'
if wait_for 8 error_matches logind "$gone"; then
	ok "bus gone: the error says so ($(error_of logind))"
	check "bus gone: node_scrape_collector_success 0" success_is logind 0
else
	not_ok "bus gone: the error says so (error: $(error_of logind))"
fi
check "loadavg still publishing without the bus" success_is loadavg 1

# ---- a peer that accepts and never speaks (not even the authentication) ----
stop_pid "$agent_pid"
agent_pid=""
/usr/bin/python3 -c '
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(8)
conns, end = [], time.monotonic() + 120
s.settimeout(1)
while time.monotonic() < end:
    try:
        conns.append(s.accept()[0])
    except socket.timeout:
        pass
' "$work/silent" >"$work/silent.log" 2>&1 &
silent_pid=$!
wait_for 5 test -S "$work/silent" || not_ok "the silent peer listens"
start_agent "$work/agent2.log" --instance="${inst}b" --web.listen-address=127.0.0.1:0 \
	--collector.disable-defaults --collector.logind --collector.logind.interval=1s \
	--collector.logind.timeout=500ms --collector.logind.bus-address="unix:path=$work/silent" \
	--collector.loadavg --collector.loadavg.interval=1s ||
	not_ok "agent started with --collector.logind.bus-address"
if wait_for 8 error_matches logind 'did not answer over D-Bus within 500 ms|previous query to logind has not returned'; then
	ok "silent peer: fails within the timeout ($(error_of logind))"
else
	not_ok "silent peer: fails within the timeout (error: $(error_of logind))"
fi
t1=$(published loadavg)
sleep 2
t2=$(published loadavg)
check "loadavg kept publishing beside the silent peer ($t1 -> $t2)" \
	awk -v a="$t1" -v b="$t2" 'BEGIN { exit !(b - a >= 1) }'
stop_pid "$agent_pid"
agent_pid=""
kill_instance "${inst}b"
stop_pid "$silent_pid"

finish "$log"
