/* Segment protocol: create, publish, read, and refuse what is not right. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "segdir_fixture.h"
#include "segment.h"
#include "segment_layout.h"

static struct segdir_fixture fx;
static char err[512];

/* The test segment "seg" in the fixture's directory, and the reader's limits. */
#define SEG &fx.dir, "seg"
#define LIM segdir_fixture_limits()

static int setup(void **state)
{
	(void)state;
	if (segdir_fixture_make(&fx) < 0)
		return -1;
	struct segment_options opt = segdir_fixture_options(0, 1000);
	return segment_create(SEG, &opt, err, sizeof err);
}

static int teardown(void **state)
{
	(void)state;
	segdir_fixture_free(&fx);
	return 0;
}

/* A descriptor of the test segment's file, read-write. */
static int seg_fd(void)
{
	int fd = segdir_open_segment(SEG, O_RDWR, NULL, err, sizeof err);
	assert_true(fd >= 0);
	return fd;
}

static const char *const cpu_label[] = { "cpu", "mode" };

static void fill_batch(struct batch *b, double value, int n_cpus)
{
	char cpu[16];
	batch_reset(b);
	assert_int_equal(batch_family(b, "node_cpu_seconds_total", "Seconds the CPUs spent.",
				      METRIC_COUNTER, err, sizeof err),
			 0);
	for (int i = 0; i < n_cpus; i++) {
		snprintf(cpu, sizeof cpu, "%d", i);
		const char *values[] = { cpu, "idle" };
		assert_int_equal(batch_add(b, cpu_label, values, 2, value, err, sizeof err), 0);
	}
	batch_set_status(b, true, 1234, NULL);
}

static struct batch *new_batch(void)
{
	struct batch_limits lim;
	batch_limits_default(&lim);
	struct batch *b = batch_new(&lim);
	assert_non_null(b);
	return b;
}

static void test_published_batch_reads_back_identically(void **state)
{
	(void)state;
	struct seg_writer *w;
	struct seg_reader *r;
	struct metrics_view v;
	struct seg_info info;
	struct batch *b = new_batch();

	assert_int_equal(seg_writer_attach(&w, SEG, err, sizeof err), 0);
	assert_int_equal(seg_reader_open(&r, SEG, LIM, err, sizeof err), 0);
	fill_batch(b, 42.5, 4);
	assert_int_equal(seg_writer_publish(w, b, err, sizeof err), 0);
	assert_int_equal(seg_reader_snapshot(r, &v, &info, err, sizeof err), 0);

	assert_string_equal(info.collector, "seg");
	assert_int_equal(info.writer_pid, getpid());
	assert_true(info.writer_alive);
	assert_int_equal(info.interval_ms, 1000);
	assert_int_equal(v.hdr.n_families, 1);
	assert_int_equal(v.hdr.n_series, 4);
	assert_true(v.hdr.flags & BLOB_FLAG_SUCCESS);
	assert_int_equal(v.hdr.duration_ns, 1234);
	struct blob_family f;
	view_family(&v, 0, &f);
	assert_int_equal(f.type, METRIC_COUNTER);
	assert_memory_equal(view_string(&v, f.name_off), "node_cpu_seconds_total", f.name_len);
	for (uint32_t i = 0; i < 4; i++) {
		struct blob_series s;
		view_series(&v, i, &s);
		assert_true(view_value(&v, s.value_idx) == 42.5);
	}
	seg_reader_close(r);
	seg_writer_detach(w);
	batch_free(b);
}

static void test_generation_changes_only_when_the_series_set_changes(void **state)
{
	(void)state;
	struct seg_writer *w;
	struct seg_reader *r;
	struct metrics_view v;
	struct batch *b = new_batch();

	assert_int_equal(seg_writer_attach(&w, SEG, err, sizeof err), 0);
	assert_int_equal(seg_reader_open(&r, SEG, LIM, err, sizeof err), 0);
	fill_batch(b, 1, 2);
	assert_int_equal(seg_writer_publish(w, b, err, sizeof err), 0);
	assert_int_equal(seg_reader_snapshot(r, &v, NULL, err, sizeof err), 0);
	uint64_t g1 = v.hdr.meta_generation;
	fill_batch(b, 2, 2);
	assert_int_equal(seg_writer_publish(w, b, err, sizeof err), 0);
	assert_int_equal(seg_reader_snapshot(r, &v, NULL, err, sizeof err), 0);
	assert_int_equal(v.hdr.meta_generation, g1);
	assert_true(view_value(&v, 1) == 2);
	fill_batch(b, 3, 3); /* a CPU came online */
	assert_int_equal(seg_writer_publish(w, b, err, sizeof err), 0);
	assert_int_equal(seg_reader_snapshot(r, &v, NULL, err, sizeof err), 0);
	assert_int_equal(v.hdr.meta_generation, g1 + 1);
	assert_int_equal(v.hdr.n_series, 3);
	fill_batch(b, 4, 1); /* two went away */
	assert_int_equal(seg_writer_publish(w, b, err, sizeof err), 0);
	assert_int_equal(seg_reader_snapshot(r, &v, NULL, err, sizeof err), 0);
	assert_int_equal(v.hdr.n_series, 1);
	assert_true(view_value(&v, 0) == 4);
	seg_reader_close(r);
	seg_writer_detach(w);
	batch_free(b);
}

static void test_new_segment_reads_as_not_yet_collected(void **state)
{
	(void)state;
	struct seg_reader *r;
	struct metrics_view v;
	struct seg_info info;
	size_t len;

	assert_int_equal(seg_reader_open(&r, SEG, LIM, err, sizeof err), 0);
	assert_int_equal(seg_reader_snapshot(r, &v, &info, err, sizeof err), 0);
	assert_int_equal(v.hdr.n_series, 0);
	assert_false(v.hdr.flags & BLOB_FLAG_SUCCESS);
	assert_non_null(strstr(view_error(&v, &len), "no collection"));
	assert_int_equal(info.writer_pid, 0);
	assert_false(info.writer_alive);
	seg_reader_close(r);
}

/* A second RW mapping lets a test scribble on the segment like a hostile writer. */
static unsigned char *map_rw(size_t *size)
{
	struct stat st;
	int fd = seg_fd();
	assert_int_equal(fstat(fd, &st), 0);
	*size = (size_t)st.st_size;
	void *p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(p != MAP_FAILED);
	return p;
}

static void test_other_layout_version_is_refused_naming_both(void **state)
{
	(void)state;
	struct seg_reader *r;
	size_t size;
	unsigned char *p = map_rw(&size);
	uint64_t v = 7;
	memcpy(p + offsetof(struct seg_header, layout_version), &v, 8);
	assert_int_equal(seg_reader_open(&r, SEG, LIM, err, sizeof err), -EPROTO);
	assert_non_null(strstr(err, "layout version 7"));
	assert_non_null(strstr(err, "version 2"));
	munmap(p, size);
}

static void test_foreign_object_is_refused(void **state)
{
	(void)state;
	struct seg_reader *r;
	size_t size;
	unsigned char *p = map_rw(&size);
	memset(p, 'x', 64);
	assert_int_equal(seg_reader_open(&r, SEG, LIM, err, sizeof err), -EPROTO);
	assert_non_null(strstr(err, "not a shmetrics segment"));
	munmap(p, size);
}

static void test_header_offsets_outside_the_segment_are_refused(void **state)
{
	(void)state;
	static const size_t fields[] = {
		offsetof(struct seg_header, copy_offset[0]),
		offsetof(struct seg_header, copy_offset[1]),
		offsetof(struct seg_header, copy_capacity),
		offsetof(struct seg_header, segment_size),
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		struct seg_reader *r;
		size_t size;
		unsigned char *p = map_rw(&size);
		uint64_t saved, bad = (uint64_t)size - 8;
		memcpy(&saved, p + fields[i], 8);
		memcpy(p + fields[i], &bad, 8);
		assert_int_equal(seg_reader_open(&r, SEG, LIM, err, sizeof err), -EPROTO);
		memcpy(p + fields[i], &saved, 8);
		munmap(p, size);
	}
}

/* Corrupts one 32-bit field of the published batch in both copies. */
static void corrupt_batch_field(size_t blob_off, uint32_t value)
{
	size_t size;
	unsigned char *p = map_rw(&size);
	struct seg_header h;
	memcpy(&h, p, sizeof h);
	for (int c = 0; c < 2; c++)
		memcpy(p + h.copy_offset[c] + blob_off, &value, 4);
	munmap(p, size);
}

static void test_corrupt_batches_are_refused_without_a_crash(void **state)
{
	(void)state;
	struct {
		size_t off;
		uint32_t value;
		const char *expect;
	} cases[] = {
		{ offsetof(struct blob_header, n_series), 0xffffffffu, "limits" },
		{ offsetof(struct blob_header, n_series), 3, "does not match" },
		{ offsetof(struct blob_header, strings_len), 1, "does not match" },
		{ sizeof(struct blob_header) + offsetof(struct blob_family, name_off), 1u << 30,
		  "outside the string area" },
		{ sizeof(struct blob_header) + offsetof(struct blob_family, name_len), 0, "empty" },
		{ sizeof(struct blob_header) + offsetof(struct blob_family, type), 9,
		  "unknown type" },
		{ sizeof(struct blob_header) + offsetof(struct blob_family, n_series), 7,
		  "out of range" },
		{ sizeof(struct blob_header) + sizeof(struct blob_family) +
		      offsetof(struct blob_series, value_idx),
		  100000, "values out of range" },
		{ sizeof(struct blob_header) + sizeof(struct blob_family) +
		      offsetof(struct blob_series, n_labels),
		  9999, "labels out of range" },
	};
	struct batch *b = new_batch();

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct seg_reader *r;
		struct seg_writer *w;
		struct metrics_view v;
		/* A fresh writer rewrites everything (a running one trusts its metadata). */
		assert_int_equal(seg_writer_attach(&w, SEG, err, sizeof err), 0);
		fill_batch(b, 1, 2);
		assert_int_equal(seg_writer_publish(w, b, err, sizeof err), 0);
		seg_writer_detach(w);
		corrupt_batch_field(cases[i].off, cases[i].value);
		assert_int_equal(seg_reader_open(&r, SEG, LIM, err, sizeof err), 0);
		int rc = seg_reader_snapshot(r, &v, NULL, err, sizeof err);
		if (rc != -EPROTO || strstr(err, cases[i].expect) == NULL)
			fail_msg("case %zu: rc %d, message \"%s\"", i, rc, err);
		seg_reader_close(r);
	}
	batch_free(b);
}

static void test_truncated_segment_is_reported_not_fatal(void **state)
{
	(void)state;
	struct seg_reader *r;
	struct metrics_view v;
	assert_int_equal(seg_reader_open(&r, SEG, LIM, err, sizeof err), 0);
	int fd = seg_fd();
	assert_int_equal(ftruncate(fd, 4096), 0);
	close(fd);
	/* Either the size check or the SIGBUS guard catches it; nothing crashes. */
	assert_int_equal(seg_reader_snapshot(r, &v, NULL, err, sizeof err), -EPROTO);
	seg_reader_close(r);
}

static void test_leftover_segment_of_a_dead_run_is_replaced(void **state)
{
	(void)state;
	struct segment_options opt = segdir_fixture_options(0, 1000);
	segment_remove(SEG, err, sizeof err);
	/* A child creates the segment and dies: its creator pid is then dead. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(segment_create(SEG, &opt, err, sizeof err) == 0 ? 0 : 1);
	int status;
	waitpid(pid, &status, 0);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(segment_create(SEG, &opt, err, sizeof err), 0);
}

static bool is_zombie(pid_t pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] == 'Z';
}

static void test_leftover_of_a_dead_unreaped_agent_is_replaced(void **state)
{
	(void)state;
	struct segment_options opt = segdir_fixture_options(0, 1000);
	segment_remove(SEG, err, sizeof err);
	pid_t pid = fork();
	if (pid == 0)
		_exit(segment_create(SEG, &opt, err, sizeof err) == 0 ? 0 : 1);
	for (int i = 0; i < 500 && !is_zombie(pid); i++)
		usleep(10000);
	assert_true(is_zombie(pid));
	/* Its pid still exists, as a zombie: that must not count as alive. */
	assert_int_equal(segment_create(SEG, &opt, err, sizeof err), 0);
	waitpid(pid, NULL, 0);
}

static void test_segment_of_a_live_agent_is_not_taken_over(void **state)
{
	(void)state;
	struct segment_options opt = segdir_fixture_options(0, 1000);
	/* setup() created it from this (living) process. */
	assert_int_equal(segment_create(SEG, &opt, err, sizeof err), -EEXIST);
	assert_non_null(strstr(err, "running agent"));
}

static void test_restarted_writer_continues_the_same_segment(void **state)
{
	(void)state;
	struct seg_writer *w;
	struct seg_reader *r;
	struct metrics_view v;
	struct batch *b = new_batch();

	assert_int_equal(seg_reader_open(&r, SEG, LIM, err, sizeof err), 0);
	for (int round = 1; round <= 3; round++) {
		assert_int_equal(seg_writer_attach(&w, SEG, err, sizeof err), 0);
		fill_batch(b, round, round);
		assert_int_equal(seg_writer_publish(w, b, err, sizeof err), 0);
		seg_writer_detach(w);
		assert_int_equal(seg_reader_snapshot(r, &v, NULL, err, sizeof err), 0);
		assert_int_equal(v.hdr.n_series, round);
		assert_true(view_value(&v, 0) == round);
	}
	seg_reader_close(r);
	batch_free(b);
}

static void test_removed_segment_is_reported_to_the_reader(void **state)
{
	(void)state;
	struct seg_reader *r;
	struct metrics_view v;
	assert_int_equal(seg_reader_open(&r, SEG, LIM, err, sizeof err), 0);
	assert_int_equal(segment_remove(SEG, err, sizeof err), 0);
	assert_int_equal(seg_reader_snapshot(r, &v, NULL, err, sizeof err), -ENOENT);
	assert_int_equal(segment_remove(SEG, err, sizeof err), 0); /* twice is fine */
	seg_reader_close(r);
}

static void test_segment_file_names_are_validated(void **state)
{
	(void)state;
	char name[128];
	assert_int_equal(segdir_file_name(name, sizeof name, "cpu", err, sizeof err), 0);
	assert_string_equal(name, "cpu.seg");
	assert_int_equal(segdir_file_name(name, sizeof name, "../x", err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "../x"));
	assert_int_equal(segdir_file_name(name, sizeof name, "", err, sizeof err), -EINVAL);
	assert_int_equal(segdir_file_name(name, sizeof name, "a.b", err, sizeof err), -EINVAL);
}

static void test_batch_that_does_not_fit_is_refused(void **state)
{
	(void)state;
	struct batch_limits small = { 4, 4, 8, 8, 4, 256 };
	struct segment_options opt = {
		.limits = small, .interval_ms = 1000, .mode = 0600, .gid = (gid_t)-1
	};
	struct seg_writer *w;
	struct batch *big = new_batch();

	segment_remove(SEG, err, sizeof err);
	assert_int_equal(segment_create(SEG, &opt, err, sizeof err), 0);
	assert_int_equal(seg_writer_attach(&w, SEG, err, sizeof err), 0);
	fill_batch(big, 1, 100);
	assert_int_equal(seg_writer_publish(w, big, err, sizeof err), -E2BIG);
	assert_non_null(strstr(err, "does not fit"));
	seg_writer_detach(w);
	batch_free(big);
}

static void test_series_refused_for_limits_are_counted_in_the_header(void **state)
{
	(void)state;
	struct batch_limits lim;
	batch_limits_default(&lim);
	lim.max_series = 3;
	struct segment_options opt = {
		.limits = lim, .interval_ms = 1000, .mode = 0600, .gid = (gid_t)-1
	};
	struct seg_writer *w;
	struct seg_reader *r;
	struct metrics_view v;
	struct seg_info info;
	static const char *const names[] = { "i" };

	segment_remove(SEG, err, sizeof err);
	assert_int_equal(segment_create(SEG, &opt, err, sizeof err), 0);
	assert_int_equal(seg_writer_attach(&w, SEG, err, sizeof err), 0);
	struct batch *b = batch_new(seg_writer_limits(w));
	for (int round = 0; round < 2; round++) {
		batch_reset(b);
		assert_int_equal(batch_family(b, "x", "X.", METRIC_GAUGE, err, sizeof err), 0);
		for (int i = 0; i < 5; i++) {
			char idx[8];
			snprintf(idx, sizeof idx, "%d", i);
			const char *values[] = { idx };
			int rc = batch_add(b, names, values, 1, 1, err, sizeof err);
			assert_int_equal(rc, i < 3 ? 0 : -ENOSPC);
		}
		assert_int_equal(batch_dropped(b), 2);
		assert_int_equal(seg_writer_publish(w, b, err, sizeof err), 0);
	}
	assert_int_equal(seg_reader_open(&r, SEG, LIM, err, sizeof err), 0);
	assert_int_equal(seg_reader_snapshot(r, &v, &info, err, sizeof err), 0);
	assert_int_equal(v.hdr.n_series, 3);
	assert_int_equal(info.series_dropped, 4);
	seg_reader_close(r);
	seg_writer_detach(w);
	batch_free(b);
}

/* A summary batch whose copy is then corrupted in one place. */
static struct batch *summary_batch(void)
{
	static const double quantiles[] = { 0.5, 0.9 };
	static const double qvalues[] = { 0.25, NAN };
	const char *names[] = { "quantilz" }, *values[] = { "v" };
	struct batch_limits lim;

	batch_limits_default(&lim);
	struct batch *b = batch_new(&lim);
	assert_non_null(b);
	assert_int_equal(batch_summary_family(b, "s", "S.", quantiles, 2, err, sizeof err), 0);
	assert_int_equal(batch_add_summary(b, names, values, 1, qvalues, 3, 4, err, sizeof err), 0);
	assert_int_equal(batch_summary_family(b, "bare", "B.", NULL, 0, err, sizeof err), 0);
	assert_int_equal(batch_add_summary(b, NULL, NULL, 0, NULL, 1, 2, err, sizeof err), 0);
	return b;
}

static int open_patched(struct batch *b, size_t off, const void *patch, size_t len)
{
	struct batch_limits lim;
	struct metrics_view v;
	size_t blen;
	unsigned char *copy;

	batch_limits_default(&lim);
	const void *blob = batch_blob(b, &blen);
	copy = malloc(blen);
	assert_non_null(copy);
	memcpy(copy, blob, blen);
	memcpy(copy + off, patch, len);
	int rc = metrics_view_open(&v, copy, blen, &lim, err, sizeof err);
	free(copy);
	return rc;
}

static void test_corrupt_summaries_are_refused(void **state)
{
	struct batch *b = summary_batch();
	struct metrics_view v;
	struct blob_family f;
	const double too_big = 1.5, down = 0.25;
	const uint32_t bad_type = 5;

	(void)state;
	batch_view(b, &v);
	view_family(&v, 0, &f);
	assert_int_equal(f.type, METRIC_SUMMARY);
	assert_int_equal(family_value_count(&f), 4);
	assert_int_equal(open_patched(b, 0, "", 0), 0);
	assert_int_equal(open_patched(b, v.bounds_off + 8, &too_big, 8), -EPROTO);
	assert_non_null(strstr(err, "a quantile is outside [0,1]"));
	assert_null(strstr(err, "1.5")); /* what the segment holds is not echoed */
	assert_int_equal(open_patched(b, v.bounds_off + 8, &down, 8), -EPROTO);
	assert_non_null(strstr(err, "quantiles are not finite and increasing"));
	assert_int_equal(open_patched(b, v.families_off + offsetof(struct blob_family, type),
				      &bad_type, 4),
			 -EPROTO);
	assert_non_null(strstr(err, "family 0: unknown type"));
	size_t blen;
	const char *blob = batch_blob(b, &blen);
	const char *label = memmem(blob, blen, "quantilz", 8);
	assert_non_null(label);
	assert_int_equal(open_patched(b, (size_t)(label - blob) + 7, "e", 1), -EPROTO);
	assert_non_null(strstr(err, "a quantile label is reserved"));

	const char *names[] = { "quantile" }, *values[] = { "0.5" };
	static const double q[] = { 1 };
	assert_int_equal(batch_summary_family(b, "t", "T.", q, 1, err, sizeof err), 0);
	assert_int_equal(batch_add_summary(b, names, values, 1, q, 0, 0, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "may not have a label named quantile"));
	assert_int_equal(batch_add_summary(b, NULL, NULL, 0, q, 0, -1, err, sizeof err), -EINVAL);
	assert_int_equal(batch_add(b, NULL, NULL, 0, 1, err, sizeof err), -EINVAL);
	static const double bad_q[] = { 0.5, 1.01 };
	assert_int_equal(batch_summary_family(b, "u", "U.", bad_q, 2, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "within [0,1]"));
	batch_free(b);
}

/* ---- what a writer (or anyone) may do to a segment, and the reader's answer ---- */

static void test_a_segment_grown_beyond_the_readers_limit_is_refused(void **state)
{
	(void)state;
	struct seg_read_limits small;
	struct seg_reader *r;
	int fd = seg_fd();
	struct stat st;

	seg_read_limits_for(0, &small); /* exactly what a default segment is */
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(seg_reader_open(&r, SEG, &small, err, sizeof err), 0);
	seg_reader_close(r);
	assert_int_equal(ftruncate(fd, st.st_size * 100), 0); /* a writer grows it */
	close(fd);
	assert_int_equal(seg_reader_open(&r, SEG, &small, err, sizeof err), -EPROTO);
	assert_non_null(strstr(err, "larger than this reader accepts"));
}

/* Rewrites the header so that it declares limits big enough for n series,
 * consistently (sizes and offsets to match), and sizes the file to it. */
static void declare_series(uint32_t n)
{
	struct batch_limits lim;
	struct seg_header h;
	int fd = seg_fd();

	segment_limits(n, &lim);
	assert_int_equal(seg_header_pread(fd, &h), 0);
	struct seg_header big;
	size_t size = seg_layout(&big, &lim);
	assert_true(size > 0);
	memcpy(h.limits, big.limits, sizeof h.limits);
	h.copy_offset[0] = big.copy_offset[0];
	h.copy_offset[1] = big.copy_offset[1];
	h.copy_capacity = big.copy_capacity;
	h.segment_size = big.segment_size;
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	assert_int_equal(pwrite(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
	close(fd);
}

static void test_header_limits_beyond_the_readers_own_are_refused(void **state)
{
	(void)state;
	struct seg_read_limits mine;
	struct seg_reader *r;

	seg_read_limits_for(1000000, &mine); /* its size limit would let it in */
	mine.max.max_series = 10000;
	declare_series(1000000);
	assert_int_equal(seg_reader_open(&r, SEG, &mine, err, sizeof err), -EPROTO);
	assert_non_null(strstr(err, "more series or values than this reader accepts"));
	assert_null(strstr(err, "1000000")); /* the writer's numbers are not repeated */
}

static void test_copies_that_overlap_in_either_order_are_refused(void **state)
{
	(void)state;
	struct seg_reader *r;
	struct seg_header h;
	int fd = seg_fd();

	assert_int_equal(seg_header_pread(fd, &h), 0);
	uint64_t first = h.copy_offset[0];
	h.copy_offset[0] = h.copy_offset[1]; /* copy 1 now starts before copy 0 ends */
	h.copy_offset[1] = first + 8;
	assert_int_equal(pwrite(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
	close(fd);
	assert_int_equal(seg_reader_open(&r, SEG, LIM, err, sizeof err), -EPROTO);
	assert_non_null(strstr(err, "inconsistent"));
}

static void test_a_fifo_or_a_link_at_a_segments_name_is_refused_at_once(void **state)
{
	(void)state;
	struct seg_reader *r;
	struct seg_writer *w;

	assert_int_equal(segment_remove(SEG, err, sizeof err), 0);
	assert_int_equal(mkfifoat(fx.dir.fd, "seg.seg", 0600), 0);
	/* No writer on the FIFO: an open without O_NONBLOCK would wait forever. */
	assert_int_equal(seg_reader_open(&r, SEG, LIM, err, sizeof err), -EPROTO);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(seg_writer_attach(&w, SEG, err, sizeof err), -EPROTO);
	assert_int_equal(unlinkat(fx.dir.fd, "seg.seg", 0), 0);
	assert_int_equal(symlinkat("/etc/passwd", fx.dir.fd, "seg.seg"), 0);
	assert_int_equal(seg_reader_open(&r, SEG, LIM, err, sizeof err), -ELOOP);
	assert_non_null(strstr(err, "symbolic link"));
	struct segment_options opt = segdir_fixture_options(0, 1000);
	assert_int_equal(segment_create(SEG, &opt, err, sizeof err), -EEXIST);
	assert_int_equal(unlinkat(fx.dir.fd, "seg.seg", 0), 0);
}

static void test_the_writer_is_one_word_with_its_start_token(void **state)
{
	(void)state;
	struct seg_writer *w;
	struct seg_header h;
	int fd = seg_fd();

	assert_int_equal(seg_writer_attach(&w, SEG, err, sizeof err), 0);
	assert_int_equal(seg_header_pread(fd, &h), 0);
	assert_int_equal(SEG_WRITER_PID(h.writer), getpid());
	assert_int_equal(SEG_WRITER_TOKEN(h.writer), (uint32_t)process_start_token(getpid()));
	assert_int_equal(h.reserved2, 0);
	seg_writer_detach_resident(w);
	assert_int_equal(seg_header_pread(fd, &h), 0);
	assert_int_equal(h.writer, 0);
	close(fd);
}

static void test_a_segment_reached_through_a_descriptor_reads_and_writes(void **state)
{
	(void)state;
	struct seg_writer *w;
	struct seg_reader *r;
	struct metrics_view v;
	struct batch *b = new_batch();
	int fd = seg_fd();

	assert_int_equal(seg_writer_attach_fd(&w, fd, "the test's descriptor", err, sizeof err), 0);
	assert_int_equal(seg_reader_open_fd(&r, fd, "the test's descriptor", LIM, err, sizeof err),
			 0);
	close(fd); /* both keep their own */
	fill_batch(b, 7, 3);
	assert_int_equal(seg_writer_publish(w, b, err, sizeof err), 0);
	assert_int_equal(seg_reader_snapshot(r, &v, NULL, err, sizeof err), 0);
	assert_int_equal(v.hdr.n_series, 3);
	assert_true(seg_reader_unchanged(r));
	assert_int_equal(seg_writer_publish(w, b, err, sizeof err), 0);
	assert_false(seg_reader_unchanged(r)); /* the sequence moved */
	seg_reader_close(r);
	seg_writer_detach(w);
	batch_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_published_batch_reads_back_identically, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    test_generation_changes_only_when_the_series_set_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_segment_reads_as_not_yet_collected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_layout_version_is_refused_naming_both,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_object_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_offsets_outside_the_segment_are_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_batches_are_refused_without_a_crash,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_segment_is_reported_not_fatal, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_leftover_segment_of_a_dead_run_is_replaced,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_leftover_of_a_dead_unreaped_agent_is_replaced,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_segment_of_a_live_agent_is_not_taken_over,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_restarted_writer_continues_the_same_segment,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_segment_is_reported_to_the_reader,
						setup, teardown),
		cmocka_unit_test(test_segment_file_names_are_validated),
		cmocka_unit_test(test_corrupt_summaries_are_refused),
		cmocka_unit_test_setup_teardown(test_batch_that_does_not_fit_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    test_series_refused_for_limits_are_counted_in_the_header, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_segment_grown_beyond_the_readers_limit_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_header_limits_beyond_the_readers_own_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_copies_that_overlap_in_either_order_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_fifo_or_a_link_at_a_segments_name_is_refused_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_writer_is_one_word_with_its_start_token,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_segment_reached_through_a_descriptor_reads_and_writes, setup, teardown),
	};
	return cmocka_run_group_tests_name("segment", tests, NULL, NULL);
}
