/* libshmetrics: attaching, registration rules, limits, updates, publishing, threads. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "segdir_fixture.h"
#include "segment.h"
#include "shmetrics.h"

static struct segdir_fixture fx;
static const char *inst = FIXTURE_INSTANCE;
static char err[512];

static void make_segment(uint32_t max_series)
{
	struct segment_options opt = segdir_fixture_options(max_series, 1000);

	segment_remove(&fx.dir, "app", err, sizeof err);
	assert_int_equal(segment_create(&fx.dir, "app", &opt, err, sizeof err), 0);
}

static int setup(void **state)
{
	(void)state;
	if (segdir_fixture_make(&fx) < 0)
		return -1;
	setenv(SEGDIR_ENV, fx.base, 1);
	make_segment(0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	segdir_fixture_free(&fx);
	unsetenv(SEGDIR_ENV);
	unsetenv("SHMETRICS_SEGMENT_FD");
	unsetenv("SHMETRICS_INTERVAL");
	unsetenv("SHMETRICS_COLLECTOR");
	return 0;
}

/* A descriptor of the app segment, as the agent hands a "command" collector. */
static int app_fd(void)
{
	int fd = segdir_open_segment(&fx.dir, "app", O_RDWR, NULL, err, sizeof err);
	if (fd < 0)
		fail_msg("segdir_open_segment: %s", err);
	return fd;
}

static struct shmetrics *open_app(unsigned flags)
{
	struct shmetrics_options o = { .instance = inst, .flags = flags };
	struct shmetrics *m = shmetrics_open("app", &o);

	if (m == NULL)
		fail_msg("shmetrics_open: %s", shmetrics_last_error());
	return m;
}

/* ---- reading back what was published ---- */

struct readback {
	struct seg_reader *r;
	struct metrics_view v;
	struct seg_info info;
};

static void read_back(struct readback *rb)
{
	if (rb->r == NULL)
		assert_int_equal(seg_reader_open(&rb->r, &fx.dir, "app", segdir_fixture_limits(),
						 err, sizeof err),
				 0);
	int rc = seg_reader_snapshot(rb->r, &rb->v, &rb->info, err, sizeof err);
	if (rc != 0)
		fail_msg("snapshot: %s", err);
}

static bool family_is(const struct metrics_view *v, const struct blob_family *f, const char *name)
{
	return f->name_len == strlen(name) &&
	       memcmp(view_string(v, f->name_off), name, f->name_len) == 0;
}

/* First value of the series of family `name` whose first label value is lv (or any). */
static bool find_series(const struct metrics_view *v, const char *name, const char *lv,
			struct blob_family *fam, struct blob_series *out)
{
	for (uint32_t i = 0; i < v->hdr.n_families; i++) {
		view_family(v, i, fam);
		if (!family_is(v, fam, name))
			continue;
		for (uint32_t k = 0; k < fam->n_series; k++) {
			struct blob_label l;
			view_series(v, fam->first_series + k, out);
			if (lv == NULL)
				return true;
			view_label(v, out->first_label, &l);
			if (l.value_len == strlen(lv) &&
			    memcmp(view_string(v, l.value_off), lv, l.value_len) == 0)
				return true;
		}
	}
	return false;
}

static double value_of(const struct metrics_view *v, const char *name, const char *lv)
{
	struct blob_family f;
	struct blob_series s;

	if (!find_series(v, name, lv, &f, &s))
		fail_msg("series %s{%s} not published", name, lv ? lv : "");
	return view_value(v, s.value_idx);
}

/* ---- attaching ---- */

static void test_open_null_without_environment_says_what_to_do(void **state)
{
	(void)state;
	unsetenv("SHMETRICS_SEGMENT_FD");
	assert_null(shmetrics_open(NULL, NULL));
	assert_non_null(strstr(shmetrics_last_error(), "SHMETRICS_SEGMENT_FD is not set"));
	setenv("SHMETRICS_SEGMENT_FD", "999", 1);
	assert_null(shmetrics_open(NULL, NULL));
	assert_non_null(strstr(shmetrics_last_error(), "not an open descriptor"));
}

static void test_open_of_a_missing_collector_names_the_segment(void **state)
{
	(void)state;
	struct shmetrics_options o = { .instance = inst };
	assert_null(shmetrics_open("nosuch", &o));
	assert_non_null(strstr(shmetrics_last_error(), fx.base));
	assert_non_null(strstr(shmetrics_last_error(), "nosuch.seg"));
	assert_null(shmetrics_open("bad/name", &o));
	assert_non_null(strstr(shmetrics_last_error(), "bad/name"));
}

static void test_open_null_takes_segment_and_interval_from_environment(void **state)
{
	(void)state;
	int fd = app_fd();
	char fdtext[16];
	snprintf(fdtext, sizeof fdtext, "%d", fd);
	setenv("SHMETRICS_SEGMENT_FD", fdtext, 1);
	setenv("SHMETRICS_COLLECTOR", "app", 1);
	setenv("SHMETRICS_INTERVAL", "1m30s", 1);
	struct shmetrics *m = shmetrics_open(NULL, &(struct shmetrics_options){
						       .flags = SHMETRICS_NO_PUBLISHER });
	assert_non_null(m);
	assert_string_equal(shmetrics_collector_name(m), "app");
	assert_int_equal(shmetrics_interval_ms(m), 90000);
	struct readback rb = { 0 };
	read_back(&rb);
	assert_int_equal(rb.info.interval_ms, 90000);
	assert_int_equal(rb.info.writer_pid, getpid());
	assert_true(rb.v.hdr.flags & BLOB_FLAG_SUCCESS);
	seg_reader_close(rb.r);
	shmetrics_close(m);
	setenv("SHMETRICS_INTERVAL", "soon", 1);
	assert_null(shmetrics_open(NULL, NULL));
	assert_non_null(strstr(shmetrics_last_error(), "SHMETRICS_INTERVAL"));
	close(fd);
}

static void test_interval_defaults_to_the_segments(void **state)
{
	(void)state;
	struct shmetrics *m = open_app(SHMETRICS_NO_PUBLISHER);
	assert_int_equal(shmetrics_interval_ms(m), 1000);
	shmetrics_close(m);
}

static void test_a_segment_with_a_live_writer_is_refused(void **state)
{
	(void)state;
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct seg_writer *w;
		char c = seg_writer_attach(&w, &fx.dir, "app", err, sizeof err) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char c = 0;
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	struct shmetrics_options o = { .instance = inst };
	assert_null(shmetrics_open("app", &o));
	assert_non_null(strstr(shmetrics_last_error(), "already has a writer"));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(ready[0]);
	close(ready[1]);
	struct shmetrics *m = shmetrics_open("app", &o); /* a dead writer is no obstacle */
	assert_non_null(m);
	shmetrics_close(m);
}

/* ---- registration ---- */

struct bad_family {
	const char *name, *help;
	const char *labels[3];
	size_t n;
	const char *message;
};

static void test_invalid_families_are_refused_with_the_reason(void **state)
{
	(void)state;
	static char long_help[METRIC_HELP_MAX + 2];
	memset(long_help, 'h', sizeof long_help - 1);
	const struct bad_family cases[] = {
		{ "1abc", "", { NULL }, 0, "character 1 of the metric name is not allowed" },
		{ "__reserved", "", { NULL }, 0, "the metric name starts with __" },
		{ "has-dash", "", { NULL }, 0, "character 4 of the metric name is not allowed" },
		{ "ok_total", long_help, { NULL }, 0, "help must be UTF-8 of at most" },
		{ "ok_total", "bad \xff utf8", { NULL }, 0, "help must be UTF-8" },
		{ "ok_total", "", { "a", "a" }, 2, "label name a appears twice" },
		{ "ok_total", "", { "__x" }, 1, "label name 1: the label name starts with __" },
		{ "ok_total", "", { "a-b" }, 1, "label name 1: character 2 of the label name" },
		{ "ok_total", "", { NULL }, 1, "label name 1 is NULL" },
		{ "shmetrics_client_series_dropped_total", "", { NULL }, 0, "library's own" },
	};
	struct shmetrics *m = open_app(SHMETRICS_NO_PUBLISHER);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct bad_family *c = &cases[i];
		assert_null(shmetrics_counter(m, c->name, c->help, c->labels, c->n));
		if (strstr(shmetrics_last_error(), c->message) == NULL)
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, shmetrics_last_error(),
				 c->message);
	}
	shmetrics_close(m);
}

static void test_registering_again_returns_the_same_family_or_refuses_a_conflict(void **state)
{
	(void)state;
	const char *ab[] = { "a", "b" }, *ac[] = { "a", "c" };
	struct shmetrics *m = open_app(SHMETRICS_NO_PUBLISHER);
	struct shmetrics_family *f = shmetrics_counter(m, "x_total", "X.", ab, 2);
	assert_non_null(f);
	assert_ptr_equal(shmetrics_counter(m, "x_total", "Other help.", ab, 2), f);
	assert_null(shmetrics_gauge(m, "x_total", "X.", ab, 2));
	assert_non_null(strstr(shmetrics_last_error(), "already registered as a counter"));
	assert_null(shmetrics_counter(m, "x_total", "X.", ac, 2));
	assert_null(shmetrics_counter(m, "x_total", "X.", ab, 1));

	const double b1[] = { 1, 2 }, b2[] = { 1, 3 };
	struct shmetrics_family *h = shmetrics_histogram(m, "lat_seconds", "L.", NULL, 0, b1, 2);
	assert_non_null(h);
	assert_ptr_equal(shmetrics_histogram(m, "lat_seconds", "L.", NULL, 0, b1, 2), h);
	assert_null(shmetrics_histogram(m, "lat_seconds", "L.", NULL, 0, b2, 2));
	assert_null(shmetrics_gauge(m, "lat_seconds_count", "C.", NULL, 0));
	assert_non_null(strstr(shmetrics_last_error(), "collides"));
	assert_non_null(shmetrics_gauge(m, "q_sum", "S.", NULL, 0));
	assert_null(shmetrics_histogram(m, "q", "Q.", NULL, 0, NULL, 0));
	assert_non_null(strstr(shmetrics_last_error(),
			       "q collides with gauge q_sum: both would be exposed as q_sum"));
	/* a counter is exposed with and without _total (OpenMetrics) */
	assert_non_null(shmetrics_counter(m, "jobs", "J.", NULL, 0));
	assert_null(shmetrics_gauge(m, "jobs_total", "J.", NULL, 0));
	assert_non_null(strstr(shmetrics_last_error(),
			       "jobs_total collides with counter jobs: both would be exposed as "
			       "jobs_total"));
	assert_null(shmetrics_gauge(m, "shmetrics_client_series_dropped", "D.", NULL, 0));
	assert_non_null(strstr(shmetrics_last_error(), "the library's own metric"));
	shmetrics_close(m);
}

static void test_histogram_arguments_are_checked(void **state)
{
	(void)state;
	const char *le[] = { "le" };
	const double desc[] = { 2, 1 }, inf[] = { 1, INFINITY };
	double many[HISTOGRAM_BUCKETS_MAX + 1];
	for (int i = 0; i <= HISTOGRAM_BUCKETS_MAX; i++)
		many[i] = i;
	struct shmetrics *m = open_app(SHMETRICS_NO_PUBLISHER);
	assert_null(shmetrics_histogram(m, "h1", "", le, 1, NULL, 0));
	assert_non_null(strstr(shmetrics_last_error(), "label named le"));
	assert_null(shmetrics_histogram(m, "h2", "", NULL, 0, desc, 2));
	assert_non_null(strstr(shmetrics_last_error(), "strictly increasing"));
	assert_null(shmetrics_histogram(m, "h3", "", NULL, 0, inf, 2));
	assert_null(shmetrics_histogram(m, "h4", "", NULL, 0, many, HISTOGRAM_BUCKETS_MAX + 1));
	assert_null(shmetrics_histogram(m, "h5", "", NULL, 0, NULL, 3));
	assert_non_null(shmetrics_histogram(m, "h6", "", NULL, 0, many, HISTOGRAM_BUCKETS_MAX));
	shmetrics_close(m);
}

static void test_series_label_values_are_checked_and_handles_reused(void **state)
{
	(void)state;
	const char *names[] = { "method", "code" };
	const char *get200[] = { "GET", "200" }, *get500[] = { "GET", "500" };
	const char *bad[] = { "GET", "\xc3\x28" }, *empty[] = { "", "" };
	static char long_value[LABEL_VALUE_MAX + 2];
	memset(long_value, 'v', sizeof long_value - 1);
	const char *too_long[] = { "GET", long_value };
	struct shmetrics *m = open_app(SHMETRICS_NO_PUBLISHER);
	struct shmetrics_family *f = shmetrics_counter(m, "req_total", "R.", names, 2);

	struct shmetrics_series *a = shmetrics_series(f, get200, 2);
	assert_non_null(a);
	assert_ptr_equal(shmetrics_series(f, get200, 2), a);
	assert_ptr_not_equal(shmetrics_series(f, get500, 2), a);
	assert_non_null(shmetrics_series(f, empty, 2));
	assert_null(shmetrics_series(f, get200, 1));
	assert_non_null(strstr(shmetrics_last_error(), "1 label value(s) given"));
	assert_null(shmetrics_series(f, bad, 2));
	assert_non_null(strstr(shmetrics_last_error(), "value of label code must be UTF-8"));
	assert_null(shmetrics_series(f, too_long, 2));
	assert_null(shmetrics_series(NULL, get200, 2));
	/* many series: the lookup table grows and still finds every one */
	char v[16];
	struct shmetrics_series *first[300];
	for (int i = 0; i < 300; i++) {
		snprintf(v, sizeof v, "%d", i);
		const char *vals[] = { "PUT", v };
		first[i] = shmetrics_series(f, vals, 2);
		assert_non_null(first[i]);
	}
	for (int i = 0; i < 300; i++) {
		snprintf(v, sizeof v, "%d", i);
		const char *vals[] = { "PUT", v };
		assert_ptr_equal(shmetrics_series(f, vals, 2), first[i]);
	}
	shmetrics_close(m);
}

/* ---- limits ---- */

static void test_series_beyond_the_limit_are_refused_and_counted(void **state)
{
	(void)state;
	make_segment(5); /* one of the five is the library's own metric */
	const char *lbl[] = { "i" };
	struct shmetrics *m = open_app(SHMETRICS_NO_PUBLISHER);
	struct shmetrics_family *f = shmetrics_gauge(m, "g", "G.", lbl, 1);
	char v[8];
	int made = 0, refused = 0;
	for (int i = 0; i < 10; i++) {
		snprintf(v, sizeof v, "%d", i);
		const char *vals[] = { v };
		if (shmetrics_series(f, vals, 1) != NULL) {
			made++;
			continue;
		}
		refused++;
		assert_non_null(strstr(shmetrics_last_error(), "limit of 5 series"));
	}
	assert_int_equal(made, 4);
	assert_int_equal(refused, 6);
	assert_int_equal(shmetrics_publish(m), 0);
	struct readback rb = { 0 };
	read_back(&rb);
	assert_int_equal(rb.v.hdr.n_series, 5);
	assert_true(value_of(&rb.v, "shmetrics_client_series_dropped_total", NULL) == 6.0);
	seg_reader_close(rb.r);
	shmetrics_close(m);
}

static void test_string_space_is_a_limit_too(void **state)
{
	(void)state;
	struct segment_options opt = { .interval_ms = 1000, .mode = 0600, .gid = (gid_t)-1 };
	batch_limits_default(&opt.limits);
	opt.limits.string_bytes = 300;
	segment_remove(&fx.dir, "app", err, sizeof err);
	assert_int_equal(segment_create(&fx.dir, "app", &opt, err, sizeof err), 0);
	const char *lbl[] = { "path" };
	static char long_value[LABEL_VALUE_MAX];
	memset(long_value, 'p', 200);
	const char *vals[] = { long_value };
	struct shmetrics *m = open_app(SHMETRICS_NO_PUBLISHER);
	struct shmetrics_family *f = shmetrics_counter(m, "hits_total", "H.", lbl, 1);
	assert_non_null(f);
	assert_null(shmetrics_series(f, vals, 1));
	assert_non_null(strstr(shmetrics_last_error(), "bytes of names, help and label values"));
	assert_int_equal(shmetrics_publish(m), 0);
	shmetrics_close(m);
}

/* ---- updates and publishing ---- */

static void test_updates_check_the_type_and_the_amount(void **state)
{
	(void)state;
	struct shmetrics *m = open_app(SHMETRICS_NO_PUBLISHER);
	struct shmetrics_series *c = shmetrics_series(shmetrics_counter(m, "c_total", "", NULL, 0),
						      NULL, 0);
	struct shmetrics_series *g = shmetrics_series(shmetrics_gauge(m, "g", "", NULL, 0), NULL,
						      0);
	struct shmetrics_series *h = shmetrics_series(shmetrics_histogram(m, "h", "", NULL, 0, NULL,
									  0),
						      NULL, 0);

	assert_int_equal(shmetrics_set(c, 1), -EINVAL);
	assert_non_null(strstr(shmetrics_last_error(), "c_total: shmetrics_set is not defined"));
	assert_int_equal(shmetrics_add(c, -1), -EINVAL);
	assert_int_equal(shmetrics_add(c, NAN), -EINVAL);
	assert_int_equal(shmetrics_add(c, INFINITY), -EINVAL);
	assert_int_equal(shmetrics_observe(c, 1), -EINVAL);
	assert_int_equal(shmetrics_observe(g, 1), -EINVAL);
	assert_int_equal(shmetrics_add(g, NAN), -EINVAL);
	assert_int_equal(shmetrics_inc(h), -EINVAL);
	assert_int_equal(shmetrics_set(h, 1), -EINVAL);
	assert_int_equal(shmetrics_observe(h, NAN), -EINVAL);
	assert_int_equal(shmetrics_set(g, NAN), 0);
	shmetrics_close(m);
}

static void test_published_values_read_back_through_the_segment(void **state)
{
	(void)state;
	const char *lbl[] = { "method" }, *get[] = { "GET" }, *post[] = { "POST" };
	const double bounds[] = { 0.1, 1, 10 };
	struct shmetrics *m = open_app(SHMETRICS_NO_PUBLISHER);
	struct shmetrics_family *req = shmetrics_counter(m, "req_total", "Requests.", lbl, 1);
	struct shmetrics_series *g = shmetrics_series(shmetrics_gauge(m, "temp", "T.", NULL, 0),
						      NULL, 0);
	struct shmetrics_series *h = shmetrics_series(
	    shmetrics_histogram(m, "lat_seconds", "Latency.", lbl, 1, bounds, 3), get, 1);
	struct shmetrics_series *sget = shmetrics_series(req, get, 1);
	struct shmetrics_series *spost = shmetrics_series(req, post, 1);

	for (int i = 0; i < 5; i++)
		shmetrics_inc(sget);
	shmetrics_add(sget, 2.5);
	shmetrics_add(spost, 7);
	shmetrics_set(g, 21.5);
	shmetrics_add(g, -1.25);
	shmetrics_inc(g);
	const double obs[] = { 0.05, 0.1, 0.5, 5, 50, 1 };
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(shmetrics_observe(h, obs[i]), 0);
	assert_int_equal(shmetrics_publish(m), 0);

	struct readback rb = { 0 };
	read_back(&rb);
	assert_true(value_of(&rb.v, "req_total", "GET") == 7.5);
	assert_true(value_of(&rb.v, "req_total", "POST") == 7.0);
	assert_true(value_of(&rb.v, "temp", NULL) == 21.25);
	struct blob_family f;
	struct blob_series s;
	assert_true(find_series(&rb.v, "lat_seconds", "GET", &f, &s));
	assert_int_equal(f.type, METRIC_HISTOGRAM);
	assert_int_equal(f.n_bounds, 3);
	/* cumulative: <=0.1: 2, <=1: 4, <=10: 5, +Inf: 6, then the sum */
	const double want[] = { 2, 4, 5, 6, 56.65 };
	for (int i = 0; i < 5; i++)
		assert_true(fabs(view_value(&rb.v, s.value_idx + (uint32_t)i) - want[i]) < 1e-9);
	assert_true(value_of(&rb.v, "shmetrics_client_series_dropped_total", NULL) == 0.0);
	uint64_t gen = rb.info.generation;

	/* a new series changes the generation; plain updates do not */
	shmetrics_inc(sget);
	assert_int_equal(shmetrics_publish(m), 0);
	read_back(&rb);
	assert_true(rb.info.generation == gen);
	assert_true(value_of(&rb.v, "req_total", "GET") == 8.5);
	const char *put[] = { "PUT" };
	assert_non_null(shmetrics_series(req, put, 1));
	assert_int_equal(shmetrics_publish(m), 0);
	read_back(&rb);
	assert_true(rb.info.generation != gen);
	seg_reader_close(rb.r);
	shmetrics_close(m);
}

static void test_the_background_thread_publishes_on_its_interval(void **state)
{
	(void)state;
	struct shmetrics_options o = { .instance = inst, .interval_ms = 20 };
	struct shmetrics *m = shmetrics_open("app", &o);
	assert_non_null(m);
	struct shmetrics_series *c = shmetrics_series(shmetrics_counter(m, "t_total", "", NULL, 0),
						      NULL, 0);
	shmetrics_add(c, 3);
	struct readback rb = { 0 };
	bool seen = false;
	for (int i = 0; i < 200 && !seen; i++) {
		usleep(10000);
		read_back(&rb);
		struct blob_family f;
		struct blob_series s;
		seen = find_series(&rb.v, "t_total", NULL, &f, &s) &&
		       view_value(&rb.v, s.value_idx) == 3.0;
	}
	assert_true(seen);
	assert_int_equal(rb.info.interval_ms, 20);
	seg_reader_close(rb.r);
	shmetrics_close(m);
}

/* ---- many threads (run under ThreadSanitizer in `make test`) ---- */

#define HAMMER_THREADS 8
#define HAMMER_ITERS   20000

struct hammer {
	struct shmetrics_series *counter, *gauge, *hist;
	_Atomic bool stop;
	_Atomic unsigned snapshots, inconsistent;
};

static void *hammer_updater(void *arg)
{
	struct hammer *hm = arg;

	for (int i = 0; i < HAMMER_ITERS; i++) {
		shmetrics_inc(hm->counter);
		shmetrics_add(hm->gauge, 1);
		shmetrics_observe(hm->hist, (double)(i % 4 + 1)); /* 1, 2, 3, 4 */
	}
	return NULL;
}

/*
 * Bounds 1, 2, 3 and observations 1..4: bucket k holds only the value k+1, so a
 * snapshot whose sum is not 1*c1 + 2*c2 + 3*c3 + 4*c4 mixed two moments.
 */
static bool histogram_consistent(const struct metrics_view *v, uint64_t *count)
{
	struct blob_family f;
	struct blob_series s;

	if (!find_series(v, "obs", NULL, &f, &s))
		return false;
	double cum[5];
	for (int i = 0; i < 5; i++)
		cum[i] = view_value(v, s.value_idx + (uint32_t)i);
	double expect = 0, prev = 0;
	for (int i = 0; i < 4; i++) {
		if (cum[i] < prev)
			return false;
		expect += (i + 1) * (cum[i] - prev);
		prev = cum[i];
	}
	*count = (uint64_t)cum[3];
	return cum[4] == expect;
}

static void *hammer_reader(void *arg)
{
	struct hammer *hm = arg;
	struct readback rb = { 0 };
	uint64_t count, last = 0;
	char why[256];

	if (seg_reader_open(&rb.r, &fx.dir, "app", segdir_fixture_limits(), why, sizeof why) != 0) {
		atomic_fetch_add(&hm->inconsistent, 1);
		return NULL;
	}
	while (!atomic_load(&hm->stop)) {
		/* not read_back: cmocka's failures may only happen in the test's thread */
		if (seg_reader_snapshot(rb.r, &rb.v, &rb.info, why, sizeof why) != 0)
			continue; /* busy: the writer published through every retry */
		if (!histogram_consistent(&rb.v, &count) || count < last)
			atomic_fetch_add(&hm->inconsistent, 1);
		last = count;
		atomic_fetch_add(&hm->snapshots, 1);
		usleep(500);
	}
	seg_reader_close(rb.r);
	return NULL;
}

static void test_many_threads_on_one_handle_lose_nothing_and_publish_consistently(void **state)
{
	(void)state;
	const double bounds[] = { 1, 2, 3 };
	struct shmetrics_options o = { .instance = inst, .interval_ms = 10 };
	struct shmetrics *m = shmetrics_open("app", &o);
	struct hammer hm = { .stop = false };
	pthread_t t[HAMMER_THREADS], reader;

	assert_non_null(m);
	hm.counter = shmetrics_series(shmetrics_counter(m, "n_total", "", NULL, 0), NULL, 0);
	hm.gauge = shmetrics_series(shmetrics_gauge(m, "level", "", NULL, 0), NULL, 0);
	hm.hist = shmetrics_series(shmetrics_histogram(m, "obs", "", NULL, 0, bounds, 3), NULL, 0);
	assert_int_equal(shmetrics_publish(m), 0); /* the reader finds "obs" from the start */
	assert_int_equal(pthread_create(&reader, NULL, hammer_reader, &hm), 0);
	for (int i = 0; i < HAMMER_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer_updater, &hm), 0);
	for (int i = 0; i < HAMMER_THREADS; i++) {
		if (i == HAMMER_THREADS / 2)
			assert_int_equal(shmetrics_publish(m), 0); /* an explicit flush mid-run */
		pthread_join(t[i], NULL);
	}
	assert_int_equal(shmetrics_publish(m), 0);
	usleep(20000);
	atomic_store(&hm.stop, true);
	pthread_join(reader, NULL);

	struct readback rb = { 0 };
	uint64_t count;
	const double total = (double)HAMMER_THREADS * HAMMER_ITERS;
	read_back(&rb);
	assert_true(value_of(&rb.v, "n_total", NULL) == total);
	assert_true(value_of(&rb.v, "level", NULL) == total);
	assert_true(histogram_consistent(&rb.v, &count));
	assert_true((double)count == total);
	assert_int_equal(atomic_load(&hm.inconsistent), 0);
	assert_true(atomic_load(&hm.snapshots) > 0);
	seg_reader_close(rb.r);
	shmetrics_close(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_null_without_environment_says_what_to_do,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_of_a_missing_collector_names_the_segment,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_open_null_takes_segment_and_interval_from_environment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interval_defaults_to_the_segments, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_segment_with_a_live_writer_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_invalid_families_are_refused_with_the_reason,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_registering_again_returns_the_same_family_or_refuses_a_conflict, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_histogram_arguments_are_checked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    test_series_label_values_are_checked_and_handles_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_series_beyond_the_limit_are_refused_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_string_space_is_a_limit_too, setup, teardown),
		cmocka_unit_test_setup_teardown(test_updates_check_the_type_and_the_amount, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_published_values_read_back_through_the_segment,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_the_background_thread_publishes_on_its_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_many_threads_on_one_handle_lose_nothing_and_publish_consistently, setup,
		    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
