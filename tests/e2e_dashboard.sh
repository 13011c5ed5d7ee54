#!/usr/bin/env bash
# End to end: the history, its query API and the dashboard (docs/dashboard.md).
#  - the agent with every default collector at 1 s: the history of the default
#    host set stays under 8 MiB, and says so in /metrics;
#  - /api/v1/query, query_range, series, labels, label values answer in
#    Prometheus' shape; bad queries are 400 with errorType bad_data;
#  - the page and its files are served gzipped, 150 KB at most in all, with an
#    ETag (a reload is a 304);
#  - headless Chromium loads the page (tests/browser/dashboard_check.mjs): the
#    charts are drawn with the values /metrics serves, no console error, no
#    request to another host; screenshots in build/dashboard*.png.
# Every wait is bounded.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

inst="e2edash$$"
work=$(mktemp -d)
log="$work/agent.log"
agent_pid=""

cleanup() {
	[ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null
	kill_instance "$inst"
	rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/config.json" <<JSON
{
  "instance": "$inst",
  "interval": "1s",
  "web": { "listen_address": "127.0.0.1:0" },
  "custom_collectors": { "e2eapp": { "external": true, "interval": "1m" } }
}
JSON
start_agent "$log" --config "$work/config.json" || fatal "exporter started listening" "$log"
ok "exporter listening on 127.0.0.1:$port"
"$BIN/shmetrics" set e2e_queue_depth 41 --collector=e2eapp --instance="$inst" \
	--help="Jobs waiting." || not_ok "shmetrics set wrote the custom collector"
wait_for 10 served '^node_load1 ' || fatal "node_load1 is served" "$log"
sleep 2.2
"$BIN/shmetrics" set e2e_queue_depth 42 --collector=e2eapp --instance="$inst"

api() { curl -fsS --max-time 5 -G "http://127.0.0.1:$port/api/v1/$1" "${@:2}"; }
metric_value() { scrape /metrics | awk -v m="$1" '$1 == m { print $2; exit }'; }

# ---- memory ----
bytes=$(metric_value shmetrics_history_bytes)
series=$(metric_value shmetrics_history_series)
check "the history of the default host set at 1 s takes $bytes bytes for $series series (at most 8 MiB)" \
	test "${bytes:-999999999}" -le 8388608
check "the history reports its retention (900 s by default)" \
	test "$(metric_value shmetrics_history_retention_seconds)" = 900

# ---- the API ----
out=$(api query --data-urlencode 'query=node_load1[5s]')
check "query with a range selector: a matrix of raw samples" \
	jq -e '.status == "success" and .data.resultType == "matrix" and
		(.data.result[0].metric.__name__ == "node_load1") and
		(.data.result[0].values | length >= 2)' <<<"$out"
# at least 4 samples (3 s) of history, so that start=now-2 (whole seconds) has one
samples() { api query --data-urlencode 'query=node_cpu_seconds_total{mode="idle",cpu="0"}[1m]' |
	jq '.data.result[0].values | length'; }
enough_history() { [ "$(samples)" -ge 4 ] 2>/dev/null; }
wait_for 15 enough_history || not_ok "4 samples of history within 15 s"
now=$(date +%s)
out=$(api query_range --data-urlencode 'query=node_cpu_seconds_total{mode="idle"}' \
	--data-urlencode "start=$((now - 2))" --data-urlencode "end=$now" --data-urlencode step=1s)
ncpu=$(grep -c '^cpu[0-9]' /proc/stat)
check "query_range: one series per cpu, a point per step, values as strings" \
	jq -e --argjson n "$ncpu" '.data.resultType == "matrix" and (.data.result | length == $n) and
		(.data.result[0].values | length == 3) and (.data.result[0].values[0][1] | type == "string")' <<<"$out"
out=$(api query --data-urlencode 'query={__name__=~"node_load1|node_load5",__name__!="node_load5"}')
check "query: an instant vector with =~ and != on the name" \
	jq -e '.data.resultType == "vector" and (.data.result | length == 1) and
		.data.result[0].metric.__name__ == "node_load1"' <<<"$out"
check "series: label sets for match[]" \
	jq -e '.data | length > 0 and all(.[]; .__name__ == "node_network_up")' \
	<<<"$(api series --data-urlencode 'match[]=node_network_up')"
check "labels: includes __name__, cpu and mode" \
	jq -e '.data | index("__name__") != null and index("cpu") != null and index("mode") != null' \
	<<<"$(api labels)"
check "label values: the custom family is a metric name" \
	jq -e '.data | index("e2e_queue_depth") != null' <<<"$(api label/__name__/values)"
code=$(curl -s -o "$work/bad.json" -w '%{http_code}' -G "http://127.0.0.1:$port/api/v1/query" \
	--data-urlencode 'query=rate(node_load1[1m])')
check "a function is refused: 400, errorType bad_data, the column named" \
	jq -e --arg c "$code" '$c == "400" and .errorType == "bad_data" and (.error | test("1:5: parse error"))' \
	"$work/bad.json"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/nope")
check "an unknown API path is 404" test "$code" = 404

# ---- the page's size and caching ----
total=0
for path in / /dashboard/app.js /dashboard/app.css /dashboard/uPlot.min.js /dashboard/uPlot.min.css; do
	n=$(curl -fsS --max-time 5 -H 'Accept-Encoding: gzip' -D "$work/h" -o "$work/body" \
		"http://127.0.0.1:$port$path" && wc -c <"$work/body")
	grep -qi '^content-encoding: gzip' "$work/h" || not_ok "$path is served gzipped"
	total=$((total + ${n:-999999}))
done
check "the page and its files are $total bytes gzipped (at most 150 KB)" test "$total" -le 153600
etag=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$port/dashboard/app.js" | tr -d '\r' |
	awk -F': ' 'tolower($1) == "etag" { print $2 }')
code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" \
	"http://127.0.0.1:$port/dashboard/app.js")
check "a reload with the ETag is 304 Not Modified" test "$code" = 304
check "the page keeps the links to /metrics and /metrics.json" \
	bash -c "curl -fsS 'http://127.0.0.1:$port/' | grep -q 'href=\"metrics.json\"'"

# ---- without a history: the plain page of links, and the API says why ----
p2=$(free_port)
"$BIN/shmetrics-exporter" --instance="$inst" --web.listen-address="127.0.0.1:$p2" --collector=loadavg \
	--history.retention=0s >"$work/nohist.log" 2>&1 &
nohist_pid=$!
if wait_for 10 grep -q 'listening on' "$work/nohist.log"; then
	check "--history.retention=0s: / is the page of links" \
		bash -c "curl -fsS 'http://127.0.0.1:$p2/' | grep -q 'href=\"metrics\"'"
	code=$(curl -s -o "$work/nohist.json" -w '%{http_code}' "http://127.0.0.1:$p2/api/v1/labels")
	check "--history.retention=0s: the API answers 503 and says the history is disabled" \
		jq -e --arg c "$code" '$c == "503" and (.error | test("disabled"))' "$work/nohist.json"
else
	not_ok "an exporter with --history.retention=0s starts"
fi
stop_pid "$nohist_pid"

# ---- the vendored charting library is the pinned npm package ----
if command -v npm >/dev/null; then
	scripts/vendor-web.sh --check >"$work/vendor.out" 2>&1
	rc=$?
	cat "$work/vendor.out"
	check "web/vendor/ holds exactly the files of the version pinned in web/package-lock.json" \
		test $rc -eq 0
else
	skip "npm is not installed: web/vendor/ not checked against web/package-lock.json"
fi

# ---- a real browser ----
if ! command -v node >/dev/null || [ ! -x /usr/bin/chromium ]; then
	not_ok "node and /usr/bin/chromium are installed (scripts/deps.sh installs them)"
else
	mkdir -p build
	node tests/browser/dashboard_check.mjs "http://127.0.0.1:$port/" build e2e_queue_depth 42 \
		>"$work/browser.out" 2>&1
	cat "$work/browser.out"
	fails=$((fails + $(grep -c '^not ok' "$work/browser.out")))
	grep -q '^ok - no console error' "$work/browser.out" ||
		not_ok "the browser check ran to its end"
fi

finish "$log"
