#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan+UBSan) and runs them.
#
#   tests/fuzz/run.sh [--short|--long] [TARGET...]
#
#   --short  (make test) FUZZ_SECONDS=8 per target; new inputs go to a scratch
#            directory, the committed corpus is only read.
#   --long   (make fuzz) FUZZ_SECONDS=600 per target; afterwards the new inputs
#            are merged (minimised) into tests/fuzz/corpus/TARGET.
#
# Every file under tests/fuzz/crashes/TARGET/ is replayed first: these are the
# reproducers of bugs found earlier, kept so that they stay fixed.  A new crash,
# leak or timeout fails the run and its input is copied there.
# Without clang's libFuzzer the run is skipped with a message (exit 0).
set -u
cd "$(dirname "$0")/../.." || exit 1

mode=short
case "${1:-}" in
--short) shift ;;
--long) mode=long; shift ;;
esac
secs=${FUZZ_SECONDS:-$([ $mode = long ] && echo 600 || echo 8)}
all_targets=()
for f in tests/fuzz/fuzz_*.c; do
	t=$(basename "$f" .c)
	all_targets+=("${t#fuzz_}")
done
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

CLANG=${CLANG:-clang}
FB=build/fuzz
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"

if ! command -v "$CLANG" >/dev/null ||
	! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
	"$CLANG" -x c -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
	echo "SKIP: $CLANG with -fsanitize=fuzzer (libFuzzer) is not available; apt-get install clang"
	exit 0
fi

# The libraries a harness links: only what it needs, so that a half-finished
# change elsewhere does not stop the others.
libs_for() {
	case $1 in
	segment) echo "$FB/libshmetrics-segment.a" ;;
	netlink) echo "collectors/util/nlsock.c collectors/util/ipfmt.c collectors/util/ifnames.c" ;;
	config) echo "$FB/libshmetrics-config.a $FB/libshmetrics-settings.a $FB/libshmetrics-segment.a" ;;
	*) echo "$FB/libshmetrics-exporter.a $FB/libshmetrics-config.a $FB/libshmetrics-settings.a $FB/libshmetrics-format.a $FB/libshmetrics-segment.a" ;;
	esac
}

# Instrumented for coverage (fuzzer-no-link); each harness links them.
build() {
	local pkglibs libs
	# The Makefile's own list, so that a new dependency there needs no change here.
	pkglibs=$(make -s --no-print-directory --eval 'fuzz-print-libs: ; @echo $(PKG_LIBS)' \
		fuzz-print-libs)
	for t in "${targets[@]}"; do
		libs=$(libs_for "$t")
		# shellcheck disable=SC2086
		make -s -j"${JOBS:-2}" CC="$CLANG" BUILD=$FB \
			SANFLAGS="-fsanitize=fuzzer-no-link $SAN" $libs || return 1
		local src=tests/fuzz/fuzz_$t.c out=$FB/fuzz_$t
		[ -f "$src" ] || { echo "no harness $src"; return 1; }
		if [ ! -x "$out" ] || [ -n "$(find "$src" $libs -newer "$out" 2>/dev/null)" ]; then
			"$CLANG" -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror \
				-Ilib -Iinclude -Iconfig -Iformat -Iexporter -Icollectors \
				-fsanitize=fuzzer $SAN -pthread "$src" $libs $pkglibs -o "$out" || return 1
		fi
	done
}

# replay TARGET: every kept reproducer must now pass.
replay() {
	local dir=tests/fuzz/crashes/$1
	compgen -G "$dir/*" >/dev/null || return 0
	echo "--- replaying $(ls "$dir" | wc -l) reproducers of $1"
	"$FB/fuzz_$1" -runs=0 "$dir"/* >"$work/$1.replay" 2>&1 || {
		tail -n 30 "$work/$1.replay"
		return 1
	}
}

fuzz() {
	local t=$1 corpus=tests/fuzz/corpus/$1 out=$work/$1.new log=$work/$1.log
	mkdir -p "$out" "$corpus" "$work/$t.crash"
	"$FB/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/$t.crash/" "$out" "$corpus" >"$log" 2>&1 &
	local pid=$!
	wait $pid
	local rc=$?
	# libFuzzer ends without running atexit handlers: remove the segment
	# directory a harness made (named after its pid).
	rm -rf /tmp/shmetrics-fuzz"$pid"
	grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE)' "$log" |
		tr '\n' ' '
	echo
	if [ $rc -ne 0 ]; then
		tail -n 40 "$log"
		mkdir -p "tests/fuzz/crashes/$t"
		cp "$work/$t.crash"/* "tests/fuzz/crashes/$t/" 2>/dev/null
		echo "FAIL: fuzz_$t (input kept under tests/fuzz/crashes/$t/)"
		return 1
	fi
	if [ $mode = long ]; then
		"$FB/fuzz_$t" -merge=1 "$corpus" "$out" >"$work/$t.merge" 2>&1 ||
			tail -n 5 "$work/$t.merge"
	fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build || { echo "FAIL: building the fuzz harnesses"; exit 1; }
rc=0
for t in "${targets[@]}"; do
	echo "=== fuzz_$t: $secs s"
	replay "$t" || rc=1
	fuzz "$t" || rc=1
done
exit $rc
