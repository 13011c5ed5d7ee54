#!/usr/bin/env bash
# End to end, live: the cgroup collector on this machine's own cgroups.
# Creates a cgroup of the same name in every hierarchy there is (the unified
# one, and the v1 cpu, cpuacct, memory, pids and blkio ones of a hybrid host),
# runs tests/helpers/cg_load in it, and checks through the agent's /metrics:
#  - the CPU seconds of a burner that used 1 s of CPU, within 10 % + 50 ms;
#  - the memory of an allocator that touched 64 MiB (64 to 80 MiB), its task
#    count, and populated 1 while it runs, 0 after (v2 cgroup.events);
#  - an allocator OOM-killed under a 32 MiB limit in a child cgroup increments
#    that cgroup's oom_kill counter;
#  - the series are one cgroup whichever hierarchy each came from, promtool
#    accepts them, and they are gone once the cgroups are removed.
# Needs root (it skips otherwise); every cgroup created is removed on exit,
# whatever happened.  Takes a few seconds.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

if [ "$(id -u)" != 0 ]; then
	skip "creating cgroups needs root"
	finish
	exit 0
fi

inst="cg$$"
cg="shmetrics_e2e_$$"
work=$(mktemp -d)
log="$work/agent.log"
agent_pid="" load_pid=""
LOAD=build/tests/helpers/cg_load
[ -x "$LOAD" ] || fatal "$LOAD is built (make tests)"

# ---- the hierarchies of this host ----
V2=""
for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
	[ -f "$d/cgroup.controllers" ] && [ ! -f "$d/tasks" ] && { V2=$d; break; }
done
V1=() # real directories, each once (cpu and cpuacct may be one hierarchy)
declare -A V1_OF
for c in cpuacct cpu memory pids blkio; do
	[ -f "/sys/fs/cgroup/$c/tasks" ] || continue
	d=$(realpath "/sys/fs/cgroup/$c")
	V1_OF[$c]=$d
	[[ " ${V1[*]} " == *" $d "* ]] || V1+=("$d")
done
HIERS=("${V1[@]}")
[ -n "$V2" ] && HIERS+=("$V2")
[ ${#HIERS[@]} -gt 0 ] || fatal "this host has cgroup hierarchies under /sys/fs/cgroup"
ok "hierarchies: ${HIERS[*]}"

cleanup() {
	[ -n "$load_pid" ] && kill -KILL "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
	[ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null
	kill_instance "$inst"
	for h in "${HIERS[@]}"; do
		[ -d "$h/$cg/oom" ] && rmdir "$h/$cg/oom"
		[ -d "$h/$cg" ] && rmdir "$h/$cg"
	done
	rm -rf "$work"
}
trap cleanup EXIT

joins=()
for h in "${HIERS[@]}"; do
	mkdir "$h/$cg" || fatal "mkdir $h/$cg"
	joins+=("--join=$h/$cg/cgroup.procs")
done

# Where the memory controller is: v1, or v2 when the root hands it down.
MEM=""
if [ -n "${V1_OF[memory]:-}" ]; then
	MEM=${V1_OF[memory]}
elif [ -n "$V2" ] && grep -qw memory "$V2/cgroup.subtree_control" 2>/dev/null; then
	MEM=$V2
fi

cat >"$work/config.json" <<EOF
{ "instance": "$inst", "web": { "listen_address": "127.0.0.1:0" } }
EOF
start_agent "$log" --config "$work/config.json" --collector.disable-defaults \
	--collector.cgroup --collector.cgroup.interval=1s \
	--collector.cgroup.path-include="^/$cg(/|\$)" || fatal "agent started with --collector.cgroup" "$log"

value() { scrape /metrics 2>/dev/null | awk -v m="$1" '$1 == m { print $2; exit }'; }
series() { printf '%s{id="/%s"%s}' "$1" "$cg" "${2:-}"; }
has_value() { [ -n "$(value "$1")" ]; }
value_is() { [ "$(value "$1")" = "$2" ]; }
# within ACTUAL WANT REL ABS: |actual - want| <= want * REL + ABS
within() { awk -v a="$1" -v w="$2" -v r="$3" -v b="$4" \
	'BEGIN { d = a - w; if (d < 0) d = -d; exit !(a != "" && d <= w * r + b) }'; }

# ---- CPU ----
used=$("$LOAD" "${joins[@]}" burn 1.0) || fatal "cg_load burn ran in the cgroup"
usage=$(series shmetrics_cgroup_cpu_usage_seconds_total)
wait_for 10 has_value "$usage" || fatal "$usage is served" "$log"
sleep 1.2 # one more collection, after the burner's exit
got=$(value "$usage")
check "CPU seconds of the cgroup ($got) match what the burner used ($used)" \
	within "$got" "$used" 0.10 0.05
user=$(value "$(series shmetrics_cgroup_cpu_user_seconds_total)")
system=$(value "$(series shmetrics_cgroup_cpu_system_seconds_total)")
check "user ($user) + system ($system) seconds add up to the usage" \
	within "$(awk -v u="$user" -v s="$system" 'BEGIN { print u + s }')" "$got" 0.10 0.05

# ---- memory, tasks, populated ----
if [ -n "$MEM" ]; then
	"$LOAD" "${joins[@]}" alloc 64 20 >"$work/alloc.out" &
	load_pid=$!
	wait_for 10 grep -qs ready "$work/alloc.out" || fatal "the allocator touched 64 MiB"
	sleep 1.2
	mem=$(value "$(series shmetrics_cgroup_memory_usage_bytes)")
	check "memory of the cgroup ($mem) is the 64 MiB touched, within 16 MiB" \
		within "$mem" $((72 << 20)) 0 $((8 << 20))
	anon=$(value "$(series shmetrics_cgroup_memory_stat_bytes ',type="anon"')")
	check "anonymous memory ($anon) at least 64 MiB" within "$anon" $((68 << 20)) 0 $((4 << 20))
	if [ -n "${V1_OF[pids]:-}" ] || grep -qw pids "$V2/cgroup.controllers" 2>/dev/null; then
		check "one task in the cgroup" value_is "$(series shmetrics_cgroup_pids)" 1
	fi
	if [ -n "$V2" ]; then
		check "populated 1 while it runs" value_is "$(series shmetrics_cgroup_populated)" 1
		check "pressure of the cgroup is served" \
			has_value "$(series shmetrics_cgroup_pressure_waiting_seconds_total ',resource="memory"')"
	fi
	kill -TERM "$load_pid"
	wait "$load_pid" 2>/dev/null
	load_pid=""
	if [ -n "$V2" ]; then
		check "populated 0 when it is gone" \
			wait_for 5 value_is "$(series shmetrics_cgroup_populated)" 0
	fi
else
	skip "no memory controller for a cgroup here"
fi

# ---- OOM kill ----
if [ -n "$MEM" ]; then
	mkdir "$MEM/$cg/oom" || fatal "mkdir $MEM/$cg/oom"
	if [ "$MEM" = "$V2" ]; then
		echo +memory >"$V2/$cg/cgroup.subtree_control"
		echo 32M >"$MEM/$cg/oom/memory.max"
		[ -f "$MEM/$cg/oom/memory.swap.max" ] && echo 0 >"$MEM/$cg/oom/memory.swap.max"
	else
		echo 32M >"$MEM/$cg/oom/memory.limit_in_bytes"
		[ -f "$MEM/$cg/oom/memory.memsw.limit_in_bytes" ] &&
			echo 32M >"$MEM/$cg/oom/memory.memsw.limit_in_bytes"
	fi
	oomkill=$(printf 'shmetrics_cgroup_memory_events_total{id="/%s/oom",event="oom_kill"}' "$cg")
	wait_for 5 has_value "$oomkill" || fatal "$oomkill is served" "$log"
	before=$(value "$oomkill")
	"$LOAD" "--join=$MEM/$cg/oom/cgroup.procs" oom 256 >"$work/oom.out" 2>&1 &
	load_pid=$!
	wait "$load_pid" 2>/dev/null
	rc=$?
	load_pid=
	check "the allocator was killed (exit $rc = 128 + SIGKILL)" test "$rc" -eq 137
	oom_counted() { within "$(value "$oomkill")" $((before + 1)) 0 0.5; }
	check "oom_kill of the cgroup went up from $before" wait_for 5 oom_counted
	limit=$(value "$(printf 'shmetrics_cgroup_memory_limit_bytes{id="/%s/oom"}' "$cg")")
	check "its limit is served: $limit" test "$limit" = $((32 << 20))
else
	skip "no memory controller to OOM-kill in"
fi

# ---- the whole output, and removal ----
scrape /metrics | grep 'shmetrics_cgroup' >"$work/cgroup.txt"
check "promtool accepts the cgroup families" promtool_clean "$work/cgroup.txt"
check "one info series per cgroup, whatever hierarchies it is in" \
	test "$(grep -c "^shmetrics_cgroup_info{id=\"/$cg\"" "$work/cgroup.txt")" -eq 1
for h in "${HIERS[@]}"; do
	[ -d "$h/$cg/oom" ] && rmdir "$h/$cg/oom"
	rmdir "$h/$cg"
done
check "the series are gone with the cgroups" wait_for 5 not_served "id=\"/$cg"

stop_pid "$agent_pid"
agent_pid=""
finish "$log"
