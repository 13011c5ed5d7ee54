#!/usr/bin/env bash
# The exporter against its peers, on this host, loopback only.  Prints a
# markdown table (README "Performance").  Not a test: nothing here asserts.
#
#   bench/exporter_vs_peers.sh            # about 5 minutes
#   WRK_SECONDS=10 REST_SECONDS=120 bench/exporter_vs_peers.sh
#
# Targets, each on its own 127.0.0.1 port, all running at once:
#   node_exporter  Debian's prometheus-node-exporter, default collectors
#   collectd       collectd-core with write_prometheus (if installed), the
#                  Debian default plugin set that exists on this host
#   shmetrics      the agent with its default collectors (5 s interval)
#   shmetrics-synth  a shmetrics exporter serving one synthetic collector with
#                  as many samples as node_exporter serves (a payload of the
#                  same size), plus its collector process
# Measured per target (every process counted: agents, collectors, exporters):
#   scrapes/s and p50/p99 latency from wrk, 1 and 16 connections, plain and
#   gzip, each with wrk's socket errors and non-2xx answers beside it (a figure
#   with any is marked "no result"); CPU seconds per scrape and per sample (utime+stime from
#   /proc/PID/stat around the 16-connection plain run); CPU seconds per minute
#   at rest while scraped every 15 s and every 1 s (windows of REST_SECONDS,
#   shorter than a real minute-scale soak, scaled to a minute); RSS and PSS
#   summed from /proc/PID/smaps_rollup; bytes per response plain and gzip; time
#   from start to the first complete response.
# Then the synthetic render scale: 10k, 100k and 1M series (bench/exporter_synth).
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

WRK_SECONDS=${WRK_SECONDS:-5}
REST_SECONDS=${REST_SECONDS:-30}
BIN=${BIN:-build/bin}
work=$(mktemp -d)
inst="bench$$"
declare -A PORT PIDS START_MS FIRST_MS
targets=()

cleanup() {
	for t in "${targets[@]}"; do
		for p in ${PIDS[$t]:-}; do kill -TERM "$p" 2>/dev/null; done
	done
	sleep 1
	for t in "${targets[@]}"; do
		for p in ${PIDS[$t]:-}; do kill -KILL "$p" 2>/dev/null; done
	done
	rm -rf /run/shmetrics/"$inst"*
	rm -rf "$work"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "bench: $1 is missing ($2)" >&2; exit 1; }; }
need wrk "apt-get install wrk"
need curl "apt-get install curl"
make -s all build/bench/exporter_synth >/dev/null || exit 1

now_ms() { date +%s%3N; }
# Every pid of a target: the ones started and all their descendants.
all_pids() {
	local queue=(${PIDS[$1]}) out=() p
	while [ ${#queue[@]} -gt 0 ]; do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		[ -d /proc/$p ] || continue
		out+=("$p")
		queue+=($(cat /proc/$p/task/*/children 2>/dev/null))
	done
	echo "${out[@]}"
}

cpu_ticks() { # utime+stime of every process of target $1 (clock ticks)
	local sum=0 p
	for p in $(all_pids "$1"); do
		sum=$((sum + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/$p/stat 2>/dev/null || echo 0)))
	done
	echo $sum
}

memory_kib() { # "RSS PSS" summed over target $1
	local p
	for p in $(all_pids "$1"); do cat /proc/$p/smaps_rollup 2>/dev/null; done |
		awk '/^Rss:/ { r += $2 } /^Pss:/ { s += $2 } END { printf "%d %d", r, s }'
}

url() { echo "http://127.0.0.1:${PORT[$1]}/metrics"; }

# PSS (KiB) of the process serving HTTP (the exporter, node_exporter, collectd).
server_pss() {
	local p
	for p in $(all_pids "$1"); do
		case "$(cat /proc/$p/comm 2>/dev/null)" in
		shmetrics-expor* | prometheus-node* | collectd)
			awk '/^Pss:/ { print $2 }' /proc/$p/smaps_rollup
			return ;;
		esac
	done
	echo 0
}

wait_first_response() { # records ms from start to the first 200 with a body
	local t=$1 deadline=$(($(now_ms) + 20000))
	until [ "$(curl -s -o /dev/null -w '%{http_code}:%{size_download}' --max-time 2 "$(url "$t")")" \
		!= "000:0" ] && curl -fs --max-time 2 "$(url "$t")" | grep -q '^[a-z]'; do
		[ "$(now_ms)" -gt $deadline ] && { FIRST_MS[$t]=timeout; return 1; }
		sleep 0.005
	done
	FIRST_MS[$t]=$(($(now_ms) - START_MS[$t]))
}

# ---- start the targets ----

start_node() {
	PORT[node_exporter]=$(free_port)
	START_MS[node_exporter]=$(now_ms)
	/usr/bin/prometheus-node-exporter --web.listen-address=127.0.0.1:${PORT[node_exporter]} \
		>"$work/node.log" 2>&1 &
	PIDS[node_exporter]=$!
	targets+=(node_exporter)
}

start_collectd() {
	PORT[collectd]=$(free_port)
	write_collectd_conf "$work/collectd.conf" "${PORT[collectd]}" || return 0
	START_MS[collectd]=$(now_ms)
	/usr/sbin/collectd -f -C "$work/collectd.conf" >"$work/collectd.log" 2>&1 &
	PIDS[collectd]=$!
	targets+=(collectd)
}

start_shmetrics() {
	PORT[shmetrics]=$(free_port)
	printf '{ "instance": "%s", "web": { "listen_address": "127.0.0.1:%s" } }\n' \
		"$inst" "${PORT[shmetrics]}" >"$work/shmetrics.json"
	START_MS[shmetrics]=$(now_ms)
	"$BIN/shmetrics-agent" --config "$work/shmetrics.json" >"$work/shmetrics.log" 2>&1 &
	PIDS[shmetrics]=$!
	targets+=(shmetrics)
}

start_synth() { # as many series as node_exporter serves samples
	local n=$1
	PORT[shmetrics-synth]=$(free_port)
	START_MS[shmetrics-synth]=$(now_ms)
	build/bench/exporter_synth serve /run/shmetrics "${inst}s" synth "$n" 5000 >"$work/synth.log" 2>&1 &
	PIDS[shmetrics-synth]=$!
	for _ in $(seq 100); do grep -q serving "$work/synth.log" && break; sleep 0.05; done
	"$BIN/shmetrics-exporter" --segments.directory=/run/shmetrics --instance="${inst}s" --collector=synth \
		--web.listen-address=127.0.0.1:${PORT[shmetrics-synth]} >"$work/synth-exporter.log" 2>&1 &
	PIDS[shmetrics-synth]+=" $!"
	targets+=(shmetrics-synth)
}

samples() { curl -fs --max-time 5 "$(url "$1")" | grep -c '^[a-zA-Z_]'; }
bytes_plain() { curl -fs --max-time 5 -o /dev/null -w '%{size_download}' "$(url "$1")"; }
bytes_gzip() {
	curl -fs --max-time 5 -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$(url "$1")"
}

# run_wrk TARGET CONNECTIONS [gzip]
#   -> "req/s p50_ms p99_ms requests socket_errors non2xx"
# socket_errors sums wrk's connect, read, write and timeout errors; non2xx is its
# "Non-2xx or 3xx responses".  A figure with either is not a result.
run_wrk() {
	local threads=$(($2 < 2 ? 1 : 2)) hdr=()
	[ "${3:-}" = gzip ] && hdr=(-H 'Accept-Encoding: gzip')
	wrk -t"$threads" -c"$2" -d"${WRK_SECONDS}s" --latency "${hdr[@]}" "$(url "$1")" 2>/dev/null |
		tee -a "$work/wrk.log" |
		awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
				if (v ~ /s$/) return v * 1000; return v }
			/^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
			/requests in/ { n = $1 } /^Requests\/sec/ { rps = $2 }
			/Socket errors:/ { gsub(/,/, ""); err = $4 + $6 + $8 + $10 }
			/Non-2xx or 3xx responses:/ { bad = $5 }
			END { printf "%.0f %.3f %.3f %d %d %d", rps, p50, p99, n, err, bad }'
}

declare -A R
measure_load() {
	local t=$1 c z res before after
	for c in 1 16; do
		for z in plain gzip; do
			[ "$t" = collectd ] && [ $z = gzip ] && { R[$t,$c,$z]="n/a n/a n/a 0 0 0"; continue; }
			if [ $c = 16 ] && [ $z = plain ]; then
				before=$(cpu_ticks "$t")
				res=$(run_wrk "$t" $c $z)
				after=$(cpu_ticks "$t")
				R[$t,cpu_ticks]=$((after - before))
			else
				res=$(run_wrk "$t" $c $z)
			fi
			R[$t,$c,$z]=$res
		done
	done
}

rest_scraper() { # scrape target every $2 s for REST_SECONDS
	local end=$((SECONDS + REST_SECONDS))
	while [ $SECONDS -lt $end ]; do
		curl -fs --max-time 5 -o /dev/null "$(url "$1")"
		sleep "$2"
	done
}

measure_rest() { # CPU s/min at rest, every target at once, interval $1
	local t scrapers=()
	declare -A before
	for t in "${targets[@]}"; do before[$t]=$(cpu_ticks "$t"); done
	for t in "${targets[@]}"; do
		rest_scraper "$t" "$1" &
		scrapers+=($!)
	done
	wait "${scrapers[@]}"
	for t in "${targets[@]}"; do
		R[$t,rest$1]=$(awk -v d=$(($(cpu_ticks "$t") - before[$t])) -v hz="$(getconf CLK_TCK)" \
			-v s="$REST_SECONDS" 'BEGIN { printf "%.3f", d / hz * 60 / s }')
	done
}

# ---- run ----

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# one at a time, so that start-up times do not compete for the CPUs
start_node
wait_first_response node_exporter
start_collectd
[ -n "${PIDS[collectd]:-}" ] && wait_first_response collectd
start_shmetrics
wait_first_response shmetrics
node_samples=$(samples node_exporter)
start_synth "$node_samples"
wait_first_response shmetrics-synth
sleep 6 # every collector has published at least once
for t in "${targets[@]}"; do
	R[$t,samples]=$(samples "$t")
	R[$t,bytes]=$(bytes_plain "$t")
	R[$t,gzbytes]=$(bytes_gzip "$t")
	[ "$t" = collectd ] && R[$t,gzbytes]="n/a (no gzip)"
done
for t in "${targets[@]}"; do measure_load "$t"; done
measure_rest 15
measure_rest 1
for t in "${targets[@]}"; do R[$t,mem]=$(memory_kib "$t"); done
for t in "${targets[@]}"; do
	R[$t,nproc]=$(all_pids "$t" | wc -w)
	R[$t,pss_server]=$(server_pss "$t")
done

# ---- report ----

hz=$(getconf CLK_TCK)
field() { echo "${R[$1]}" | awk -v i="$2" '{ print $i }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "n/a") print "-"; else printf "%.2g", a / b }'; }
cpu_per_scrape() { # seconds
	awk -v d="${R[$1,cpu_ticks]}" -v n="$(field "$1,16,plain" 4)" -v hz="$hz" \
		'BEGIN { if (n > 0) printf "%.3g", d / hz / n; else print "n/a" }'
}

echo
echo "host: $(nproc) CPUs, $(uname -r); wrk ${WRK_SECONDS}s per run; rest windows ${REST_SECONDS}s"
echo "load average before the run: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '| | %s |\n' "$(IFS='|'; echo "${targets[*]}" | sed 's/|/ | /g')"
printf '|---|%s\n' "$(for _ in "${targets[@]}"; do printf -- '---|'; done)"
row() { # row LABEL FUNC
	local label=$1 fn=$2 t cells=""
	for t in "${targets[@]}"; do cells+=" $($fn "$t") |"; done
	echo "| $label |$cells"
}
base=node_exporter
c_samples() { echo "${R[$1,samples]}"; }
# requests/s with its errors beside it: "N (ratio×), 0 err" when clean; a run
# with socket errors or non-2xx answers is marked as no result.
c_rps() { # c_rps_C_Z
	local v b e bad
	v=$(field "$1,$C,$Z" 1)
	b=$(field "$base,$C,$Z" 1)
	e=$(field "$1,$C,$Z" 5)
	bad=$(field "$1,$C,$Z" 6)
	[ "$v" = n/a ] && { echo "n/a"; return; }
	if [ "$e" = 0 ] && [ "$bad" = 0 ]; then
		echo "$v ($(ratio "$v" "$b")×), 0 errors, 0 non-2xx"
	else
		echo "**no result**: $v/s with $e socket errors, $bad non-2xx"
	fi
}
c_lat() {
	local suffix=""
	[ "$(field "$1,$C,$Z" 5)$(field "$1,$C,$Z" 6)" = 00 ] || suffix=" (no result: errors)"
	[ "$(field "$1,$C,$Z" 1)" = n/a ] && suffix=""
	echo "$(field "$1,$C,$Z" 2) / $(field "$1,$C,$Z" 3)$suffix"
}
c_cpu() {
	local v b
	v=$(cpu_per_scrape "$1")
	b=$(cpu_per_scrape "$base")
	echo "$(awk -v v="$v" 'BEGIN { printf "%.3g ms", v * 1000 }') ($(ratio "$v" "$b")×)"
}
c_cpu_sample() {
	awk -v v="$(cpu_per_scrape "$1")" -v n="${R[$1,samples]}" \
		'BEGIN { if (n > 0) printf "%.3g µs", v / n * 1e6; else print "n/a" }'
}
c_rest15() { echo "${R[$1,rest15]} ($(ratio "${R[$1,rest15]}" "${R[$base,rest15]}")×)"; }
c_rest1() { echo "${R[$1,rest1]} ($(ratio "${R[$1,rest1]}" "${R[$base,rest1]}")×)"; }
c_mem() {
	local rss pss
	read -r rss pss <<<"${R[$1,mem]}"
	printf '%.1f / %.1f MiB' "$(echo "$rss/1024" | bc -l)" "$(echo "$pss/1024" | bc -l)"
}
c_bytes() { echo "${R[$1,bytes]} / ${R[$1,gzbytes]}"; }
c_first() { echo "${FIRST_MS[$1]} ms"; }
c_nproc() { echo "${R[$1,nproc]}"; }
c_pss_server() { printf '%.1f MiB' "$(echo "${R[$1,pss_server]}/1024" | bc -l)"; }
row "samples per scrape" c_samples
for C in 1 16; do
	for Z in plain gzip; do
		row "scrapes/s, $C conn, $Z (× node_exporter)" c_rps
		row "p50 / p99 ms, $C conn, $Z" c_lat
	done
done
row "CPU per scrape (× node_exporter)" c_cpu
row "CPU per sample" c_cpu_sample
row "CPU s/min at rest, scraped every 15 s (×)" c_rest15
row "CPU s/min at rest, scraped every 1 s (×)" c_rest1
row "RSS / PSS, all processes" c_mem
row "processes" c_nproc
row "PSS of the serving process alone" c_pss_server
row "bytes per response, plain / gzip" c_bytes
row "start to first response" c_first
echo
echo "Synthetic collector, exporter render path on one core (bench/exporter_synth render N):"
echo
echo '| series | snapshot (copy + validate) | first render (builds template) | later renders | series/s (later) | bytes |'
echo '|---|---|---|---|---|---|'
for n in 10000 100000 1000000; do
	build/bench/exporter_synth render $n 3 | awk '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "| %s | %s ms | %s ms | %s ms | %.3g M | %s |\n", v["N"], v["snapshot_ms"],
			v["cold_ms"], v["warm_ms"], v["warm_series_per_s"] / 1e6, v["bytes"] }'
done
