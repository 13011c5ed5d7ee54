/*
 * Collectors with workers: forked processes writing one collector, each in a
 * slot of its own, merged by the reader.  Exact totals with a worker killed,
 * fork churn in bounded slots, every gauge aggregate, the limit on workers,
 * reset, conflicts, and a corrupt slot.
 *
 * Children never call cmocka: they report through their exit status (0 fine,
 * anything else the line that failed) and the parent asserts.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "metrics.h"
#include "render.h"
#include "segdir_fixture.h"
#include "segment.h"
#include "segment_layout.h"
#include "shmetrics.h"

static struct segdir_fixture fx;
static char err[600];

#define CHILD_CHECK(cond)                          \
	do {                                       \
		if (!(cond))                       \
			_exit(__LINE__ % 250 + 2); \
	} while (0)

static void make_segment(uint32_t workers, uint32_t max_series)
{
	struct segment_options opt = segdir_fixture_options(max_series, 60000);

	opt.workers = workers;
	segment_remove(&fx.dir, "app", err, sizeof err);
	if (segment_create(&fx.dir, "app", &opt, err, sizeof err) < 0)
		fail_msg("segment_create: %s", err);
}

static bool on_tmpfs(const char *path)
{
	struct statfs fs;

	return statfs(path, &fs) == 0 && fs.f_type == TMPFS_MAGIC && access(path, W_OK) == 0;
}

static int setup(void **state)
{
	(void)state;
	/* Where the agent keeps segments: the churn test counts a tmpfs file's pages
	 * (on a disk file system, allocation and writeback change st_blocks too). */
	if (segdir_fixture_make_under(&fx, on_tmpfs("/dev/shm") ? "/dev/shm" : "/tmp") < 0)
		return -1;
	setenv(SEGDIR_ENV, fx.base, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	segdir_fixture_free(&fx);
	unsetenv(SEGDIR_ENV);
	return 0;
}

/* Attached with no publisher thread: tests publish when they mean to. */
static struct shmetrics *open_app(void)
{
	struct shmetrics_options o = { .instance = FIXTURE_INSTANCE,
				       .flags = SHMETRICS_NO_PUBLISHER };
	return shmetrics_open("app", &o);
}

/* ---- reading the merged collector ---- */

struct merged {
	struct seg_reader *r;
	struct metrics_view v;
	struct seg_info info;
};

static void read_merged(struct merged *m)
{
	if (m->r == NULL &&
	    seg_reader_open(&m->r, &fx.dir, "app", segdir_fixture_limits(), err, sizeof err) < 0)
		fail_msg("seg_reader_open: %s", err);
	if (seg_reader_snapshot(m->r, &m->v, &m->info, err, sizeof err) < 0)
		fail_msg("snapshot: %s", err);
}

static void merged_close(struct merged *m)
{
	seg_reader_close(m->r);
	m->r = NULL;
}

/* The Prometheus text of the merged collector. */
static char *render(const struct metrics_view *v)
{
	struct render_source src = { .collector = "app", .view = v };
	struct render_result res;
	struct buf out;

	buf_init(&out);
	assert_int_equal(render_text(&out, RENDER_PROMETHEUS_TEXT, &src, 1, &res), 0);
	buf_append(&out, "", 1);
	return out.data;
}

/* How many lines of text start with prefix; the last one in *line. */
static int lines_starting(const char *text, const char *prefix, char *line, size_t linelen)
{
	int n = 0;

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (strncmp(p, prefix, strlen(prefix)) == 0) {
			n++;
			snprintf(line, linelen, "%.*s", (int)len, p);
		}
		p += len + (nl != NULL);
	}
	return n;
}

/* ---- children ---- */

static void wait_ok(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child %d failed: %s %d", (int)pid,
			 WIFEXITED(status) ? "exit status" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static void wait_killed(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void say(int fd)
{
	CHILD_CHECK(write(fd, "x", 1) == 1);
}

static void hear(int fd, int times)
{
	char c;

	for (int i = 0; i < times; i++)
		assert_int_equal(read(fd, &c, 1), 1);
}

/* ---- the counter test of the issue ---- */

#define FORKED     8
#define INCREMENTS 10000
#define KILLED_ONE 3

/* A child of a parent that opened the collector: it uses the parent's handles
 * as they are; the library attaches it as a new worker on its first call. */
static void counting_child(struct shmetrics *m, struct shmetrics_series *s, int i, int ready)
{
	for (int k = 0; k < INCREMENTS; k++)
		CHILD_CHECK(shmetrics_inc(s) == 0);
	CHILD_CHECK(shmetrics_worker_slot(m) >= 0);
	CHILD_CHECK(shmetrics_publish(m) == 0);
	say(ready);
	if (i == KILLED_ONE)
		for (;;)
			pause();
	if (i % 2 == 0)
		shmetrics_close(m); /* the others' last publish is exit()'s */
	exit(0);
}

static void test_eight_forked_workers_one_killed_count_exactly_on_one_line(void **state)
{
	(void)state;
	int pipefd[2];
	pid_t pids[FORKED];
	struct merged mg = { 0 };
	char line[200];

	make_segment(FORKED + 1, 100);
	struct shmetrics *m = open_app();
	assert_non_null(m);
	struct shmetrics_family *f = shmetrics_counter(m, "app_requests_total", "Requests.", NULL,
						       0);
	struct shmetrics_series *s = shmetrics_series(f, NULL, 0);
	assert_non_null(s);
	assert_int_equal(pipe(pipefd), 0);
	for (int i = 0; i < FORKED; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			counting_child(m, s, i, pipefd[1]);
	}
	hear(pipefd[0], FORKED);
	kill(pids[KILLED_ONE], SIGKILL);
	for (int i = 0; i < FORKED; i++)
		i == KILLED_ONE ? wait_killed(pids[i]) : wait_ok(pids[i]);
	read_merged(&mg);
	char *text = render(&mg.v);
	assert_int_equal(lines_starting(text, "app_requests_total ", line, sizeof line), 1);
	assert_string_equal(line, "app_requests_total 80000");
	assert_int_equal(mg.info.workers, FORKED + 1);
	assert_int_equal(mg.info.workers_alive, 1); /* the parent */
	free(text);
	merged_close(&mg);
	shmetrics_close(m);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* ---- fork churn ---- */

#define CHURN       1000
#define CHURN_SLOTS 4

/* Opens its own collector (or, for odd i, uses the parent's handle), counts
 * i % 7 + 1, publishes, and ends: normally, or killed after publishing. */
static pid_t churn_child(struct shmetrics *parent, struct shmetrics_series *inherited, int i)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	struct shmetrics *m = parent;
	struct shmetrics_series *s = inherited;
	if (i % 2 == 0) {
		m = open_app();
		CHILD_CHECK(m != NULL);
		s = shmetrics_series(shmetrics_counter(m, "app_jobs_total", "Jobs.", NULL, 0), NULL,
				     0);
		CHILD_CHECK(s != NULL);
	}
	for (int k = 0; k < i % 7 + 1; k++)
		CHILD_CHECK(shmetrics_inc(s) == 0);
	if (i % 5 == 0) { /* killed, but after its publish */
		CHILD_CHECK(shmetrics_publish(m) == 0);
		raise(SIGKILL);
	}
	exit(0);
}

static void reap_churn(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
		    (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
}

/* Every worker slot held at once, by the parent and CHURN_SLOTS - 1 children
 * that each count 1: from then on each slot's pages have been touched. */
static void hold_every_slot(struct shmetrics *m, struct shmetrics_series *s)
{
	int ready[2], go[2];
	pid_t kids[CHURN_SLOTS - 1];
	char c;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	for (int k = 0; k < CHURN_SLOTS - 1; k++) {
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (kids[k] == 0) {
			CHILD_CHECK(shmetrics_inc(s) == 0 && shmetrics_publish(m) == 0);
			say(ready[1]);
			CHILD_CHECK(read(go[0], &c, 1) == 1);
			exit(0);
		}
	}
	hear(ready[0], CHURN_SLOTS - 1);
	assert_int_equal(write(go[1], "xxxxxxxx", CHURN_SLOTS - 1), CHURN_SLOTS - 1);
	for (int k = 0; k < CHURN_SLOTS - 1; k++)
		reap_churn(kids[k]);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

static double merged_value(const char *name)
{
	struct merged mg = { 0 };
	char line[200], prefix[120];
	double v = NAN;

	read_merged(&mg);
	char *text = render(&mg.v);
	snprintf(prefix, sizeof prefix, "%s ", name);
	if (lines_starting(text, prefix, line, sizeof line) == 1)
		v = strtod(line + strlen(prefix), NULL);
	free(text);
	merged_close(&mg);
	return v;
}

static void test_fork_churn_reuses_bounded_slots_and_keeps_exact_totals(void **state)
{
	(void)state;
	pid_t live[CHURN_SLOTS - 1] = { 0 };
	struct stat before, half, after;
	double expected = 0;

	make_segment(CHURN_SLOTS, 50);
	assert_int_equal(fstatat(fx.dir.fd, "app.seg", &before, 0), 0);
	struct shmetrics *m = open_app(); /* the parent holds one slot */
	struct shmetrics_series *s = shmetrics_series(shmetrics_counter(m, "app_jobs_total",
									"Jobs.", NULL, 0),
						      NULL, 0);
	assert_non_null(s);
	/* Which slots churn reaches first depends on scheduling; hold them all once. */
	hold_every_slot(m, s);
	expected += CHURN_SLOTS - 1;
	for (int i = 0; i < CHURN; i++) {
		int k = i % (CHURN_SLOTS - 1);
		if (live[k] > 0)
			reap_churn(live[k]);
		if (i == CHURN / 2)
			assert_int_equal(fstatat(fx.dir.fd, "app.seg", &half, 0), 0);
		live[k] = churn_child(m, s, i);
		assert_true(live[k] > 0);
		expected += i % 7 + 1;
	}
	for (int k = 0; k < CHURN_SLOTS - 1; k++)
		reap_churn(live[k]);
	assert_int_equal(fstatat(fx.dir.fd, "app.seg", &after, 0), 0);
	/* The same file, and (in tmpfs, where st_blocks counts its pages) no page more
	 * in the second half than after the first. */
	assert_int_equal(after.st_size, before.st_size);
	if (on_tmpfs(fx.base))
		assert_int_equal(after.st_blocks, half.st_blocks);
	assert_true(merged_value("app_jobs_total") == expected);
	shmetrics_close(m);
	assert_true(merged_value("app_jobs_total") == expected);
}

/* ---- readers during churn ---- */

#define RACE_WORKERS 300

/* Starts short-lived workers one after the other, 3 at once, in a child of its
 * own: each counts 10, publishes, and exits or is killed. */
static pid_t churn_driver(void)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	pid_t live[3] = { 0, 0, 0 };
	for (int i = 0; i < RACE_WORKERS; i++) {
		if (live[i % 3] > 0)
			waitpid(live[i % 3], NULL, 0);
		live[i % 3] = fork();
		if (live[i % 3] == 0) {
			struct shmetrics *m = open_app();
			CHILD_CHECK(m != NULL);
			struct shmetrics_series *s = shmetrics_series(
			    shmetrics_counter(m, "app_jobs_total", "Jobs.", NULL, 0), NULL, 0);
			for (int k = 0; k < 10; k++)
				CHILD_CHECK(shmetrics_inc(s) == 0);
			CHILD_CHECK(shmetrics_publish(m) == 0);
			if (i % 2)
				raise(SIGKILL);
			_exit(0);
		}
	}
	for (int k = 0; k < 3; k++)
		waitpid(live[k], NULL, 0);
	_exit(0);
}

/* The merged counter of one snapshot (0 before anything was counted). */
static double jobs_now(struct merged *mg)
{
	read_merged(mg);
	for (uint32_t i = 0; i < mg->v.hdr.n_families; i++) {
		struct blob_family f;
		view_family(&mg->v, i, &f);
		if (f.name_len == 14 &&
		    memcmp(view_string(&mg->v, f.name_off), "app_jobs_total", 14) == 0 &&
		    f.n_series == 1) {
			struct blob_series s;
			view_series(&mg->v, f.first_series, &s);
			return view_value(&mg->v, s.value_idx);
		}
	}
	return 0;
}

/* Workers claim slots and fold the ended ones while a reader reads: the reader
 * must never see the counter go back (a fold counted twice, or not at all). */
static void test_a_reader_never_sees_a_counter_go_back_while_workers_fold(void **state)
{
	(void)state;
	struct merged mg = { 0 };
	double last = 0, v;
	int status;
	long reads = 0;

	make_segment(4, 50);
	pid_t driver = churn_driver();
	assert_true(driver > 0);
	while (waitpid(driver, &status, WNOHANG) == 0) {
		v = jobs_now(&mg);
		if (v < last)
			fail_msg("the counter went back from %g to %g after %ld reads", last, v,
				 reads);
		last = v;
		reads++;
	}
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(jobs_now(&mg) == RACE_WORKERS * 10);
	merged_close(&mg);
	print_message("%ld reads during the churn\n", reads);
}

/* ---- gauges ---- */

struct gauges {
	struct shmetrics_series *sum, *max, *min, *last, *per;
};

static void register_gauges(struct shmetrics *m, struct gauges *g)
{
	g->sum = shmetrics_series(shmetrics_gauge_aggregated(m, "g_sum", "", NULL, 0,
							     SHMETRICS_AGGREGATE_SUM),
				  NULL, 0);
	g->max = shmetrics_series(shmetrics_gauge_aggregated(m, "g_max", "", NULL, 0,
							     SHMETRICS_AGGREGATE_MAX),
				  NULL, 0);
	g->min = shmetrics_series(shmetrics_gauge_aggregated(m, "g_min", "", NULL, 0,
							     SHMETRICS_AGGREGATE_MIN),
				  NULL, 0);
	g->last = shmetrics_series(shmetrics_gauge_aggregated(m, "g_last", "", NULL, 0,
							      SHMETRICS_AGGREGATE_LAST),
				   NULL, 0);
	g->per = shmetrics_series(shmetrics_gauge_aggregated(m, "g_per", "", NULL, 0,
							     SHMETRICS_AGGREGATE_WORKER),
				  NULL, 0);
}

/* Worker i sets every gauge to 10 * (i + 1) (the last gauge in order i = 0, 1,
 * 2, so worker 2's value is the latest) and stays until told to go. */
static pid_t gauge_child(int i, int ready, int go)
{
	pid_t pid = fork();
	struct gauges g;
	char c;

	if (pid != 0)
		return pid;
	struct shmetrics *m = open_app();
	CHILD_CHECK(m != NULL);
	register_gauges(m, &g);
	CHILD_CHECK(g.sum && g.max && g.min && g.last && g.per);
	double v = 10 * (i + 1);
	CHILD_CHECK(shmetrics_set(g.sum, v) == 0 && shmetrics_set(g.max, v) == 0 &&
		    shmetrics_set(g.min, v) == 0 && shmetrics_set(g.per, v) == 0);
	CHILD_CHECK(shmetrics_set(g.last, v) == 0);
	CHILD_CHECK(shmetrics_publish(m) == 0);
	say(ready);
	CHILD_CHECK(read(go, &c, 1) == 1);
	shmetrics_close(m);
	exit(0);
}

static void test_each_gauge_aggregate_merges_live_workers_and_last_outlives_them(void **state)
{
	(void)state;
	int ready[2], go[2];
	pid_t pid[3];
	struct merged mg = { 0 };
	char line[200];

	make_segment(4, 50);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	for (int i = 0; i < 3; i++) {
		pid[i] = gauge_child(i, ready[1], go[0]);
		hear(ready[0], 1); /* one after the other: "last" has an order */
	}
	assert_true(merged_value("g_sum") == 60);
	assert_true(merged_value("g_max") == 30);
	assert_true(merged_value("g_min") == 10);
	assert_true(merged_value("g_last") == 30);
	read_merged(&mg);
	char *text = render(&mg.v);
	assert_int_equal(lines_starting(text, "g_per{worker=", line, sizeof line), 3);
	free(text);
	/* The worker of the latest value ends: sum, max and per worker lose it, last keeps it. */
	kill(pid[2], SIGKILL);
	wait_killed(pid[2]);
	read_merged(&mg);
	text = render(&mg.v);
	assert_int_equal(lines_starting(text, "g_per{worker=", line, sizeof line), 2);
	assert_int_equal(lines_starting(text, "g_sum ", line, sizeof line), 1);
	assert_string_equal(line, "g_sum 30");
	assert_int_equal(lines_starting(text, "g_max ", line, sizeof line), 1);
	assert_string_equal(line, "g_max 20");
	assert_int_equal(lines_starting(text, "g_last ", line, sizeof line), 1);
	assert_string_equal(line, "g_last 30");
	free(text);
	merged_close(&mg);
	assert_int_equal(write(go[1], "xx", 2), 2);
	wait_ok(pid[0]);
	wait_ok(pid[1]);
	/* Every worker ended: only "last" is left of the gauges. */
	read_merged(&mg);
	text = render(&mg.v);
	assert_int_equal(lines_starting(text, "g_", line, sizeof line), 1);
	assert_string_equal(line, "g_last 30");
	free(text);
	merged_close(&mg);
}

/* ---- limits, reset, conflicts, histograms ---- */

static void test_a_worker_beyond_the_slots_is_refused_and_counted(void **state)
{
	(void)state;
	struct merged mg = { 0 };

	make_segment(2, 50);
	struct shmetrics *a = open_app(), *b = open_app();
	assert_non_null(a);
	assert_non_null(b);
	assert_int_not_equal(shmetrics_worker_slot(a), shmetrics_worker_slot(b));
	assert_null(open_app());
	assert_non_null(strstr(shmetrics_last_error(), "all 2 worker slots are held"));
	assert_non_null(strstr(shmetrics_last_error(), "\"workers\""));
	read_merged(&mg);
	assert_int_equal(mg.info.workers_refused, 1);
	assert_int_equal(mg.info.workers_alive, 2);
	merged_close(&mg);
	shmetrics_close(b);
	struct shmetrics *c = open_app(); /* b's slot is free again */
	assert_non_null(c);
	shmetrics_close(c);
	shmetrics_close(a);
}

/* A worker in a child: counts n, publishes, ends. */
static void counted_by_a_child(int n)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct shmetrics *m = open_app();
		CHILD_CHECK(m != NULL);
		struct shmetrics_series *s = shmetrics_series(
		    shmetrics_counter(m, "app_requests_total", "Requests.", NULL, 0), NULL, 0);
		for (int i = 0; i < n; i++)
			CHILD_CHECK(shmetrics_inc(s) == 0);
		exit(0);
	}
	wait_ok(pid);
}

static int open_rw(void)
{
	int fd = segdir_open_segment(&fx.dir, "app", O_RDWR, NULL, err, sizeof err);
	if (fd < 0)
		fail_msg("open: %s", err);
	return fd;
}

static void test_reset_forgets_ended_workers_and_rebases_live_ones(void **state)
{
	(void)state;

	make_segment(3, 50);
	struct shmetrics *m = open_app();
	struct shmetrics_series *s = shmetrics_series(shmetrics_counter(m, "app_requests_total",
									"Requests.", NULL, 0),
						      NULL, 0);
	for (int i = 0; i < 5; i++)
		shmetrics_inc(s);
	shmetrics_publish(m);
	counted_by_a_child(7);
	assert_true(merged_value("app_requests_total") == 12);
	int fd = open_rw();
	assert_int_equal(segment_reset(fd, "app", err, sizeof err), 0);
	close(fd);
	/* Until the live worker publishes again, its pre-reset batch is not counted;
	 * that publish rebases it to 0. */
	assert_true(isnan(merged_value("app_requests_total")));
	shmetrics_publish(m);
	assert_true(merged_value("app_requests_total") == 0);
	shmetrics_inc(s);
	shmetrics_publish(m);
	assert_true(merged_value("app_requests_total") == 1);
	counted_by_a_child(2);
	assert_true(merged_value("app_requests_total") == 3);
	shmetrics_close(m);
}

static pid_t conflicting_child(bool as_gauge, int ready, int go)
{
	pid_t pid = fork();
	char c;

	if (pid != 0)
		return pid;
	struct shmetrics *m = open_app();
	CHILD_CHECK(m != NULL);
	struct shmetrics_family *f = as_gauge ? shmetrics_gauge(m, "app_x", "", NULL, 0)
					      : shmetrics_counter(m, "app_x", "", NULL, 0);
	CHILD_CHECK(shmetrics_inc(shmetrics_series(f, NULL, 0)) == 0);
	CHILD_CHECK(shmetrics_publish(m) == 0);
	say(ready);
	CHILD_CHECK(read(go, &c, 1) == 1);
	exit(0);
}

static void test_workers_disagreeing_on_a_family_keep_the_first_and_say_so(void **state)
{
	(void)state;
	int ready[2], go[2];
	struct merged mg = { 0 };
	char line[200];

	make_segment(2, 50);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid_t a = conflicting_child(false, ready[1], go[0]);
	hear(ready[0], 1);
	pid_t b = conflicting_child(true, ready[1], go[0]);
	hear(ready[0], 1);
	read_merged(&mg);
	char *text = render(&mg.v);
	assert_int_equal(lines_starting(text, "# TYPE app_x ", line, sizeof line), 1);
	assert_string_equal(line, "# TYPE app_x counter");
	size_t len;
	const char *e = view_error(&mg.v, &len);
	assert_non_null(strstr(e, "family 1 of worker 1 skipped"));
	free(text);
	merged_close(&mg);
	assert_int_equal(write(go[1], "xx", 2), 2);
	wait_ok(a);
	wait_ok(b);
}

static pid_t observing_child(double v, int n)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	struct shmetrics *m = open_app();
	CHILD_CHECK(m != NULL);
	const double bounds[] = { 1, 2 };
	struct shmetrics_series *s = shmetrics_series(shmetrics_histogram(m, "app_seconds", "",
									  NULL, 0, bounds, 2),
						      NULL, 0);
	for (int i = 0; i < n; i++)
		CHILD_CHECK(shmetrics_observe(s, v) == 0);
	exit(0);
}

static void test_histograms_of_workers_are_summed_bucket_by_bucket(void **state)
{
	(void)state;
	struct merged mg = { 0 };
	char line[200];

	make_segment(3, 50);
	wait_ok(observing_child(0.5, 3));
	wait_ok(observing_child(1.5, 4));
	wait_ok(observing_child(9, 5));
	read_merged(&mg);
	char *text = render(&mg.v);
	lines_starting(text, "app_seconds_bucket{le=\"1\"}", line, sizeof line);
	assert_string_equal(line, "app_seconds_bucket{le=\"1\"} 3");
	lines_starting(text, "app_seconds_bucket{le=\"2\"}", line, sizeof line);
	assert_string_equal(line, "app_seconds_bucket{le=\"2\"} 7");
	lines_starting(text, "app_seconds_bucket{le=\"+Inf\"}", line, sizeof line);
	assert_string_equal(line, "app_seconds_bucket{le=\"+Inf\"} 12");
	lines_starting(text, "app_seconds_count", line, sizeof line);
	assert_string_equal(line, "app_seconds_count 12");
	lines_starting(text, "app_seconds_sum", line, sizeof line);
	assert_string_equal(line, "app_seconds_sum 52.5");
	free(text);
	merged_close(&mg);
}

/* ---- what readers refuse ---- */

static void test_a_reader_refuses_more_workers_than_it_accepts(void **state)
{
	(void)state;
	struct seg_read_limits lim;
	struct seg_reader *r;

	make_segment(4, 50);
	seg_read_limits_for(50, &lim);
	assert_int_equal(seg_reader_open(&r, &fx.dir, "app", &lim, err, sizeof err), -EPROTO);
	assert_non_null(strstr(err, "has workers, and this reader accepts none"));
	seg_read_limits_workers(&lim, 2);
	assert_int_equal(seg_reader_open(&r, &fx.dir, "app", &lim, err, sizeof err), -EPROTO);
	assert_non_null(strstr(err, "more workers than this reader accepts"));
	seg_read_limits_workers(&lim, 4);
	assert_int_equal(seg_reader_open(&r, &fx.dir, "app", &lim, err, sizeof err), 0);
	seg_reader_close(r);
}

static void test_a_slot_scribbled_by_its_worker_is_reported_by_its_number(void **state)
{
	(void)state;
	struct merged mg = { 0 };

	make_segment(2, 50);
	struct shmetrics *m = open_app();
	assert_non_null(m);
	int slot = shmetrics_worker_slot(m);
	read_merged(&mg);
	/* The worker writes garbage over its slot's copies (its own to break). */
	int fd = open_rw();
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	struct seg_header h;
	assert_int_equal(seg_header_pread(fd, &h), 0);
	char junk[512];
	memset(junk, 0x5a, sizeof junk);
	uint64_t off = h.slots_offset + (uint64_t)slot * (64 + 2 * h.slot_capacity) + 64;
	assert_int_equal(pwrite(fd, junk, sizeof junk, (off_t)off), (ssize_t)sizeof junk);
	assert_int_equal(pwrite(fd, junk, sizeof junk, (off_t)(off + h.slot_capacity)),
			 (ssize_t)sizeof junk);
	close(fd);
	int rc = seg_reader_snapshot(mg.r, &mg.v, &mg.info, err, sizeof err);
	assert_int_equal(rc, -EPROTO);
	char want[32];
	snprintf(want, sizeof want, "slot %d", slot);
	assert_non_null(strstr(err, want));
	merged_close(&mg);
	shmetrics_close(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_eight_forked_workers_one_killed_count_exactly_on_one_line, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_fork_churn_reuses_bounded_slots_and_keeps_exact_totals, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_reader_never_sees_a_counter_go_back_while_workers_fold, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_each_gauge_aggregate_merges_live_workers_and_last_outlives_them, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_worker_beyond_the_slots_is_refused_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_reset_forgets_ended_workers_and_rebases_live_ones, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_workers_disagreeing_on_a_family_keep_the_first_and_say_so, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_histograms_of_workers_are_summed_bucket_by_bucket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_reader_refuses_more_workers_than_it_accepts,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_slot_scribbled_by_its_worker_is_reported_by_its_number, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
