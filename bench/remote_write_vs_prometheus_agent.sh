#!/usr/bin/env bash
# Remote write: shmetrics' shipper next to Prometheus in agent mode, same data,
# same receiver, same run (README, "Remote write").
#
#   A synthetic collector (bench/exporter_synth serve) publishes N series
#   (10,000 by default) every second.  Both senders deliver them to one local
#   receiver (Debian's prometheus with --web.enable-remote-write-receiver):
#     shmetrics-shipper        reads the segment, queues, remote-writes;
#     prometheus --enable-feature=agent   scrapes shmetrics-exporter's /metrics
#                              every second and remote-writes what it scraped.
#   Each sender talks to the receiver through its own byte-counting TCP proxy,
#   so "bytes on the wire" are the same kind of bytes for both (HTTP headers
#   and bodies, both directions).
#
# After WARMUP seconds (20), for BENCH_SECONDS seconds (60): CPU seconds of each
# sender (utime + stime from /proc/PID/stat), its PSS (mean of a sample every
# 10 s), the bytes through its proxy, and the samples the receiver stored for
# it in that window.  The exporter serving the agent's scrapes is reported
# apart: it is what the scraping approach costs on the shmetrics side.
#
# Usage: bench/remote_write_vs_prometheus_agent.sh      (SERIES=10000 BENCH_SECONDS=60 WARMUP=20)
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

SERIES=${SERIES:-10000}
SECONDS_MEASURED=${BENCH_SECONDS:-60}
WARMUP=${WARMUP:-20}
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
PY=/usr/bin/python3
work=$(mktemp -d)
inst="rwb$$"
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 1
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] && { echo "kept $work"; return; }
	rm -rf "$work"
}
trap cleanup EXIT

need() { [ -x "$1" ] || command -v "$1" >/dev/null || { echo "bench: $1 is missing ($2)" >&2; exit 1; }; }
need "$PROMETHEUS" "apt-get install prometheus"
need curl "apt-get install curl"
need jq "apt-get install jq"
need "$PY" "apt-get install python3"
make -s all build/bench/exporter_synth >/dev/null || exit 1

wait_port() { # wait_port PORT: until something listens (at most 20 s)
	for _ in $(seq 200); do
		ss -Htln "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	echo "bench: nothing listens on port $1" >&2
	exit 1
}
start() { # start LOG CMD...: runs CMD in the background, remembers its pid in $last
	"${@:2}" >"$1" 2>&1 &
	last=$!
	pids+=("$last")
}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pss_kb() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }

# A TCP proxy that counts the bytes it forwards, both ways, into a file.
cat >"$work/proxy.py" <<'EOF'
import asyncio, sys
listen, target, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
total = [0]
async def pipe(r, w):
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            total[0] += len(data)
            w.write(data)
            await w.drain()
    except Exception:
        pass
    finally:
        w.close()
async def handle(cr, cw):
    sr, sw = await asyncio.open_connection("127.0.0.1", target)
    await asyncio.gather(pipe(cr, sw), pipe(sr, cw))
async def report():
    while True:
        await asyncio.sleep(1)
        with open(out + ".tmp", "w") as f:
            f.write(str(total[0]))
        import os
        os.replace(out + ".tmp", out)
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    asyncio.ensure_future(report())
    async with server:
        await server.serve_forever()
asyncio.run(main())
EOF

rport=$(free_port)
printf 'global:\n  scrape_interval: 1m\n' >"$work/receiver.yml"
start "$work/receiver.log" "$PROMETHEUS" --config.file="$work/receiver.yml" \
	--storage.tsdb.path="$work/receiver" --web.listen-address="127.0.0.1:$rport" \
	--web.enable-remote-write-receiver
wait_port "$rport"
p1=$(free_port)
start "$work/proxy1.log" "$PY" "$work/proxy.py" "$p1" "$rport" "$work/bytes.shipper"
p2=$(free_port)
start "$work/proxy2.log" "$PY" "$work/proxy.py" "$p2" "$rport" "$work/bytes.agent"

segdir=$work/segments
max=$((SERIES > 10000 ? SERIES : 10000)) # what both readers accept of a segment
start "$work/synth.log" build/bench/exporter_synth serve "$segdir" "$inst" synth "$SERIES" 1000
for _ in $(seq 100); do grep -q serving "$work/synth.log" && break; sleep 0.1; done
eport=$(free_port)
start "$work/exporter.log" build/bin/shmetrics-exporter --segments.directory="$segdir" \
	--segments.max-series="$max" --instance="$inst" --collector=synth \
	--web.listen-address="127.0.0.1:$eport"
exporter=$last
wait_port "$eport"
start "$work/shipper.log" build/bin/shmetrics-shipper --segments.directory="$segdir" \
	--segments.max-series="$max" --instance="$inst" --collector=synth \
	--remote-write.queue-dir="$work/queue" --remote-write.url="http://127.0.0.1:$p1/api/v1/write"
shipper=$last
aport=$(free_port)
cat >"$work/agent.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: synth
    static_configs:
      - targets: ['127.0.0.1:$eport']
remote_write:
  - url: http://127.0.0.1:$p2/api/v1/write
EOF
start "$work/agent.log" "$PROMETHEUS" --enable-feature=agent --config.file="$work/agent.yml" \
	--storage.agent.path="$work/agent" --web.listen-address="127.0.0.1:$aport"
agent=$last
wait_port "$aport"

echo "bench: $SERIES series every 1 s; warming up ${WARMUP}s, then measuring ${SECONDS_MEASURED}s"
sleep "$WARMUP"
declare -A t0 pss
for p in "$shipper" "$agent" "$exporter"; do t0[$p]=$(ticks "$p"); pss[$p]=0; done
b1=$(cat "$work/bytes.shipper" 2>/dev/null || echo 0)
b2=$(cat "$work/bytes.agent" 2>/dev/null || echo 0)
start_s=$(date +%s)
samples=0
for _ in $(seq $((SECONDS_MEASURED / 10))); do
	sleep 10
	for p in "$shipper" "$agent" "$exporter"; do pss[$p]=$((pss[$p] + $(pss_kb "$p"))); done
	samples=$((samples + 1))
done
end_s=$(date +%s)
hz=$(getconf CLK_TCK)
cpu() { awk -v d=$(($(ticks "$1") - t0[$1])) -v hz="$hz" 'BEGIN { printf "%.2f", d / hz }'; }
cpu_s=$(cpu "$shipper") cpu_a=$(cpu "$agent") cpu_e=$(cpu "$exporter")
mib() { awk -v k="$1" -v n="$samples" 'BEGIN { printf "%.1f", k / n / 1024 }'; }
pss_s=$(mib "${pss[$shipper]}") pss_a=$(mib "${pss[$agent]}") pss_e=$(mib "${pss[$exporter]}")
w1=$(($(cat "$work/bytes.shipper") - b1))
w2=$(($(cat "$work/bytes.agent") - b2))
sleep 6 # both send within their batch deadline (5 s)

stored() { # stored SELECTOR: samples the receiver holds for it in the window
	curl -fsS "http://127.0.0.1:$rport/api/v1/query" \
		--data-urlencode "query=sum(count_over_time($1[$((end_s - start_s))s]))" \
		--data-urlencode "time=$end_s" | jq -r '.data.result[0].value[1] // 0'
}
n1=$(stored '{__name__=~"synth_.+",job=""}')
n2=$(stored '{__name__=~"synth_.+",job="synth"}')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
echo
printf '| %s | %s | %s | %s |\n' "measured over ${SECONDS_MEASURED}s" "shmetrics-shipper" \
	"Prometheus agent" "shipper / agent"
printf '|---|---|---|---|\n'
printf '| CPU seconds | %s | %s | %s |\n' "$cpu_s" "$cpu_a" "$(ratio "$cpu_s" "$cpu_a")"
printf '| PSS, MiB (mean) | %s | %s | %s |\n' "$pss_s" "$pss_a" "$(ratio "$pss_s" "$pss_a")"
printf '| bytes on the wire | %s | %s | %s |\n' "$w1" "$w2" "$(ratio "$w1" "$w2")"
printf '| samples stored by the receiver | %s | %s | %s |\n' "$n1" "$n2" "$(ratio "$n1" "$n2")"
echo
echo "shmetrics-exporter serving the agent's scrapes: CPU ${cpu_e}s, PSS ${pss_e} MiB"
echo "(the shipper reads the segment itself and needs no scrape; $SERIES series, 1 s interval)"
