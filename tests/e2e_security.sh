#!/usr/bin/env bash
# The attacks of docs/security.md, each as the untrusted party would make it,
# against an agent run the way the package runs it: as an unprivileged service
# user, with systemd's RuntimeDirectory.  Every attack must do no harm:
#  1. squatting: FIFOs and files planted at the old /dev/shm names, a squatted
#     /tmp fallback directory, a file planted in the segment directory;
#  2. forging: a segment of its own served as another collector;
#  3. growing: a writer in an external collector's group grows its segment and
#     its limits and publishes a million series; a worker of a collector with
#     workers scribbles it, then declares 1024 workers;
#  4. plugins: a "command" and an "exec" plugin that write junk into every
#     segment, descriptor and process they can reach;
#  5. textfile: a symbolic link to a secret, a bad value;
#  6. orphans: daemons left behind by plugins, after a reload and a stop;
#  7. wrong passwords from 8 clients while an authorised scraper scrapes.
# It creates two users and a group (removed at exit).  Root only.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

HELPERS=${HELPERS:-build/tests/helpers}
if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null || ! command -v setpriv >/dev/null; then
	skip "not root, or no useradd/setpriv: the attacks need users of their own"
	finish
	exit 0
fi

svc=shmsec$$ evil=shmevil$$ appgrp=shmapp$$
inst="sec$$"
work=$(mktemp -d)
run=/run/shmsec$$ # systemd's RuntimeDirectory=, owned by the service user
log="$work/agent.log"
agent_pid="" pids=()
secret="$work/secret/db_password"
stray=$((9000 + $$ % 1000)).$$ # the seconds every daemon left behind sleeps

cleanup() {
	for p in "${pids[@]}" $agent_pid; do kill -KILL "$p" 2>/dev/null; done
	pkill -KILL -f "instance=$inst( |$)" 2>/dev/null
	pkill -KILL -f "^sleep $stray$" 2>/dev/null
	# Whatever the test's users still run (their user ids may be reused).
	for u in "$svc" "$evil"; do id -u "$u" >/dev/null 2>&1 && pkill -KILL -u "$u"; done
	userdel "$svc" 2>/dev/null
	userdel "$evil" 2>/dev/null
	groupdel "$appgrp" 2>/dev/null
	rm -rf "$work" "$run" /dev/shm/shmetrics."$inst".* "/tmp/shmetrics-$svc_uid" "/tmp/shmevil$$"
}
svc_uid=none
trap cleanup EXIT

# In the background, "${evil_cmd[@]}" CMD &: $! is then CMD itself (setpriv execs
# it), where a function run with & would leave $! to a subshell and CMD orphaned.
evil_cmd=(setpriv --reuid="$evil" --regid="$evil" --init-groups)
as_evil() { "${evil_cmd[@]}" "$@"; }
strays() { pgrep -c -f "^sleep $stray$" || true; }

groupadd --system "$appgrp" || fatal "groupadd $appgrp"
useradd --system --no-create-home --shell /usr/sbin/nologin --user-group -G "$appgrp" "$svc" ||
	fatal "useradd $svc"
useradd --system --no-create-home --shell /usr/sbin/nologin --user-group -G "$appgrp" "$evil" ||
	fatal "useradd $evil"
svc_uid=$(id -u "$svc")
chmod 0755 "$work"
install -d -m 0755 -o "$svc" -g "$svc" "$run"
install -d -m 0700 -o "$svc" -g "$svc" "$work/secret"
printf 'db_password Sup3rS3cret\n' >"$secret"
chown "$svc:$svc" "$secret"
chmod 0600 "$secret"
install -d -m 1777 "$work/textfile" # a directory others may write, as some hosts have
printf '# TYPE e2e_textfile_ok gauge\ne2e_textfile_ok 1\n' >"$work/textfile/ok.prom"

# ---- 1. squatting, before the agent starts ----
for name in agent cpu loadavg ext evil; do
	as_evil mkfifo "/dev/shm/shmetrics.$inst.$name" 2>/dev/null
done
as_evil touch "/dev/shm/shmetrics.$inst.stat"

cat >"$work/config.json" <<EOF
{
  "instance": "$inst",
  "interval": "500ms",
  "web": { "listen_address": "127.0.0.1:0" },
  "collectors": { "cpu": { "enabled": true }, "loadavg": { "enabled": true },
                  "textfile": { "enabled": true, "directory": "$work/textfile" } },
  "custom_collectors": {
    "ext": { "external": true, "group": "$appgrp", "mode": "0660", "interval": "500ms",
             "max_series": 1000 },
    "pool": { "external": true, "group": "$appgrp", "mode": "0660", "interval": "500ms",
              "max_series": 1000, "workers": 2 },
    "evil": { "command": ["$PWD/tests/fixtures/security/hostile_plugin.sh"],
              "env": { "ATTACK_DIR": "$run", "STRAY_SECONDS": "$stray" } },
    "ex": { "exec": ["$PWD/tests/fixtures/security/hostile_exec.sh"], "interval": "1s",
            "env": { "ATTACK_DIR": "$run", "STRAY_SECONDS": "$stray" } }
  }
}
EOF
chmod 0644 "$work/config.json"
start_svc_agent() {
	RUNTIME_DIRECTORY=$run setpriv --reuid="$svc" --regid="$svc" --init-groups \
		--inh-caps=-all --no-new-privs "$BIN/shmetrics-agent" --config "$work/config.json" \
		--collector.disable-defaults --collector.cpu --collector.loadavg \
		--collector.textfile "$@" >>"$log" 2>&1 &
	agent_pid=$!
	await_port "$log" 15
}
start_svc_agent || fatal "the agent starts as $svc beside the planted FIFOs" "$log"
ok "the agent started as its service user, FIFOs planted at every old /dev/shm name"
check "its segments are in its RuntimeDirectory, mode 0751" \
	test "$(stat -c %a:%U "$run/$inst")" = "751:$svc"
check "every collector is served" wait_for 10 bash -c \
	"curl -fsS http://127.0.0.1:$port/metrics | grep -q '^node_load1 ' &&
	 curl -fsS http://127.0.0.1:$port/metrics | grep -q '^node_cpu_seconds_total{'"
check "another user cannot create a file in the segment directory" \
	bash -c "! setpriv --reuid=$evil --regid=$evil --init-groups touch '$run/$inst/forged.seg' 2>/dev/null"
check "shmetrics list answers at once (nothing waits on a FIFO)" \
	timeout 5 "$BIN/shmetrics" --segments.directory="$run" --instance="$inst" list
mkdir -p "$work/squat"
install -d -m 0755 -o "$evil" -g "$evil" "/tmp/shmetrics-$svc_uid"
out=$(env -u RUNTIME_DIRECTORY -u XDG_RUNTIME_DIR timeout 10 setpriv --reuid="$svc" \
	--regid="$svc" --init-groups "$BIN/shmetrics-agent" --instance="${inst}q" \
	--web.listen-address=127.0.0.1:0 2>&1)
rc=$?
check "a squatted /tmp fallback is refused at once with the reason (exit $rc)" \
	bash -c "[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q 'belongs to another user' <<<'$out'"

# ---- 2. forging: a valid segment of evil's own, at ext's old name ----
as_evil rm -f "/dev/shm/shmetrics.$inst.ext"
"${evil_cmd[@]}" "$HELPERS/invariant_writer" --segments.directory="/tmp/shmevil$$" \
	--instance=x --collector=ext --create --pause-us=1000000 >/dev/null 2>&1 &
pids+=($!)
wait_for 5 test -e "/tmp/shmevil$$/x/ext.seg"
as_evil cp "/tmp/shmevil$$/x/ext.seg" "/dev/shm/shmetrics.$inst.ext"
kill -HUP "$agent_pid" # a reload: the moment the old design handed names over
sleep 2
check "a forged segment, valid and planted at the old name, is not served" \
	not_served '^hammer_value'
check "... and ext is what the agent made: no writer yet" \
	served_line 'shmetrics_collector_up{collector="ext"} 0'
kill -KILL "${pids[-1]}"

# ---- 3. growing: an application in ext's group ----
ext="$run/$inst/ext.seg"
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$(exporter_pid)/status"; }
wait_for 10 served_line 'shmetrics_collector_up{collector="cpu"} 1'
scrape >/dev/null
before=$(rss_kb)
"${evil_cmd[@]}" "$HELPERS/hostile_writer" grow "$ext" 1000000 >"$work/grow.log" 2>&1 &
pids+=($!)
check "the hostile application publishes a million series into its grown segment" \
	wait_for 60 grep -q 'published 1000000 series' "$work/grow.log"
check "the exporter reports ext down, with its reason" wait_for 10 bash -c \
	"curl -fsS http://127.0.0.1:$port/metrics.json | grep -q 'larger than this reader accepts'"
scrape /metrics.json >/dev/null
after=$(rss_kb)
check "the exporter's memory stayed put (RSS ${before} kB, then ${after} kB)" \
	test $((after - before)) -lt 32768
check "the other collectors are still served" served_line 'shmetrics_collector_up{collector="cpu"} 1'
kill -KILL "${pids[-1]}"
as_evil "$HELPERS/hostile_writer" junk "$ext" 2 &&
	as_evil "$HELPERS/hostile_writer" shrink "$ext" 100
check "junk and a truncation of ext leave the others served" \
	served_line 'shmetrics_collector_up{collector="loadavg"} 1'

# ---- 3b. workers: an application in pool's group, as two workers ----
pool="$run/$inst/pool.seg"
"${evil_cmd[@]}" env PYTHONPATH="$PWD/python" SHMETRICS_SEGMENTS_DIR="$run" SHMETRICS_INSTANCE="$inst" \
	/usr/bin/python3 -c '
import os, time, shmetrics
c = shmetrics.Collector("pool", interval=0.2)
c.counter("pool_jobs_total", "Jobs.").inc(5)
if os.fork() == 0:
    c.counter("pool_jobs_total", "Jobs.").inc(7)
time.sleep(120)' "pool-workers" "instance=$inst" >"$work/pool.log" 2>&1 &
check "two workers of pool are served as one collector" wait_for 10 served_line 'pool_jobs_total 12'
before=$(rss_kb)
as_evil "$HELPERS/hostile_writer" slots "$pool"
check "a worker that scribbles pool's slots makes pool unreadable, naming a slot" wait_for 10 \
	bash -c "curl -fsS http://127.0.0.1:$port/metrics.json | grep -q 'pool.seg: slot [0-9]* holds a corrupt batch'"
check "... and leaves the others served" served_line 'shmetrics_collector_up{collector="loadavg"} 1'
pkill -KILL -f "pool-workers instance=$inst\$"
as_evil "$HELPERS/hostile_writer" workers "$pool" 1024 >"$work/workers.log" 2>&1
check "pool declaring 1024 workers is refused with the reason" wait_for 10 bash -c \
	"curl -fsS http://127.0.0.1:$port/metrics.json | grep -q 'pool.seg refused: it declares more workers than this reader accepts'"
scrape /metrics.json >/dev/null
after=$(rss_kb)
check "the exporter's memory stayed put (RSS ${before} kB, then ${after} kB)" \
	test $((after - before)) -lt 32768
check "the other collectors are still served" served_line 'shmetrics_collector_up{collector="cpu"} 1'

# ---- 4. plugins ----
check "the hostile command plugin ran" wait_for 20 grep -q 'hostile: done' "$log"
check "it reached nothing of another collector's or process's" \
	bash -c "! grep -E 'hostile(-exec)?: (reached|killed [0-9]+ \\([^)]*shmetrics)' '$log' |
		grep -v 'reached /proc/self/fd'"
check "it could scribble its own segment" grep -q 'hostile: scribbled its own segment' "$log"
check "the hostile exec command ran and is served" wait_for 10 served_line 'hostile_exec_runs 1'
group=$(collector_pid cpu)
exp=$(exporter_pid)
sleep 2
check "the agent is alive" kill -0 "$agent_pid"
check "the collector process and the exporter were not touched (same pids)" \
	bash -c "[ '$(collector_pid cpu)' = '$group' ] && [ '$(exporter_pid)' = '$exp' ]"
check "the built-in collectors are up with their values" \
	bash -c "curl -fsS http://127.0.0.1:$port/metrics | grep -q '^node_load1 ' &&
		curl -fsS http://127.0.0.1:$port/metrics | grep -q '^shmetrics_collector_up{collector=\"loadavg\"} 1'"

# ---- 5. textfile ----
ln -s "$secret" "$work/textfile/leak.prom"
printf 'db_password Sup3rS3cret\n' >"$work/textfile/bad.prom"
sleep 1.5
scrape /metrics.json >"$work/m.json"
scrape >"$work/m.txt"
check "the secret behind a symbolic link is not read" \
	grep -q 'leak.prom.*symbolic link' "$work/m.json"
check "no error or metric shows the secret" \
	bash -c "! grep -q 'Sup3rS3cret' '$work/m.json' '$work/m.txt' '$log'"
check "the other text files are still served" grep -q '^e2e_textfile_ok 1$' "$work/m.txt"

# ---- 6. orphans ----
check "the plugins' daemons run while their collectors do" test "$(strays)" -gt 0
sed -i 's/"interval": "1s",/"interval": "2s",/' "$work/config.json" # restarts ex
kill -HUP "$agent_pid"
check "a reload that restarts the exec collector ends what its runs left" wait_for 10 \
	bash -c "[ \$(pgrep -f '^sleep $stray\$' | wc -l) -le 2 ]"
stop_pid "$agent_pid" 20
rc=$?
agent_pid=""
check "SIGTERM ends the agent (exit $rc) within its stop timeout" test $rc -eq 0
check "nothing a plugin started is left" wait_for 5 test "$(strays)" -eq 0
check "its segment directory is gone" test ! -e "$run/$inst"

# ---- 7. wrong passwords from 8 clients ----
hash=$("$HELPERS/bcrypt_hash" s3cret 14)
if [ -n "$hash" ]; then
	printf 'basic_auth_users:\n  alice: '"'%s'"'\n' "$hash" >"$work/web.yml"
	"$BIN/shmetrics-exporter" --segments.directory="$work" --instance=none \
		--web.listen-address=127.0.0.1:0 --collector=none \
		--web.config.file="$work/web.yml" >"$work/auth.log" 2>&1 &
	pids+=($!)
	await_port "$work/auth.log" 10 || fatal "the exporter with basic auth starts" "$work/auth.log"
	url="http://127.0.0.1:$port/metrics"
	curl -fsS -u alice:s3cret -o /dev/null "$url" # the one bcrypt of the right password
	for i in $(seq 8); do
		(while [ ! -e "$work/stop" ]; do
			curl -s -o /dev/null -u "alice:wrong$i-$RANDOM" --max-time 30 "$url"
		done) &
		pids+=($!)
	done
	sleep 1
	worst=0 refused=0
	for _ in $(seq 40); do
		t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -u alice:s3cret --max-time 30 "$url")
		[ "${t% *}" = 200 ] || refused=$((refused + 1))
		ms=$(awk -v s="${t#* }" 'BEGIN { printf "%d", s * 1000 }')
		[ "$ms" -gt "$worst" ] && worst=$ms
		sleep 0.05
	done
	touch "$work/stop"
	check "every authorised scrape succeeds while 8 clients send wrong passwords" test $refused -eq 0
	# One bcrypt at cost 14 takes about a second here: a scrape that waited for
	# one would show it.  Scrapes remembered are answered without any.
	check "no authorised scrape waited for an attacker's bcrypt (slowest ${worst} ms)" \
		test "$worst" -lt 500
	check "the wrong passwords got 401 or 429, never 200" \
		test "$(curl -s -o /dev/null -w '%{http_code}' -u alice:nope "$url")" != 200
else
	not_ok "bcrypt_hash makes a hash"
fi

finish "$log"
