/*
 * test_exec.c - the exec collector with the scripts of tests/fixtures/exec/:
 * good output is served, garbage and failures are reported with the reason and
 * serve nothing, a hanging command and its children are killed at the timeout.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../collectors/exec.h"
#include "buf.h"
#include "render.h"
#include "metrics.h"

#define SCRIPTS "tests/fixtures/exec"

struct exec_test {
	void *state;
	struct batch *b;
	char err[600];
};

static void open_exec_in(struct exec_test *t, const char *script, const char *const *args,
			 size_t n_args, uint64_t timeout_ms, bool sandbox)
{
	struct exec_options o = { script, args, n_args, timeout_ms, sandbox, NULL };
	struct batch_limits lim;

	memset(t, 0, sizeof *t);
	assert_int_equal(exec_init(&t->state, &o, t->err, sizeof t->err), 0);
	batch_limits_default(&lim);
	t->b = batch_new(&lim);
	assert_non_null(t->b);
}

static void open_exec(struct exec_test *t, const char *script, const char *const *args,
		      size_t n_args, uint64_t timeout_ms)
{
	open_exec_in(t, script, args, n_args, timeout_ms, true);
}

static void close_exec(struct exec_test *t)
{
	exec_collector_ops.fini(t->state);
	batch_free(t->b);
}

/* One collection; the batch's series as the exporter renders them (caller frees). */
static int collect(struct exec_test *t, char **text)
{
	struct metrics_view v;
	struct buf out;
	struct render_source src = { .collector = "exec", .view = &v };
	struct render_result res;

	batch_reset(t->b);
	t->err[0] = '\0';
	int rc = exec_collector_ops.collect(t->state, t->b, t->err, sizeof t->err);
	batch_view(t->b, &v);
	buf_init(&out);
	assert_int_equal(render_text(&out, RENDER_PROMETHEUS_TEXT, &src, 1, &res), 0);
	*text = strndup(out.data ? out.data : "", out.len);
	buf_free(&out);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_good_output_is_parsed_and_args_are_passed(void **unused)
{
	static const char *const args[] = { "--fast", "two words" };
	struct exec_test t;
	char *text;
	(void)unused;
	open_exec(&t, SCRIPTS "/good.sh", args, 2, 5000);
	assert_int_equal(collect(&t, &text), 0);
	assert_non_null(strstr(text, "check_ok{args=\"--fast two words\"} 1\n"));
	assert_non_null(strstr(text, "check_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
	free(text);
	/* and again: every collection runs the command anew */
	assert_int_equal(collect(&t, &text), 0);
	assert_non_null(strstr(text, "check_ok{"));
	free(text);
	close_exec(&t);
}

static void test_garbage_is_refused_with_the_line_and_nothing_is_served(void **unused)
{
	struct exec_test t;
	char *text;
	(void)unused;
	open_exec(&t, SCRIPTS "/garbage.sh", NULL, 0, 5000);
	assert_int_equal(collect(&t, &text), -EINVAL);
	assert_non_null(strstr(t.err, "garbage.sh: line 2, column 6: "));
	assert_null(strstr(t.err, "this is not")); /* what the command printed is not echoed */
	assert_string_equal(text, "");
	free(text);
	close_exec(&t);
}

static void test_non_zero_exit_is_an_error_and_its_output_is_dropped(void **unused)
{
	struct exec_test t;
	char *text;
	(void)unused;
	open_exec(&t, SCRIPTS "/fail.sh", NULL, 0, 5000);
	assert_int_equal(collect(&t, &text), -EIO);
	assert_non_null(strstr(t.err, "fail.sh exited with status 3"));
	assert_string_equal(text, "");
	free(text);
	close_exec(&t);
}

static bool process_gone(pid_t pid)
{
	char path[64], state = '?';
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return true;
	int n = fscanf(f, "%*d %*s %c", &state);
	fclose(f);
	return n == 1 && (state == 'Z' || state == 'X');
}

/* Processes whose command line is "sleep SECONDS" (the children of hang.sh). */
static int sleepers(const char *seconds)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL) {
		char path[300], buf[64] = "";
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
		FILE *f = fopen(path, "r");
		size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
		if (f)
			fclose(f);
		if (len > 6 && memcmp(buf, "sleep", 6) == 0 && strcmp(buf + 6, seconds) == 0 &&
		    !process_gone(atoi(e->d_name)))
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

static void hang_and_check(bool sandbox)
{
	char seconds[32];
	const char *args[] = { seconds };
	struct exec_test t;
	char *text;

	snprintf(seconds, sizeof seconds, "3%05d.%d", (int)getpid() % 100000, sandbox);
	open_exec_in(&t, SCRIPTS "/hang.sh", args, 1, 300, sandbox);
	double t0 = now_s();
	assert_int_equal(collect(&t, &text), -EIO);
	assert_non_null(strstr(t.err, "hang.sh timed out after 300 ms and was killed"));
	/* not before the timeout; and long before hang.sh's own wait: it was killed */
	double took = now_s() - t0;
	assert_true(took >= 0.29 && took < 60.0);
	assert_string_equal(text, "");
	free(text);
	for (int i = 0; i < 500 && sleepers(seconds) > 0; i++)
		usleep(10000);
	assert_int_equal(sleepers(seconds), 0);
	close_exec(&t);
}

static void test_hanging_command_and_its_children_are_killed_at_the_timeout(void **unused)
{
	(void)unused;
	hang_and_check(true);
	hang_and_check(false); /* "sandbox": false: a process group under a subreaper */
}

static void test_endless_output_is_cut_at_the_limit(void **unused)
{
	struct exec_test t;
	char *text;
	(void)unused;
	open_exec(&t, SCRIPTS "/flood.sh", NULL, 0, 10000);
	assert_int_equal(collect(&t, &text), -EIO);
	assert_non_null(strstr(t.err, "flood.sh wrote more than"));
	free(text);
	close_exec(&t);
}

static void test_missing_command_is_refused_at_init(void **unused)
{
	struct exec_options o = { "/nonexistent/shmetrics-check", NULL, 0, 1000, true, NULL };
	struct exec_options bare = { "shmetrics-no-such-command", NULL, 0, 1000, true, NULL };
	void *state = NULL;
	char err[300];
	(void)unused;
	assert_int_equal(exec_init(&state, &o, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "cannot be run"));
	assert_int_equal(exec_init(&state, &bare, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "not found in PATH"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_output_is_parsed_and_args_are_passed),
		cmocka_unit_test(test_garbage_is_refused_with_the_line_and_nothing_is_served),
		cmocka_unit_test(test_non_zero_exit_is_an_error_and_its_output_is_dropped),
		cmocka_unit_test(test_hanging_command_and_its_children_are_killed_at_the_timeout),
		cmocka_unit_test(test_endless_output_is_cut_at_the_limit),
		cmocka_unit_test(test_missing_command_is_refused_at_init),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
