/*
 * test_collectors_systemd.c - what the systemd collector does without a
 * systemd: refused options, and a bus that is not there failing the collection
 * at once with the address and the reason.  The conversation itself is tested
 * end to end against a fake systemd on a private bus (tests/e2e_systemd.sh).
 */
#include "collector_harness.h"

#include <time.h>

static int start_with(struct run *r, const char *const *keys, const char *const *values, size_t n)
{
	const struct collector_env env = { .procfs = NO_SUCH_DIR,
					   .sysfs = NO_SUCH_DIR,
					   .n_options = n,
					   .option_keys = keys,
					   .option_values = values };
	return run_start(r, "systemd", &env, NULL);
}

static void test_systemd_refuses_a_unit_regex_that_does_not_compile(void **unused)
{
	(void)unused;
	const char *const k[] = { "unit-include" }, *const v[] = { "(ssh" };
	struct run r;
	assert_int_equal(start_with(&r, k, v, 1), -EINVAL);
	assert_non_null(strstr(r.err, "unit-include"));
}

static void test_systemd_refuses_a_zero_timeout(void **unused)
{
	(void)unused;
	const char *const k[] = { "timeout" }, *const v[] = { "0s" };
	struct run r;
	assert_int_equal(start_with(&r, k, v, 1), -EINVAL);
	assert_non_null(strstr(r.err, "timeout"));
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_systemd_without_a_bus_fails_at_once_with_the_address(void **unused)
{
	(void)unused;
	const char *const k[] = { "bus-address", "timeout" };
	const char *const v[] = { "unix:path=/nonexistent-shmetrics-bus", "5s" };
	struct run r;
	char *dump;

	assert_int_equal(start_with(&r, k, v, 2), 0);
	for (int cycle = 0; cycle < 2; cycle++) {
		double t0 = mono();
		assert_int_equal(run_cycle(&r, &dump), -ENOENT);
		assert_true(mono() - t0 < 2.0);
		assert_non_null(
		    strstr(r.err, "connecting to unix:path=/nonexistent-shmetrics-bus"));
		assert_string_equal(dump, "");
		free(dump);
	}
	run_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_systemd_refuses_a_unit_regex_that_does_not_compile),
		cmocka_unit_test(test_systemd_refuses_a_zero_timeout),
		cmocka_unit_test(test_systemd_without_a_bus_fails_at_once_with_the_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
