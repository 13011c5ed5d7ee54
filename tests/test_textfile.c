/*
 * test_textfile.c - the textfile collector on fixture directories
 * (tests/fixtures/textfile/), compared with golden files rendered by the
 * exporter's renderer.  File times are set to a fixed value first, so that
 * node_textfile_mtime_seconds is reproducible.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "collector_harness.h"

#define TF          FIXTURES "/textfile"
#define FIXED_MTIME 1700000000

static void set_mtimes(const char *dir)
{
	static const char *const names[] = { "a.prom",
					     "b.prom",
					     "10-good.prom",
					     "20-syntax.prom",
					     "30-timestamp.prom",
					     "40-conflict.prom",
					     "50-duplicate.prom",
					     "60-summary.prom",
					     "65-bad-summary.prom",
					     "70-nonewline.prom",
					     "80-good-too.prom" };
	const struct timespec t[2] = { { FIXED_MTIME, 0 }, { FIXED_MTIME, 0 } };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		utimensat(AT_FDCWD, path, t, 0); /* files of the other fixture are missing here */
	}
}

/* The textfile collector with option directory=dir. */
static void open_textfile(struct run *r, const char *dir)
{
	static const char *const keys[] = { "directory" };
	static const char *values[1];
	struct batch_limits lim;

	values[0] = dir;
	memset(r, 0, sizeof *r);
	r->def = collector_find("textfile");
	assert_non_null(r->def);
	r->env = (struct collector_env){ .procfs = NO_SUCH_DIR,
					 .sysfs = NO_SUCH_DIR,
					 .rootfs = "/",
					 .name = "textfile",
					 .n_options = 1,
					 .option_keys = keys,
					 .option_values = values };
	assert_int_equal(r->def->ops->init(&r->state, &r->env, r->err, sizeof r->err), 0);
	batch_limits_default(&lim);
	r->b = batch_new(&lim);
	assert_non_null(r->b);
}

static void test_no_directory_serves_only_the_error_metric(void **unused)
{
	struct run r;
	(void)unused;
	expect_golden("textfile", NO_SUCH_DIR, NO_SUCH_DIR, "textfile-no-directory.txt");
	run_open(&r, "textfile", NO_SUCH_DIR, NO_SUCH_DIR);
	expect_cycle(&r, "node_textfile_scrape_error 0\n");
	run_close(&r);
}

static void test_good_files_are_merged_like_node_exporter(void **unused)
{
	struct run r;
	char *dump;
	(void)unused;
	set_mtimes(TF "/good");
	open_textfile(&r, TF "/good");
	assert_int_equal(run_cycle_dump(&r, &dump, true), 0);
	compare_golden(dump, "textfile-good.txt");
	free(dump);
	run_close(&r);
}

static void test_bad_files_are_named_and_skipped_and_good_ones_served(void **unused)
{
	struct run r;
	char *dump;
	(void)unused;
	set_mtimes(TF "/mixed");
	open_textfile(&r, TF "/mixed");
	assert_int_equal(run_cycle_dump(&r, &dump, true), 0);
	compare_golden(dump, "textfile-mixed.txt");
	free(dump);
	static const char *const expected[] = {
		"20-syntax.prom:3:15: a value must be a number, +Inf, -Inf or NaN",
		"30-timestamp.prom:1:18: a timestamp; they are not supported (as in node_exporter)",
		"65-bad-summary.prom:3:20: a quantile must be a number from 0 to 1",
		"70-nonewline.prom:1: the last line does not end with \\n",
		"40-conflict.prom:1: this family's HELP differs from that of the same family in "
		"10-good.prom (line 1)",
		"50-duplicate.prom:1: a series of this family is also in an earlier file",
	};
	for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
		if (strstr(r.err, expected[i]) == NULL)
			fail_msg("\"%s\" not in the error:\n%s", expected[i], r.err);
	/* Errors tell where, never what the files hold (it may be a secret). */
	static const char *const content[] = { "broken",       "with_timestamp", "queue_wait",
					       "apt_upgrades", "shared_untyped", "1700000000",
					       "no_newline" };
	for (size_t i = 0; i < sizeof content / sizeof content[0]; i++)
		if (strstr(r.err, content[i]) != NULL)
			fail_msg("\"%s\" (from a file) is in the error:\n%s", content[i], r.err);
	assert_null(strstr(r.err, "60-summary.prom"));
	run_close(&r);
}

static void test_a_series_in_two_files_refuses_the_later_file(void **unused)
{
	char *dir = make_tree();
	struct run r;
	char *dump;
	(void)unused;
	write_file(dir, "a.prom", "x{k=\"1\"} 1\n");
	write_file(dir, "b.prom", "x{k=\"1\"} 2\ny 1\n");
	open_textfile(&r, dir);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(
	    strstr(r.err, "b.prom:1: a series of this family is also in an earlier file"));
	assert_non_null(strstr(dump, "x{k=\"1\"} 1\n"));
	assert_null(strstr(dump, "y 1"));
	assert_non_null(strstr(dump, "node_textfile_scrape_error 1\n"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

static void test_histogram_name_clash_across_files_is_refused(void **unused)
{
	char *dir = make_tree();
	struct run r;
	char *dump;
	(void)unused;
	write_file(dir, "a.prom",
		   "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n");
	write_file(dir, "b.prom", "h_count 5\n");
	open_textfile(&r, dir);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(r.err, "b.prom:1: this family would expose a name (a counter's is with and without "
				      "_total, a histogram's with _bucket, _sum and _count, a summary's with "
				      "_sum and _count) that is also exposed by the family in a.prom (line 1)"));
	assert_null(strstr(r.err, "h_count"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

/* A file whose own families would expose one name (x next to x_total) is that
 * file's error: named with its line and the lines of both families, nothing of its content. */
static void test_x_next_to_x_total_in_one_file_is_that_files_error(void **unused)
{
	char *dir = make_tree();
	struct run r;
	char *dump;
	(void)unused;
	write_file(dir, "a.prom", "x NaN\n# TYPE x_total counter\nx_total{pw=\"hunter2\"} 5e-3\n");
	write_file(dir, "b.prom", "y 1\n");
	open_textfile(&r, dir);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(r.err, "a.prom:3: the family that starts at line 1 and the one "
				      "that starts at line 2 would both expose one name"));
	assert_null(strstr(r.err, "hunter2"));
	assert_null(strstr(r.err, "5e-3"));
	assert_null(strstr(dump, "x_total"));
	assert_null(strstr(dump, "x NaN"));
	assert_true(strncmp(dump, "y 1\n", 4) == 0);
	assert_non_null(strstr(dump, "node_textfile_scrape_error 1\n"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

static void test_x_and_x_total_in_two_files_refuse_the_later_file(void **unused)
{
	char *dir = make_tree();
	struct run r;
	char *dump;
	(void)unused;
	write_file(dir, "a.prom", "x 1\n");
	write_file(dir, "b.prom", "# TYPE x_total counter\nx_total 2\n");
	open_textfile(&r, dir);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(r.err, "b.prom:1: this family would expose a name (a counter's is with and without "
				      "_total, a histogram's with _bucket, _sum and _count, a summary's with "
				      "_sum and _count) that is also exposed by the family in a.prom (line 1)"));
	assert_null(strstr(r.err, "x_total"));
	assert_true(strncmp(dump, "x 1\n", 4) == 0);
	assert_null(strstr(dump, "x_total"));
	assert_non_null(strstr(dump, "node_textfile_scrape_error 1\n"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

static void test_summary_name_clash_and_other_quantiles_are_refused(void **unused)
{
	char *dir = make_tree();
	struct run r;
	char *dump;
	(void)unused;
	write_file(dir, "a.prom", "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\ns_count 1\n");
	write_file(dir, "b.prom", "s_sum 5\n");
	write_file(dir, "c.prom",
		   "# TYPE s summary\ns{k=\"c\",quantile=\"0.9\"} 1\n"
		   "s_sum{k=\"c\"} 1\ns_count{k=\"c\"} 1\n");
	write_file(dir, "d.prom",
		   "# TYPE s summary\ns{k=\"d\",quantile=\"0.5\"} 2\n"
		   "s_sum{k=\"d\"} 3\ns_count{k=\"d\"} 4\n");
	open_textfile(&r, dir);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(r.err, "b.prom:1: this family would expose a name (a counter's is with and without "
				      "_total, a histogram's with _bucket, _sum and _count, a summary's with "
				      "_sum and _count) that is also exposed by the family in a.prom (line 1)"));
	assert_non_null(strstr(r.err, "c.prom:1: this family's quantiles differ from those of "
				      "the same family in a.prom (line 1)"));
	assert_null(strstr(r.err, "s_sum"));
	assert_non_null(strstr(dump, "s{quantile=\"0.5\"} 1\ns_sum 1\ns_count 1\n"
				     "s{k=\"d\",quantile=\"0.5\"} 2\ns_sum{k=\"d\"} 3\n"
				     "s_count{k=\"d\"} 4\n"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

/* A glob(7) pattern reads every directory it matches, in name order (node_exporter's
 * filepath.Glob); a pattern that matches nothing is taken as a directory name. */
static void test_directory_pattern_reads_every_match(void **unused)
{
	char *dir = make_tree();
	char pattern[600];
	struct run r;
	char *dump;
	(void)unused;
	write_file(dir, "b/x.prom",
		   "# HELP shared Shared.\n# TYPE shared gauge\nshared{f=\"b\"} 2\n");
	write_file(dir, "a/y.prom",
		   "# HELP shared Shared.\n# TYPE shared gauge\nshared{f=\"a\"} 1\n");
	write_file(dir, "a/z.prom", "only_a 3\n");
	write_file(dir, "c.prom/nothing", "");
	write_file(dir, "other/w.prom", "other 4\n");
	snprintf(pattern, sizeof pattern, "%s/[ab]", dir);
	open_textfile(&r, pattern);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_string_equal(r.err, "");
	assert_non_null(strstr(dump, "shared{f=\"a\"} 1\nshared{f=\"b\"} 2\n"));
	assert_non_null(strstr(dump, "only_a 3\n"));
	assert_null(strstr(dump, "other 4"));
	char *a = strstr(dump, "/a/y.prom\"}"), *z = strstr(dump, "/a/z.prom\"}"),
	     *b = strstr(dump, "/b/x.prom\"}");
	assert_true(a != NULL && z != NULL && b != NULL && a < z && z < b);
	assert_non_null(strstr(dump, "node_textfile_scrape_error 0\n"));
	free(dump);
	run_close(&r);

	/* Several entries (the flag repeated): each in turn, in the order given. */
	snprintf(pattern, sizeof pattern, "%s/b\n%s/oth*", dir, dir);
	open_textfile(&r, pattern);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_string_equal(r.err, "");
	assert_non_null(strstr(dump, "shared{f=\"b\"} 2\n"));
	assert_non_null(strstr(dump, "other 4\n"));
	assert_null(strstr(dump, "only_a"));
	b = strstr(dump, "/b/x.prom\"}");
	char *w = strstr(dump, "/other/w.prom\"}");
	assert_true(b != NULL && w != NULL && b < w);
	free(dump);
	run_close(&r);

	/* No match: the pattern is opened as a directory, and fails. */
	snprintf(pattern, sizeof pattern, "%s/nomatch*", dir);
	open_textfile(&r, pattern);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(r.err, "opendir failed"));
	assert_string_equal(dump, "node_textfile_scrape_error 1\n");
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

static void test_missing_directory_is_an_error_and_a_fifo_does_not_hang(void **unused)
{
	char *dir = make_tree();
	char fifo[600];
	struct run r;
	char *dump;
	(void)unused;
	open_textfile(&r, "/nonexistent-shmetrics-textfile");
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(r.err, "opendir failed"));
	assert_string_equal(dump, "node_textfile_scrape_error 1\n");
	free(dump);
	run_close(&r);

	snprintf(fifo, sizeof fifo, "%s/pipe.prom", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	write_file(dir, "ok.prom", "ok 1\n");
	open_textfile(&r, dir);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(r.err, "pipe.prom: not a regular file"));
	assert_non_null(strstr(dump, "ok 1\n"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

static void test_files_changing_between_cycles_are_followed(void **unused)
{
	char *dir = make_tree();
	struct run r;
	char *dump;
	(void)unused;
	write_file(dir, "a.prom", "v 1\n");
	open_textfile(&r, dir);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "v 1\n"));
	free(dump);
	write_file(dir, "a.prom", "v 2\nw 3\n");
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "v 2\nw 3\n"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_directory_serves_only_the_error_metric),
		cmocka_unit_test(test_good_files_are_merged_like_node_exporter),
		cmocka_unit_test(test_bad_files_are_named_and_skipped_and_good_ones_served),
		cmocka_unit_test(test_a_series_in_two_files_refuses_the_later_file),
		cmocka_unit_test(test_histogram_name_clash_across_files_is_refused),
		cmocka_unit_test(test_x_next_to_x_total_in_one_file_is_that_files_error),
		cmocka_unit_test(test_x_and_x_total_in_two_files_refuse_the_later_file),

		cmocka_unit_test(test_summary_name_clash_and_other_quantiles_are_refused),
		cmocka_unit_test(test_missing_directory_is_an_error_and_a_fifo_does_not_hang),
		cmocka_unit_test(test_directory_pattern_reads_every_match),
		cmocka_unit_test(test_files_changing_between_cycles_are_followed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
