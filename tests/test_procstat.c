/*
 * test_procstat.c - lib/procstat: the process_* figures from a /proc tree written
 * for the test (exact values), from this process and a child (live), and as
 * families in a batch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procstat.h"

static char tree[64];

static void write_file(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", tree, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void make_dir(const char *rel)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", tree, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

/* A /proc with btime 1700000000 and process 42, whose name has spaces and a ')'. */
static int setup_tree(void **state)
{
	(void)state;
	snprintf(tree, sizeof tree, "/tmp/test_procstat.XXXXXX");
	assert_non_null(mkdtemp(tree));
	write_file("stat", "cpu  1 2 3 4\nintr 5\nbtime 1700000000\nprocesses 9\n");
	make_dir("42");
	make_dir("42/fd");
	for (int i = 0; i < 4; i++) {
		char rel[32];
		snprintf(rel, sizeof rel, "42/fd/%d", i);
		write_file(rel, "");
	}
	/* utime 150, stime 50 ticks; starttime 1000 ticks; vsize; rss 3 pages */
	write_file("42/stat", "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 1 0 "
			      "1000 10485760 3 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 "
			      "0 0 0 0 0 0\n");
	write_file(
	    "42/limits",
	    "Limit                     Soft Limit           Hard Limit           Units     \n"
	    "Max cpu time              unlimited            unlimited            seconds   \n"
	    "Max open files            1024                 524288               files     \n"
	    "Max address space         unlimited            unlimited            bytes     \n");
	return 0;
}

static int teardown_tree(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tree);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_figures_come_from_stat_limits_and_fd_as_client_libraries_report_them(void **state)
{
	struct proc_stats st;
	char err[256] = "";
	double btime = 0, tick = (double)sysconf(_SC_CLK_TCK);

	(void)state;
	assert_int_equal(proc_boot_time(tree, &btime, err, sizeof err), 0);
	assert_true(btime == 1700000000.0);
	if (proc_stats_read(tree, 42, btime, &st, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_true(st.cpu_seconds == 200 / tick);
	assert_true(st.start_time_seconds == 1700000000.0 + 1000 / tick);
	assert_true(st.virtual_bytes == 10485760.0);
	assert_true(st.resident_bytes == 3.0 * (double)sysconf(_SC_PAGESIZE));
	assert_true(st.max_fds == 1024);
	assert_true(st.virtual_max_bytes == 18446744073709551616.0); /* unlimited: 2^64 */
	assert_true(st.open_fds == 4);
}

static void test_a_missing_process_or_a_broken_file_is_an_error_that_names_it(void **state)
{
	struct proc_stats st;
	char err[256] = "";

	(void)state;
	assert_int_equal(proc_stats_read(tree, 43, 0, &st, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "/43/stat"));
	make_dir("44");
	write_file("44/stat", "44 (x) S 1 2\n");
	assert_int_equal(proc_stats_read(tree, 44, 0, &st, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "/44/stat: not the layout of a stat file"));
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_this_process_and_a_child_are_read_live(void **state)
{
	struct proc_stats st, again;
	struct rlimit nofile;
	char err[256] = "";
	double btime;

	(void)state;
	assert_int_equal(proc_boot_time("/proc", &btime, err, sizeof err), 0);
	assert_int_equal(proc_stats_read("/proc", 0, btime, &st, err, sizeof err), 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &nofile), 0);
	/* the kernel's limit; valgrind reports a lower one to getrlimit, hence >= */
	assert_true(st.max_fds >= (double)nofile.rlim_cur && st.max_fds > 0);
	assert_true(st.resident_bytes > 0 && st.virtual_bytes >= st.resident_bytes);
	assert_true(st.start_time_seconds > btime && st.start_time_seconds <= now_s() + 1);
	int fds[3];
	for (int i = 0; i < 3; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(proc_stats_read("/proc", 0, btime, &again, err, sizeof err), 0);
	assert_true(again.open_fds == st.open_fds + 3);
	for (int i = 0; i < 3; i++)
		close(fds[i]);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(proc_stats_read("/proc", pid, btime, &again, err, sizeof err), 0);
	assert_true(again.start_time_seconds >= st.start_time_seconds);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(proc_stats_read("/proc", pid, btime, &again, err, sizeof err), -ENOENT);
}

static void test_the_families_carry_a_prefix_labels_and_one_series_per_process(void **state)
{
	static const char *const names[] = { "role", "name" };
	static const char *const values[] = { "agent", "agent", "collector", "host" };
	struct proc_stats st[2] = { { .cpu_seconds = 1.5, .open_fds = 7 },
				    { .cpu_seconds = 2, .open_fds = 9 } };
	struct batch_limits lim;
	struct metrics_view v;
	char err[256] = "";

	(void)state;
	batch_limits_default(&lim);
	struct batch *b = batch_new(&lim);
	assert_non_null(b);
	assert_int_equal(proc_stats_add(b, "shmetrics_", names, 2, values, st, 2, err, sizeof err),
			 0);
	batch_view(b, &v);
	assert_int_equal(v.hdr.n_families, PROC_STATS_FAMILIES);
	assert_int_equal(v.hdr.n_series, 2 * PROC_STATS_FAMILIES);
	struct blob_family f;
	view_family(&v, 0, &f);
	assert_memory_equal(view_string(&v, f.name_off), "shmetrics_process_cpu_seconds_total",
			    f.name_len);
	assert_int_equal(f.type, METRIC_COUNTER);
	struct blob_series s;
	view_series(&v, f.first_series + 1, &s);
	assert_true(view_value(&v, s.value_idx) == 2);
	batch_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_figures_come_from_stat_limits_and_fd_as_client_libraries_report_them),
		cmocka_unit_test(test_a_missing_process_or_a_broken_file_is_an_error_that_names_it),
		cmocka_unit_test(test_this_process_and_a_child_are_read_live),
		cmocka_unit_test(
		    test_the_families_carry_a_prefix_labels_and_one_series_per_process),
	};
	return cmocka_run_group_tests(tests, setup_tree, teardown_tree);
}
