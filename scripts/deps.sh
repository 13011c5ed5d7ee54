#!/bin/sh
# Checks the build and test dependencies; installs the missing ones with apt when
# running as root on Debian, otherwise prints the exact command to run.
#   scripts/deps.sh          everything make test needs (make deps, make test, make run)
#   scripts/deps.sh --build  only what building needs (the container image's build stage)
#   scripts/deps.sh --check  only what building needs; installs nothing, names what is
#                            missing and fails (make all)
set -u

build_pkgs="gcc make pkg-config libmicrohttpd-dev libjansson-dev zlib1g-dev libgnutls28-dev libyaml-dev libcrypt-dev libsystemd-dev libprotobuf-c-dev protobuf-c-compiler libsnappy-dev libcurl4-gnutls-dev"
test_pkgs="libcmocka-dev chromium nodejs prometheus prometheus-node-exporter curl jq valgrind clang libclang-rt-dev python3-yaml python3-prometheus-client openssl wrk dpkg-dev iproute2 systemd dbus-daemon python3-dbus python3-gi protobuf-compiler"
mode=${1:-}

missing_for() {
	out=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			out="$out $p"
	done
	echo "$out"
}

if ! command -v dpkg-query >/dev/null 2>&1; then
	[ "$mode" = --check ] || echo "deps: not a Debian system; install the equivalents of:" \
		"$build_pkgs $test_pkgs"
	exit 0
fi

if [ "$mode" = --check ] || [ "$mode" = --build ]; then
	# shellcheck disable=SC2086
	missing=$(missing_for $build_pkgs)
else
	# shellcheck disable=SC2086
	missing=$(missing_for $build_pkgs $test_pkgs)
fi
[ -z "$missing" ] && exit 0
if [ "$mode" = --check ]; then
	echo "deps: missing build packages:$missing" >&2
	echo "deps: run 'make deps' as root, or: sudo apt-get install -y$missing" >&2
	exit 1
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null &&
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		{ echo "deps: apt-get install$missing failed" >&2; exit 1; }
	exit 0
fi
echo "deps: missing packages:$missing" >&2
echo "deps: run: sudo apt-get install -y$missing" >&2
exit 1
