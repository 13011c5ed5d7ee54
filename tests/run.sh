#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it.  Each step prints its
# output and a PASS/FAIL line; the last line counts the steps:
#   tests: N passed, M failed
set -u
cd "$(dirname "$0")/.." || exit 1

JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
export HAMMER_SECONDS=${HAMMER_SECONDS:-5}
passed=0
failed=0
failures=()

step() {
	local name=$1 started=$SECONDS
	shift
	echo "=== $name"
	if "$@"; then
		echo "--- PASS: $name ($((SECONDS - started)) s)"
		passed=$((passed + 1))
	else
		echo "--- FAIL: $name ($((SECONDS - started)) s)"

		failed=$((failed + 1))
		failures+=("$name")
	fi
}

# Builds every program and test binary of one build flavour.
build() {
	make -s -j"$JOBS" "$@" all tests
}

unit_tests() {
	local dir=$1 rc=0
	for t in "$dir"/tests/test_*; do
		[ -x "$t" ] || continue
		echo "--- $t"
		"$t" || rc=1
	done
	return $rc
}

valgrind_tests() {
	local rc=0
	for t in build/tests/test_segment build/tests/test_config build/tests/test_settings \
		build/tests/test_render build/tests/test_collectors build/tests/test_collectors_optin \
		build/tests/test_collectors_new build/tests/test_collectors_net build/tests/test_client \
		build/tests/test_custom build/tests/test_procstat build/tests/test_promtext \
		build/tests/test_textfile build/tests/test_exec build/tests/test_collectors_cgroup \
		build/tests/test_collectors_proc \
		build/tests/test_collectors_systemd build/tests/test_history \
		build/tests/test_shipper_encode build/tests/test_shipper_wal \
		build/tests/test_remote_write_config; do
		[ -x "$t" ] || continue
		echo "--- valgrind $t"
		valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
			"$t" >/dev/null || rc=1
	done
	return $rc
}

step "build" build
step "unit tests" unit_tests build
step "build with AddressSanitizer and UndefinedBehaviorSanitizer" build SANITIZE=address,undefined
step "unit tests under ASan+UBSan" unit_tests build/address-undefined
step "build with ThreadSanitizer" make -s -j"$JOBS" SANITIZE=thread build/thread/tests/test_hammer \
	build/thread/tests/test_segment build/thread/tests/test_client build/thread/tests/test_worker
step "hammer, segment, client and worker tests under TSan" unit_tests build/thread
step "unit tests under valgrind" valgrind_tests
step "fuzzing, short runs (tests/fuzz/run.sh)" tests/fuzz/run.sh --short
for e2e in tests/e2e_*.sh; do
	[ -f "$e2e" ] || continue
	step "end-to-end: $(basename "$e2e" .sh)" bash "$e2e"
done

echo
if [ "$failed" -gt 0 ]; then
	printf 'failed step: %s\n' "${failures[@]}"
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
