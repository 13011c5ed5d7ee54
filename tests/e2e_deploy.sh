#!/usr/bin/env bash
# Deployment, end to end (docs/operations.md):
#  - `make install` lays out programs, man pages, config, unit and sysusers file
#    under PREFIX/DESTDIR, and `make uninstall` takes them away again;
#  - the systemd unit passes `systemd-analyze verify`, and its exposure score
#    (`systemd-analyze security --offline`) stays low;
#  - `make deb` builds a package whose metadata and contents are right; dpkg
#    installs it into a scratch root (its postinst creates the user there), the
#    agent runs from that root as an unprivileged user without capabilities and
#    serves real metrics; an upgrade keeps an edited conffile; remove and purge
#    leave nothing but the user;
#  - dpkg -i and dpkg -P on this system's own root, seen through a throw-away
#    overlay: real dependencies, adduser, the ldconfig trigger;
#  - the container's command line (host under /host, read-only) works, emulated
#    with bind mounts in a private mount namespace since no engine runs here;
#  - the Kubernetes manifests and the Prometheus configs pass structural checks
#    and promtool.
set -u
cd "$(dirname "$0")/.." || exit 1

. tests/lib/e2e.sh

work=$(mktemp -d)
chmod 0755 "$work" # the unprivileged agents below run programs from under it
inst="deploy$$"
agent_pid=""
cleanup() {
	[ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null
	kill_instance "$inst"
	rm -rf "$work"
}
trap cleanup EXIT

# ---- make install / uninstall ----
stage=$work/stage
make -s install PREFIX=/usr DESTDIR="$stage" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log"; not_ok "make install"; }
for f in usr/bin/shmetrics-agent usr/libexec/shmetrics/shmetrics-collector \
	usr/libexec/shmetrics/shmetrics-exporter usr/libexec/shmetrics/shmetrics-shipper \
	usr/share/man/man1/shmetrics-agent.1 \
	etc/shmetrics/config.json usr/lib/systemd/system/shmetrics.service \
	usr/lib/sysusers.d/shmetrics.conf usr/share/doc/shmetrics/example.json \
	usr/share/doc/shmetrics/operations.md; do
	check "make install puts $f in place" test -e "$stage/$f"
done
for m in "$stage"/usr/share/man/man1/*.1; do
	check "the man page $(basename "$m") formats without warnings" \
		bash -c "groff -man -Tutf8 -ww -z '$m' 2>&1 | (! grep .)"
done
echo '{ "instance": "edited" }' >"$stage/etc/shmetrics/config.json"
make -s install PREFIX=/usr DESTDIR="$stage" >/dev/null 2>&1
check "a second make install keeps an edited config" grep -q edited "$stage/etc/shmetrics/config.json"
make -s uninstall PREFIX=/usr DESTDIR="$stage" >/dev/null 2>&1
left=$(cd "$stage" && find . -type f | sort | tr '\n' ' ')
check "make uninstall removes everything but the config (left: $left)" \
	test "$left" = "./etc/shmetrics/config.json "

# ---- systemd unit ----
if command -v systemd-analyze >/dev/null 2>&1; then
	sroot=$work/sroot
	make -s install PREFIX=/usr DESTDIR="$sroot" >/dev/null 2>&1
	unit=$work/shmetrics.service
	# Verify against the staged programs (the unit names /usr/bin/...).
	sed "s#/usr/bin/shmetrics-agent#$sroot/usr/bin/shmetrics-agent#g" \
		"$sroot/usr/lib/systemd/system/shmetrics.service" >"$unit"
	out=$(MANPATH="$sroot/usr/share/man" systemd-analyze verify "$unit" 2>&1)
	check "systemd-analyze verify accepts the unit" test -z "$out"
	[ -n "$out" ] && echo "$out"
	score=$(systemd-analyze security --offline=true "$unit" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	check "the unit's exposure score is at most 2.5 (it is $score)" \
		awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.5) }'
	check "the unit keeps no capability" grep -q '^CapabilityBoundingSet=$' "$unit"
	check "the unit runs as the shmetrics user" grep -q '^User=shmetrics$' "$unit"
	check "the unit gives the remote-write queue a state directory" \
		grep -q '^StateDirectory=shmetrics$' "$unit"
else
	skip "systemd-analyze is not installed; the unit is not verified"
fi

# ---- Debian package ----
if ! command -v dpkg-deb >/dev/null 2>&1; then
	skip "dpkg-deb is not installed; no package test"
else
	deb=$(deploy/debian/build-deb.sh 2>"$work/deb.log" | tail -n 1)
	if [ ! -f "$deb" ]; then
		cat "$work/deb.log"
		not_ok "make deb builds a package"
	else
		ok "make deb builds $deb"
		info=$(dpkg-deb -f "$deb")
		check "the package depends on libmicrohttpd and jansson" \
			grep -q '^Depends:.*libmicrohttpd.*' <<<"$info"
		check "and, for remote write, on libcurl (GnuTLS), libprotobuf-c and libsnappy" \
			bash -c "grep '^Depends:' <<<'$info' | grep libcurl3-gnutls | grep libprotobuf-c |
				grep -q libsnappy"
		check "the configuration is a conffile" \
			bash -c "dpkg-deb --ctrl-tarfile '$deb' | tar -xO ./conffiles | grep -qx /etc/shmetrics/config.json"
		contents=$(dpkg-deb -c "$deb")
		check "files in the package belong to root" \
			bash -c "! awk '{ print \$2 }' <<<'$contents' | grep -v '^root/root$'"
		check "the unit is in /lib/systemd/system" \
			grep -q ' ./lib/systemd/system/shmetrics.service$' <<<"$contents"

		root=$work/root
		mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
		touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
		grep '^root:' /etc/passwd >"$root/etc/passwd"
		grep '^root:' /etc/group >"$root/etc/group"
		: >"$root/etc/shadow"
		: >"$root/etc/gshadow"
		# The scratch root has no libc etc. to satisfy Depends; the scripts run on
		# this host with DPKG_ROOT set (they honour it).
		dpkg_r() { dpkg --root="$root" --force-script-chrootless --force-depends "$@"; }
		dpkg_r -i "$deb" >"$work/dpkg.log" 2>&1
		check "dpkg installs the package into a scratch root" \
			grep -q '^ii  shmetrics ' <(dpkg --root="$root" -l shmetrics 2>/dev/null)
		check "its postinst created the shmetrics system user and group" \
			bash -c "grep -q '^shmetrics:x:[0-9]*:[0-9]*:.*:/nonexistent:/usr/sbin/nologin$' '$root/etc/passwd' &&
				grep -q '^shmetrics:' '$root/etc/group'"
		uid=$(awk -F: '$1 == "shmetrics" { print $3 }' "$root/etc/passwd")
		gid=$(awk -F: '$1 == "shmetrics" { print $3 }' "$root/etc/group")
		check "the config is root:shmetrics 0640" \
			test "$(stat -c '%u:%g %a' "$root/etc/shmetrics/config.json")" = "0:$gid 640"
		check "dpkg's md5sums of the installed files verify" \
			bash -c "cd '$root' && md5sum --quiet -c var/lib/dpkg/info/shmetrics.md5sums"

		# Run it as the unit would: that user, no capabilities, no new privileges.
		log=$work/agent.log
		# systemd's RuntimeDirectory=shmetrics, owned by the service user
		rundir=$work/run-shmetrics
		install -d -m 0755 -o "$uid" -g "$gid" "$rundir"
		RUNTIME_DIRECTORY=$rundir setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs \
			--inh-caps=-all --bounding-set=-all \
			"$root/usr/bin/shmetrics-agent" --config "$root/etc/shmetrics/config.json" \
			--instance="$inst" --web.listen-address=127.0.0.1:0 >"$log" 2>&1 &
		agent_pid=$!
		if await_port "$log" 10; then
			btime=$(awk '/^btime/ { print $2 }' /proc/stat)
			check "the packaged agent, unprivileged, serves this host's boot time" \
				wait_for 30 served_line "node_boot_time_seconds $btime"
			exp=$(exporter_pid)
			check "its children run from the package's libexec" \
				test "$(readlink "/proc/$exp/exe")" = "$root/usr/libexec/shmetrics/shmetrics-exporter"
			check "its segments belong to the shmetrics user, in its RuntimeDirectory" \
				test "$(stat -c %u "$rundir/$inst/cpu.seg")" = "$uid"
		else
			cat "$log"
			not_ok "the packaged agent starts"
		fi
		stop_pid "$agent_pid" 10
		check "the packaged agent stops cleanly" test $? -eq 0
		agent_pid=""

		echo '{ "instance": "edited" }' >"$root/etc/shmetrics/config.json"
		dpkg_r -i "$deb" >>"$work/dpkg.log" 2>&1
		check "reinstalling (an upgrade) keeps the edited conffile" \
			grep -q edited "$root/etc/shmetrics/config.json"
		dpkg_r -r shmetrics >>"$work/dpkg.log" 2>&1
		left=$(cd "$root" && find . -path ./var/lib/dpkg -prune -o -type f -print | sort | tr '\n' ' ')
		check "dpkg -r removes the files and keeps the conffile (left: $left)" \
			bash -c "[[ '$left' == *./etc/shmetrics/config.json* ]] && [[ '$left' != *usr/* ]] && [[ '$left' != *lib/* ]]"
		dpkg_r -P shmetrics >>"$work/dpkg.log" 2>&1
		left=$(cd "$root" && find . -path ./var/lib/dpkg -prune -o -print | sort |
			grep -v -e '^\./etc/\(passwd\|group\|shadow\|gshadow\)-\?$' -e '^\./etc/\.pwd\.lock$' |
			tr '\n' ' ')
		check "dpkg -P leaves nothing but the accounts files (left: $left)" \
			test "$left" = ". ./etc ./var ./var/lib "
		[ $fails -gt 0 ] && cat "$work/dpkg.log"
	fi
fi

# ---- dpkg -i on this very system, through a copy-on-write overlay ----
# The machine's own root seen through an overlay in a private mount namespace:
# dpkg resolves the real dependencies, adduser runs, triggers fire, and every
# change lands in a scratch upper directory that is thrown away.
ovl=$work/ovl
if [ -n "${deb:-}" ] && [ -f "${deb:-}" ] && [ "$(id -u)" = 0 ] && mkdir -p "$ovl"/{u,w,m} &&
	unshare -m true 2>/dev/null; then
	cp "$deb" "$work/pkg.deb"
	unshare -m --propagation private bash -c "
		set -e
		mount -t overlay overlay -o lowerdir=/,upperdir='$ovl/u',workdir='$ovl/w' '$ovl/m'
		mount --rbind /dev '$ovl/m/dev'
		mount -t proc proc '$ovl/m/proc'
		mount --rbind /sys '$ovl/m/sys'
		mount -t tmpfs tmpfs '$ovl/m/run'
		mkdir -p '$ovl/m/tmp/pkg'
		mount --bind '$work' '$ovl/m/tmp/pkg'
		in_root() { chroot '$ovl/m' \"\$@\"; }
		set +e
		in_root dpkg -i /tmp/pkg/pkg.deb >'$work/ovl.dpkg' 2>&1
		echo \"install \$?\"
		in_root dpkg -s shmetrics | grep -q '^Status: install ok installed' && echo installed
		in_root getent passwd shmetrics | grep -q ':/nonexistent:' && echo user
		in_root ldconfig -p | grep -q libshmetrics.so.0 && echo ldconfig
		in_root setpriv --reuid=shmetrics --regid=shmetrics --clear-groups --no-new-privs \
			--inh-caps=-all --bounding-set=-all /usr/bin/shmetrics-agent \
			--config /etc/shmetrics/config.json --check-config >/dev/null 2>&1 && echo readable
		in_root dpkg -P shmetrics >>'$work/ovl.dpkg' 2>&1
		echo \"purge \$?\"
		in_root test ! -e /usr/bin/shmetrics-agent && in_root test ! -e /etc/shmetrics && echo gone
	" >"$work/ovl.out" 2>&1
	check "dpkg -i installs it on this system (overlay), dependencies satisfied" \
		bash -c "grep -qx 'install 0' '$work/ovl.out' && grep -qx installed '$work/ovl.out'"
	check "... adduser created the shmetrics system user" grep -qx user "$work/ovl.out"
	if [ -n "$(dpkg-deb -c "$deb" | grep 'usr/lib/libshmetrics.so')" ]; then
		check "... the ldconfig trigger made the library known" grep -qx ldconfig "$work/ovl.out"
	fi
	check "... the service user can read its configuration" grep -qx readable "$work/ovl.out"
	check "... dpkg -P removes it and its configuration" \
		bash -c "grep -qx 'purge 0' '$work/ovl.out' && grep -qx gone '$work/ovl.out'"
	[ $fails -gt 0 ] && cat "$work/ovl.out" "$work/ovl.dpkg"
else
	skip "not root, no package or no unshare: no dpkg -i on this system"
fi

# ---- the container's command line, emulated ----
xroot=$work/x
if [ -n "${deb:-}" ] && [ -f "${deb:-}" ] && dpkg -x "$deb" "$xroot" 2>/dev/null &&
	unshare -m true 2>/dev/null; then
	# ENTRYPOINT of deploy/container/Containerfile, with /host moved under $work.
	mapfile -t entry < <(sed -n 's/^ENTRYPOINT \[\(.*\)\]/\1/p' deploy/container/Containerfile |
		tr ',' '\n' | sed 's/^ *"//; s/"$//')
	host=$work/host
	mkdir -p "$host/proc" "$host/sys" "$host/root"
	args=()
	for a in "${entry[@]:1}"; do args+=("${a//\/host/$host}"); done
	log=$work/container.log
	unshare -m --propagation private bash -c "
		mount -t tmpfs -o mode=1777 tmpfs /dev/shm &&
		mount --bind -o ro /proc '$host/proc' && mount --bind -o ro /sys '$host/sys' &&
		mount --rbind / '$host/root' && mount -o remount,bind,ro '$host/root' &&
		exec setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs \
			--inh-caps=-all --bounding-set=-all '$xroot/usr/bin/shmetrics-agent' \
			$(printf "'%s' " "${args[@]}") --instance=${inst}c --web.listen-address=127.0.0.1:0" \
		>"$log" 2>&1 &
	agent_pid=$!
	if await_port "$log" 10; then
		memtotal=$(awk '/^MemTotal:/ { printf "%.0f", $2 * 1024 }' /proc/meminfo)
		check "with the container's flags (host under a read-only /host) the host is reported" \
			wait_for 30 served_line "node_memory_MemTotal_bytes $memtotal"
		check "the child collectors got the /host paths" \
			bash -c "pgrep -f 'run=cpu:.*--path.procfs=$host/proc' >/dev/null"
	else
		cat "$log"
		not_ok "the agent starts with the container's command line"
	fi
	stop_pid "$agent_pid" 10
	agent_pid=""
else
	skip "no package or no unshare: the container command line is not exercised"
fi

# ---- Kubernetes manifests and Prometheus configuration ----
check "the Kubernetes manifests and the Containerfile pass the structural checks" \
	python3 tests/deploy/check_manifests.py
if command -v promtool >/dev/null 2>&1; then
	check "promtool accepts deploy/prometheus-scrape.yml and its alert rules" \
		promtool check config deploy/prometheus-scrape.yml
	out=$(promtool check config deploy/kubernetes/prometheus-scrape.yml 2>&1)
	if grep -q 'field kubernetes_sd_configs not found' <<<"$out"; then
		skip "this promtool is built without Kubernetes discovery; deploy/kubernetes/prometheus-scrape.yml is only parsed"
	else
		check "promtool accepts deploy/kubernetes/prometheus-scrape.yml" \
			promtool check config deploy/kubernetes/prometheus-scrape.yml
	fi
else
	skip "promtool is not installed"
fi

finish
