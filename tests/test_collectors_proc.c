/*
 * test_collectors_proc.c - the collectors that read every process: processes
 * (node_exporter's names) and top (process groups, bounded), against the
 * fixture tree tests/fixtures/proc-top/procfs (nginx master and workers, two
 * Java services, a process in D state, a kernel thread, a zombie, a command name
 * with a space and parentheses, a listed pid with no files left), and against
 * temporary trees that change between cycles.  Golden files in
 * tests/fixtures/proc-top/golden/.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "collector_harness.h"

#define PROC_TOP   FIXTURES "/proc-top/procfs"
#define TOP_GOLDEN "../proc-top/golden/" /* relative to tests/fixtures/golden */

static void open_with(struct run *r, const char *collector, const char *procfs,
		      const char *const *keys, const char *const *values, size_t n)
{
	const struct collector_env env = { .procfs = procfs,
					   .sysfs = NO_SUCH_DIR,
					   .n_options = n,
					   .option_keys = keys,
					   .option_values = values };
	run_open_env(r, collector, &env, NULL);
}

static size_t count_lines(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += strncmp(p, prefix, len) == 0;
	return n;
}

/* A process in a temporary procfs: its stat, an empty fd directory. */
static void write_proc(const char *dir, int pid, const char *comm, unsigned long utime,
		       unsigned long start, long rss_pages)
{
	char rel[64], text[512];
	snprintf(rel, sizeof rel, "%d/stat", pid);
	snprintf(text, sizeof text,
		 "%d (%s) S 1 %d %d 0 -1 0 0 0 0 0 %lu 0 0 0 20 0 1 0 %lu 1000000 %ld 0 0 0\n", pid,
		 comm, pid, pid, utime, start, rss_pages);
	write_file(dir, rel, text);
	snprintf(rel, sizeof rel, "%d/fd/0", pid);
	write_file(dir, rel, "");
}

static void remove_proc(const char *dir, int pid)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%d", dir, pid);
	char *copy = strdup(path);
	nftw(copy, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(copy);
}

/* ---- processes ---- */

static void test_processes_counts_processes_and_threads_per_state(void **unused)
{
	(void)unused;
	expect_golden("processes", PROC_TOP, NO_SUCH_DIR, TOP_GOLDEN "processes.txt");
}

static void test_processes_without_kernel_limits_reports_the_counts_alone(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	struct run r;
	write_proc(dir, 42, "solo", 1, 1, 1);
	write_file(dir, "42/task/42/stat",
		   "42 (solo) R 1 42 42 0 -1 0 0 0 0 0 1 0 0 0 20 0 1 0 1 1 1 0\n");
	open_with(&r, "processes", dir, NULL, NULL, 0);
	expect_cycle(&r, "node_processes_threads 1\n"
			 "node_processes_state{state=\"S\"} 1\n"
			 "node_processes_threads_state{thread_state=\"S\"} 1\n"
			 "node_processes_pids 1\n");
	run_close(&r);
	remove_tree(dir);
}

/* ---- top ---- */

static void test_top_reports_groups_by_command_name(void **unused)
{
	(void)unused;
	struct run r;
	char *dump;
	open_with(&r, "top", PROC_TOP, NULL, NULL, 0);
	assert_int_equal(run_cycle_dump(&r, &dump, true), 0);
	assert_string_equal(r.err, ""); /* pid 700 has no files left: not a word */
	compare_golden(dump, TOP_GOLDEN "top.txt");
	free(dump);
	run_close(&r);
}

static void test_top_groups_by_cmdline_regex_and_keeps_to_the_top_and_include(void **unused)
{
	(void)unused;
	const char *const k[] = { "cmdline-regex", "top-cpu", "top-memory", "include" };
	const char *const v[] = {
		"^/usr/bin/java .*-jar [^ ]*/([^/ ]+)\\.jar|^nginx: (master|worker)", "2", "1",
		"python3,absent"
	};
	struct run r;
	open_with(&r, "top", PROC_TOP, k, v, 4);
	expect_golden_run(&r, TOP_GOLDEN "top-cmdline.txt");
}

static void test_top_counters_keep_what_exited_processes_used(void **unused)
{
	(void)unused;
	char *dir = make_tree(), *dump;
	struct run r;

	write_file(dir, "stat", "btime 1000\n");
	write_proc(dir, 10, "app", 100, 5, 10);
	write_proc(dir, 11, "app", 50, 6, 10);
	open_with(&r, "top", dir, NULL, NULL, 0);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "{group=\"app\",mode=\"user\"} 1.5\n"));
	free(dump);
	remove_proc(dir, 11);
	write_proc(dir, 10, "app", 120, 5, 10);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "{group=\"app\",mode=\"user\"} 1.7\n"));
	assert_non_null(strstr(dump, "shmetrics_top_processes{group=\"app\"} 1\n"));
	free(dump);
	/* A new process under a reused pid brings all it has used. */
	write_proc(dir, 10, "app", 30, 99, 10);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "{group=\"app\",mode=\"user\"} 2\n"));
	assert_string_equal(r.err, "");
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

static void test_top_moves_a_process_whose_command_name_changed(void **unused)
{
	(void)unused;
	char *dir = make_tree(), *dump;
	struct run r;

	write_proc(dir, 10, "sh", 100, 5, 10);
	open_with(&r, "top", dir, NULL, NULL, 0);
	assert_int_equal(run_cycle(&r, &dump), 0);
	free(dump);
	write_proc(dir, 10, "make", 130, 5, 10); /* exec'd: same pid, same start */
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_null(strstr(dump, "group=\"sh\""));
	assert_non_null(strstr(dump, "{group=\"make\",mode=\"user\"} 0.3\n"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

static void test_top_series_stay_bounded_whatever_the_host_runs(void **unused)
{
	(void)unused;
	const char *const k[] = { "top-cpu", "top-memory", "include" };
	const char *const v[] = { "3", "2", "g7,g8" };
	char *dir = make_tree(), *dump, comm[16];
	struct run r;

	for (int i = 0; i < 300; i++) {
		snprintf(comm, sizeof comm, "g%d", i);
		write_proc(dir, 100 + i, comm, (unsigned long)i, 1, 300 - i);
	}
	open_with(&r, "top", dir, k, v, 3);
	assert_int_equal(run_cycle(&r, &dump), 0);
	/* g299..g297 by CPU, g0 and g1 by memory, g7 and g8 included. */
	assert_int_equal(count_lines(dump, "shmetrics_top_processes{"), 7);
	assert_non_null(strstr(dump, "shmetrics_top_processes{group=\"g299\"} 1\n"));
	assert_non_null(strstr(dump, "shmetrics_top_processes{group=\"g0\"} 1\n"));
	assert_non_null(strstr(dump, "shmetrics_top_processes{group=\"g8\"} 1\n"));
	assert_non_null(strstr(dump, "shmetrics_top_groups 300\n"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

static void test_top_names_that_are_not_utf8_are_made_valid(void **unused)
{
	(void)unused;
	char *dir = make_tree(), *dump;
	struct run r;

	write_proc(dir, 10, "bad\xff\xfename", 100, 5, 10);
	open_with(&r, "top", dir, NULL, NULL, 0);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "shmetrics_top_processes{group=\"bad??name\"} 1\n"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

static void test_top_refuses_a_long_include_list(void **unused)
{
	(void)unused;
	char list[1024] = "";
	for (int i = 0; i < 70; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "n%d,", i);
	const char *const k[] = { "include" }, *const v[] = { list };
	const struct collector_env env = { .procfs = PROC_TOP,
					   .sysfs = NO_SUCH_DIR,
					   .n_options = 1,
					   .option_keys = k,
					   .option_values = v };
	struct run r;
	assert_int_equal(run_start(&r, "top", &env, NULL), -EINVAL);
	assert_non_null(strstr(r.err, "include"));
}

/* Git keeps no empty directories: the fd directories of the fixture's processes
 * that have none open (a zombie, a kernel thread) are made here. */
static void make_empty_fd_dirs(void)
{
	static const char *const empty[] = { PROC_TOP "/400/fd", PROC_TOP "/500/fd" };
	for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++)
		if (mkdir(empty[i], 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", empty[i], strerror(errno));
}

int main(void)
{
	make_empty_fd_dirs();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_processes_counts_processes_and_threads_per_state),
		cmocka_unit_test(test_processes_without_kernel_limits_reports_the_counts_alone),
		cmocka_unit_test(test_top_reports_groups_by_command_name),
		cmocka_unit_test(test_top_groups_by_cmdline_regex_and_keeps_to_the_top_and_include),
		cmocka_unit_test(test_top_counters_keep_what_exited_processes_used),
		cmocka_unit_test(test_top_moves_a_process_whose_command_name_changed),
		cmocka_unit_test(test_top_series_stay_bounded_whatever_the_host_runs),
		cmocka_unit_test(test_top_names_that_are_not_utf8_are_made_valid),
		cmocka_unit_test(test_top_refuses_a_long_include_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
