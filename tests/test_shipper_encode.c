/*
 * The remote-write encoder: requests decoded by `protoc --decode` against a
 * golden file, and by libprotobuf-c for the rules a golden file shows less
 * plainly (sorting, stale markers, splitting, relabelling).
 * SHMETRICS_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "encode.h"
#include "metrics.h"
#include "remote.pb-c.h"

#define TS     1700000000123LL
#define GOLDEN "tests/fixtures/golden/"
#define PROTO  "shipper/remote.proto"

/* ---- building batches ---- */

static struct batch *new_batch(void)
{
	struct batch_limits lim;

	batch_limits_default(&lim);
	struct batch *b = batch_new(&lim);
	assert_non_null(b);
	return b;
}

static void family(struct batch *b, const char *name, enum metric_type t)
{
	char err[256] = "";

	if (batch_family(b, name, "Help.", t, err, sizeof err) != 0)
		fail_msg("batch_family(%s): %s", name, err);
}

static void add(struct batch *b, const char *const *names, const char *const *values, size_t n,
		double v)
{
	char err[256] = "";

	if (batch_add(b, names, values, n, v, err, sizeof err) != 0)
		fail_msg("batch_add: %s", err);
}

/* A counter with two labelled series, a gauge, a histogram and a summary. */
static void fill_mixed(struct batch *b)
{
	static const char *const ln[] = { "method", "code" };
	static const char *const get[] = { "GET", "200" }, *const post[] = { "POST", "500" };
	static const double bounds[] = { 0.1, 1 }, quantiles[] = { 0.5, 0.9 };
	static const char *const path[] = { "path" }, *const root[] = { "/" };
	const uint64_t counts[] = { 3, 2, 1 };
	const double qv[] = { 0.25, NAN };
	char err[256] = "";

	family(b, "app_requests_total", METRIC_COUNTER);
	add(b, ln, get, 2, 41);
	add(b, ln, post, 2, 2);
	family(b, "app_temperature_celsius", METRIC_GAUGE);
	add(b, NULL, NULL, 0, -1.5);
	assert_int_equal(batch_histogram_family(b, "app_latency_seconds", "Help.", bounds, 2, err,
						sizeof err),
			 0);
	assert_int_equal(batch_add_histogram(b, path, root, 1, counts, 2.5, err, sizeof err), 0);
	assert_int_equal(batch_summary_family(b, "app_rpc_seconds", "Help.", quantiles, 2, err,
					      sizeof err),
			 0);
	assert_int_equal(batch_add_summary(b, NULL, NULL, 0, qv, 7.5, 9, err, sizeof err), 0);
	batch_set_status(b, true, 0, NULL);
}

/* ---- collecting what the encoder emits ---- */

struct capture {
	size_t n;
	unsigned char *bytes[64];
	size_t len[64];
	uint32_t samples[64];
};

static int capture_emit(void *ctx, const void *req, size_t len, uint32_t n, int64_t min_ts,
			int64_t max_ts)
{
	struct capture *c = ctx;

	assert_true(c->n < 64);
	assert_true(min_ts <= max_ts);
	c->bytes[c->n] = malloc(len ? len : 1);
	memcpy(c->bytes[c->n], req, len);
	c->len[c->n] = len;
	c->samples[c->n++] = n;
	return 0;
}

static void capture_free(struct capture *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->bytes[i]);
	memset(c, 0, sizeof *c);
}

static Prometheus__WriteRequest *unpack(const struct capture *c, size_t i)
{
	Prometheus__WriteRequest *r = prometheus__write_request__unpack(NULL, c->len[i],
									c->bytes[i]);
	assert_non_null(r);
	return r;
}

static const struct encode_rules plain_rules = { 0 };

static void publish(struct encoder *e, struct batch *b, uint64_t key, int64_t ts, struct capture *c)
{
	struct metrics_view v;
	struct encode_sink sink = { capture_emit, c };
	char err[256] = "";

	batch_view(b, &v);
	if (encoder_publish(e, &v, key, ts, NULL, NULL, &sink, NULL, err, sizeof err) != 0)
		fail_msg("encoder_publish: %s", err);
}

/* "name{a="x",...}" of a series, labels in the order they were sent. */
static void series_text(const Prometheus__TimeSeries *ts, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < ts->n_labels; i++)
		used += (size_t)snprintf(out + used, n - used, "%s%s=%s", i ? "," : "",
					 ts->labels[i]->name, ts->labels[i]->value);
}

static bool is_stale(double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof bits);
	return bits == ENCODE_STALE_NAN_BITS;
}

/* ---- golden file ---- */

static char *read_all(FILE *f)
{
	size_t cap = 4096, len = 0;
	char *s = malloc(cap);

	for (size_t n; (n = fread(s + len, 1, cap - len - 1, f)) > 0;) {
		len += n;
		if (cap - len < 2)
			s = realloc(s, cap *= 2);
	}
	s[len] = '\0';
	return s;
}

/* protoc's text form of the request bytes. */
static char *protoc_decode(const unsigned char *req, size_t len)
{
	char path[] = "/tmp/test_shipper_encode.XXXXXX", cmd[512];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, req, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof cmd,
		 "protoc --decode=prometheus.WriteRequest -Ishipper " PROTO " < %s", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char *text = read_all(p);
	int rc = pclose(p);
	unlink(path);
	if (rc != 0)
		fail_msg("protoc --decode failed (%d): %s", rc, text);
	return text;
}

static void expect_golden(const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof path, GOLDEN "%s", name);
	if (getenv("SHMETRICS_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
		return;
	}
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("%s is missing; SHMETRICS_UPDATE_GOLDEN=1 writes it", path);
	char *want = read_all(f);
	fclose(f);
	if (strcmp(want, text) != 0)
		fail_msg("request differs from %s; protoc decoded:\n%s", path, text);
	free(want);
}

static bool have_protoc(void)
{
	return system("protoc --version >/dev/null 2>&1") == 0;
}

/* ---- tests ---- */

static void test_request_decodes_with_protoc_as_the_golden_file(void **state)
{
	static const char *const ext_names[] = { "job", "instance", "code" };
	static const char *const ext_values[] = { "shmetrics", "host1", "ignored" };
	struct encode_rules rules = { .ext_names = ext_names,
				      .ext_values = ext_values,
				      .n_ext = 3 };
	struct batch *b = new_batch();
	struct encoder *e;
	struct capture c = { 0 };

	(void)state;
	if (!have_protoc())
		skip();
	fill_mixed(b);
	assert_int_equal(encoder_new(&e, &rules), 0);
	publish(e, b, 1, TS, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.samples[0], 2 + 1 + 5 + 4);
	char *text = protoc_decode(c.bytes[0], c.len[0]);
	expect_golden("remote_write_mixed.txt", text);
	free(text);
	capture_free(&c);
	encoder_free(e);
	batch_free(b);
}

/* The framing the encoder writes around its cached label bytes must be exactly
 * what libprotobuf-c writes for the whole request. */
static void test_requests_are_byte_identical_to_a_whole_libprotobuf_c_pack(void **state)
{
	static const char *const ext_names[] = { "job" }, *const ext_values[] = { "j" };
	struct encode_rules rules = { .ext_names = ext_names,
				      .ext_values = ext_values,
				      .n_ext = 1 };
	struct batch *b = new_batch();
	struct encoder *e;
	struct capture c = { 0 };
	struct encode_sink sink = { capture_emit, &c };
	char err[256];

	(void)state;
	fill_mixed(b);
	family(b, "zero", METRIC_GAUGE); /* proto3 leaves a 0 value out */
	add(b, NULL, NULL, 0, 0);
	assert_int_equal(encoder_new(&e, &rules), 0);
	publish(e, b, 1, TS, &c);
	publish(e, b, 1, 0, &c); /* and a 0 timestamp */
	assert_int_equal(encoder_stale_all(e, TS + 1, &sink, err, sizeof err), 0);
	assert_int_equal(c.n, 3);
	for (size_t i = 0; i < c.n; i++) {
		Prometheus__WriteRequest *r = unpack(&c, i);
		size_t len = prometheus__write_request__get_packed_size(r);
		unsigned char *again = malloc(len);
		assert_int_equal(prometheus__write_request__pack(r, again), len);
		assert_int_equal(len, c.len[i]);
		assert_memory_equal(again, c.bytes[i], len);
		free(again);
		prometheus__write_request__free_unpacked(r, NULL);
	}
	capture_free(&c);
	encoder_free(e);
	batch_free(b);
}

static void test_labels_are_sorted_by_name_bytewise(void **state)
{
	static const char *const ln[] = { "zone", "Area", "b" }, *const lv[] = { "z", "A", "b" };
	struct batch *b = new_batch();
	struct encoder *e;
	struct capture c = { 0 };
	char text[512];

	(void)state;
	family(b, "m", METRIC_GAUGE);
	add(b, ln, lv, 3, 1);
	assert_int_equal(encoder_new(&e, &plain_rules), 0);
	publish(e, b, 1, TS, &c);
	Prometheus__WriteRequest *r = unpack(&c, 0);
	assert_int_equal(r->n_timeseries, 1);
	series_text(r->timeseries[0], text, sizeof text);
	/* "A" < "_" < "b" < "z" in byte order, as Prometheus sorts */
	assert_string_equal(text, "Area=A,__name__=m,b=b,zone=z");
	assert_int_equal(r->timeseries[0]->n_samples, 1);
	assert_true(r->timeseries[0]->samples[0]->timestamp == TS);
	prometheus__write_request__free_unpacked(r, NULL);
	capture_free(&c);
	encoder_free(e);
	batch_free(b);
}

static void test_vanished_series_get_a_stale_marker_at_the_new_time(void **state)
{
	static const char *const ln[] = { "dev" };
	static const char *const a[] = { "a" }, *const bb[] = { "b" };
	struct batch *b = new_batch();
	struct encoder *e;
	struct capture c = { 0 };
	char text[256];

	(void)state;
	assert_int_equal(encoder_new(&e, &plain_rules), 0);
	family(b, "disk_bytes", METRIC_GAUGE);
	add(b, ln, a, 1, 1);
	add(b, ln, bb, 1, 2);
	publish(e, b, 1, TS, &c);
	batch_reset(b);
	family(b, "disk_bytes", METRIC_GAUGE);
	add(b, ln, a, 1, 3);
	publish(e, b, 2, TS + 1000, &c); /* another key: the set of series changed */
	assert_int_equal(c.n, 3);        /* the first publish, the stale marker, the second */
	Prometheus__WriteRequest *r = unpack(&c, 1);
	assert_int_equal(r->n_timeseries, 1);
	series_text(r->timeseries[0], text, sizeof text);
	assert_string_equal(text, "__name__=disk_bytes,dev=b");
	assert_true(is_stale(r->timeseries[0]->samples[0]->value));
	assert_true(r->timeseries[0]->samples[0]->timestamp == TS + 1000);
	prometheus__write_request__free_unpacked(r, NULL);
	r = unpack(&c, 2);
	assert_int_equal(r->n_timeseries, 1);
	assert_true(r->timeseries[0]->samples[0]->value == 3);
	prometheus__write_request__free_unpacked(r, NULL);
	capture_free(&c);
	encoder_free(e);
	batch_free(b);
}

static void test_a_collector_going_down_marks_every_series_stale(void **state)
{
	struct batch *b = new_batch();
	struct encoder *e;
	struct capture c = { 0 };
	struct encode_sink sink = { capture_emit, &c };
	char err[256];

	(void)state;
	assert_int_equal(encoder_new(&e, &plain_rules), 0);
	fill_mixed(b);
	publish(e, b, 1, TS, &c);
	assert_int_equal(encoder_stale_all(e, TS + 5, &sink, err, sizeof err), 0);
	assert_int_equal(c.n, 2);
	Prometheus__WriteRequest *r = unpack(&c, 1);
	assert_int_equal(r->n_timeseries, 12);
	for (size_t i = 0; i < r->n_timeseries; i++) {
		assert_true(is_stale(r->timeseries[i]->samples[0]->value));
		assert_true(r->timeseries[i]->samples[0]->timestamp == TS + 5);
	}
	prometheus__write_request__free_unpacked(r, NULL);
	assert_int_equal(encoder_series(e), 0);
	/* nothing left to mark */
	assert_int_equal(encoder_stale_all(e, TS + 6, &sink, err, sizeof err), 0);
	assert_int_equal(c.n, 2);
	capture_free(&c);
	encoder_free(e);
	batch_free(b);
}

static void test_requests_hold_at_most_max_samples(void **state)
{
	static const char *const ln[] = { "i" };
	struct encode_rules rules = { .max_samples = 4 };
	struct batch *b = new_batch();
	struct encoder *e;
	struct capture c = { 0 };
	char v[8];

	(void)state;
	family(b, "many", METRIC_GAUGE);
	for (int i = 0; i < 10; i++) {
		const char *lv[] = { v };
		snprintf(v, sizeof v, "%d", i);
		add(b, ln, lv, 1, i);
	}
	assert_int_equal(encoder_new(&e, &rules), 0);
	publish(e, b, 1, TS, &c);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.samples[0], 4);
	assert_int_equal(c.samples[1], 4);
	assert_int_equal(c.samples[2], 2);
	Prometheus__WriteRequest *r = unpack(&c, 2);
	assert_int_equal(r->n_timeseries, 2);
	prometheus__write_request__free_unpacked(r, NULL);
	capture_free(&c);
	encoder_free(e);
	batch_free(b);
}

static void test_write_relabel_keeps_and_drops_by_metric_name(void **state)
{
	struct relabel_rule rules[2];
	struct encode_rules er = { .relabel = rules, .n_relabel = 2 };
	struct batch *b = new_batch();
	struct encoder *e;
	struct capture c = { 0 };
	char text[256];

	(void)state;
	assert_int_equal(regcomp(&rules[0].re, "^(app_.*)$", REG_EXTENDED | REG_NOSUB), 0);
	rules[0].keep = true;
	assert_int_equal(regcomp(&rules[1].re, "^(.*_bucket)$", REG_EXTENDED | REG_NOSUB), 0);
	rules[1].keep = false;
	fill_mixed(b);
	family(b, "other_metric", METRIC_GAUGE);
	add(b, NULL, NULL, 0, 1);
	assert_int_equal(encoder_new(&e, &er), 0);
	publish(e, b, 1, TS, &c);
	Prometheus__WriteRequest *r = unpack(&c, 0);
	/* 2 counters + 1 gauge + histogram _sum and _count + 4 summary samples */
	assert_int_equal(r->n_timeseries, 9);
	for (size_t i = 0; i < r->n_timeseries; i++) {
		series_text(r->timeseries[i], text, sizeof text);
		assert_null(strstr(text, "_bucket"));
		assert_null(strstr(text, "other_metric"));
	}
	prometheus__write_request__free_unpacked(r, NULL);
	assert_true(encode_relabel_pass(rules, 2, "app_x"));
	assert_false(encode_relabel_pass(rules, 2, "app_x_bucket"));
	assert_false(encode_relabel_pass(rules, 2, "xapp_x"));
	regfree(&rules[0].re);
	regfree(&rules[1].re);
	capture_free(&c);
	encoder_free(e);
	batch_free(b);
}

static bool skip_counter(void *ctx, const char *name, size_t len)
{
	(void)ctx;
	return len == strlen("app_requests_total") && memcmp(name, "app_requests_total", len) == 0;
}

static void test_skipped_families_are_left_out(void **state)
{
	struct batch *b = new_batch();
	struct encoder *e;
	struct capture c = { 0 };
	struct metrics_view v;
	struct encode_sink sink = { capture_emit, &c };
	char err[256];
	size_t n;

	(void)state;
	fill_mixed(b);
	batch_view(b, &v);
	assert_int_equal(encoder_new(&e, &plain_rules), 0);
	assert_int_equal(encoder_publish(e, &v, 1, TS, skip_counter, NULL, &sink, NULL, err,
					 sizeof err),
			 0);
	assert_int_equal(encoder_series(e), 10);
	encoder_families(e, &n);
	assert_int_equal(n, 3);
	capture_free(&c);
	encoder_free(e);
	batch_free(b);
}

static void test_empty_labels_are_left_out_and_twins_sent_once(void **state)
{
	static const char *const ln[] = { "a", "b" };
	static const char *const v1[] = { "", "x" }, *const v2[] = { "y", "" };
	static const char *const bn[] = { "b" }, *const bx[] = { "x" };
	struct batch *b = new_batch();
	struct encoder *e;
	struct capture c = { 0 };
	char text[256];

	(void)state;
	family(b, "m", METRIC_GAUGE);
	add(b, ln, v1, 2, 1); /* {a="",b="x"} is {b="x"} */
	add(b, ln, v2, 2, 2); /* {a="y"} */
	add(b, bn, bx, 1, 3); /* {b="x"} again: the first one stays */
	assert_int_equal(encoder_new(&e, &plain_rules), 0);
	publish(e, b, 1, TS, &c);
	Prometheus__WriteRequest *r = unpack(&c, 0);
	assert_int_equal(r->n_timeseries, 2);
	series_text(r->timeseries[0], text, sizeof text);
	assert_string_equal(text, "__name__=m,b=x");
	assert_true(r->timeseries[0]->samples[0]->value == 1);
	series_text(r->timeseries[1], text, sizeof text);
	assert_string_equal(text, "__name__=m,a=y");
	prometheus__write_request__free_unpacked(r, NULL);
	capture_free(&c);
	encoder_free(e);
	batch_free(b);
}

static void test_nan_values_are_sent_as_the_nan_a_scrape_stores(void **state)
{
	struct batch *b = new_batch();
	struct encoder *e;
	struct capture c = { 0 };
	uint64_t bits;

	(void)state;
	family(b, "g", METRIC_GAUGE);
	bits = ENCODE_STALE_NAN_BITS; /* a writer may not forge a stale marker */
	double forged;
	memcpy(&forged, &bits, sizeof forged);
	add(b, NULL, NULL, 0, forged);
	assert_int_equal(encoder_new(&e, &plain_rules), 0);
	publish(e, b, 1, TS, &c);
	Prometheus__WriteRequest *r = unpack(&c, 0);
	memcpy(&bits, &r->timeseries[0]->samples[0]->value, sizeof bits);
	assert_true(bits == ENCODE_NAN_BITS);
	prometheus__write_request__free_unpacked(r, NULL);
	capture_free(&c);
	encoder_free(e);
	batch_free(b);
}

static void test_same_key_reuses_the_template_with_new_values(void **state)
{
	struct batch *b = new_batch();
	struct encoder *e;
	struct capture c = { 0 };
	struct metrics_view v;
	struct encode_sink sink = { capture_emit, &c };
	char err[256];
	bool rebuilt = true;

	(void)state;
	family(b, "g", METRIC_GAUGE);
	add(b, NULL, NULL, 0, 1);
	assert_int_equal(encoder_new(&e, &plain_rules), 0);
	publish(e, b, 7, TS, &c);
	batch_reset(b);
	family(b, "g", METRIC_GAUGE);
	add(b, NULL, NULL, 0, 2);
	batch_view(b, &v);
	assert_int_equal(encoder_publish(e, &v, 7, TS + 1, NULL, NULL, &sink, &rebuilt, err,
					 sizeof err),
			 0);
	assert_false(rebuilt);
	Prometheus__WriteRequest *r = unpack(&c, 1);
	assert_true(r->timeseries[0]->samples[0]->value == 2);
	assert_true(r->timeseries[0]->samples[0]->timestamp == TS + 1);
	prometheus__write_request__free_unpacked(r, NULL);
	capture_free(&c);
	encoder_free(e);
	batch_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_decodes_with_protoc_as_the_golden_file),
		cmocka_unit_test(test_requests_are_byte_identical_to_a_whole_libprotobuf_c_pack),
		cmocka_unit_test(test_labels_are_sorted_by_name_bytewise),
		cmocka_unit_test(test_vanished_series_get_a_stale_marker_at_the_new_time),
		cmocka_unit_test(test_a_collector_going_down_marks_every_series_stale),
		cmocka_unit_test(test_requests_hold_at_most_max_samples),
		cmocka_unit_test(test_write_relabel_keeps_and_drops_by_metric_name),
		cmocka_unit_test(test_skipped_families_are_left_out),
		cmocka_unit_test(test_empty_labels_are_left_out_and_twins_sent_once),
		cmocka_unit_test(test_nan_values_are_sent_as_the_nan_a_scrape_stores),
		cmocka_unit_test(test_same_key_reuses_the_template_with_new_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
