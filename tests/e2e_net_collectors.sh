#!/usr/bin/env bash
# End to end, on the live kernel: the netlink, ioctl and perf collectors
# (network_route, qdisc, ethtool, netclass over netlink, netdev's detailed
# metrics, perf, xfrm, wifi) inside two network namespaces made for the test,
# joined by a veth pair, with routes (single, multipath, blackhole, IPv6) and
# queueing disciplines (htb, tbf, ingress) set up here and traffic sent over the
# pair.  shmetrics and Debian's node_exporter run side by side in the first
# namespace, and for each collector node_exporter 1.5 has, the families must
# have the same types and label sets, and the values that do not move the same.
# Needs root (ip netns); skips otherwise.  Every wait is bounded; the namespaces
# and every process started here are removed by the cleanup.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

NODE_EXPORTER=${NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
inst="net$$"
nsa="shmA$$"
nsb="shmB$$"
work=$(mktemp -d)
log="$work/agent.log"
agent_pid="" ne_pid=""

cleanup() {
	for p in $agent_pid $ne_pid; do stop_pid "$p" 2; done
	kill_instance "$inst"
	# Whatever still runs in the namespaces (a command started through a function
	# with & leaves $! to a subshell).
	for ns in "$nsa" "$nsb"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	done
	ip netns del "$nsa" 2>/dev/null
	ip netns del "$nsb" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ] || ! ip netns add "$nsa" 2>/dev/null; then
	skip "network namespaces (needs root and ip netns)"
	finish
	exit 0
fi
ip netns add "$nsb" || fatal "ip netns add $nsb"
ina() { ip netns exec "$nsa" "$@"; }
inb() { ip netns exec "$nsb" "$@"; }

# ---- the network: A's veth0 <-> B's veth1 ----
set -e
ina ip link set lo up
ina ip link add veth0 type veth peer name veth1 netns "$nsb"
inb ip link set lo up
ina ip addr add 10.98.0.1/24 dev veth0
ina ip -6 addr add fd00:98::1/64 dev veth0 nodad
inb ip addr add 10.98.0.2/24 dev veth1
inb ip addr add 10.98.0.3/24 dev veth1
ina ip link set veth0 up
inb ip link set veth1 up
ina ip link set veth0 alias "uplink to B"
ina ip route add 198.51.100.0/24 via 10.98.0.2 metric 50 proto static
ina ip route add 203.0.113.0/24 proto zebra \
	nexthop via 10.98.0.2 dev veth0 weight 1 nexthop via 10.98.0.3 dev veth0 weight 3
ina ip route add blackhole 192.0.2.0/24
ina ip route add 100.64.0.0/10 via 10.98.0.2 table 100
ina tc qdisc add dev veth0 root handle 1: htb default 10
ina tc class add dev veth0 parent 1: classid 1:10 htb rate 100mbit quantum 1514
ina tc qdisc add dev veth0 ingress
ina tc qdisc add dev lo root tbf rate 1gbit burst 64kb latency 50ms
set +e
# Traffic over the pair (UDP datagrams: no ping on minimal hosts), until the
# htb root has counted some.
send_udp() {
	ina bash -c 'for i in 1 2 3 4 5; do for d in 10.98.0.2 10.98.0.3; do
		echo shmetrics >/dev/udp/$d/9; done; sleep 0.05; done' 2>/dev/null
}
htb_counted() { send_udp; ina tc -s qdisc show dev veth0 | grep -Eq 'Sent [1-9][0-9]* bytes ([2-9]|[1-9][0-9]+) pkt'; }
wait_for 10 htb_counted || not_ok "traffic over veth0"
ok "namespaces $nsa and $nsb with a veth pair, routes and qdiscs"

# ---- shmetrics in namespace A ----
port=$(free_port)
ina "$BIN/shmetrics-agent" --instance="$inst" --web.listen-address="127.0.0.1:$port" \
	--collector.disable-defaults --collector.network_route --collector.qdisc \
	--collector.ethtool --collector.netclass --collector.netclass.netlink \
	--collector.netdev --collector.netdev.enable-detailed-metrics --collector.perf \
	--collector.perf.cpus=0 --collector.xfrm --collector.wifi \
	$(for c in network_route qdisc ethtool netclass netdev; do echo "--collector.$c.interval=1s"; done) \
	>"$log" 2>&1 &
agent_pid=$!
nsget() { ina curl -fsS --max-time 5 "http://127.0.0.1:$1/metrics"; }
ours_ready() {
	nsget "$port" >"$work/ours.txt" 2>/dev/null &&
		[ "$(grep -c '^node_scrape_collector_success' "$work/ours.txt")" -ge 9 ]
}
wait_for 15 ours_ready || fatal "the agent serves in $nsa" "$log"
ok "shmetrics serves from inside $nsa"

# ---- what shmetrics says of the network made above ----
has() { grep -qxF -- "$1" "$work/ours.txt"; }
has_re() { grep -qE -- "$1" "$work/ours.txt"; }
for c in network_route qdisc ethtool netclass netdev perf xfrm; do
	check "$c: node_scrape_collector_success 1" \
		has "node_scrape_collector_success{collector=\"$c\"} 1"
done
check "wifi: success 0 here (no nl80211)" has 'node_scrape_collector_success{collector="wifi"} 0'
check "route: the static route" has 'node_network_route_info{dest="198.51.100.0/24",device="veth0",gw="10.98.0.2",priority="50",proto="static",src="",weight=""} 1'
check "route: next hop of weight 1" has 'node_network_route_info{dest="203.0.113.0/24",device="veth0",gw="10.98.0.2",priority="0",proto="zebra",src="",weight="1"} 1'
check "route: next hop of weight 3" has 'node_network_route_info{dest="203.0.113.0/24",device="veth0",gw="10.98.0.3",priority="0",proto="zebra",src="",weight="3"} 1'
check "route: the connected route with its source" has 'node_network_route_info{dest="10.98.0.0/24",device="veth0",gw="",priority="0",proto="kernel",src="10.98.0.1",weight=""} 1'
check "route: another table's route" has 'node_network_route_info{dest="100.64.0.0/10",device="veth0",gw="10.98.0.2",priority="0",proto="boot",src="",weight=""} 1'
check "route: IPv6" has_re '^node_network_route_info\{dest="fd00:98::/64",device="veth0",gw="",priority="256",proto="kernel"'
check "route: no blackhole" sh -c "! grep -q 192.0.2.0 '$work/ours.txt'"
check "qdisc: htb root of veth0" has_re '^node_qdisc_packets_total\{device="veth0",kind="htb"\} [1-9]'
check "qdisc: tbf root of lo" has_re '^node_qdisc_bytes_total\{device="lo",kind="tbf"\} '
check "qdisc: no ingress nor child qdisc" sh -c "! grep -qE 'kind=\"(ingress|pfifo)\"' '$work/ours.txt'"
check "ethtool: veth's driver" has_re '^node_ethtool_info\{bus_info="",device="veth0",driver="veth",'
check "ethtool: veth's peer index statistic" has_re '^node_ethtool_peer_ifindex\{device="veth0"\} [1-9]'
check "netclass over netlink: veth0's alias and speed" has_re '^node_network_info\{address="[0-9a-f:]+",broadcast="ff:ff:ff:ff:ff:ff",device="veth0",duplex="Full",ifalias="uplink to B",operstate="up"\} 1'
check "netclass over netlink: veth's 10 Gb/s" has 'node_network_speed_bytes{device="veth0"} 1250000000'
check "netdev detailed: packets sent on veth0" has_re '^node_network_transmit_packets_total\{device="veth0"\} [1-9]'
check "netdev detailed: receive_missed_errors" has_re '^node_network_receive_missed_errors_total\{device="veth0"\} 0'
check "perf: context switches of CPU 0" has_re '^node_perf_context_switches_total\{cpu="0"\} [0-9]'
check "xfrm: 28 counters" test "$(grep -c '^node_xfrm_.*_packets_total ' "$work/ours.txt")" -eq 28

# ---- node_exporter 1.5 beside it, for the collectors it has ----
# (with today's netdev default, no device excluded: Debian's 1.5 package left out lo)
if [ ! -x "$NODE_EXPORTER" ]; then
	skip "node_exporter comparison ($NODE_EXPORTER missing)"
	finish "$log"
	exit $?
fi
ne_port=$(free_port)
ip netns exec "$nsa" "$NODE_EXPORTER" --web.listen-address="127.0.0.1:$ne_port" \
	--collector.disable-defaults \
	--collector.network_route --collector.qdisc --collector.ethtool --collector.netclass \
	--collector.netclass.netlink --collector.netdev --collector.netdev.enable-detailed-metrics \
	--collector.netdev.device-exclude= \
	--collector.perf --collector.perf.cpus=0 --collector.wifi >"$work/ne.log" 2>&1 &
ne_pid=$!
wait_for 10 sh -c "ip netns exec '$nsa' curl -fsS -o '$work/ne.txt' http://127.0.0.1:$ne_port/metrics" ||
	fatal "node_exporter serves in $nsa" "$work/ne.log"
# The counters of lo move with every scrape (the scrapes go over it) and veth0
# may still send IPv6 neighbour discovery for a while: lo's values are not
# compared, and the comparison is made again (at most 6 times) until a pair of
# scrapes, node_exporter's then ours collected after it, sees veth0 still.
cat >"$work/compare.py" <<'PY'
import re, sys

def parse(path):
    fams, types = {}, {}
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(None, 3)
            types[name] = typ
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        labels = frozenset(re.findall(r'([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        fams.setdefault(m.group(1), {"type": types.get(m.group(1)), "series": {}})
        fams[m.group(1)]["series"][labels] = float(m.group(4))
    return fams

ne, us = parse(sys.argv[1]), parse(sys.argv[2])
# Values that cannot move between the two scrapes on this idle namespace.
stable = re.compile(r"^node_(network_route|qdisc_(bytes|packets|drops|requeues|overlimits)_total"
                    r"|ethtool_(info|peer_ifindex)|network_(mtu_bytes|iface_id|iface_link|flags"
                    r"|protocol_type|speed_bytes|info|up|carrier|transmit_queue_length)"
                    r"|network_(receive|transmit)_(packets|bytes)_total)")
fails = 0
for name, fam in sorted(ne.items()):
    if re.match(r"^(go_|process_|promhttp_|node_exporter_|node_scrape_)", name):
        continue
    if name not in us:
        print(f"not ok - {name}: missing"); fails += 1; continue
    mine = us[name]
    if fam["type"] != mine["type"]:
        print(f"not ok - {name}: type {mine['type']}, node_exporter {fam['type']}"); fails += 1
    if set(fam["series"]) != set(mine["series"]):
        print(f"not ok - {name}: label sets differ: only node_exporter "
              f"{sorted(map(sorted, set(fam['series']) - set(mine['series'])))[:2]}, only shmetrics "
              f"{sorted(map(sorted, set(mine['series']) - set(fam['series'])))[:2]}"); fails += 1
        continue
    if stable.match(name):
        bad = [s for s, v in fam["series"].items()
               if mine["series"][s] != v and ("device", "lo") not in s]
        if bad:
            print(f"not ok - {name}: {len(bad)} values differ, e.g. {sorted(bad[0])}: "
                  f"node_exporter {fam['series'][bad[0]]}, shmetrics {mine['series'][bad[0]]}")
            fails += 1
            continue
    print(f"ok - {name}: {len(fam['series'])} series as node_exporter's" +
          (", values equal" if stable.match(name) else ""))
sys.exit(1 if fails else 0)
PY
for attempt in 1 2 3 4 5 6; do
	nsget "$ne_port" >"$work/ne.txt"
	sleep 2.2 # two collections of ours, both after node_exporter's scrape
	nsget "$port" >"$work/ours.txt"
	/usr/bin/python3 "$work/compare.py" "$work/ne.txt" "$work/ours.txt" >"$work/compare.out" &&
		break
done
cat "$work/compare.out"
check "every family node_exporter 1.5 serves here matches (attempt $attempt)" \
	sh -c "! grep -q '^not ok' '$work/compare.out'"

finish "$log"
