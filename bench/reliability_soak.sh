#!/usr/bin/env bash
# Soak: SOAK_SECONDS (600) of scrapes at a steady SOAK_RATE (10/s) against
#  - the whole agent built with ASan+UBSan (build/address-undefined),
#  - a second exporter, the release build under valgrind memcheck, and
#  - a third, the plain release build (the cleanest RSS signal),
# the two extra exporters reading the same segments, sampling the RSS of each
# every SOAK_SAMPLE seconds (10).  The tools' free-lists (ASan's quarantine,
# valgrind's freed-block queue) are kept small so that they fill during warm-up
# instead of looking like growth.  Fails on
# any sanitizer or valgrind error, a leak reported at exit, a failed scrape, or
# RSS growth: a process's mean RSS over the last quarter may exceed the second
# quarter's by at most SOAK_GROWTH_KB (512 kB).  Samples: $SOAK_OUT/rss.csv.
#   SOAK_SECONDS=600 bench/reliability_soak.sh
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/reliability_lib.sh

secs=${SOAK_SECONDS:-600}
rate=${SOAK_RATE:-10}
sample=${SOAK_SAMPLE:-10}
growth=${SOAK_GROWTH_KB:-512}
out=${SOAK_OUT:-$(mktemp -d)}
mkdir -p "$out"
inst="soak$$"
REL_AGENT="" vg_pid="" plain_pid=""
cleanup() {
	[ -n "$plain_pid" ] && kill -TERM "$plain_pid" 2>/dev/null
	[ -n "$vg_pid" ] && kill -TERM "$vg_pid" 2>/dev/null
	[ -n "$REL_AGENT" ] && kill -TERM "$REL_AGENT" 2>/dev/null
	wait
}
trap cleanup EXIT

if [ -z "${SOAK_NO_BUILD:-}" ]; then
	echo "building the release and the ASan+UBSan programs"
	make -s -j"${JOBS:-2}" SANITIZE=address,undefined all && make -s all || exit 1
fi
ASAN_BIN=${ASAN_BIN:-build/address-undefined/bin}
BIN=${BIN:-build/bin}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=4:thread_local_quarantine_size_kb=64:log_path=$out/asan}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:log_path=$out/ubsan}

port=$(rel_free_port)
printf '{ "instance": "%s", "interval": "1s", "web": { "listen_address": "127.0.0.1:%s" } }\n' \
	"$inst" "$port" >"$out/config.json"
rel_start_agent "$ASAN_BIN" "$out/config.json" "$out/agent.log" || exit 1
vport=$(rel_free_port)
collectors=(--collector=cpu --collector=meminfo --collector=loadavg --collector=stat
	--collector=agent)
valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
	--freelist-vol=2000000 --log-file="$out/valgrind.log" "$BIN/shmetrics-exporter" \
	--instance="$inst" --web.listen-address=127.0.0.1:"$vport" "${collectors[@]}" \
	>"$out/vg-exporter.log" 2>&1 &
vg_pid=$!
pport=$(rel_free_port)
"$BIN/shmetrics-exporter" --instance="$inst" --web.listen-address=127.0.0.1:"$pport" \
	"${collectors[@]}" >"$out/plain-exporter.log" 2>&1 &
plain_pid=$!
until grep -q 'listening on' "$out/vg-exporter.log" && grep -q 'listening on' "$out/plain-exporter.log"; do
	kill -0 $vg_pid 2>/dev/null || { cat "$out/vg-exporter.log" "$out/valgrind.log"; exit 1; }
	sleep 0.2
done

echo "soaking for ${secs}s at $rate scrapes/s per exporter; samples in $out/rss.csv"
echo "t_s,asan_exporter_rss_kb,valgrind_exporter_rss_kb,asan_agent_rss_kb,asan_all_pss_kb,release_exporter_rss_kb" \
	>"$out/rss.csv"
start=$SECONDS
next_sample=0
fails=0 scrapes=0
period=$(awk -v r="$rate" 'BEGIN { printf "%.3f", 1 / r }')
asan_exp=$(rel_exporter_pid "$inst")
while [ $((SECONDS - start)) -lt "$secs" ]; do
	for p in "$REL_PORT" "$vport" "$pport"; do
		curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$p/metrics" || fails=$((fails + 1))
		scrapes=$((scrapes + 1))
	done
	if [ $((SECONDS - start)) -ge $next_sample ]; then
		# shellcheck disable=SC2046
		echo "$((SECONDS - start)),$(rel_kb Rss "$asan_exp"),$(rel_kb Rss "$vg_pid"),$(rel_kb Rss "$REL_AGENT"),$(rel_kb Pss $(rel_pids "$REL_AGENT")),$(rel_kb Rss "$plain_pid")" >>"$out/rss.csv"
		next_sample=$((next_sample + sample))
	fi
	sleep "$period"
done
[ "$(rel_exporter_pid "$inst")" = "$asan_exp" ] || {
	echo "the ASan exporter was restarted during the soak"
	fails=$((fails + 1))
}

kill -TERM "$plain_pid"
wait "$plain_pid"
plain_rc=$?
plain_pid=""
kill -TERM "$vg_pid"
wait "$vg_pid"
vg_rc=$?
vg_pid=""
kill -TERM "$REL_AGENT"
wait "$REL_AGENT"
agent_rc=$?
REL_AGENT=""

# Growth: mean of the last quarter of samples against the second quarter (the
# first quarter is warm-up: allocator arenas, render templates, page cache).
verdict() { # verdict COLUMN NAME
	awk -F, -v c="$1" -v name="$2" -v g="$growth" 'NR > 1 { v[n++] = $c }
		END {
			q = int(n / 4)
			if (q < 1) { print name ": too few samples"; exit 0 }
			for (i = q; i < 2 * q; i++) a += v[i]
			for (i = n - q; i < n; i++) b += v[i]
			a /= q; b /= q
			printf "%s RSS: second quarter %.0f kB, last quarter %.0f kB, growth %+.0f kB\n", name, a, b, b - a
			exit (b - a > g)
		}' "$out/rss.csv"
}
rc=0
verdict 2 "ASan exporter" || rc=1
verdict 3 "valgrind exporter" || rc=1
verdict 4 "ASan agent" || rc=1
verdict 6 "release exporter" || rc=1
echo "scrapes: $scrapes over 3 exporters in ${secs}s ($(awk -v n="$scrapes" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')/s achieved), failed: $fails"
[ "$fails" -eq 0 ] || rc=1
echo "exit status: agent $agent_rc, valgrind exporter $vg_rc, release exporter $plain_rc"
[ "$agent_rc" -eq 0 ] && [ "$vg_rc" -eq 0 ] && [ "$plain_rc" -eq 0 ] || rc=1
if compgen -G "$out/asan*" >/dev/null || compgen -G "$out/ubsan*" >/dev/null; then
	echo "sanitizer reports:"
	cat "$out"/asan* "$out"/ubsan* 2>/dev/null | head -n 60
	rc=1
else
	echo "sanitizer reports: none (leak checks ran at every process's exit)"
fi
if [ -s "$out/valgrind.log" ]; then
	echo "valgrind:"
	head -n 60 "$out/valgrind.log"
	rc=1
else
	echo "valgrind: no errors, no definite leaks"
fi
exit $rc
