#!/usr/bin/env bash
# End to end against a real Prometheus (Debian package prometheus): the agent
# with 1 s collector intervals on a free port, Prometheus on 127.0.0.1 with a
# temporary data directory scraping it every second.  Through Prometheus' HTTP
# API: the target is up with no scrape error, rate(node_cpu_seconds_total[5s])
# has series, and a custom collector's metric is queryable.  Twice: once with
# OpenMetrics negotiated (Prometheus prefers it), once with the exporter told
# to serve text 0.0.4 (web.openmetrics=false); the exporter's own
# shmetrics_exporter_scrapes_total{format=...} proves which format was served.
# Every wait is bounded; everything started here is stopped here.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
work=$(mktemp -d)
agent_pid=""
prom_pid=""

stop_all() {
	stop_pid "$prom_pid"
	stop_pid "$agent_pid"
	prom_pid=""
	agent_pid=""
}
cleanup() {
	stop_all
	for i in $(ls "$SEGBASE" 2>/dev/null | grep "^prom$$"); do kill_instance "$i"; done
	rm -rf "$work"
}
trap cleanup EXIT

E2E_POLL=0.25 # most waits here poll Prometheus' API

if [ ! -x "$PROMETHEUS" ]; then
	echo "SKIP: $PROMETHEUS is not installed (Debian package prometheus)"
	exit 0
fi

# query EXPR: the number of series in the result of an instant query
query() {
	curl -fsS --max-time 5 "http://127.0.0.1:$pport/api/v1/query" \
		--data-urlencode "query=$1" 2>/dev/null | jq -r '.data.result | length'
}
# value EXPR: the first value of an instant query ("" if none)
value() {
	curl -fsS --max-time 5 "http://127.0.0.1:$pport/api/v1/query" \
		--data-urlencode "query=$1" 2>/dev/null | jq -r '.data.result[0].value[1] // ""'
}
has_series() { [ "$(query "$1")" -gt 0 ] 2>/dev/null; }
is_one() { [ "$(value "$1")" = 1 ]; }
is_42() { [ "$(value "$1")" = 42 ]; }
target_healthy() {
	curl -fsS --max-time 5 "http://127.0.0.1:$pport/api/v1/targets" 2>/dev/null |
		jq -e '.data.activeTargets[0] | .health == "up" and .lastError == ""' >/dev/null
}

run_agent() { # run_agent MODE OPENMETRICS
	local inst="prom$$$1"
	cat >"$work/agent-$1.json" <<EOF
{
  "instance": "$inst",
  "interval": "1s",
  "web": { "listen_address": "127.0.0.1:0", "openmetrics": $2 },
  "custom_collectors": { "jobs": { "external": true, "interval": "1m" } }
}
EOF
	start_agent "$work/agent-$1.log" --config "$work/agent-$1.json" || return 1
	# A custom collector's metric, written the way a cron job would.
	"$BIN/shmetrics" --instance="$inst" set 'e2e_jobs_queued{queue="mail"}' 42 \
		--collector=jobs --help="Jobs waiting, written by the e2e test."
}

start_prometheus() { # start_prometheus MODE
	pport=$(free_port)
	mkdir -p "$work/data-$1"
	cat >"$work/prometheus-$1.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: shmetrics
    static_configs:
      - targets: ['127.0.0.1:$port']
EOF
	"$PROMETHEUS" --config.file="$work/prometheus-$1.yml" \
		--storage.tsdb.path="$work/data-$1" --web.listen-address="127.0.0.1:$pport" \
		--log.level=warn >"$work/prometheus-$1.log" 2>&1 &
	prom_pid=$!
	wait_for 30 curl -fsS --max-time 2 "http://127.0.0.1:$pport/-/ready" >/dev/null 2>&1
}

# The strict OpenMetrics parser of python3-prometheus-client: every family,
# sample name, escape, "le" and the "# EOF" are checked against the spec.
openmetrics_valid() {
	/usr/bin/python3 -c 'import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse
n = sum(len(f.samples) for f in parse(sys.stdin.read()))
sys.exit(0 if n > 0 else 1)' <"$1"
}

lint_formats() { # the real output of this agent, in both dialects
	scrape >"$work/text.prom"
	curl -fsS --max-time 5 -H 'Accept: application/openmetrics-text; version=1.0.0' \
		"http://127.0.0.1:$port/metrics" >"$work/om.prom"
	check "promtool check metrics is clean on the text output" promtool_node_clean "$work/text.prom"
	if /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null; then
		if grep -q '^# EOF$' "$work/om.prom"; then
			check "the OpenMetrics output passes the strict OpenMetrics parser" \
				openmetrics_valid "$work/om.prom"
		fi
	else
		echo "# skipped: python3-prometheus-client is not installed"
	fi
}

run_mode() { # run_mode MODE OPENMETRICS FORMAT_LABEL
	local mode=$1
	echo "# --- $mode"
	if ! run_agent "$mode" "$2"; then
		not_ok "$mode: the agent started"
		cat "$work/agent-$mode.log"
		return
	fi
	if ! start_prometheus "$mode"; then
		not_ok "$mode: Prometheus started on 127.0.0.1:$pport"
		cat "$work/prometheus-$mode.log"
		stop_all
		return
	fi
	check "$mode: up == 1" wait_for 30 is_one 'up{job="shmetrics"}'
	check "$mode: the target is healthy, no scrape error" wait_for 30 target_healthy
	check "$mode: rate(node_cpu_seconds_total[5s]) returns series" \
		wait_for 30 has_series 'rate(node_cpu_seconds_total[5s])'
	check "$mode: the cpu, meminfo, loadavg and stat collectors are up, as Prometheus sees it" \
		wait_for 30 has_series \
		'min(shmetrics_collector_up{collector=~"cpu|meminfo|loadavg|stat"}) == 1'
	check "$mode: a custom collector's metric is queryable" \
		wait_for 30 is_42 'e2e_jobs_queued{queue="mail"}'
	check "$mode: the exporter served $3 to Prometheus" wait_for 30 has_series \
		"shmetrics_exporter_scrapes_total{format=\"$3\"} > 0"
	check "$mode: and nothing in the other text format" \
		test "$(value "sum(shmetrics_exporter_scrapes_total{format=~\"text|openmetrics\",format!=\"$3\"})")" = 0
	lint_formats # after the format checks: its own requests are counted too
	if [ $fails -gt 0 ]; then
		tail -n 20 "$work/prometheus-$mode.log" "$work/agent-$mode.log"
	fi
	stop_all
}

run_mode openmetrics true openmetrics
run_mode text false text

finish
