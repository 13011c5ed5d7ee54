# shellcheck shell=bash
# bench/lib.sh - what the benchmarks share.  Sourced, not run, from the
# repository root:   . bench/lib.sh
#
#   free_port                     a port nobody listens on (tests/lib/ports.sh)
#   cpu_per_scrape PID PORT [PREFIX]
#                                 CPU seconds PID spends per GET of
#                                 http://127.0.0.1:PORT/metrics ($SCRAPES of
#                                 them, after a few to warm up), the body's size
#                                 in bytes and its lines that start with PREFIX
#   write_collectd_conf FILE PORT collectd as the peer benchmarks run it: the
#                                 plugins of Debian's default collectd.conf that
#                                 exist on this host and write_prometheus on
#                                 127.0.0.1:PORT; status 1 without collectd
. tests/lib/ports.sh

cpu_per_scrape() {
	python3 - "$1" "$2" "${SCRAPES:-100}" "${3:-}" <<'PY'
import os, sys, urllib.request
pid, port, n, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
hz = os.sysconf("SC_CLK_TCK")
def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / hz   # utime, stime
def scrape():
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as r:
        return r.read()
for _ in range(3):
    body = scrape()
t0 = cpu()
for _ in range(n):
    body = scrape()
lines = sum(1 for l in body.decode().splitlines() if prefix and l.startswith(prefix))
print(f"{(cpu() - t0) / n:.6f} {len(body)} {lines}")
PY
}

write_collectd_conf() {
	[ -x /usr/sbin/collectd ] && [ -e /usr/lib/collectd/write_prometheus.so ] || return 1
	local plugins="" p dir
	dir=$(dirname "$1")
	for p in cpu df disk entropy interface irq load memory processes swap users; do
		[ -e "/usr/lib/collectd/$p.so" ] && plugins+="LoadPlugin $p"$'\n'
	done
	cat >"$1" <<EOF
Interval 10
FQDNLookup false
BaseDir "$dir"
PIDFile "$dir/collectd.pid"
$plugins
LoadPlugin write_prometheus
<Plugin write_prometheus>
  Host "127.0.0.1"
  Port "$2"
</Plugin>
EOF
}
