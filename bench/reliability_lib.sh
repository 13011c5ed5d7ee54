# Shared by the bench/reliability_*.sh scripts (sourced, not run).
# Starts an agent on a free loopback port and measures its processes.

# A port nobody listens on now.
rel_free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
	done
}

# rel_start_agent BIN CONFIG LOG: starts the agent, waits for its exporter;
# sets REL_AGENT (pid) and REL_PORT.
rel_start_agent() {
	"$1/shmetrics-agent" --config "$2" >"$3" 2>&1 &
	REL_AGENT=$!
	local deadline=$((SECONDS + 30))
	until grep -q 'listening on' "$3"; do
		if [ $SECONDS -ge $deadline ] || ! kill -0 "$REL_AGENT" 2>/dev/null; then
			cat "$3"
			return 1
		fi
		sleep 0.1
	done
	REL_PORT=$(grep -o 'listening on [^ ]*' "$3" | tail -n 1 | sed 's/.*://')
}

# The agent and its children, one pid a line.
rel_pids() { echo "$1"; pgrep -P "$1"; }

# rel_kb FIELD PID...: the sum of FIELD (Rss, Pss, ...) of smaps_rollup, in kB.
rel_kb() {
	local field=$1
	shift
	local p
	for p in "$@"; do cat "/proc/$p/smaps_rollup" 2>/dev/null; done |
		awk -v f="$field:" '$1 == f { s += $2 } END { print s + 0 }'
}

# CPU seconds (user+system) a process has used.
rel_cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' \
		"/proc/$1/stat"
}

rel_exporter_pid() { pgrep -f "shmetrics-exporter .*--instance=$1( |$)" | head -n 1; }
