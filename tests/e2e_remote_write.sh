#!/usr/bin/env bash
# End to end: remote write from the agent's shipper (docs/remote-write.md).
#
# One agent (1 s collectors) sends to five endpoints at once, each with its own
# queue, all on 127.0.0.1:
#   prom    Debian's prometheus with --web.enable-remote-write-receiver
#   flaky   a test server: 500, 500, 500, then 429 with Retry-After: 1 twice,
#           then 204 for everything (it keeps the bodies)
#   reject  a test server that answers 400 to everything
#   tls     a second prometheus behind TLS and basic auth (its own
#           --web.config.file), reached by the name in its certificate
#           (tls.server_name) with a password file
#   tiny    a 256 KiB queue whose receiver is not there yet
# and checks:
#   - prom stores every series /metrics serves (but the exporter's own, which
#     /metrics.json attributes to collector "exporter"), with
#     the same names and labels (empty labels count as absent, as in a scrape);
#   - flaky: every request carried the remote-write headers, failures were
#     retried (the Retry-After second kept), and every sample sent arrived;
#   - reject: the 400s are dropped, counted and logged with the reason;
#   - tls: data arrives through TLS and basic auth;
#   - tiny: the bound is kept, the oldest samples dropped and counted.
# Then the outage: prom is stopped (SIGSTOP) for 30 s; 10 s into it the whole
# agent is SIGKILLed and started again; the tiny queue's newest file is damaged
# in between.  After SIGCONT: prom has every 1 s sample of node_time_seconds
# before the kill and after the restart (the only gap is the agent's own
# absence), the damaged queue was cut back, reported and ships again.
# About 60 s; every wait is bounded; everything started here is stopped here.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
PY=/usr/bin/python3
DUMP=build/tests/helpers/rw_dump
work=$(mktemp -d)
inst="rw$$"
agent_pid=""
pids=()
E2E_POLL=0.25

cleanup() {
	local p
	[ -n "$agent_pid" ] && stop_pid "$agent_pid"
	for p in "${pids[@]}"; do
		kill -CONT "$p" 2>/dev/null
		stop_pid "$p"
	done
	kill_instance "$inst"
	rm -rf "$work"
}
trap cleanup EXIT

for need in "$PROMETHEUS" "$PY" "$DUMP" "$(command -v openssl)" "$(command -v jq)"; do
	[ -x "$need" ] || { echo "SKIP: missing ${need:-openssl or jq} (scripts/deps.sh)"; exit 0; }
done

# ---- the test server ----
cat >"$work/server.py" <<'EOF'
# server.py PORT MODE DIR: a remote-write receiver for tests, on 127.0.0.1.
# MODE flaky: 500 three times, 429 (Retry-After: 1) twice, then 204; reject:
# 400 always; ok: 204 always.  Bodies answered 2xx go to DIR/NNNNN.bin; one
# line per request to DIR/requests: "MS CODE ok|bad-headers".  Exits after 300 s.
import http.server, os, sys, time
port, mode, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
n = [0]
want = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
        "X-Prometheus-Remote-Write-Version": "0.1.0"}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        n[0] += 1
        ok = all(self.headers.get(k) == v for k, v in want.items()) and \
            self.headers.get("User-Agent", "").startswith("shmetrics/")
        code, extra, text = 204, {}, b""
        if mode == "reject":
            code, text = 400, b"out of bounds: sample too old"
        elif mode == "flaky" and n[0] <= 3:
            code, text = 500, b"internal trouble"
        elif mode == "flaky" and n[0] <= 5:
            code, extra, text = 429, {"Retry-After": "1"}, b"slow down"
        if code < 300:
            with open(os.path.join(out, "%05d.bin" % n[0]), "wb") as f:
                f.write(body)
        with open(os.path.join(out, "requests"), "a") as f:
            f.write("%d %d %s\n" % (time.time() * 1000, code, "ok" if ok else "bad-headers"))
        self.send_response(code)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)
s = http.server.HTTPServer(("127.0.0.1", port), H)
s.timeout = 1
end = time.time() + 300
while time.time() < end:
    s.handle_request()
EOF
listening() { ss -Htln "sport = :$1" | grep -q .; }
# server NAME MODE [PORT]: starts one (on a free port), sets ${NAME}_port
server() {
	local p=${3:-$(free_port)}
	mkdir -p "$work/$1"
	"$PY" "$work/server.py" "$p" "$2" "$work/$1" >"$work/$1.log" 2>&1 &
	pids+=($!)
	printf -v "${1}_port" '%s' "$p"
	wait_for 10 listening "$p"
}
# gaps FILE FROM_MS: the samples missing from the sorted sample times (s) of a
# 1 s collector in FILE from FROM_MS on, but for the agent's absence around its
# SIGKILL (empty: none).  The collector keeps a fixed cadence, so a publish a
# busy machine delays comes with a short step after the long one (1.7 s, then
# 0.3 s): only a long step that the next one does not make up (2 s, then 1 s)
# is a missing sample.
gaps() {
	awk -v from="$2" -v kill="$kill_ms" '
		{ t = $1 * 1000; if (t < from) next; n++ }
		n > 2 && prev - prev2 > 1600 && t - prev2 > 2600 {
			if (prev2 <= kill + 1000 && prev >= kill && !allowed) allowed = 1
			else printf "%.0f..%.0f ", prev2, prev
		}
		{ prev2 = prev; prev = t }
		END {
			if (n > 1 && prev - prev2 > 2600 && !(prev2 <= kill + 1000 && prev >= kill))
				printf "%.0f..%.0f ", prev2, prev
			if (n < 20) printf "only %d samples", n
		}' "$1"
}

# ---- TLS material for the second Prometheus ----
gen() { openssl "$@" >/dev/null 2>&1 || { echo "openssl $1 failed"; exit 1; }; }
(
	cd "$work" || exit 1
	gen req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
		-out ca.crt -days 2 -subj /CN=shmetrics-test-ca
	gen req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key \
		-out server.csr -subj /CN=receiver.test
	printf 'subjectAltName=DNS:receiver.test\n' >san.ext
	gen x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
		-days 2 -extfile san.ext
) || exit 1
# bcrypt of "s3cret" (cost 10); a test fixture, not a secret
cat >"$work/web.yml" <<'EOF'
tls_server_config:
  cert_file: server.crt
  key_file: server.key
basic_auth_users:
  shm: '$2b$10$EYUfsdyrOJOGF2KdpFP2b.ntcPJmRMBm6hC04xbFd7OHyZgcEUqkq'
EOF
printf 's3cret\n' >"$work/password"
chmod 600 "$work/password"

# prom NAME [ARGS]: a receiving Prometheus on a free port, sets ${NAME}_port, ${NAME}_pid
prom() {
	local p name=$1
	shift
	p=$(free_port)
	printf 'global:\n  scrape_interval: 1m\n' >"$work/$name.yml"
	"$PROMETHEUS" --config.file="$work/$name.yml" --storage.tsdb.path="$work/$name-data" \
		--web.listen-address="127.0.0.1:$p" --web.enable-remote-write-receiver "$@" \
		>"$work/$name.log" 2>&1 &
	pids+=($!)
	printf -v "${name}_port" '%s' "$p"
	printf -v "${name}_pid" '%s' "$!"
}
prom prom
prom tls --web.config.file="$work/web.yml"
server flaky flaky
server reject reject
tiny_port=$(free_port) # nothing listens there until the end
wait_for 20 listening "$prom_port" || fatal "prometheus did not start" "$work/prom.log"
wait_for 20 listening "$tls_port" || fatal "prometheus with TLS did not start" "$work/tls.log"

# ---- the agent ----
cat >"$work/agent.json" <<EOF
{
  "instance": "$inst",
  "interval": "1s",
  "web": { "listen_address": "127.0.0.1:0" },
  "remote_write_queue_dir": "$work/queue",
  "remote_write": [
    { "url": "http://127.0.0.1:$prom_port/api/v1/write",
      "queue": { "batch_deadline": "500ms" } },
    { "url": "http://127.0.0.1:$flaky_port/receive",
      "queue": { "batch_deadline": "500ms", "min_backoff": "100ms", "max_backoff": "400ms" } },
    { "url": "http://127.0.0.1:$reject_port/receive",
      "queue": { "batch_deadline": "500ms" } },
    { "url": "https://127.0.0.1:$tls_port/api/v1/write",
      "basic_auth": { "username": "shm", "password_file": "$work/password" },
      "tls": { "ca_file": "$work/ca.crt", "server_name": "receiver.test" },
      "queue": { "batch_deadline": "500ms" } },
    { "url": "http://127.0.0.1:$tiny_port/receive",
      "queue": { "max_bytes": "256KiB", "batch_deadline": "500ms",
                 "min_backoff": "100ms", "max_backoff": "200ms" } }
  ]
}
EOF
start_agent "$work/agent.log" --config "$work/agent.json" ||
	fatal "the agent did not start" "$work/agent.log"
agent_start_ms=$(date +%s%3N)

# metric NAME URLPORT [REASON]: a self metric of the shipper for one endpoint
metric() {
	local sel="url=\"http[s]*://127.0.0.1:$2/[a-z/0-9]*\""
	[ $# -gt 2 ] && sel="$sel,reason=\"$3\""
	scrape 2>/dev/null | grep -E "^shmetrics_remote_write_$1\{$sel\} " | awk '{ print $2 }'
}
positive() { [ "$(metric "$@")" != "" ] && awk -v v="$(metric "$@")" 'BEGIN { exit !(v > 0) }'; }

# ---- every series /metrics serves reaches Prometheus ----
cat >"$work/compare.py" <<'EOF'
# compare.py METRICS_PORT PROM_PORT: series /metrics serves that Prometheus lacks.
# The exporter's own families (its HTTP serving, its process, its history:
# "collector": "exporter" in /metrics.json) are not sent; the health families
# it serves for every collector are, by the shipper.
import json, sys, urllib.parse, urllib.request
from prometheus_client.parser import text_string_to_metric_families
base = "http://127.0.0.1:%s" % sys.argv[1]
own = {f["name"] for f in json.load(urllib.request.urlopen(base + "/metrics.json"))["families"]
       if f["collector"] == "exporter"
       and not f["name"].startswith(("shmetrics_collector_", "node_scrape_collector_"))}
text = urllib.request.urlopen(base + "/metrics").read().decode()
served = set()
for fam in text_string_to_metric_families(text):
    if fam.name in own or fam.name + "_total" in own:
        continue
    for s in fam.samples:
        served.add((s.name, tuple(sorted((k, v) for k, v in s.labels.items() if v))))
q = urllib.parse.urlencode({"match[]": '{__name__=~".+"}'})
got = set()
for m in json.load(urllib.request.urlopen(
        "http://127.0.0.1:%s/api/v1/series?%s" % (sys.argv[2], q)))["data"]:
    name = m.pop("__name__")
    got.add((name, tuple(sorted(m.items()))))
missing = sorted(served - got)
print("served %d series, prometheus has %d, missing %d" % (len(served), len(got), len(missing)))
for x in missing[:5]:
    print("  missing:", x)
sys.exit(1 if missing or len(served) < 100 else 0)
EOF
all_series_arrived() { "$PY" "$work/compare.py" "$port" "$prom_port" >"$work/compare.out" 2>&1; }
# the shipper's own metrics come every 5 s: give every collector a round or two
check "prometheus stores every series /metrics serves, same names and labels" \
	wait_for 30 all_series_arrived
cat "$work/compare.out"

# ---- the TLS endpoint ----
tls_has_data() {
	curl -fsS --max-time 5 --cacert "$work/ca.crt" --resolve "receiver.test:$tls_port:127.0.0.1" \
		-u shm:s3cret "https://receiver.test:$tls_port/api/v1/query" \
		--data-urlencode 'query=count(node_time_seconds)' 2>/dev/null |
		jq -e '.data.result[0].value[1] == "1"' >/dev/null
}
check "samples arrive through TLS (server_name) and basic auth (password_file)" \
	wait_for 20 tls_has_data

# ---- 400: dropped, counted, logged ----
check "400 answers are dropped and counted as rejected" \
	wait_for 20 positive samples_dropped_total "$reject_port" rejected
check "the 400 is logged with the receiver's reason" \
	grep -q "remote write to http://127.0.0.1:$reject_port/receive refused a request of .*HTTP 400: out of bounds: sample too old.*dropped, not retried" \
	"$work/agent.log"

# ---- 500 and 429, then 204: everything arrives ----
check "500s and 429s are retried" wait_for 20 positive samples_retried_total "$flaky_port"
check "then the flaky receiver takes requests" wait_for 20 positive samples_sent_total "$flaky_port"

# ---- the outage ----
stop_ms=$(date +%s%3N)
kill -STOP "$prom_pid"

# ---- meanwhile, the tiny queue keeps its bound ----
check "a full queue drops its oldest samples and counts them" \
	wait_for 30 positive samples_dropped_total "$tiny_port" queue_full
bytes=$(metric queue_bytes "$tiny_port")
check "the full queue stays within its 256 KiB ($bytes bytes)" \
	test "${bytes:-999999999}" -le 262144
check "and says so in the log" grep -q "queue of http://127.0.0.1:$tiny_port/receive reached its bound" \
	"$work/agent.log"

left=$((10 - ($(date +%s%3N) - stop_ms) / 1000))
[ "$left" -gt 0 ] && sleep "$left"
kill_ms=$(date +%s%3N)
# the whole agent at once: the agent and every child, no chance to clean up
children=$(pgrep -P "$agent_pid")
disown "$agent_pid" # no "Killed" line from the shell
kill -KILL "$agent_pid" $children 2>/dev/null
wait_for 10 gone "$agent_pid"
agent_pid=""
# damage the tiny queue's newest file: a torn record at its end
tq=$(grep -o "queue of http://127.0.0.1:$tiny_port/receive: [^ ]*" "$work/agent.log" |
	head -n 1 | awk '{ print $NF }')
newest=$(ls "$tq"/*.q 2>/dev/null | sort | tail -n 1)
if [ -n "$newest" ]; then
	printf 'torn-record-bytes-after-a-crash' >>"$newest"
else
	not_ok "found the tiny queue's files to damage"
fi
mv "$work/agent.log" "$work/agent-1.log"
start_agent "$work/agent.log" --config "$work/agent.json" ||
	fatal "the agent did not start again" "$work/agent.log"
restart_ms=$(date +%s%3N)
left=$((30 - (restart_ms - stop_ms) / 1000))
[ "$left" -gt 0 ] && sleep "$left"
kill -CONT "$prom_pid"
cont_ms=$(date +%s%3N)
server tiny ok "$tiny_port" # the tiny queue's receiver appears

drained() {
	local age
	age=$(metric oldest_pending_sample_age_seconds "$prom_port")
	[ -n "$age" ] && awk -v a="$age" 'BEGIN { exit !(a < 3) }'
}
check "after the outage the queue drains" wait_for 40 drained

# node_time_seconds, the time collector at 1 s: every sample from 5 s before
# the stop until the kill, and from the restart until 5 s after SIGCONT.
window=$(((cont_ms - stop_ms) / 1000 + 20))
curl -fsS "http://127.0.0.1:$prom_port/api/v1/query" \
	--data-urlencode "query=node_time_seconds[${window}s]" \
	--data-urlencode "time=$(((cont_ms + 5000) / 1000))" |
	jq -r '.data.result[0].values[][0]' >"$work/times"
holes=$(gaps "$work/times" $((stop_ms - 5000)))
check "no 1 s sample lost across the outage and the SIGKILL (gaps: ${holes:-none})" \
	test -z "$holes"
queued=$(awk -v a="$stop_ms" -v b="$kill_ms" '$1 * 1000 >= a && $1 * 1000 <= b' "$work/times" | wc -l)
check "the samples queued during the outage before the kill arrived ($queued of ~10)" \
	test "$queued" -ge 8

# ---- the damaged queue ----
check "the damaged queue file was cut back and reported" \
	grep -q "queue of http://127.0.0.1:$tiny_port/receive was damaged: 1 file repaired" \
	"$work/agent.log"
check "its repair is counted" wait_for 10 positive queue_corruptions_total "$tiny_port"
check "and the queue ships again" wait_for 20 positive samples_sent_total "$tiny_port"

# ---- what the test servers got ----
check "every request carried the remote-write headers and a User-Agent" \
	bash -c "! grep -q bad-headers '$work'/*/requests"
retry_ok=$(awk '$2 == 429 { t = $1 } t && $2 != 429 && !seen { print $1 - t; seen = 1 }' \
	"$work/flaky/requests")
check "after 429 with Retry-After: 1 the next request waited ${retry_ok:-?} ms" \
	test "${retry_ok:-0}" -ge 900
"$DUMP" "$work"/flaky/*.bin >"$work/flaky.samples" 2>"$work/dump.err"
check "the flaky receiver's bodies decode, every series' labels sorted by name" \
	test ! -s "$work/dump.err"
grep '^node_time_seconds{' "$work/flaky.samples" | awk '{ printf "%.3f\n", $3 / 1000 }' | sort -n \
	>"$work/flaky.times"
first=$(head -n 1 "$work/flaky.times" | awk '{ printf "%.0f", $1 * 1000 }')
check "the samples of the refused first requests arrived too (first at +$(((${first:-0} - agent_start_ms) / 1000)) s)" \
	test "${first:-999999999999999}" -le $((agent_start_ms + 5000))
holes=$(gaps "$work/flaky.times" 0)
check "the flaky receiver has every 1 s sample (gaps: ${holes:-none})" test -z "$holes"
"$DUMP" "$work"/tiny/*.bin >"$work/tiny.samples" 2>/dev/null
first=$(grep '^node_time_seconds{' "$work/tiny.samples" | awk '{ print $3 }' | sort -n | head -n 1)
check "the tiny queue lost its oldest samples, not its newest (first at +$(((${first:-0} - agent_start_ms) / 1000)) s)" \
	test "${first:-0}" -gt $((agent_start_ms + 3000))

finish "$work/agent-1.log" "$work/agent.log"
