#!/usr/bin/env bash
# Basic auth under attack: an authorised scraper's latency while 8 clients send
# wrong passwords (a new one each time), shmetrics' exporter beside Debian's
# node_exporter with the same web config (bcrypt cost 10), in the same run.
# Prints a markdown table (README "Performance").  Not a test: nothing asserts.
#
#   bench/auth_under_attack.sh          # about a minute; SECONDS_EACH=10 by default
set -u
cd "$(dirname "$0")/.." || exit 1

SECONDS_EACH=${SECONDS_EACH:-10}
BIN=${BIN:-build/bin}
HELPERS=${HELPERS:-build/tests/helpers}
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

for c in wrk curl prometheus-node-exporter; do
	command -v "$c" >/dev/null || { echo "bench: $c is missing (scripts/deps.sh)" >&2; exit 1; }
done
make -s all tests >/dev/null || exit 1

hash=$("$HELPERS/bcrypt_hash" s3cret 10)
printf 'basic_auth_users:\n  alice: '"'%s'"'\n' "$hash" >"$work/web.yml"
good="Basic $(printf alice:s3cret | base64)"

# A new wrong password on every request (wrk's Lua has no base64 of its own).
cat >"$work/attack.lua" <<'LUA'
local b = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local function b64(s)
	return ((s:gsub('.', function(x)
		local r, n = '', x:byte()
		for i = 8, 1, -1 do r = r .. (n % 2 ^ i - n % 2 ^ (i - 1) > 0 and '1' or '0') end
		return r
	end) .. '0000'):gsub('%d%d%d?%d?%d?%d?', function(x)
		if #x < 6 then return '' end
		local c = 0
		for i = 1, 6 do c = c + (x:sub(i, i) == '1' and 2 ^ (6 - i) or 0) end
		return b:sub(c + 1, c + 1)
	end) .. ({ '', '==', '=' })[#s % 3 + 1])
end
local n = 0
request = function()
	n = n + 1
	local auth = 'Basic ' .. b64('alice:wrong' .. n .. '-' .. math.random(1e9))
	return wrk.format('GET', '/metrics', { Authorization = auth })
end
LUA

port() { # a free port below the ephemeral range
	local p
	for _ in $(seq 50); do
		p=$((10000 + RANDOM % 20000))
		ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}
wait_up() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }

# p50 and p99 of the authorised scraper, in ms, with and without the attack.
measure() { # URL -> "p50 p99 p50 p99 requests_attacked non2xx"
	local url=$1 quiet attacked
	curl -s -o /dev/null -H "Authorization: $good" "$url" # its one bcrypt
	quiet=$(wrk -t1 -c1 -d"${SECONDS_EACH}s" --latency -H "Authorization: $good" "$url")
	wrk -t2 -c8 -d"$((SECONDS_EACH + 2))s" -s "$work/attack.lua" "$url" >"$work/attack.out" 2>&1 &
	local a=$!
	sleep 1
	attacked=$(wrk -t1 -c1 -d"${SECONDS_EACH}s" --latency -H "Authorization: $good" "$url")
	wait $a
	echo "$(pct "$quiet" 50) $(pct "$quiet" 99) $(pct "$attacked" 50) $(pct "$attacked" 99)" \
		"$(awk '/requests in/ { print $1 }' <<<"$attacked")" \
		"$(awk '/Non-2xx/ { print $NF }' <<<"$attacked" | tr -d '\n')"
}
# wrk prints "50%  1.23ms"; in ms.
pct() {
	awk -v p="$2%" '$1 == p { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
		f = u == "us" ? 0.001 : u == "s" ? 1000 : 1; printf "%.2f", v * f }' <<<"$1"
}

sp=$(port)
"$BIN/shmetrics-exporter" --segments.directory="$work" --instance=x --collector=none \
	--web.listen-address=127.0.0.1:$sp --web.config.file="$work/web.yml" >"$work/shm.log" 2>&1 &
pids+=($!)
np=$(port)
prometheus-node-exporter --web.listen-address=127.0.0.1:$np --web.config.file="$work/web.yml" \
	--collector.disable-defaults --collector.loadavg >"$work/ne.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$sp/metrics" && wait_up "http://127.0.0.1:$np/metrics" ||
	{ echo "bench: an exporter did not start"; cat "$work"/*.log; exit 1; }

read -r s50 s99 sa50 sa99 sreq snon <<<"$(measure "http://127.0.0.1:$sp/metrics")"
read -r n50 n99 na50 na99 nreq nnon <<<"$(measure "http://127.0.0.1:$np/metrics")"

echo "Authorised scraper (1 connection), ${SECONDS_EACH} s each; attack: 8 connections, a new"
echo "wrong password per request; bcrypt cost 10; $(nproc) CPUs, both on this host."
echo
echo "| | node_exporter $(prometheus-node-exporter --version 2>&1 | awk '/version/ { print $3; exit }') | shmetrics | ratio |"
echo "|---|---|---|---|"
echo "| p50 / p99 ms, no attack | $n50 / $n99 | $s50 / $s99 | |"
# (In awk, a bare "printf ... > 0" would write to a file named 0.)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f×", a / b }'; }
echo "| p50 / p99 ms, under attack | $na50 / $na99 | $sa50 / $sa99 | p99 $(ratio "$na99" "$sa99") lower |"
echo "| authorised requests under attack (non-2xx) | $nreq (${nnon:-0}) | $sreq (${snon:-0}) | $(ratio "$sreq" "$nreq") |"

