/* The history ring and the query API over it (exporter/history.c, query*.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "../exporter/history.h"
#include "metrics.h"
#include "../exporter/query.h"
#include "series_key.h"

#define SEC 1000

static const char *const names[] = { "exporter", "one", "two" };

static struct history *new_history(uint32_t retention_ms, size_t max_bytes)
{
	struct history_options opt = { retention_ms, max_bytes };
	struct history *h;
	char err[128];

	assert_int_equal(history_new(&h, &opt, 3, names, err, sizeof err), 0);
	return h;
}

/* A batch of gauges g_NAME{id=ID} = v for each name in list (space separated). */
static struct batch *gauges(const char *fam, const char *ids, double v)
{
	struct batch_limits lim;
	char err[256], buf[256];
	const char *ln[] = { "id" };

	batch_limits_default(&lim);
	struct batch *b = batch_new(&lim);
	assert_non_null(b);
	assert_int_equal(batch_family(b, fam, "help", METRIC_GAUGE, err, sizeof err), 0);
	snprintf(buf, sizeof buf, "%s", ids);
	for (char *id = strtok(buf, " "); id; id = strtok(NULL, " ")) {
		const char *lv[] = { id };
		assert_int_equal(batch_add(b, ln, lv, 1, v, err, sizeof err), 0);
	}
	return b;
}

static void record(struct history *h, size_t src, const char *fam, const char *ids, double v,
		   int64_t t_ms, uint64_t meta)
{
	struct batch *b = gauges(fam, ids, v);
	struct metrics_view view;

	batch_view(b, &view);
	assert_int_equal(history_record_view(h, src, &view, meta, t_ms, SEC), 0);
	batch_free(b);
}

static bool match_all(void *ctx, const char *key, size_t len)
{
	(void)ctx;
	(void)key;
	(void)len;
	return true;
}

static bool match_id(void *ctx, const char *key, size_t len)
{
	const char *v;
	size_t vl;

	return series_key_label(key, len, "id", 2, &v, &vl) && vl == strlen(ctx) &&
	       memcmp(v, ctx, vl) == 0;
}

static size_t present(const struct history_series *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += !history_is_absent(s->values[i]);
	return n;
}

/* ---- the ring ---- */

static void test_ring_keeps_the_newest_slots_after_wrapping_around(void **state)
{
	struct history *h = new_history(10 * SEC, 0); /* 11 slots at 1 s */
	struct history_selection sel;

	(void)state;
	for (int i = 1; i <= 25; i++)
		record(h, 1, "g", "a", i, i * SEC, 7);
	assert_int_equal(history_select(h, 0, 100 * SEC, match_all, NULL, &sel), 0);
	assert_int_equal(sel.n, 1);
	assert_int_equal(sel.series[0].n, 11);
	for (size_t i = 0; i < 11; i++) {
		assert_int_equal(sel.series[0].t_ms[i], (int64_t)(15 + i) * SEC);
		assert_true(sel.series[0].values[i] == 15.0 + (double)i);
	}
	history_selection_free(&sel);
	history_free(h);
}

static void test_a_publish_not_newer_than_the_last_is_ignored(void **state)
{
	struct history *h = new_history(60 * SEC, 0);
	struct history_selection sel;

	(void)state;
	record(h, 1, "g", "a", 1, 5 * SEC, 7);
	record(h, 1, "g", "a", 2, 5 * SEC, 7);
	record(h, 1, "g", "a", 3, 4 * SEC, 7);
	assert_int_equal(history_select(h, 0, 100 * SEC, match_all, NULL, &sel), 0);
	assert_int_equal(sel.series[0].n, 1);
	assert_true(sel.series[0].values[0] == 1.0);
	history_selection_free(&sel);
	history_free(h);
}

static void test_a_series_that_leaves_gets_staleness_markers_then_is_freed(void **state)
{
	struct history *h = new_history(5 * SEC, 0); /* 6 slots */
	struct history_selection sel;
	struct history_stats st, st2;

	(void)state;
	record(h, 1, "g", "a b", 1, 1 * SEC, 7);
	history_stats(h, &st);
	assert_int_equal(st.series, 2);
	record(h, 1, "g", "a", 2, 2 * SEC, 8); /* b left: a new writer key, slow path */
	assert_int_equal(history_select(h, 0, 100 * SEC, match_id, "b", &sel), 0);
	assert_int_equal(sel.n, 1);
	assert_int_equal(sel.series[0].n, 2);
	assert_true(history_is_absent(sel.series[0].values[1]));
	history_selection_free(&sel);
	for (int i = 3; i <= 7; i++)
		record(h, 1, "g", "a", i, i * SEC, 8);
	history_stats(h, &st2);
	assert_int_equal(st2.series, 1);
	assert_true(st2.bytes < st.bytes);
	history_free(h);
}

static void test_a_series_that_appears_has_no_values_before_it_came(void **state)
{
	struct history *h = new_history(60 * SEC, 0);
	struct history_selection sel;

	(void)state;
	for (int i = 1; i <= 3; i++)
		record(h, 1, "g", "a", i, i * SEC, 7);
	record(h, 1, "g", "a c", 4, 4 * SEC, 9);
	assert_int_equal(history_select(h, 0, 100 * SEC, match_id, "c", &sel), 0);
	assert_int_equal(sel.n, 1);
	assert_int_equal(sel.series[0].n, 4);
	assert_int_equal(present(&sel.series[0]), 1);
	assert_true(sel.series[0].values[3] == 4.0);
	history_selection_free(&sel);
	history_free(h);
}

static void test_a_source_going_down_writes_one_gap(void **state)
{
	struct history *h = new_history(60 * SEC, 0);
	struct history_selection sel;

	(void)state;
	record(h, 1, "g", "a", 1, 1 * SEC, 7);
	history_mark_down(h, 1, 2 * SEC);
	history_mark_down(h, 1, 3 * SEC); /* still down: nothing more */
	record(h, 1, "g", "a", 5, 5 * SEC, 7);
	assert_int_equal(history_select(h, 0, 100 * SEC, match_all, NULL, &sel), 0);
	assert_int_equal(sel.series[0].n, 3);
	assert_int_equal(sel.series[0].t_ms[1], 2 * SEC);
	assert_true(history_is_absent(sel.series[0].values[1]));
	assert_true(sel.series[0].values[2] == 5.0);
	history_selection_free(&sel);
	history_free(h);
}

static void test_nan_values_are_kept_apart_from_staleness_markers(void **state)
{
	struct history *h = new_history(60 * SEC, 0);
	struct history_selection sel;

	(void)state;
	record(h, 1, "g", "a", NAN, 1 * SEC, 7);
	assert_int_equal(history_select(h, 0, 100 * SEC, match_all, NULL, &sel), 0);
	assert_true(isnan(sel.series[0].values[0]));
	assert_false(history_is_absent(sel.series[0].values[0]));
	history_selection_free(&sel);
	history_free(h);
}

static void test_the_budget_refuses_new_series_and_counts_their_samples(void **state)
{
	struct history *h = new_history(10 * SEC, 0);
	struct history_stats st;

	(void)state;
	history_stats(h, &st);
	history_free(h);
	h = new_history(10 * SEC, st.bytes + 2048); /* the fixed part and a few series */
	record(h, 1, "g", "a b c d e f g h i j k l m n o p q r s t u v w x y z", 1, SEC, 7);
	history_stats(h, &st);
	assert_true(st.series > 0 && st.series < 26);
	assert_true(st.samples_dropped == 26 - st.series);
	assert_true(st.bytes <= st.max_bytes);
	history_free(h);
}

static void test_a_changed_interval_resizes_the_ring_keeping_the_newest(void **state)
{
	struct history *h = new_history(10 * SEC, 0);
	struct history_selection sel;
	struct batch *b = gauges("g", "a", 0);
	struct metrics_view v;

	(void)state;
	for (int i = 1; i <= 11; i++)
		record(h, 1, "g", "a", i, i * SEC, 7);
	batch_view(b, &v);
	/* 5 s interval: 3 slots; the two newest old ones stay */
	assert_int_equal(history_record_view(h, 1, &v, 7, 12 * SEC, 5 * SEC), 0);
	assert_int_equal(history_select(h, 0, 100 * SEC, match_all, NULL, &sel), 0);
	assert_int_equal(sel.series[0].n, 3);
	assert_true(sel.series[0].values[0] == 10.0 && sel.series[0].values[1] == 11.0);
	assert_true(sel.series[0].values[2] == 0.0);
	history_selection_free(&sel);
	batch_free(b);
	history_free(h);
}

static void test_histograms_are_stored_as_bucket_sum_and_count_samples(void **state)
{
	struct history *h = new_history(60 * SEC, 0);
	struct batch_limits lim;
	struct metrics_view v;
	struct history_selection sel;
	const double bounds[] = { 0.5, 1 };
	const uint64_t counts[] = { 1, 2, 3 };
	char err[256];

	(void)state;
	batch_limits_default(&lim);
	struct batch *b = batch_new(&lim);
	assert_int_equal(batch_histogram_family(b, "lat_seconds", "h", bounds, 2, err, sizeof err),
			 0);
	assert_int_equal(batch_add_histogram(b, NULL, NULL, 0, counts, 4.5, err, sizeof err), 0);
	batch_view(b, &v);
	assert_int_equal(history_record_view(h, 1, &v, 7, SEC, SEC), 0);
	assert_int_equal(history_select(h, 0, 100 * SEC, match_all, NULL, &sel), 0);
	assert_int_equal(sel.n, 5);
	for (size_t i = 0; i < sel.n; i++) {
		const char *name, *le;
		size_t nl, ll;
		series_key_name(sel.series[i].key, sel.series[i].key_len, &name, &nl);
		double val = sel.series[i].values[0];
		if (nl == 15 && memcmp(name, "lat_seconds_sum", nl) == 0)
			assert_true(val == 4.5);
		else if (nl == 17 && memcmp(name, "lat_seconds_count", nl) == 0)
			assert_true(val == 6.0);
		else {
			assert_true(series_key_label(sel.series[i].key, sel.series[i].key_len, "le",
						     2, &le, &ll));
			double want = strncmp(le, "0.5", ll) == 0 ? 1
				      : strncmp(le, "1", ll) == 0 ? 3
								  : 6;
			assert_true(val == want);
		}
	}
	history_selection_free(&sel);
	batch_free(b);
	history_free(h);
}

/* ---- the query API ---- */

static json_t *ask(struct history *h,
		   unsigned (*fn)(struct history *, const struct query_args *, struct buf *),
		   const struct query_args *a, unsigned want_status)
{
	struct buf out;
	json_error_t je;

	buf_init(&out);
	unsigned status = fn(h, a, &out);
	if (status != want_status)
		fail_msg("status %u, expected %u: %s", status, want_status, out.data);
	json_t *j = json_loadb(out.data, out.len, 0, &je);
	if (!j)
		fail_msg("not JSON (%s): %s", je.text, out.data);
	buf_free(&out);
	return j;
}

static struct history *sample_history(void)
{
	struct history *h = new_history(600 * SEC, 0);

	for (int i = 1; i <= 10; i++)
		record(h, 1, "g", "a b", i, i * SEC, 7);
	history_mark_down(h, 1, 11 * SEC);
	record(h, 2, "g", "a", 100, 3 * SEC, 7); /* a duplicate of g{id="a"} */
	record(h, 2, "other", "z", 5, 4 * SEC, 8);
	return h;
}

static void test_instant_query_takes_the_newest_sample_and_stops_at_staleness(void **state)
{
	struct history *h = sample_history();
	struct query_args a = { .query = "g{id=\"a\"}", .time = "5.5", .now_ms = 99 * SEC };
	json_t *j = ask(h, query_instant, &a, 200);

	(void)state;
	assert_string_equal(json_string_value(json_object_get(j, "status")), "success");
	json_t *r = json_object_get(json_object_get(j, "data"), "result");
	assert_int_equal(json_array_size(r), 1); /* the earlier source wins the duplicate */
	json_t *val = json_object_get(json_array_get(r, 0), "value");
	assert_true(json_real_value(json_array_get(val, 0)) == 5.5);
	assert_string_equal(json_string_value(json_array_get(val, 1)), "5");
	json_decref(j);
	a.time = "12";
	j = ask(h, query_instant, &a, 200);
	assert_int_equal(json_array_size(json_object_get(json_object_get(j, "data"), "result")), 0);
	json_decref(j);
	history_free(h);
}

static void test_a_range_selector_returns_raw_samples_without_markers(void **state)
{
	struct history *h = sample_history();
	struct query_args a = { .query = "g{id=~\"a|b\"}[4s]", .time = "11", .now_ms = 99 * SEC };
	json_t *j = ask(h, query_instant, &a, 200);

	(void)state;
	json_t *data = json_object_get(j, "data");
	assert_string_equal(json_string_value(json_object_get(data, "resultType")), "matrix");
	json_t *r = json_object_get(data, "result");
	assert_int_equal(json_array_size(r), 2);
	json_t *values = json_object_get(json_array_get(r, 0), "values");
	assert_int_equal(json_array_size(values),
			 3); /* 8, 9, 10; the marker at 11 is not a sample */
	assert_string_equal(json_string_value(json_array_get(json_array_get(values, 2), 1)), "10");
	json_decref(j);
	history_free(h);
}

static void test_query_range_evaluates_each_step(void **state)
{
	struct history *h = sample_history();
	struct query_args a = {
		.query = "g{id=\"b\"}", .start = "0", .end = "12", .step = "2s", .now_ms = 99 * SEC
	};
	json_t *j = ask(h, query_range, &a, 200);

	(void)state;
	json_t *r = json_object_get(json_object_get(j, "data"), "result");
	json_t *values = json_object_get(json_array_get(r, 0), "values");
	/* steps 0..12: 0 has nothing, 2..10 have 2..10, 12 is after the marker */
	assert_int_equal(json_array_size(values), 5);
	assert_true(json_number_value(json_array_get(json_array_get(values, 0), 0)) == 2.0);
	assert_string_equal(json_string_value(json_array_get(json_array_get(values, 4), 1)), "10");
	json_decref(j);
	a.step = "0.001";
	json_decref(ask(h, query_range, &a, 400)); /* 12001 points */
	a.query = "g[1m]";
	a.step = "1";
	json_decref(ask(h, query_range, &a, 400));
	history_free(h);
}

static void test_series_labels_and_label_values(void **state)
{
	struct history *h = sample_history();
	struct query_args a = { .match = { "{__name__=~\"g|other\"}" }, .n_match = 1 };
	json_t *j = ask(h, query_series, &a, 200);

	(void)state;
	assert_int_equal(json_array_size(json_object_get(j, "data")), 3);
	json_decref(j);
	a.n_match = 0;
	j = ask(h, query_labels, &a, 200);
	json_t *d = json_object_get(j, "data");
	assert_int_equal(json_array_size(d), 2);
	assert_string_equal(json_string_value(json_array_get(d, 0)), "__name__");
	assert_string_equal(json_string_value(json_array_get(d, 1)), "id");
	json_decref(j);
	struct buf out;
	buf_init(&out);
	assert_int_equal(query_label_values(h, "id", &a, &out), 200);
	assert_non_null(strstr(out.data, "[\"a\",\"b\",\"z\"]"));
	buf_reset(&out);
	assert_int_equal(query_label_values(h, "__name__", &a, &out), 200);
	assert_non_null(strstr(out.data, "[\"g\",\"other\"]"));
	buf_reset(&out);
	assert_int_equal(query_label_values(h, "bad-name", &a, &out), 400);
	buf_reset(&out);
	assert_int_equal(query_series(h, &a, &out), 400); /* match[] is required */
	buf_free(&out);
	history_free(h);
}

/* ---- selectors ---- */

static bool matches(const char *expr, const char *key, size_t key_len)
{
	struct selector *sel;
	int64_t range;
	char err[256];

	if (selector_parse(expr, &sel, &range, err, sizeof err) != 0)
		fail_msg("%s: %s", expr, err);
	bool m = selector_matches(sel, key, key_len);
	selector_free(sel);
	return m;
}

static void test_matchers_follow_promql(void **state)
{
	static const char key[] = "node_cpu_seconds_total\0cpu\0"
				  "0\0mode\0idle";
	const size_t len = sizeof key; /* the final NUL ends the last value */

	(void)state;
	assert_true(matches("node_cpu_seconds_total", key, len));
	assert_true(matches("node_cpu_seconds_total{mode=\"idle\"}", key, len));
	assert_false(matches("node_cpu_seconds_total{mode!=\"idle\"}", key, len));
	assert_true(matches("{__name__=~\"node_cpu.*\",cpu=~'0|1'}", key, len));
	assert_false(matches("{__name__=~\"cpu\"}", key, len)); /* anchored */
	assert_true(matches("{__name__!~\"node_load.*\", mode=`idle`}", key, len));
	assert_true(matches("node_cpu_seconds_total{missing=\"\"}", key, len));
	assert_true(matches("node_cpu_seconds_total{missing!=\"x\"}", key, len));
	assert_false(matches("node_cpu_seconds_total{missing=~\".+\"}", key, len));
	assert_true(matches("{__name__=~\"a|node_cpu_seconds_total|b\"}", key, len));
	assert_false(matches("{__name__=~\"a|node_cpu_seconds_tota|b\"}", key, len));
}

static void test_bad_selectors_name_the_column_and_the_problem(void **state)
{
	static const struct {
		const char *expr, *want;
	} cases[] = {
		{ "rate(x[1m])", "1:5: parse error" },
		{ "{}", "at least one non-empty matcher" },
		{ "{a=~\".*\"}", "at least one non-empty matcher" },
		{ "x{a=\"b\"", "1:8: parse error" },
		{ "x{a=\"b}", "unterminated quoted string" },
		{ "x{a~\"b\"}", "expected a matcher" },
		{ "x{a=~\"(?i)b\"}", "invalid regular expression" },
		{ "x[5]", "bad range" },
		{ "x + y", "only series selectors" },
		{ "x{a=\"\\q\"}", "unknown escape" },
		{ "x{a=~\"b+++++++++++++++++++++++++++++++++++++++++\"}", "nested repetition" },
		{ "x{a=~\"((((((((((b+)+)+)+)+)+)+)+)+)+)\"}", "too large" },
		{ "x{a=~\"(((b{100}){100}){100})\"}", "too large" },
		{ "x{a=~\")b{,9}{,9}{,9}{,9}{,9}{,9}{,9}\"}", "nested repetition" },
		{ "x{a=~\"(b{,9}){,9}(c{,9}){,9}(d{,9}){,9}\"}", "too large" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct selector *sel = NULL;
		int64_t range;
		char err[256] = "";
		assert_int_equal(selector_parse(cases[i].expr, &sel, &range, err, sizeof err),
				 -EINVAL);
		if (!strstr(err, cases[i].want))
			fail_msg("%s: got \"%s\", expected \"%s\"", cases[i].expr, err,
				 cases[i].want);
		assert_null(sel);
	}
}

static void test_times_and_durations(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(query_parse_duration("1m30s", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(query_parse_duration("1.5", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(query_parse_duration("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(query_parse_duration("1s1m", &ms), -EINVAL);
	assert_int_equal(query_parse_duration("5x", &ms), -EINVAL);
	assert_int_equal(query_parse_time("1700000000.25", &ms), 0);
	assert_int_equal(ms, 1700000000250);
	assert_int_equal(query_parse_time("2023-11-14T22:13:20Z", &ms), 0);
	assert_int_equal(ms, 1700000000000);
	assert_int_equal(query_parse_time("2023-11-14T23:13:20.5+01:00", &ms), 0);
	assert_int_equal(ms, 1700000000500);
	assert_int_equal(query_parse_time("yesterday", &ms), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_keeps_the_newest_slots_after_wrapping_around),
		cmocka_unit_test(test_a_publish_not_newer_than_the_last_is_ignored),
		cmocka_unit_test(test_a_series_that_leaves_gets_staleness_markers_then_is_freed),
		cmocka_unit_test(test_a_series_that_appears_has_no_values_before_it_came),
		cmocka_unit_test(test_a_source_going_down_writes_one_gap),
		cmocka_unit_test(test_nan_values_are_kept_apart_from_staleness_markers),
		cmocka_unit_test(test_the_budget_refuses_new_series_and_counts_their_samples),
		cmocka_unit_test(test_a_changed_interval_resizes_the_ring_keeping_the_newest),
		cmocka_unit_test(test_histograms_are_stored_as_bucket_sum_and_count_samples),
		cmocka_unit_test(test_instant_query_takes_the_newest_sample_and_stops_at_staleness),
		cmocka_unit_test(test_a_range_selector_returns_raw_samples_without_markers),
		cmocka_unit_test(test_query_range_evaluates_each_step),
		cmocka_unit_test(test_series_labels_and_label_values),
		cmocka_unit_test(test_matchers_follow_promql),
		cmocka_unit_test(test_bad_selectors_name_the_column_and_the_problem),
		cmocka_unit_test(test_times_and_durations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
