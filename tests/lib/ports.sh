# shellcheck shell=bash
# tests/lib/ports.sh - free_port, for the end-to-end scripts (tests/lib/e2e.sh) and
# the benchmarks (bench/lib.sh).  Sourced from the repository root.
#
#   free_port    a port nobody listens on now (0 if none found)
free_port() {
	local p lo _hi
	# Below the kernel's ephemeral range, so no client socket of a running test
	# (curl, wrk, Prometheus) can be holding the port when a server binds it.
	read -r lo _hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
	[ "$lo" -gt 12000 ] 2>/dev/null || lo=32768
	for _ in $(seq 50); do
		p=$((10000 + RANDOM % (lo - 10000)))
		ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
	done
	echo 0
}
