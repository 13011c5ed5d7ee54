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
# reproducers of bugs found earlier, kept so that they stay fixed; replaying them
# is what guards against regressions.  When exploring then finds a crash, leak,
# out-of-memory or timeout, the input libFuzzer saved is replayed alone: if it
# fails again it is copied there and the run fails (fix the bug, add a unit test,
# keep the input); a timeout that does not come back alone is reported (the
# machine was busy) without failing, and any other failure that does not come
# back alone fails the run as a harness that keeps state between inputs.
# Long runs merge their new inputs into the corpus; a corpus of more than
# FUZZ_CORPUS_MAX (1000) files is then minimised (-merge into an empty one).
# Without clang's libFuzzer the run is skipped with a message (exit 0).
set -u
cd "$(dirname "$0")/../.." || exit 1

mode=short
case "${1:-}" in
--short) shift ;;
--long) mode=long; shift ;;
esac
secs=${FUZZ_SECONDS:-$([ $mode = long ] && echo 600 || echo 8)}
corpus_max=${FUZZ_CORPUS_MAX:-1000}
limits=(-timeout=10 -rss_limit_mb=2048)
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
	wal) echo "$FB/libshmetrics-shipper.a $FB/libshmetrics-segment.a" ;;
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
				-Ilib -Iinclude -Iconfig -Iformat -Iexporter -Icollectors -Ishipper \
				-fsanitize=fuzzer $SAN -pthread "$src" $libs $pkglibs -o "$out" || return 1
		fi
	done
}

# replay TARGET: every kept reproducer must now pass.
replay() {
	local dir=tests/fuzz/crashes/$1
	compgen -G "$dir/*" >/dev/null || return 0
	echo "--- replaying $(ls "$dir" | wc -l) reproducers of $1"
	"$FB/fuzz_$1" "${limits[@]}" -runs=0 "$dir"/* >"$work/$1.replay" 2>&1 || {
		tail -n 30 "$work/$1.replay"
		return 1
	}
}

# keep_failure TARGET: replays alone each input libFuzzer saved for the
# failure; the ones that fail again are kept under tests/fuzz/crashes/TARGET/.
# Returns 0 only when the failure was a timeout that did not come back.
keep_failure() {
	local t=$1 art name kind kept=0 gone=0 hard=0
	mkdir -p "tests/fuzz/crashes/$t" "$FB/unreproduced/$t"
	for art in "$work/$t.crash"/*; do
		[ -f "$art" ] || continue
		name=$(basename "$art")
		kind=${name%%-*} # crash, leak, oom, timeout, slow-unit
		if "$FB/fuzz_$t" "${limits[@]}" -runs=0 "$art" >"$work/$t.again" 2>&1; then
			cp "$art" "$FB/unreproduced/$t/"
			echo "  $name: passes when replayed alone (kept in $FB/unreproduced/$t/)"
			gone=$((gone + 1))
			case $kind in timeout | slow) ;; *) hard=$((hard + 1)) ;; esac
		else
			cp "$art" "tests/fuzz/crashes/$t/"
			echo "  $name: fails again when replayed alone; kept as tests/fuzz/crashes/$t/$name"
			kept=$((kept + 1))
		fi
	done
	if [ $kept -gt 0 ]; then
		echo "FAIL: fuzz_$t: fix the bug, add a unit test; the input stays as the reproducer"
		return 1
	fi
	if [ $gone -eq 0 ]; then
		echo "FAIL: fuzz_$t failed without saving an input (see the log above)"
		return 1
	fi
	if [ $hard -eq 0 ]; then
		echo "WARN: fuzz_$t: a timeout that does not come back alone (a busy machine); not a failure"
		return 0
	fi
	echo "FAIL: fuzz_$t: the failure does not come back from its input alone; the harness" \
		"keeps state between inputs or depends on timing: fix the harness"
	return 1
}

# merge_corpus TARGET: adds the new inputs that bring coverage; minimises a
# corpus that has grown past corpus_max files.
merge_corpus() {
	local t=$1 corpus=tests/fuzz/corpus/$1 min=$work/$1.min
	"$FB/fuzz_$t" -merge=1 "$corpus" "$work/$t.new" >"$work/$t.merge" 2>&1 ||
		tail -n 5 "$work/$t.merge"
	[ "$(find "$corpus" -type f | wc -l)" -gt "$corpus_max" ] || return 0
	mkdir -p "$min"
	if "$FB/fuzz_$t" -merge=1 "$min" "$corpus" >"$work/$t.min.log" 2>&1 &&
		[ -n "$(ls -A "$min")" ]; then
		echo "  corpus minimised: $(find "$corpus" -type f | wc -l) -> $(ls "$min" | wc -l) inputs"
		find "$corpus" -type f -delete
		cp "$min"/* "$corpus"/
	else
		tail -n 5 "$work/$t.min.log"
	fi
}

fuzz() {
	local t=$1 corpus=tests/fuzz/corpus/$1 out=$work/$1.new log=$work/$1.log
	mkdir -p "$out" "$corpus" "$work/$t.crash"
	"$FB/fuzz_$t" -max_total_time="$secs" "${limits[@]}" -print_final_stats=1 \
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
		keep_failure "$t" || return 1
	fi
	[ $mode = long ] && merge_corpus "$t"
	return 0
}

main() {
	local rc=0 t
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	build || { echo "FAIL: building the fuzz harnesses"; return 1; }
	for t in "${targets[@]}"; do
		echo "=== fuzz_$t: $secs s"
		replay "$t" || rc=1
		fuzz "$t" || rc=1
	done
	return $rc
}

# One line, read whole before it runs: editing this file during a long run
# cannot change what the run does next.
main; exit $?
