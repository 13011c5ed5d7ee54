#!/usr/bin/env bash
# End to end: the systemd collector against a private dbus-daemon on which
# tests/lib/fake_systemd.py plays org.freedesktop.systemd1 (this machine has no
# systemd).  Checks:
#  - the agent, started with --collector.systemd and node_exporter's options,
#    serves the units' states, the summary, version, system state, timers,
#    sockets, restarts, tasks and start times the fake holds;
#  - Debian's node_exporter, pointed at the same bus, reports the same series
#    with the same values (families it has too);
#  - a hung systemd (the fake stopped with SIGSTOP) makes the collection fail
#    with a timeout within --collector.systemd.timeout, while the other
#    collectors of the same process keep publishing; it recovers on SIGCONT;
#  - a bus that is gone makes it fail with the reason, not hang.
# Every wait is bounded; every process started here is stopped by its pid.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

inst="sysd$$"
work=$(mktemp -d)
log="$work/agent.log"
agent_pid="" bus_pid="" fake_pid="" ne_pid=""
address="unix:path=$work/bus"

cleanup() {
	[ -n "$fake_pid" ] && kill -CONT "$fake_pid" 2>/dev/null
	for p in $agent_pid $ne_pid $fake_pid $bus_pid; do stop_pid "$p" 2; done
	kill_instance "$inst"
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

command -v dbus-daemon >/dev/null || fatal "dbus-daemon is installed (Debian package dbus-daemon)"
/usr/bin/python3 -c 'import dbus, gi' 2>/dev/null ||
	fatal "python3-dbus and python3-gi are installed"

start_fake_bus_service fake_systemd org.freedesktop.systemd1
ok "private bus and fake systemd up"

cat >"$work/config.json" <<EOF
{ "instance": "$inst", "web": { "listen_address": "127.0.0.1:0" } }
EOF
start_agent "$log" --config "$work/config.json" --collector.disable-defaults \
	--collector.systemd --collector.systemd.interval=1s --collector.loadavg \
	--collector.loadavg.interval=1s --collector.systemd.bus-address="$address" \
	--collector.systemd.timeout=1s --collector.systemd.enable-task-metrics \
	--collector.systemd.enable-restarts-metrics --collector.systemd.enable-start-time-metrics ||
	fatal "agent started with --collector.systemd" "$log"
wait_for 10 served '^node_systemd_version' || fatal "node_systemd_* served" "$log"

# ---- what is served ----
scrape /metrics >"$work/ours.txt"
expect=(
	'node_systemd_version{version="252.38-1~deb12u1"} 252.38'
	'node_systemd_virtualization_info{virtualization_type="kvm"} 1'
	'node_systemd_system_running 0'
	'node_systemd_units{state="active"} 7'
	'node_systemd_units{state="failed"} 1'
	'node_systemd_units{state="inactive"} 2'
	'node_systemd_units{state="reloading"} 1'
	'node_systemd_unit_state{name="nginx.service",state="failed",type="forking"} 1'
	'node_systemd_unit_state{name="ssh.service",state="active",type="notify"} 1'
	'node_systemd_unit_state{name="docker.socket",state="active",type=""} 1'
	'node_systemd_unit_state{name="reloading.service",state="active",type="notify"} 0'
	'node_systemd_service_restart_total{name="nginx.service"} 5'
	'node_systemd_unit_tasks_current{name="ssh.service"} 3'
	'node_systemd_unit_tasks_max{name="ssh.service"} 4915'
	'node_systemd_unit_start_time_seconds{name="ssh.service"} 1700000000.123456'
	'node_systemd_unit_start_time_seconds{name="nginx.service"} 0'
	'node_systemd_timer_last_trigger_seconds{name="apt-daily.timer"} 1700000500'
	'node_systemd_socket_accepted_connections_total{name="docker.socket"} 10'
	'node_systemd_socket_current_connections{name="docker.socket"} 1'
	'node_systemd_socket_refused_connections_total{name="docker.socket"} 3'
)
for line in "${expect[@]}"; do
	check "served: $line" grep -qxF -- "$line" "$work/ours.txt"
done
check "excluded by default: .mount, .scope, .slice; not loaded: ghost.service" \
	bash -c "! grep -E 'name=\"(home.mount|session-1.scope|user.slice|ghost.service)\"' '$work/ours.txt'"
check "no tasks series where systemd has no value (UINT64_MAX)" bash -c "! grep -E \
	'^node_systemd_unit_tasks_(max\\{name=\"cron|current\\{name=\"nginx)' '$work/ours.txt'"
grep '^node_systemd\|^# [A-Z]* node_systemd' "$work/ours.txt" >"$work/ours_systemd.txt"
check "promtool accepts the systemd families" promtool_node_clean "$work/ours_systemd.txt"

# ---- node_exporter on the same bus ----
ne_port=$(free_port)
DBUS_SYSTEM_BUS_ADDRESS="$address" prometheus-node-exporter --collector.disable-defaults \
	--collector.systemd --collector.systemd.enable-task-metrics \
	--collector.systemd.enable-restarts-metrics --collector.systemd.enable-start-time-metrics \
	--web.listen-address="127.0.0.1:$ne_port" >"$work/ne.log" 2>&1 &
ne_pid=$!
wait_for 10 curl -fsS -o "$work/ne.txt" "http://127.0.0.1:$ne_port/metrics" 2>/dev/null ||
	fatal "node_exporter answers" "$work/ne.log"
# Sample lines as "series value", values as numbers (node_exporter writes 1.7e+09).
samples() { grep '^node_systemd' "$1" | awk '{ printf "%s %.6f\n", $1, $2 }' | sort; }
samples "$work/ne.txt" >"$work/ne.s"
samples "$work/ours.txt" >"$work/ours.s"
check "node_exporter reports systemd series ($(wc -l <"$work/ne.s"))" test -s "$work/ne.s"
missing=$(comm -23 "$work/ne.s" "$work/ours.s")
check "every node_exporter series is served with the same value" test -z "$missing"
[ -n "$missing" ] && echo "$missing" | head -n 10
extra=$(comm -13 "$work/ne.s" "$work/ours.s" | grep -v '^node_systemd_virtualization_info')
check "nothing more than node_exporter's series (but virtualization_info, newer than 1.5)" \
	test -z "$extra"
[ -n "$extra" ] && echo "$extra" | head -n 10
stop_pid "$ne_pid"
ne_pid=""

# ---- a hung systemd ----
success() { scrape /metrics | awk -v c="node_scrape_collector_success{collector=\"$1\"}" '$1 == c { print $2 }'; }
systemd_success_is() { test "$(success systemd)" = "$1"; }
published() { scrape /metrics | awk -v c="shmetrics_collector_last_publish_timestamp_seconds{collector=\"$1\"}" '$1 == c { print $2 }'; }
kill -STOP "$fake_pid"
check "a hung systemd fails the collection" wait_for 10 systemd_success_is 0
check "the failure says why" \
	bash -c "curl -fsS --max-time 5 http://127.0.0.1:$port/metrics.json | grep -q 'did not answer over D-Bus\\|has not returned yet'"
before=$(published loadavg)
sleep 3
after=$(published loadavg)
check "loadavg, in the same process, keeps publishing every second ($before -> $after)" \
	awk -v a="$before" -v b="$after" 'BEGIN { exit !(b - a >= 2) }'
check "the collector process did not die" test -n "$(collector_pid systemd)"
kill -CONT "$fake_pid"
check "it recovers when systemd answers again" wait_for 10 systemd_success_is 1

# ---- a bus that is gone ----
stop_pid "$fake_pid"
fake_pid=""
stop_pid "$bus_pid"
bus_pid=""
check "a missing bus fails the collection" wait_for 10 systemd_success_is 0
check "with the reason" bash -c "curl -fsS --max-time 5 http://127.0.0.1:$port/metrics.json |
	grep -q 'connecting to unix:path=\\|Manager'"
check "and the agent's log names it once, not once per cycle" \
	test "$(grep -c 'collector/systemd.*failed' "$log")" -le 4

stop_pid "$agent_pid"
agent_pid=""
finish "$log"
