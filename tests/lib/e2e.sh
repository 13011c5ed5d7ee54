# shellcheck shell=bash
# tests/lib/e2e.sh - what the end-to-end scripts (tests/e2e_*.sh) share.
# Sourced, not run (tests/run.sh runs only tests/e2e_*.sh), from the repository
# root after `cd`:   . tests/lib/e2e.sh
#
# Results, in TAP-like lines that the scripts count:
#   ok WHAT / not_ok WHAT      print a result; not_ok counts it in $fails
#   check WHAT COMMAND...      ok or not_ok by COMMAND's status
#   skip WHAT                  a check that cannot run here
#   fatal WHAT [FILE...]       not_ok, shows the files (logs) and exits 1
#   finish [FILE...]           shows the files when something failed, prints
#                              "NAME: N failures"; its status is the script's
# Waiting, always bounded:
#   wait_for SECONDS COMMAND...  polls COMMAND every $E2E_POLL s (0.1)
#   stop_pid PID [SECONDS]       SIGTERM, SIGKILL after SECONDS (5), reaps it;
#                                returns its exit status
# The agent and its exporter (variables: BIN, log, port, agent_pid, inst):
#   start_agent LOG ARGS...      runs $AGENT (default $BIN/shmetrics-agent) ARGS,
#                                output to LOG; sets agent_pid, and port once it
#                                listens (at most 15 s)
#   await_port LOG [SECONDS]     waits for "listening on" in LOG, sets port
#   port_from_log [LOG]          the port of the last "listening on" in LOG ($log)
#   free_port                    a port nobody listens on now (0 if none found)
#   scrape [PATH]                GET http://127.0.0.1:$port PATH (/metrics)
#   served REGEX                 /metrics has a line matching REGEX
#   served_line LINE             /metrics has exactly LINE
#   not_served REGEX             /metrics answers, without a line matching REGEX
#   collector_pid NAME [INST]    the process running collector NAME
#   exporter_pid [INST]          the agent's exporter
#   kill_instance INST           SIGKILLs what still runs for INST and removes
#                                its segments
#   seg_of INST NAME             the file of NAME's segment ($SEGBASE/INST/NAME.seg)
#   segs_of INST                 the segment files of INST
# promtool:
#   promtool_clean FILE          `promtool check metrics` says nothing at all
#   promtool_node_clean FILE     the same, but for node_exporter's own names

. tests/lib/ports.sh
BIN=${BIN:-build/bin}
SEGBASE=${SEGBASE:-/run/shmetrics}
fails=0

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
skip() { echo "ok - # SKIP $*"; }
fatal() {
	not_ok "$1"
	shift
	[ $# -gt 0 ] && cat "$@"
	exit 1
}
finish() {
	local f
	if [ "$fails" -gt 0 ]; then
		for f in "$@"; do
			echo "--- $f:"
			cat "$f"
		done
	fi
	echo "$(basename "$0" .sh): $fails failures"
	[ "$fails" -eq 0 ]
}

wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep "${E2E_POLL:-0.1}"
	done
}
gone() { ! kill -0 "$1" 2>/dev/null; }
stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait_for "${2:-5}" gone "$pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

port_from_log() { grep -o 'listening on [^ ]*' "${1:-$log}" | tail -n 1 | sed 's/.*://'; }
await_port() {
	wait_for "${2:-15}" grep -q 'listening on' "$1" || return 1
	port=$(port_from_log "$1")
}
start_agent() {
	local out=$1
	shift
	"${AGENT:-$BIN/shmetrics-agent}" "$@" >"$out" 2>&1 &
	agent_pid=$!
	await_port "$out"
}

scrape() { curl -fsS --max-time 5 "http://127.0.0.1:$port${1:-/metrics}"; }
served() { scrape 2>/dev/null | grep -q -- "$1"; }
served_line() { scrape 2>/dev/null | grep -qx -- "$1"; }
not_served() {
	local body
	body=$(scrape 2>/dev/null) && ! grep -q -- "$1" <<<"$body"
}

collector_pid() {
	local i=${2:-$inst}
	pgrep -f "shmetrics-collector (--run=[^ ]* )*--run=$1:[^ ]* .*--instance=$i( |$)" | head -n 1
}
exporter_pid() { pgrep -f "shmetrics-exporter .*--instance=${1:-$inst}( |$)" | head -n 1; }
kill_instance() {
	pkill -KILL -f "instance=$1( |$)" 2>/dev/null
	rm -rf "${SEGBASE:?}/$1"
}
# The segment file of collector $2 of instance $1 (the agent's default base as
# root: /run/shmetrics; docs/security.md).
seg_of() { echo "$SEGBASE/$1/$2.seg"; }
# The segments of instance $1, one per line (nothing when there are none).
segs_of() { ls "$SEGBASE/$1"/*.seg 2>/dev/null; }

# promtool lints node_exporter's own names (node_memory_MemTotal_bytes,
# node_netstat_Tcp_InSegs) as camelCase and node_entropy_*_bits for not being
# bytes.  Those names are the compatibility we promise, so exactly those
# complaints about exactly those names are accepted; anything else fails.
promtool_node_clean() {
	local out
	out=$(promtool check metrics <"$1" 2>&1)
	out=$(grep -v -e "^node_[A-Za-z0-9_]* metric names should be written in 'snake_case' not 'camelCase'$" \
		-e '^node_entropy_[a-z_]*_bits use base unit "bytes" instead of "bits"$' <<<"$out")
	[ -z "$out" ] || { echo "$out" | head -n 20; return 1; }
}
promtool_clean() {
	local out
	out=$(promtool check metrics <"$1" 2>&1)
	[ -z "$out" ] || { echo "$out" | head -n 20; return 1; }
}

# A system-type bus of our own at $address (a unix socket at $work/bus), open to
# everyone on it, with the fake service tests/lib/FAKE.py on it; sets bus_pid and
# fake_pid.  Needs dbus-daemon and Debian's python3-dbus and python3-gi.
start_fake_bus_service() { # FAKE what-it-owns
	cat >"$work/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>$address</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow send_type="signal"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
</busconfig>
EOF
	dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile >"$work/bus.log" 2>&1 &
	bus_pid=$!
	wait_for 5 test -S "$work/bus" || fatal "the private bus listens" "$work/bus.log"
	/usr/bin/python3 "tests/lib/$1.py" "$address" "$work/ready" >"$work/fake.log" 2>&1 &
	fake_pid=$!
	wait_for 10 test -f "$work/ready" || fatal "the fake service owns $2" "$work/fake.log"
}
