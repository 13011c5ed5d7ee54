#!/usr/bin/env bash
# End to end: the real agent, collectors and exporter on 127.0.0.1.
#  - /metrics carries this host's real values and passes promtool;
#  - /metrics.json is valid and agrees;
#  - the built-in collectors share one process, an isolated one has its own;
#  - the collectors' process killed with SIGKILL is restarted and the restart is
#    reported for each of its collectors, while the isolated one keeps running;
#  - a killed exporter comes back;
#  - SIGHUP applies a changed config without touching unchanged collectors;
#  - a bad config is refused with file:line:column and nothing starts;
#  - SIGTERM stops everything and removes the segments.
# Every wait is bounded.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

inst="e2e$$"
work=$(mktemp -d)
log="$work/agent.log"
agent_pid=""

cleanup() {
	[ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null
	kill_instance "$inst"
	rm -rf "$work"
}
trap cleanup EXIT

write_config() { # write_config FILE LOADAVG_ENABLED
	cat >"$1" <<EOF
{
  "instance": "$inst",
  "interval": "1s",
  "web": { "listen_address": "127.0.0.1:0" },
  "collectors": {
    "loadavg": { "enabled": $2, "isolated": true }
  }
}
EOF
}

metric_value() { scrape /metrics | awk -v m="$1" '$1 == m { print $2; exit }'; }

# ---- a bad config is refused and nothing starts ----
printf '{\n  "instance": "%s",\n  "intervall": "1s"\n}\n' "$inst" >"$work/bad.json"
out=$("$BIN/shmetrics-agent" --config "$work/bad.json" --check-config 2>&1)
rc=$?
check "--check-config refuses a bad file (exit $rc)" test $rc -ne 0
check "the error names file:line:column and suggests the fix" \
	grep -q "bad.json:3:3: .*did you mean \"interval\"" <<<"$out"
"$BIN/shmetrics-agent" --config "$work/bad.json" >"$work/bad.log" 2>&1
rc=$?
check "the agent refuses to start on a bad config (exit $rc)" test $rc -ne 0
check "no segment was created for the bad config" \
	bash -c "! ls $SEGBASE/$inst/*.seg >/dev/null 2>&1"

# ---- start ----
write_config "$work/config.json" true
check "--check-config accepts the good file" \
	"$BIN/shmetrics-agent" --config "$work/config.json" --check-config
start_agent "$log" --config "$work/config.json" || fatal "exporter started listening" "$log"
ok "exporter listening on 127.0.0.1:$port"
n_default=$("$BIN/shmetrics-agent" --help | grep -c '^  [a-z0-9_]* *enabled by default$')
check "one segment per collector plus the agent's ($n_default collectors on by default)" \
	test "$(segs_of "$inst" | wc -l)" -eq $((n_default + 1))
check "in a directory of the agent's, mode 0751" test "$(stat -c %a "$SEGBASE/$inst")" = 751
wait_for 30 served '^node_load1 '

# ---- real values ----
memtotal=$(awk '/^MemTotal:/ { printf "%.0f", $2 * 1024 }' /proc/meminfo)
check "node_memory_MemTotal_bytes equals /proc/meminfo ($memtotal)" \
	test "$(metric_value node_memory_MemTotal_bytes)" = "$memtotal"
btime=$(awk '/^btime/ { print $2 }' /proc/stat)
check "node_boot_time_seconds equals btime in /proc/stat ($btime)" \
	test "$(metric_value node_boot_time_seconds)" = "$btime"
ncpu=$(grep -c '^cpu[0-9]' /proc/stat)
check "node_cpu_seconds_total has every mode of every cpu ($ncpu cpus)" \
	test "$(scrape /metrics | grep -c '^node_cpu_seconds_total{.*mode="idle"')" -eq "$ncpu"
for m in node_load1 node_context_switches_total node_procs_running; do
	check "$m is served" served "^$m "
done
check "every collector is up" \
	test "$(scrape /metrics | grep -c '^shmetrics_collector_up{.*} 1$')" -ge 4
# process_*: the exporter's under the standard names, every process's under ours
agent_rss=$(awk '/^VmRSS:/ { print $2 * 1024 }' /proc/"$agent_pid"/status)
check "the exporter serves its own process_* metrics" \
	served '^process_resident_memory_bytes [1-9]'
check "the agent, the collector group and the exporter each have shmetrics_process_*" \
	bash -c "body=\$(curl -fsS http://127.0.0.1:$port/metrics) &&
		grep -q '^shmetrics_process_open_fds{role=\"agent\",name=\"agent\"} [1-9]' <<<\"\$body\" &&
		grep -q '^shmetrics_process_cpu_seconds_total{role=\"collector\",name=\"host\"} ' <<<\"\$body\" &&
		grep -q '^shmetrics_process_start_time_seconds{role=\"exporter\",name=\"exporter\"} ' <<<\"\$body\""
check "the agent's resident memory is the kernel's (within 4 MiB of VmRSS $agent_rss)" \
	bash -c "v=\$(curl -fsS http://127.0.0.1:$port/metrics |
		awk '/^shmetrics_process_resident_memory_bytes\\{role=\"agent\"/ { print \$2 }')
		[ -n \"\$v\" ] && awk -v v=\"\$v\" -v k=$agent_rss 'BEGIN { d = v - k; exit !(d < 4194304 && d > -4194304) }'"
scrape /metrics >"$work/metrics.txt"
check "promtool check metrics is clean (but for node_exporter's own camelCase names)" \
	promtool_node_clean "$work/metrics.txt"
check "the content type is Prometheus text 0.0.4" \
	bash -c "curl -sS -o /dev/null -w '%{content_type}' http://127.0.0.1:$port/metrics |
		grep -q 'text/plain; version=0.0.4; charset=utf-8'"

# ---- JSON ----
scrape /metrics.json >"$work/metrics.json"
check "/metrics.json is valid JSON" jq -e . "$work/metrics.json" >/dev/null
check "/metrics.json carries MemTotal with the same value" \
	test "$(jq -r '.families[] | select(.name == "node_memory_MemTotal_bytes") |
		.series[0].value | tostring' "$work/metrics.json")" = "$memtotal"
check "/metrics.json reports the cpu collector up" \
	test "$(jq -r '.collectors[] | select(.name == "cpu") | .up' "$work/metrics.json")" = true
check "unknown paths answer 404" \
	test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")" = 404
check "POST answers 405" \
	test "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")" = 405

# ---- one process for the built-in collectors, one for the isolated loadavg ----
group=$(collector_pid cpu)
loadavg_pid=$(collector_pid loadavg)
check "cpu and meminfo share one collector process ($group)" \
	test -n "$group" -a "$(collector_pid meminfo)" = "$group"
check "the isolated loadavg collector runs in a process of its own ($loadavg_pid)" \
	test -n "$loadavg_pid" -a "$loadavg_pid" != "$group"
check "the agent has three children: the group, loadavg and the exporter" \
	test "$(pgrep -P "$agent_pid" | wc -l)" -eq 3

# ---- the collectors' process killed with SIGKILL is restarted ----
kill -KILL "$group"
check "the agent logs the death of the group with its cause" \
	wait_for 20 grep -q "collectors host\[$group\] exited on signal 9" "$log"
check "the group is running again under a new pid" \
	wait_for 30 bash -c "p=\$(pgrep -f 'shmetrics-collector --run=cpu:.*--instance=$inst'); [ -n \"\$p\" ] && [ \"\$p\" != $group ]"
check "the restart is counted in shmetrics_collector_restarts_total of cpu" \
	wait_for 30 served_line 'shmetrics_collector_restarts_total{collector="cpu"} 1'
check "cpu series are served again" \
	wait_for 30 served '^node_cpu_seconds_total{'
check "the isolated loadavg collector survived with the same pid" \
	test "$(collector_pid loadavg)" = "$loadavg_pid"
check "and its restarts stay at 0" \
	served_line 'shmetrics_collector_restarts_total{collector="loadavg"} 0'

# ---- a killed exporter comes back ----
exporter=$(exporter_pid)
kill -KILL "$exporter"
check "the exporter is restarted and listens again" \
	wait_for 30 bash -c "[ \$(grep -c 'listening on' '$log') -ge 2 ]"
port=$(port_from_log)
check "the restarted exporter serves metrics" wait_for 30 served '^node_load1 '

# ---- SIGHUP applies a changed config, unchanged collectors keep running ----
mem_before=$(collector_pid meminfo)
listens=$(grep -c 'listening on' "$log")
write_config "$work/config.json" false
kill -HUP "$agent_pid"
check "after SIGHUP the disabled loadavg segment is gone" \
	wait_for 30 bash -c "! test -e $(seg_of "$inst" loadavg)"
check "and its own process is stopped" wait_for 30 bash -c "! kill -0 $loadavg_pid 2>/dev/null"
check "after SIGHUP the exporter, whose collector set changed, listens anew" \
	wait_for 30 bash -c "[ \$(grep -c 'listening on' '$log') -gt $listens ]"
port=$(port_from_log)
check "after SIGHUP node_load1 is no longer served" wait_for 30 not_served '^node_load1 '
check "the unchanged group of collectors kept its pid" test "$(collector_pid meminfo)" = "$mem_before"
printf '{ "instance": ' >"$work/config.json"
kill -HUP "$agent_pid"
check "a broken config on SIGHUP is refused and logged with its position" \
	wait_for 20 grep -q "config.json:1:" "$log"
check "after the refused reload the old config still serves" \
	served '^node_memory_MemTotal_bytes '

# ---- SIGTERM: clean stop, no segments, no children ----
stop_pid "$agent_pid" 10
rc=$?
agent_pid=""
check "the agent exits 0 on SIGTERM (exit $rc)" test $rc -eq 0
check "its segments and their directory are removed" test ! -e "$SEGBASE/$inst"
check "no child process is left" bash -c "! pgrep -f '[i]nstance=$inst' >/dev/null"

finish "$log"
