/*
 * A custom collector is someone else's code.  These tests play a hostile one,
 * "evil", beside a well-behaved one, "good", and run the exporter's scrape
 * in-process after every attack.  Each time the body must be produced (no
 * crash, no hang), must parse with the strict text parser (no torn or invalid
 * exposition), and must carry exactly good's lines: nothing evil does can
 * change another collector's metrics.  Runs under ASan in make test.
 *
 * Attacks: random bytes over random ranges of the segment (header included,
 * with the sequence word bumped so the exporter rereads), offsets and lengths
 * pointing outside the segment, a million series registered through the
 * library, a writer killed mid-update again and again, and a truncated segment.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../exporter/scrape.h"
#include "metrics.h"
#include "promtext.h"
#include "segdir_fixture.h"
#include "segment.h"
#include "segment_layout.h"
#include "shmetrics.h"

#define ROUNDS 1500

static struct segdir_fixture fx;
static const char *instance = FIXTURE_INSTANCE;
static const char *good_seg = "good", *evil_seg = "evil";
static char err[512];
static char good_lines[4096]; /* good's sample lines as first served */
static struct scrape *scrape;

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void create_segment(const char *collector, uint32_t max_series)
{
	struct segment_options opt = segdir_fixture_options(max_series, 60000);
	segment_remove(&fx.dir, collector, err, sizeof err);
	if (segment_create(&fx.dir, collector, &opt, err, sizeof err) < 0)
		fail_msg("%s", err);
}

/* Publishes n series "<family>{i=...} value" and leaves as the CLI does (no
 * resident writer: the exporter judges the segment by its publish time). */
static void publish_batch(const char *seg, const char *family, int n, double value)
{
	struct seg_writer *w;
	static const char *const names[] = { "i" };
	assert_int_equal(seg_writer_attach(&w, &fx.dir, seg, err, sizeof err), 0);
	struct batch *b = batch_new(seg_writer_limits(w));
	assert_int_equal(batch_family(b, family, "Test series.", METRIC_GAUGE, err, sizeof err), 0);
	for (int i = 0; i < n; i++) {
		char idx[16];
		snprintf(idx, sizeof idx, "%d", i);
		const char *values[] = { idx };
		assert_int_equal(batch_add(b, names, values, 1, value, err, sizeof err), 0);
	}
	batch_set_status(b, true, 1000, NULL);
	assert_int_equal(seg_writer_publish(w, b, err, sizeof err), 0);
	batch_free(b);
	seg_writer_detach_resident(w);
}

/* The lines of body that start with prefix, in order. */
static void lines_with(const char *body, size_t len, const char *prefix, char *out, size_t outlen)
{
	size_t used = 0, plen = strlen(prefix);
	out[0] = '\0';
	for (const char *p = body; p < body + len;) {
		const char *nl = memchr(p, '\n', (size_t)(body + len - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(body + len - p);
		if (n >= plen && memcmp(p, prefix, plen) == 0 && used + n < outlen) {
			memcpy(out + used, p, n);
			used += n;
			out[used] = '\0';
		}
		p += n;
	}
}

/* One text scrape of every collector, head and tail joined (the caller frees it). */
static char *scrape_text(size_t *len)
{
	struct scrape_request req = { .format = SCRAPE_FORMAT_TEXT };
	struct scrape_reply *reply;

	scrape_select_all(scrape, &req.sel);
	assert_int_equal(scrape_get(scrape, &req, &reply), 0);
	char *body = scrape_reply_join(reply);
	assert_non_null(body);
	*len = scrape_reply_len(reply);
	scrape_reply_free(reply);
	return body;
}

/* One scrape: bounded in time, valid exposition, good's lines unchanged. */
static void scrape_and_check(const char *what)
{
	char lines[4096];
	size_t len;
	double t0 = seconds_now();
	char *body = scrape_text(&len);
	/* Not a speed check: a generous bound that only a hang would exceed. */
	if (seconds_now() - t0 > 5.0)
		fail_msg("%s: a scrape took %.1f s", what, seconds_now() - t0);
	struct batch_limits lim;
	batch_limits_default(&lim);
	struct batch *parsed = batch_new(&lim);
	if (promtext_parse(parsed, body, len, err, sizeof err) < 0)
		fail_msg("%s: the body does not parse: %s", what, err);
	batch_free(parsed);
	lines_with(body, len, "good_value", lines, sizeof lines);
	if (strcmp(lines, good_lines) != 0)
		fail_msg("%s: good's lines changed:\n%s\nwere:\n%s", what, lines, good_lines);
	free(body);
}

static int setup(void **state)
{
	(void)state;
	if (segdir_fixture_make(&fx) < 0)
		return -1;
	setenv(SEGDIR_ENV, fx.base, 1); /* for shmetrics_open */
	create_segment(good_seg, 0);
	create_segment(evil_seg, 1000);
	publish_batch(good_seg, "good_value", 5, 42);
	publish_batch(evil_seg, "evil_value", 5, 7);

	static const char *const collectors[] = { "good", "evil" };
	struct scrape_options opt = { .segments_dir = fx.base,
				      .instance = instance,
				      .collectors = collectors,
				      .n_collectors = 2,
				      .cache_ms = 1,
				      .probe_ms = 0 };
	if (scrape_new(&scrape, &opt, err, sizeof err) < 0)
		fail_msg("%s", err);
	size_t len;
	char *body = scrape_text(&len);
	lines_with(body, len, "good_value", good_lines, sizeof good_lines);
	assert_non_null(strstr(good_lines, "good_value{i=\"4\"} 42\n"));
	assert_non_null(memmem(body, len, "evil_value{i=\"0\"} 7", 19));
	free(body);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	scrape_free(scrape);
	segdir_fixture_free(&fx);
	unsetenv(SEGDIR_ENV);
	return 0;
}

static unsigned char *map_evil(size_t *size)
{
	struct stat st;
	int fd = segdir_open_segment(&fx.dir, evil_seg, O_RDWR, NULL, err, sizeof err);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*size = (size_t)st.st_size;
	void *p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(p != MAP_FAILED);
	return p;
}

/* Makes the exporter reread the segment, as a writer's publish would. */
static void bump_seq(unsigned char *p)
{
	uint64_t seq;
	memcpy(&seq, p + offsetof(struct seg_header, seq), 8);
	seq += 2;
	memcpy(p + offsetof(struct seg_header, seq), &seq, 8);
}

static void test_random_bytes_over_the_segment_change_nothing_else(void **state)
{
	(void)state;
	size_t size;
	unsigned char *p = map_evil(&size);
	srand((unsigned)getpid());
	/* Most of the action is in the header and the start of each copy. */
	size_t hot = SEGMENT_HEADER_SIZE + 4096;
	for (int round = 0; round < ROUNDS; round++) {
		size_t off = (size_t)rand() % (round % 2 ? hot : size);
		size_t len = 1 + (size_t)rand() % 256;
		if (len > size - off)
			len = size - off;
		for (size_t i = 0; i < len; i++)
			p[off + i] = (unsigned char)rand();
		if (rand() % 4 != 0)
			bump_seq(p);
		scrape_and_check("random bytes");
		if (round % 100 == 99) { /* start again from a valid segment */
			munmap(p, size);
			create_segment(evil_seg, 1000);
			publish_batch(evil_seg, "evil_value", 5, 7);
			p = map_evil(&size);
		}
	}
	munmap(p, size);
}

static void write_u64(unsigned char *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, 8);
}

static void write_u32(unsigned char *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

static void test_offsets_and_lengths_pointing_outside_are_refused(void **state)
{
	(void)state;
	static const uint64_t bad[] = { 1ull << 62, UINT64_MAX, 4096, 7, 0 };
	static const size_t header_fields[] = {
		offsetof(struct seg_header, segment_size),
		offsetof(struct seg_header, copy_offset[0]),
		offsetof(struct seg_header, copy_offset[1]),
		offsetof(struct seg_header, copy_capacity),
		offsetof(struct seg_header, limits),
		offsetof(struct seg_header, header_size),
	};
	static const size_t blob_fields[] = {
		offsetof(struct blob_header, n_families),
		offsetof(struct blob_header, n_series),
		offsetof(struct blob_header, n_labels),
		offsetof(struct blob_header, n_values),
		offsetof(struct blob_header, strings_len),
		offsetof(struct blob_header, error_len),
		sizeof(struct blob_header) + offsetof(struct blob_family, name_off),
		sizeof(struct blob_header) + offsetof(struct blob_family, first_series),
	};
	size_t size;
	for (size_t f = 0; f < sizeof header_fields / sizeof header_fields[0]; f++)
		for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
			unsigned char *p = map_evil(&size);
			write_u64(p, header_fields[f], bad[b]);
			bump_seq(p);
			munmap(p, size);
			scrape_and_check("header field out of range");
			create_segment(evil_seg, 1000);
			publish_batch(evil_seg, "evil_value", 5, 7);
		}
	for (size_t f = 0; f < sizeof blob_fields / sizeof blob_fields[0]; f++)
		for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
			unsigned char *p = map_evil(&size);
			struct seg_header h;
			memcpy(&h, p, sizeof h);
			for (int c = 0; c < 2; c++) {
				write_u32(p, h.copy_offset[c] + blob_fields[f], (uint32_t)bad[b]);
				/* used_bytes too, pointing past the copy */
				if (b == 0)
					write_u64(p, h.copy_offset[c], h.copy_capacity * 4);
			}
			bump_seq(p);
			munmap(p, size);
			scrape_and_check("batch field out of range");
			publish_batch(evil_seg, "evil_value", 5, 7);
		}
}

static void test_a_million_series_stop_at_the_limit_and_are_counted(void **state)
{
	(void)state;
	struct shmetrics_options o = { .instance = instance, .flags = SHMETRICS_NO_PUBLISHER };
	struct shmetrics *m = shmetrics_open("evil", &o);
	if (m == NULL)
		fail_msg("shmetrics_open: %s", shmetrics_last_error());
	const char *names[] = { "id" };
	struct shmetrics_family *fam = shmetrics_counter(m, "evil_requests_total", "Many.", names,
							 1);
	assert_non_null(fam);
	int made = 0, refused = 0;
	for (int i = 0; i < 1000000; i++) {
		char id[16];
		snprintf(id, sizeof id, "%d", i);
		const char *values[] = { id };
		struct shmetrics_series *s = shmetrics_series(fam, values, 1);
		if (s == NULL) {
			refused++;
			continue;
		}
		made++;
		shmetrics_inc(s);
	}
	assert_true(made > 0 && made < 1000);
	assert_int_equal(made + refused, 1000000);
	assert_int_equal(shmetrics_publish(m), 0);
	scrape_and_check("a million series");

	/* The refusals are counted where an operator sees them. */
	char lines[4096], want[128];
	size_t len;
	char *body = scrape_text(&len);
	lines_with(body, len, "shmetrics_client_series_dropped_total", lines, sizeof lines);
	snprintf(want, sizeof want, "shmetrics_client_series_dropped_total %d\n", refused);
	if (strstr(lines, want) == NULL)
		fail_msg("expected \"%s\" in:\n%s", want, lines);
	free(body);
	shmetrics_close(m);
}

static void test_a_writer_killed_mid_update_changes_nothing_else(void **state)
{
	(void)state;
	srand((unsigned)getpid());
	for (int round = 0; round < 60; round++) {
		pid_t pid = fork();
		if (pid == 0) {
			for (int v = 0;; v++)
				publish_batch(evil_seg, "evil_value", 1 + v % 50, v);
		}
		usleep((useconds_t)(rand() % 4000));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		scrape_and_check("writer killed mid-update");
	}
}

static void test_a_truncated_segment_is_survived(void **state)
{
	(void)state;
	int fd = segdir_open_segment(&fx.dir, evil_seg, O_RDWR, NULL, err, sizeof err);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	close(fd);
	scrape_and_check("truncated");
	fd = segdir_open_segment(&fx.dir, evil_seg, O_RDWR, NULL, err, sizeof err);
	assert_int_equal(ftruncate(fd, 0), 0);
	close(fd);
	scrape_and_check("truncated to nothing");
}

/* The exporter's verdict on collector name in the JSON body. */
static bool reported_down_because(const char *name, const char *why)
{
	struct scrape_request req = { .format = SCRAPE_FORMAT_JSON };
	struct scrape_reply *reply;
	char key[128];

	scrape_select_all(scrape, &req.sel);
	assert_int_equal(scrape_get(scrape, &req, &reply), 0);
	char *body = scrape_reply_join(reply);
	size_t len = scrape_reply_len(reply);
	scrape_reply_free(reply);
	assert_non_null(body);
	snprintf(key, sizeof key, "\"%s\"", name);
	const char *at = memmem(body, len, key, strlen(key));
	bool found = at && memmem(at, len - (size_t)(at - body), why, strlen(why));
	free(body);
	return found;
}

static void test_a_writer_that_grows_its_segment_and_its_limits_is_refused(void **state)
{
	(void)state;
	struct batch_limits lim;
	struct seg_header h, big;
	int fd = segdir_open_segment(&fx.dir, evil_seg, O_RDWR, NULL, err, sizeof err);

	assert_true(fd >= 0);
	/* as a hostile writer would: a million series' worth, consistently declared */
	segment_limits(1000000, &lim);
	size_t size = seg_layout(&big, &lim);
	assert_int_equal(seg_header_pread(fd, &h), 0);
	memcpy(h.limits, big.limits, sizeof h.limits);
	h.copy_offset[0] = big.copy_offset[0];
	h.copy_offset[1] = big.copy_offset[1];
	h.copy_capacity = big.copy_capacity;
	h.segment_size = size;
	h.seq += 2;
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	assert_int_equal(pwrite(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
	close(fd);
	scrape_and_check("grown beyond the exporter's limits");
	assert_true(reported_down_because("evil", "larger than this reader accepts"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_random_bytes_over_the_segment_change_nothing_else, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_offsets_and_lengths_pointing_outside_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_million_series_stop_at_the_limit_and_are_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_writer_killed_mid_update_changes_nothing_else, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_truncated_segment_is_survived, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_writer_that_grows_its_segment_and_its_limits_is_refused, setup,
		    teardown),
	};
	return cmocka_run_group_tests_name("isolation", tests, NULL, NULL);
}
