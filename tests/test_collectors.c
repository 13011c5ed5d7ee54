/*
 * test_collectors.c - the host collectors against fixture trees shaped like the
 * kernel's files, through the harness in collector_harness.h: each batch is
 * rendered as the exporter renders it and compared with tests/fixtures/golden/.
 */
#include "collector_harness.h"

/* ---- the collectors on real-shaped files ---- */

static void test_cpu_guest_option_off_drops_the_guest_family(void **unused)
{
	static const char *const keys[] = { "guest" }, *const values[] = { "false" };
	struct run r;
	char *dump;
	(void)unused;
	memset(&r, 0, sizeof r);
	r.def = collector_find("cpu");
	r.env = (struct collector_env){ .procfs = FIXTURES "/procfs-basic",
					.sysfs = NO_SUCH_DIR,
					.rootfs = "/",
					.name = "cpu",
					.n_options = 1,
					.option_keys = keys,
					.option_values = values };
	assert_int_equal(r.def->ops->init(&r.state, &r.env, r.err, sizeof r.err), 0);
	struct batch_limits lim;
	batch_limits_default(&lim);
	r.b = batch_new(&lim);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "node_cpu_seconds_total{"));
	assert_null(strstr(dump, "node_cpu_guest_seconds_total"));
	free(dump);
	run_close(&r);
}

static void test_cpu_reports_seconds_per_cpu_and_mode_like_node_exporter(void **unused)
{
	(void)unused;
	expect_golden("cpu", FIXTURES "/procfs-basic", NO_SUCH_DIR, "cpu-basic.txt");
}

static void test_cpu_reports_isolated_cpus_and_thermal_throttles_from_sysfs(void **unused)
{
	(void)unused;
	expect_golden("cpu", FIXTURES "/procfs-basic", FIXTURES "/sysfs-basic", "cpu-sysfs.txt");
}

static void test_meminfo_converts_kb_to_bytes_and_renames_parenthesised_fields(void **unused)
{
	(void)unused;
	expect_golden("meminfo", FIXTURES "/procfs-basic", NO_SUCH_DIR, "meminfo-basic.txt");
}

static void test_loadavg_reports_three_gauges(void **unused)
{
	(void)unused;
	expect_golden("loadavg", FIXTURES "/procfs-basic", NO_SUCH_DIR, "loadavg-basic.txt");
}

static void test_stat_reports_boot_time_switches_forks_interrupts_and_procs(void **unused)
{
	(void)unused;
	expect_golden("stat", FIXTURES "/procfs-basic", NO_SUCH_DIR, "stat-basic.txt");
}

/* ---- edges ---- */

static const char *const all_collectors[] = { "cpu", "meminfo", "loadavg", "stat" };
#define N_ALL (sizeof all_collectors / sizeof all_collectors[0])

static void test_missing_files_are_skipped_quietly(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < N_ALL; i++) {
		struct run r;
		run_open(&r, all_collectors[i], NO_SUCH_DIR, NO_SUCH_DIR);
		expect_cycle(&r, "");
		run_close(&r);
	}
}

static void test_zero_length_files_give_no_series_and_no_error(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	write_file(dir, "stat", "");
	write_file(dir, "meminfo", "");
	write_file(dir, "loadavg", "");
	write_file(dir, "devices/system/cpu/isolated", "");
	for (size_t i = 0; i < N_ALL; i++) {
		struct run r;
		run_open(&r, all_collectors[i], dir, dir);
		expect_cycle(&r, "");
		run_close(&r);
	}
	remove_tree(dir);
}

static void test_an_unreadable_file_fails_the_collection_with_its_path(void **unused)
{
	(void)unused;
	static const char *const files[] = { "stat", "meminfo", "loadavg", "stat" };
	char *dir = make_tree();
	char path[512];
	for (size_t i = 0; i < N_ALL; i++) {
		/* A directory opens but cannot be read, even by root. */
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		mkdir(path, 0755);
		struct run r;
		char *dump;
		run_open(&r, all_collectors[i], dir, dir);
		assert_int_equal(run_cycle(&r, &dump), -EISDIR);
		assert_non_null(strstr(r.err, path));
		free(dump);
		run_close(&r);
	}
	remove_tree(dir);
}

static const struct edge_case edge_cases[] = {
	{ "cpu", "stat",
	  "cpu  1 2 3 4\n"
	  "cpufreq 1 2 3\n"
	  "cpu0 100 x 100 100 0 0 0 0 0 0\n"                 /* garbled: the line is dropped */
	  "cpu1 100 200\n"                                   /* an old kernel's short line */
	  "cpu2 99999999999999999999999 0 0 0 0 0 0 0 0 0\n" /* overflows */
	  "cpu-3 1 1 1 1 1 1 1 1 1 1\n"
	  "cpu4 -1 1 1 1 1 1 1 1 1 1\n"
	  "intr 5\n",
	  "node_cpu_seconds_total{cpu=\"1\",mode=\"user\"} 1\n"
	  "node_cpu_seconds_total{cpu=\"1\",mode=\"nice\"} 2\n"
	  "node_cpu_seconds_total{cpu=\"1\",mode=\"system\"} 0\n"
	  "node_cpu_seconds_total{cpu=\"1\",mode=\"idle\"} 0\n"
	  "node_cpu_seconds_total{cpu=\"1\",mode=\"iowait\"} 0\n"
	  "node_cpu_seconds_total{cpu=\"1\",mode=\"irq\"} 0\n"
	  "node_cpu_seconds_total{cpu=\"1\",mode=\"softirq\"} 0\n"
	  "node_cpu_seconds_total{cpu=\"1\",mode=\"steal\"} 0\n"
	  "node_cpu_guest_seconds_total{cpu=\"1\",mode=\"user\"} 0\n"
	  "node_cpu_guest_seconds_total{cpu=\"1\",mode=\"nice\"} 0\n" },
	{ "meminfo", "meminfo",
	  "MemTotal:  10 kB\n"
	  "Weird(thing)(x):  1 kB\n" /* Weird_thing)(x: not a valid name */
	  "NoColon 5 kB\n"
	  "Garbage:  12abc kB\n"
	  "Huge:  5 MB\n"
	  "Bad-Name:  3 kB\n"
	  "MemTotal:  20 kB\n" /* a repeated field keeps the first */
	  "Unitless:  7\n"
	  "\n"
	  "Empty:\n",
	  "node_memory_MemTotal_bytes 10240\n"
	  "node_memory_Unitless 7\n" },
	{ "loadavg", "loadavg", "1.5 nan 0x10 1/2 3\n", "node_load1 1.5\n" },
	{ "loadavg", "loadavg", "garbage\n", "" },
	{ "stat", "stat",
	  "ctxt 12 extra words\n"
	  "btime notanumber\n"
	  "processes\n"
	  "procs_running 3\n"
	  "something_new 1 2 3\n"
	  "procs_blocked 18446744073709551616\n", /* one past UINT64_MAX */
	  "node_context_switches_total 12\n"
	  "node_procs_running 3\n" },
};

static void test_unknown_lines_and_garbage_numbers_are_skipped(void **unused)
{
	(void)unused;
	expect_edge_cases(edge_cases, sizeof edge_cases / sizeof edge_cases[0], NULL);
}

static void test_meminfo_parentheses_inside_a_field_name_become_an_underscore(void **unused)
{
	(void)unused;
	expect_on_file("meminfo", "meminfo", "A(b)c:  1 kB\nD:  2\n",
		       "node_memory_A_bc_bytes 1024\nnode_memory_D 2\n");
}

/* A buffer of n bytes of "0 " pairs, for very long lines. */
static char *long_run(size_t pairs)
{
	char *s = malloc(pairs * 2 + 1);
	assert_non_null(s);
	for (size_t i = 0; i < pairs; i++)
		memcpy(s + 2 * i, "0 ", 2);
	s[pairs * 2] = '\0';
	return s;
}

static void test_very_long_lines_are_read_whole(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	char *zeros = long_run(300000);
	char *content;
	struct run r;

	assert_true(asprintf(&content, "cpu0 1 0 0 0 0 0 0 0 0 0 %s\nintr 42 %s\nctxt 7\n", zeros,
			     zeros) > 0);
	write_file(dir, "stat", content);
	free(content);
	run_open(&r, "stat", dir, dir);
	expect_cycle(&r, "node_context_switches_total 7\nnode_intr_total 42\n");
	run_close(&r);

	assert_true(asprintf(&content, "Junk:  %s\nMemFree:  1 kB\n", zeros) > 0);
	write_file(dir, "meminfo", content);
	free(content);
	run_open(&r, "meminfo", dir, dir);
	expect_cycle(&r, "node_memory_MemFree_bytes 1024\n");
	run_close(&r);

	free(zeros);
	remove_tree(dir);
}

static void test_a_file_that_grows_between_cycles_is_read_whole(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	char *zeros = long_run(50000);
	char *content;
	struct run r;

	write_file(dir, "stat", "ctxt 1\n");
	run_open(&r, "stat", dir, dir);
	expect_cycle(&r, "node_context_switches_total 1\n");
	assert_true(asprintf(&content, "intr 9 %s\nctxt 2\n", zeros) > 0);
	write_file(dir, "stat", content);
	expect_cycle(&r, "node_context_switches_total 2\nnode_intr_total 9\n");
	write_file(dir, "stat", "ctxt 3\n");
	expect_cycle(&r, "node_context_switches_total 3\n");
	run_close(&r);
	free(content);
	free(zeros);
	remove_tree(dir);
}

/* ---- CPUs coming and going ---- */

static const char two_cpus[] = "cpu0 100 0 0 1000 0 0 0 0 0 0\n"
			       "cpu1 200 0 0 2000 0 0 0 0 0 0\n";
static const char one_cpu[] = "cpu0 150 0 0 1100 0 0 0 0 0 0\n";

/* The user and idle seconds of each CPU in the dump, as "cpu:user:idle ...". */
static void cpu_summary(char *dump, char *out, size_t outlen)
{
	char *save = NULL;
	out[0] = '\0';
	for (char *line = strtok_r(dump, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char id[16], mode[16];
		double v;
		if (sscanf(line, "node_cpu_seconds_total{cpu=\"%15[^\"]\",mode=\"%15[^\"]\"} %lf",
			   id, mode, &v) != 3)
			continue;
		size_t n = strlen(out);
		if (strcmp(mode, "user") == 0)
			snprintf(out + n, outlen - n, "%s%s:%g", n ? " " : "", id, v);
		else if (strcmp(mode, "idle") == 0)
			snprintf(out + n, outlen - n, ":%g", v);
	}
}

static void expect_cpus(struct run *r, const char *want)
{
	char *dump, got[256];
	assert_int_equal(run_cycle(r, &dump), 0);
	cpu_summary(dump, got, sizeof got);
	assert_string_equal(got, want);
	free(dump);
}

static void test_cpu_series_disappear_and_reappear_with_their_cpu(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	struct run r;

	write_file(dir, "stat", two_cpus);
	run_open(&r, "cpu", dir, dir);
	expect_cpus(&r, "0:1:10 1:2:20");
	write_file(dir, "stat", one_cpu);
	expect_cpus(&r, "0:1.5:11");
	/* cpu1 comes back with counters that restarted: no history to hold them. */
	write_file(dir, "stat", "cpu0 160 0 0 1200 0 0 0 0 0 0\ncpu1 5 0 0 30 0 0 0 0 0 0\n");
	expect_cpus(&r, "0:1.6:12 1:0.05:0.3");
	run_close(&r);
	remove_tree(dir);
}

static void test_cpu_counters_never_go_backwards_unless_idle_jumps_back(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	struct run r;

	write_file(dir, "stat", "cpu0 500 0 0 10000 0 0 0 0 0 0\n");
	run_open(&r, "cpu", dir, dir);
	expect_cpus(&r, "0:5:100");
	/* user dropped a little (a kernel accounting glitch): the old value stays */
	write_file(dir, "stat", "cpu0 400 0 0 10100 0 0 0 0 0 0\n");
	expect_cpus(&r, "0:5:101");
	/* idle dropped by 3 seconds or more: a hotplug, everything starts afresh */
	write_file(dir, "stat", "cpu0 10 0 0 9000 0 0 0 0 0 0\n");
	expect_cpus(&r, "0:0.1:90");
	run_close(&r);
	remove_tree(dir);
}

static void test_a_full_batch_fails_the_collection_with_a_reason(void **unused)
{
	(void)unused;
	struct batch_limits lim;
	struct run r;
	char *dump;

	batch_limits_default(&lim);
	lim.max_series = 5;
	lim.max_values = 5;
	const struct collector_env env = { .procfs = FIXTURES "/procfs-basic",
					   .sysfs = NO_SUCH_DIR };
	run_open_env(&r, "cpu", &env, &lim);
	assert_int_equal(run_cycle(&r, &dump), -ENOSPC);
	assert_true(r.err[0] != '\0');
	free(dump);
	run_close(&r);
}

/* ---- registry and durations ---- */

static void test_collectors_are_found_by_name_and_enabled_by_default(void **unused)
{
	(void)unused;
	size_t n;
	const struct collector_def *list = collector_list(&n);
	assert_true(n >= N_ALL); /* other collectors follow these four */
	for (size_t i = 0; i < N_ALL; i++) {
		const struct collector_def *d = collector_find(all_collectors[i]);
		assert_ptr_equal(d, &list[i]);
		assert_true(d->enabled_by_default);
	}
	assert_null(collector_find("cpux"));
	assert_null(collector_find(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_reports_seconds_per_cpu_and_mode_like_node_exporter),
		cmocka_unit_test(test_cpu_guest_option_off_drops_the_guest_family),
		cmocka_unit_test(test_cpu_reports_isolated_cpus_and_thermal_throttles_from_sysfs),
		cmocka_unit_test(
		    test_meminfo_converts_kb_to_bytes_and_renames_parenthesised_fields),
		cmocka_unit_test(test_loadavg_reports_three_gauges),
		cmocka_unit_test(test_stat_reports_boot_time_switches_forks_interrupts_and_procs),
		cmocka_unit_test(test_missing_files_are_skipped_quietly),
		cmocka_unit_test(test_zero_length_files_give_no_series_and_no_error),
		cmocka_unit_test(test_an_unreadable_file_fails_the_collection_with_its_path),
		cmocka_unit_test(test_unknown_lines_and_garbage_numbers_are_skipped),
		cmocka_unit_test(test_meminfo_parentheses_inside_a_field_name_become_an_underscore),
		cmocka_unit_test(test_very_long_lines_are_read_whole),
		cmocka_unit_test(test_a_file_that_grows_between_cycles_is_read_whole),
		cmocka_unit_test(test_cpu_series_disappear_and_reappear_with_their_cpu),
		cmocka_unit_test(test_cpu_counters_never_go_backwards_unless_idle_jumps_back),
		cmocka_unit_test(test_a_full_batch_fails_the_collection_with_a_reason),
		cmocka_unit_test(test_collectors_are_found_by_name_and_enabled_by_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
