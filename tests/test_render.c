/* Renderers: escaping, grouping, histograms, special values, duplicates, JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"
#include "render.h"

static struct batch *new_batch(void)
{
	struct batch_limits lim;

	batch_limits_default(&lim);
	struct batch *b = batch_new(&lim);
	assert_non_null(b);
	return b;
}

static void family(struct batch *b, const char *name, const char *help, enum metric_type t)
{
	char err[256] = "";

	if (batch_family(b, name, help, t, err, sizeof err) != 0)
		fail_msg("batch_family(%s): %s", name, err);
}

static void add1(struct batch *b, const char *lname, const char *lvalue, double v)
{
	const char *names[] = { lname }, *values[] = { lvalue };
	char err[256] = "";

	if (batch_add(b, names, values, lname ? 1 : 0, v, err, sizeof err) != 0)
		fail_msg("batch_add: %s", err);
}

/* Renders one collector's batch as text; the caller frees the result. */
static char *render_batches(struct batch **b, size_t n, enum render_dialect d,
			    struct render_result *res)
{
	struct metrics_view v[4];
	struct render_source src[4];
	static const char *const names[] = { "one", "two", "three", "four" };
	struct buf out;
	size_t len;

	assert_true(n <= 4);
	for (size_t i = 0; i < n; i++) {
		batch_view(b[i], &v[i]);
		src[i] = (struct render_source){ .collector = names[i], .view = &v[i] };
	}
	buf_init(&out);
	assert_int_equal(render_text(&out, d, src, n, res), 0);
	char *s = buf_steal(&out, &len);
	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	return s;
}

static char *render_one(struct batch *b)
{
	struct render_result res;
	return render_batches(&b, 1, RENDER_PROMETHEUS_TEXT, &res);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("expected\n%s\nin\n%s", needle, hay);
}

/* ---- escaping ---- */

struct escape_case {
	const char *in;
	const char *out;
};

static const struct escape_case label_cases[] = {
	{ "plain", "plain" },
	{ "", "" },
	{ "back\\slash", "back\\\\slash" },
	{ "say \"hi\"", "say \\\"hi\\\"" },
	{ "two\nlines", "two\\nlines" },
	{ "\\\"\n", "\\\\\\\"\\n" },
	{ "gr\xc3\xbc\xc3\x9f", "gr\xc3\xbc\xc3\x9f" }, /* UTF-8 passes through */
	{ "tab\there", "tab\there" },
};

static void test_label_values_escape_backslash_quote_and_newline(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof label_cases / sizeof label_cases[0]; i++) {
		struct batch *b = new_batch();
		char want[256];
		family(b, "x", "h", METRIC_GAUGE);
		add1(b, "l", label_cases[i].in, 1);
		char *out = render_one(b);
		snprintf(want, sizeof want, "\nx{l=\"%s\"} 1\n", label_cases[i].out);
		assert_contains(out, want);
		free(out);
		batch_free(b);
	}
}

static const struct escape_case help_cases[] = {
	{ "plain help", "plain help" },
	{ "back\\slash", "back\\\\slash" },
	{ "two\nlines", "two\\nlines" },
	{ "quotes \"stay\"", "quotes \"stay\"" }, /* text 0.0.4 leaves quotes in HELP */
};

static void test_help_escapes_backslash_and_newline_only(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof help_cases / sizeof help_cases[0]; i++) {
		struct batch *b = new_batch();
		char want[256];
		family(b, "x", help_cases[i].in, METRIC_GAUGE);
		add1(b, NULL, NULL, 1);
		char *out = render_one(b);
		snprintf(want, sizeof want, "# HELP x %s\n# TYPE x gauge\nx 1\n",
			 help_cases[i].out);
		assert_string_equal(out, want);
		free(out);
		batch_free(b);
	}
}

/* ---- structure ---- */

static void test_each_family_is_one_group_with_help_and_type_first(void **state)
{
	struct batch *b = new_batch();

	(void)state;
	family(b, "a_total", "Things.", METRIC_COUNTER);
	add1(b, "k", "1", 1);
	add1(b, "k", "2", 2);
	family(b, "b", "Level.", METRIC_GAUGE);
	add1(b, NULL, NULL, 0.25);
	family(b, "c", "Whatever.", METRIC_UNTYPED);
	add1(b, "k", "v", -3);
	char *out = render_one(b);
	assert_string_equal(out, "# HELP a_total Things.\n# TYPE a_total counter\n"
				 "a_total{k=\"1\"} 1\na_total{k=\"2\"} 2\n"
				 "# HELP b Level.\n# TYPE b gauge\nb 0.25\n"
				 "# HELP c Whatever.\n# TYPE c untyped\nc{k=\"v\"} -3\n");
	free(out);
	batch_free(b);
}

static void test_histogram_buckets_are_cumulative_and_inf_equals_count(void **state)
{
	static const double bounds[] = { 0.1, 0.5, 2 };
	static const uint64_t counts[] = { 1, 2, 0, 4 }; /* per bucket, last is +Inf */
	const char *names[] = { "path" }, *values[] = { "/a" };
	struct batch *b = new_batch();
	char err[256] = "";

	(void)state;
	assert_int_equal(batch_histogram_family(b, "lat_seconds", "Latency.", bounds, 3, err,
						sizeof err),
			 0);
	assert_int_equal(batch_add_histogram(b, names, values, 1, counts, 12.5, err, sizeof err),
			 0);
	assert_int_equal(batch_add_histogram(b, NULL, NULL, 0, counts, 1.5, err, sizeof err), 0);
	char *out = render_one(b);
	assert_string_equal(out, "# HELP lat_seconds Latency.\n# TYPE lat_seconds histogram\n"
				 "lat_seconds_bucket{path=\"/a\",le=\"0.1\"} 1\n"
				 "lat_seconds_bucket{path=\"/a\",le=\"0.5\"} 3\n"
				 "lat_seconds_bucket{path=\"/a\",le=\"2\"} 3\n"
				 "lat_seconds_bucket{path=\"/a\",le=\"+Inf\"} 7\n"
				 "lat_seconds_sum{path=\"/a\"} 12.5\n"
				 "lat_seconds_count{path=\"/a\"} 7\n"
				 "lat_seconds_bucket{le=\"0.1\"} 1\n"
				 "lat_seconds_bucket{le=\"0.5\"} 3\n"
				 "lat_seconds_bucket{le=\"2\"} 3\n"
				 "lat_seconds_bucket{le=\"+Inf\"} 7\n"
				 "lat_seconds_sum 1.5\n"
				 "lat_seconds_count 7\n");
	free(out);
	batch_free(b);
}

/* Two series of rpc_seconds (quantiles 0.5, 0.75, 1) and one of a summary
 * without quantiles. */
static struct batch *summary_batch(void)
{
	static const double quantiles[] = { 0.5, 0.75, 1 };
	static const double get[] = { 0.125, 0.5, 2 };
	static const double put[] = { NAN, NAN, NAN };
	const char *names[] = { "m" }, *get_v[] = { "get" }, *put_v[] = { "p\"ut" };
	struct batch *b = new_batch();
	char err[256] = "";

	if (batch_summary_family(b, "rpc_seconds", "RPC latency.", quantiles, 3, err, sizeof err) ||
	    batch_add_summary(b, names, get_v, 1, get, 12.5, 100, err, sizeof err) ||
	    batch_add_summary(b, names, put_v, 1, put, 0, 0, err, sizeof err) ||
	    batch_summary_family(b, "bare", "Bare.", NULL, 0, err, sizeof err) ||
	    batch_add_summary(b, NULL, NULL, 0, NULL, 3.5, 7, err, sizeof err))
		fail_msg("summary batch: %s", err);
	return b;
}

static void test_summary_quantiles_sum_and_count_in_both_dialects(void **state)
{
	struct batch *b = summary_batch();
	struct render_result res;

	(void)state;
	char *out = render_batches(&b, 1, RENDER_PROMETHEUS_TEXT, &res);
	assert_string_equal(out, "# HELP rpc_seconds RPC latency.\n# TYPE rpc_seconds summary\n"
				 "rpc_seconds{m=\"get\",quantile=\"0.5\"} 0.125\n"
				 "rpc_seconds{m=\"get\",quantile=\"0.75\"} 0.5\n"
				 "rpc_seconds{m=\"get\",quantile=\"1\"} 2\n"
				 "rpc_seconds_sum{m=\"get\"} 12.5\n"
				 "rpc_seconds_count{m=\"get\"} 100\n"
				 "rpc_seconds{m=\"p\\\"ut\",quantile=\"0.5\"} NaN\n"
				 "rpc_seconds{m=\"p\\\"ut\",quantile=\"0.75\"} NaN\n"
				 "rpc_seconds{m=\"p\\\"ut\",quantile=\"1\"} NaN\n"
				 "rpc_seconds_sum{m=\"p\\\"ut\"} 0\n"
				 "rpc_seconds_count{m=\"p\\\"ut\"} 0\n"
				 "# HELP bare Bare.\n# TYPE bare summary\n"
				 "bare_sum 3.5\nbare_count 7\n");
	free(out);
	out = render_batches(&b, 1, RENDER_OPENMETRICS, &res);
	assert_string_equal(out, "# HELP rpc_seconds RPC latency.\n# TYPE rpc_seconds summary\n"
				 "rpc_seconds{m=\"get\",quantile=\"0.5\"} 0.125\n"
				 "rpc_seconds{m=\"get\",quantile=\"0.75\"} 0.5\n"
				 "rpc_seconds{m=\"get\",quantile=\"1.0\"} 2\n"
				 "rpc_seconds_sum{m=\"get\"} 12.5\n"
				 "rpc_seconds_count{m=\"get\"} 100\n"
				 "rpc_seconds{m=\"p\\\"ut\",quantile=\"0.5\"} NaN\n"
				 "rpc_seconds{m=\"p\\\"ut\",quantile=\"0.75\"} NaN\n"
				 "rpc_seconds{m=\"p\\\"ut\",quantile=\"1.0\"} NaN\n"
				 "rpc_seconds_sum{m=\"p\\\"ut\"} 0\n"
				 "rpc_seconds_count{m=\"p\\\"ut\"} 0\n"
				 "# HELP bare Bare.\n# TYPE bare summary\n"
				 "bare_sum 3.5\nbare_count 7\n# EOF\n");
	free(out);
	batch_free(b);
}

static void test_summary_json_has_quantiles_sum_and_count(void **state)
{
	struct batch *b = summary_batch();
	struct metrics_view v;
	struct render_source src = { .collector = "rpc", .view = &v };
	struct buf out;

	(void)state;
	batch_view(b, &v);
	buf_init(&out);
	assert_int_equal(render_json(&out, NULL, 0, &src, 1, NULL), 0);
	assert_contains(
	    out.data, "{\"name\":\"rpc_seconds\",\"type\":\"summary\",\"help\":\"RPC latency.\","
		      "\"collector\":\"rpc\",\"series\":["
		      "{\"labels\":{\"m\":\"get\"},\"quantiles\":["
		      "{\"quantile\":0.5,\"value\":0.125},{\"quantile\":0.75,\"value\":0.5},"
		      "{\"quantile\":1,\"value\":2}],\"sum\":12.5,\"count\":100},"
		      "{\"labels\":{\"m\":\"p\\\"ut\"},\"quantiles\":["
		      "{\"quantile\":0.5,\"value\":\"NaN\"},{\"quantile\":0.75,\"value\":\"NaN\"},"
		      "{\"quantile\":1,\"value\":\"NaN\"}],\"sum\":0,\"count\":0}]}");
	assert_contains(out.data, "{\"name\":\"bare\",\"type\":\"summary\",\"help\":\"Bare.\","
				  "\"collector\":\"rpc\",\"series\":[{\"labels\":{},"
				  "\"quantiles\":[],\"sum\":3.5,\"count\":7}]}");
	buf_free(&out);
	batch_free(b);
}

/* ---- values ---- */

static void test_values_print_integers_plainly_and_others_round_trip(void **state)
{
	static const struct {
		double v;
		const char *s;
	} cases[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ -42, "-42" },
		{ 1e15, "1000000000000000" },
		{ 1e18, "1000000000000000000" },
		{ 0.25, "0.25" },
		{ 0.1, "0.1" },
		{ 1.0 / 3.0, "0.3333333333333333" },
		{ 1e-9, "1e-09" },
		{ 1e300, "1e+300" },
		{ 0.1 + 0.2, "0.30000000000000004" },
	};
	char out[RENDER_VALUE_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		render_format_value(out, cases[i].v);
		assert_string_equal(out, cases[i].s);
		assert_true(strtod(out, NULL) == cases[i].v);
	}
}

/* xorshift64: reproducible bit patterns, every exponent and sign */
static uint64_t next_bits(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void test_every_finite_value_reads_back_exactly(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	char out[RENDER_VALUE_MAX];

	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint64_t bits = next_bits(&x);
		double v;
		if (i % 2) /* also values with few decimals, like counters of seconds */
			v = (double)(bits % 100000000) / 100.0;
		else
			memcpy(&v, &bits, sizeof v);
		if (!isfinite(v))
			continue;
		render_format_value(out, v);
		if (strtod(out, NULL) != v)
			fail_msg("%.17g was written as %s", v, out);
	}
}

static void test_special_values_are_NaN_and_signed_Inf(void **state)
{
	struct batch *b = new_batch();

	(void)state;
	family(b, "g", "G.", METRIC_GAUGE);
	add1(b, "k", "nan", NAN);
	add1(b, "k", "pinf", INFINITY);
	add1(b, "k", "ninf", -INFINITY);
	char *out = render_one(b);
	assert_contains(out, "g{k=\"nan\"} NaN\n");
	assert_contains(out, "g{k=\"pinf\"} +Inf\n");
	assert_contains(out, "g{k=\"ninf\"} -Inf\n");
	free(out);
	batch_free(b);
}

/* ---- duplicates ---- */

static void test_duplicate_family_is_skipped_once_and_counted(void **state)
{
	struct batch *b[2] = { new_batch(), new_batch() };
	struct render_result res;

	(void)state;
	family(b[0], "dup", "First.", METRIC_GAUGE);
	add1(b[0], NULL, NULL, 1);
	family(b[1], "other", "Other.", METRIC_GAUGE);
	add1(b[1], NULL, NULL, 3);
	family(b[1], "dup", "Second.", METRIC_GAUGE);
	add1(b[1], NULL, NULL, 2);
	char *out = render_batches(b, 2, RENDER_PROMETHEUS_TEXT, &res);
	assert_string_equal(out, "# HELP dup First.\n# TYPE dup gauge\ndup 1\n"
				 "# HELP other Other.\n# TYPE other gauge\nother 3\n");
	assert_int_equal(res.duplicate_families, 1);
	assert_string_equal(res.dup_family, "dup");
	assert_string_equal(res.dup_collector, "two");
	free(out);
	batch_free(b[0]);
	batch_free(b[1]);
}

/* Families whose sample names would meet in the exposition are duplicates too. */
static void test_families_whose_samples_would_clash_are_duplicates(void **state)
{
	static const double bounds[] = { 1 };
	static const uint64_t counts[] = { 1, 0 };
	struct batch *b[2] = { new_batch(), new_batch() };
	struct render_result res;
	char err[256];

	(void)state;
	assert_int_equal(batch_histogram_family(b[0], "h", "H.", bounds, 1, err, sizeof err), 0);
	assert_int_equal(batch_add_histogram(b[0], NULL, NULL, 0, counts, 0.5, err, sizeof err), 0);
	family(b[0], "x_total", "X.", METRIC_COUNTER);
	add1(b[0], NULL, NULL, 1);
	family(b[1], "h_sum", "Clashes with h's sum.", METRIC_GAUGE);
	add1(b[1], NULL, NULL, 2);
	family(b[1], "x", "Clashes with x_total in OpenMetrics.", METRIC_GAUGE);
	add1(b[1], NULL, NULL, 3);
	family(b[1], "h_total", "No clash.", METRIC_GAUGE);
	add1(b[1], NULL, NULL, 4);
	/* a counter without _total has its samples named c_total in OpenMetrics */
	family(b[0], "c", "C.", METRIC_COUNTER);
	add1(b[0], NULL, NULL, 5);
	family(b[1], "c_total", "Clashes with c's OpenMetrics samples.", METRIC_GAUGE);
	add1(b[1], NULL, NULL, 6);
	for (int d = 0; d < 2; d++) {
		char *out = render_batches(b, 2, d ? RENDER_OPENMETRICS : RENDER_PROMETHEUS_TEXT,
					   &res);
		assert_int_equal(res.duplicate_families, 3);
		assert_null(strstr(out, "h_sum 2"));
		assert_null(strstr(out, "\nx 3"));
		assert_null(strstr(out, " 6\n"));
		assert_contains(out, "\nh_total 4\n");
		free(out);
	}
	batch_free(b[0]);
	batch_free(b[1]);
}

static void test_many_families_keep_first_wins_rule(void **state)
{
	struct batch *b[2] = { new_batch(), new_batch() };
	struct render_result res;
	char name[32];

	(void)state;
	for (int i = 0; i < 300; i++) { /* enough to grow the name set several times */
		snprintf(name, sizeof name, "f%d", i);
		family(b[0], name, "h", METRIC_GAUGE);
		add1(b[0], NULL, NULL, i);
		family(b[1], name, "h", METRIC_GAUGE);
		add1(b[1], NULL, NULL, -1);
	}
	char *out = render_batches(b, 2, RENDER_PROMETHEUS_TEXT, &res);
	assert_int_equal(res.duplicate_families, 300);
	assert_int_equal(res.series, 300);
	assert_null(strstr(out, " -1\n"));
	assert_contains(out, "\nf299 299\n");
	free(out);
	batch_free(b[0]);
	batch_free(b[1]);
}

/* ---- OpenMetrics switch points ---- */

static void test_openmetrics_dialect_suffixes_counters_and_ends_with_eof(void **state)
{
	struct batch *b = new_batch();
	struct render_result res;

	(void)state;
	family(b, "req_total", "Say \"hi\".", METRIC_COUNTER);
	add1(b, NULL, NULL, 5);
	family(b, "u", "U.", METRIC_UNTYPED);
	add1(b, NULL, NULL, 1);
	char *out = render_batches(&b, 1, RENDER_OPENMETRICS, &res);
	assert_string_equal(out, "# HELP req Say \\\"hi\\\".\n# TYPE req counter\nreq_total 5\n"
				 "# HELP u U.\n# TYPE u unknown\nu 1\n# EOF\n");
	free(out);
	batch_free(b);
}

static void test_openmetrics_le_values_are_canonical(void **state)
{
	static const double bounds[] = { 0.5, 1, 10 };
	static const uint64_t counts[] = { 1, 0, 2, 3 };
	struct batch *b = new_batch();
	struct render_result res;
	char err[256];

	(void)state;
	assert_int_equal(batch_histogram_family(b, "h_seconds", "H.", bounds, 3, err, sizeof err),
			 0);
	assert_int_equal(batch_add_histogram(b, NULL, NULL, 0, counts, 2.5, err, sizeof err), 0);
	char *out = render_batches(&b, 1, RENDER_OPENMETRICS, &res);
	assert_string_equal(out, "# HELP h_seconds H.\n# TYPE h_seconds histogram\n"
				 "h_seconds_bucket{le=\"0.5\"} 1\n"
				 "h_seconds_bucket{le=\"1.0\"} 1\n"
				 "h_seconds_bucket{le=\"10.0\"} 3\n"
				 "h_seconds_bucket{le=\"+Inf\"} 6\n"
				 "h_seconds_sum 2.5\nh_seconds_count 6\n# EOF\n");
	free(out);
	batch_free(b);
}

/* ---- templates ---- */

static char *render_src(struct render_source *src, size_t n, enum render_dialect d)
{
	struct buf out;
	size_t len;

	buf_init(&out);
	assert_int_equal(render_text(&out, d, src, n, NULL), 0);
	return buf_steal(&out, &len);
}

static void fill_mixed(struct batch *b, double base)
{
	static const double bounds[] = { 0.25, 1 };
	const uint64_t counts[] = { 1, 2, (uint64_t)base };
	char err[256];

	batch_reset(b);
	family(b, "esc_total", "Help with \\ and \"q\"\nline.", METRIC_COUNTER);
	add1(b, "path", "a\"b\\c\nd", base);
	add1(b, "path", "plain", base / 3);
	family(b, "shared", "Also in the other source.", METRIC_GAUGE);
	add1(b, NULL, NULL, -base);
	assert_int_equal(batch_histogram_family(b, "h_seconds", "H.", bounds, 2, err, sizeof err),
			 0);
	assert_int_equal(batch_add_histogram(b, NULL, NULL, 0, counts, base * 0.1, err, sizeof err),
			 0);
	static const double quantiles[] = { 0.5, 0.9 };
	const double qv[] = { base / 7, base };
	assert_int_equal(batch_summary_family(b, "s_seconds", "S.", quantiles, 2, err, sizeof err),
			 0);
	const char *qn[] = { "path" }, *qval[] = { "a\"b" };
	assert_int_equal(batch_add_summary(b, qn, qval, 1, qv, base * 2, base, err, sizeof err), 0);
}

/* Renders through templates twice and directly, in both dialects, and
 * compares: replaying a template must be byte for byte the direct output. */
static void compare_replay(struct metrics_view *v, struct render_tmpl **t, uint64_t key)
{
	for (int d = 0; d < RENDER_DIALECTS; d++) {
		struct render_source direct[2] = { { .collector = "a", .view = &v[0] },
						   { .collector = "b", .view = &v[1] } };
		struct render_source cached[2] = {
			{ .collector = "a", .view = &v[0], .tmpl = t[0], .meta_key = key },
			{ .collector = "b", .view = &v[1], .tmpl = t[1], .meta_key = key }
		};
		char *want = render_src(direct, 2, (enum render_dialect)d);
		for (int round = 0; round < 2; round++) {
			char *got = render_src(cached, 2, (enum render_dialect)d);
			assert_string_equal(got, want);
			free(got);
		}
		free(want);
	}
}

static void test_template_replay_equals_direct_rendering(void **state)
{
	struct batch *b[2] = { new_batch(), new_batch() };
	struct render_tmpl *t[2] = { render_tmpl_new(), render_tmpl_new() };
	struct metrics_view v[2];

	(void)state;
	for (int round = 0; round < 3; round++) {
		fill_mixed(b[0], 10 + round);
		fill_mixed(b[1], 0.5 + round);
		if (round == 2) { /* a new series: the template must be rebuilt */
			family(b[1], "late", "Added later.", METRIC_GAUGE);
			add1(b[1], NULL, NULL, 7);
		}
		batch_view(b[0], &v[0]);
		batch_view(b[1], &v[1]);
		compare_replay(v, t, (uint64_t)round / 2);
	}
	for (int i = 0; i < 2; i++) {
		render_tmpl_free(t[i]);
		batch_free(b[i]);
	}
}

/* ---- JSON ---- */

static json_t *render_json_doc(struct batch *b, const struct render_collector_status *st,
			       size_t nst)
{
	struct metrics_view v;
	struct render_source src = { .collector = "cpu", .view = &v };
	struct render_result res;
	struct buf out;
	json_error_t jerr;

	batch_view(b, &v);
	buf_init(&out);
	assert_int_equal(render_json(&out, st, nst, &src, 1, &res), 0);
	json_t *doc = json_loads(out.data, 0, &jerr);
	if (!doc)
		fail_msg("JSON does not parse: %s\n%s", jerr.text, out.data);
	buf_free(&out);
	return doc;
}

static json_t *find_family(json_t *doc, const char *name)
{
	size_t i;
	json_t *f;

	json_array_foreach(json_object_get(doc, "families"), i,
			   f) if (strcmp(json_string_value(json_object_get(f, "name")), name) ==
				  0) return f;
	fail_msg("family %s not in JSON", name);
	return NULL;
}

static void check_json_collectors(json_t *doc)
{
	json_t *cols = json_object_get(doc, "collectors");
	assert_int_equal(json_integer_value(json_object_get(doc, "schema_version")), 1);
	assert_int_equal(json_array_size(cols), 2);
	json_t *c0 = json_array_get(cols, 0), *c1 = json_array_get(cols, 1);
	assert_string_equal(json_string_value(json_object_get(c0, "name")), "cpu");
	assert_true(json_is_true(json_object_get(c0, "up")));
	assert_true(json_is_false(json_object_get(c0, "success")));
	assert_true(json_real_value(json_object_get(c0, "duration_seconds")) == 0.5);
	assert_string_equal(json_string_value(json_object_get(c0, "error")), "partial \"read\"");
	assert_int_equal(json_integer_value(json_object_get(c0, "series")), 4);
	assert_true(json_is_false(json_object_get(c1, "up")));
	assert_true(json_is_null(json_object_get(c1, "last_publish_timestamp_seconds")));
	assert_true(json_is_null(json_object_get(c1, "error")));
}

static void check_json_gauge(json_t *doc)
{
	json_t *g = find_family(doc, "g");
	assert_string_equal(json_string_value(json_object_get(g, "type")), "gauge");
	assert_string_equal(json_string_value(json_object_get(g, "help")), "Line\nbreak \\ \"q\"");
	assert_string_equal(json_string_value(json_object_get(g, "collector")), "cpu");
	json_t *series = json_object_get(g, "series");
	assert_int_equal(json_array_size(series), 3);
	json_t *s0 = json_array_get(series, 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(s0, "labels"), "k")),
			    "a\"b\\c\nd");
	assert_true(json_real_value(json_object_get(s0, "value")) == 0.5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(series, 1), "value")),
			    "NaN");
	assert_string_equal(json_string_value(json_object_get(json_array_get(series, 2), "value")),
			    "-Inf");
}

static void check_json_histogram(json_t *doc)
{
	json_t *h = find_family(doc, "h_seconds");
	assert_string_equal(json_string_value(json_object_get(h, "type")), "histogram");
	json_t *s = json_array_get(json_object_get(h, "series"), 0);
	json_t *buckets = json_object_get(s, "buckets");
	assert_int_equal(json_array_size(buckets), 3);
	json_t *b0 = json_array_get(buckets, 0), *b2 = json_array_get(buckets, 2);
	assert_true(json_number_value(json_object_get(b0, "le")) == 0.5);
	assert_int_equal(json_integer_value(json_object_get(b0, "count")), 2);
	assert_string_equal(json_string_value(json_object_get(b2, "le")), "+Inf");
	assert_int_equal(json_integer_value(json_object_get(b2, "count")), 6);
	assert_int_equal(json_integer_value(json_object_get(s, "count")), 6);
	assert_true(json_number_value(json_object_get(s, "sum")) == 7.25);
	assert_int_equal(json_object_size(json_object_get(s, "labels")), 0);
}

static void test_json_output_parses_back_with_every_field(void **state)
{
	static const double bounds[] = { 0.5, 1 };
	static const uint64_t counts[] = { 2, 3, 1 };
	struct render_collector_status st[2] = {
		{ "cpu", true, false, true, 1700000000.25, 0.5, "partial \"read\"", 4 },
		{ "disk", false, false, false, 0, 0, NULL, 0 },
	};
	struct batch *b = new_batch();
	char err[256];

	(void)state;
	family(b, "g", "Line\nbreak \\ \"q\"", METRIC_GAUGE);
	add1(b, "k", "a\"b\\c\nd", 0.5);
	add1(b, "k", "nan", NAN);
	add1(b, "k", "ninf", -INFINITY);
	assert_int_equal(batch_histogram_family(b, "h_seconds", "H.", bounds, 2, err, sizeof err),
			 0);
	assert_int_equal(batch_add_histogram(b, NULL, NULL, 0, counts, 7.25, err, sizeof err), 0);
	json_t *doc = render_json_doc(b, st, 2);
	check_json_collectors(doc);
	check_json_gauge(doc);
	check_json_histogram(doc);
	json_decref(doc);
	batch_free(b);
}

static void test_json_strings_escape_control_bytes_and_never_carry_broken_utf8(void **state)
{
	struct render_collector_status st[1] = {
		{ "cpu", false, false, true, 12, 0, "bad \xff byte \x01 here", 0 },
	};
	struct batch *b = new_batch();

	(void)state;
	family(b, "g", "Tab\there, bell\a, slash /.", METRIC_GAUGE);
	add1(b, "k", "\x01\x1f\r\"\\\xc3\xbc", 1e300);
	add1(b, "k", "big", 18446744073709551616.0);
	json_t *doc = render_json_doc(b, st, 1);
	json_t *c0 = json_array_get(json_object_get(doc, "collectors"), 0);
	assert_string_equal(json_string_value(json_object_get(c0, "error")),
			    "bad ? byte \x01 here");
	assert_true(json_is_real(json_object_get(c0, "last_publish_timestamp_seconds")));
	assert_true(json_real_value(json_object_get(c0, "last_publish_timestamp_seconds")) == 12);
	json_t *g = find_family(doc, "g");
	assert_string_equal(json_string_value(json_object_get(g, "help")),
			    "Tab\there, bell\a, slash /.");
	json_t *s0 = json_array_get(json_object_get(g, "series"), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(s0, "labels"), "k")),
			    "\x01\x1f\r\"\\\xc3\xbc");
	assert_true(json_number_value(json_object_get(s0, "value")) == 1e300);
	json_t *s1 = json_array_get(json_object_get(g, "series"), 1);
	assert_true(json_number_value(json_object_get(s1, "value")) == 18446744073709551616.0);
	json_decref(doc);
	batch_free(b);
}

/* ---- bodies in two parts ---- */

enum body_kind { BODY_TEXT, BODY_OPENMETRICS, BODY_JSON };

static const struct render_collector_status part_status[1] = {
	{ "one", true, true, true, 1700000000, 0.25, NULL, 2 },
};

static char *steal(struct buf *out)
{
	size_t len;
	char *s = buf_steal(out, &len);
	assert_non_null(s);
	return s;
}

/* head then tail in one call, the way a body is rendered whole */
static char *render_whole(enum body_kind k, const struct render_source *src, size_t n)
{
	struct buf out;

	buf_init(&out);
	if (k == BODY_JSON)
		assert_int_equal(render_json(&out, part_status, 1, src, n, NULL), 0);
	else
		assert_int_equal(render_text(&out, (enum render_dialect)k, src, n, NULL), 0);
	return steal(&out);
}

/* head[0..nh) (the tail's source reserved first) and tail rendered apart */
static char *render_split(enum body_kind k, const struct render_source *head, size_t nh,
			  const struct render_source *tail)
{
	struct render_source h[4] = { *tail };
	struct render_result res;
	struct buf out;

	h[0].reserve = true;
	memcpy(h + 1, head, nh * sizeof *head);
	buf_init(&out);
	if (k == BODY_JSON) {
		assert_int_equal(render_json_head(&out, part_status, 1, h, nh + 1, &res), 0);
		assert_int_equal(render_json_tail(&out, tail, 1, res.families > 0, NULL), 0);
	} else {
		assert_int_equal(render_text_head(&out, (enum render_dialect)k, h, nh + 1, &res),
				 0);
		assert_int_equal(render_text(&out, (enum render_dialect)k, tail, 1, NULL), 0);
	}
	return steal(&out);
}

static void test_a_head_and_a_tail_read_as_one_body_in_every_format(void **state)
{
	static const double bounds[] = { 1 };
	static const uint64_t counts[] = { 1, 2 };
	struct batch *b[3] = { new_batch(), new_batch(), new_batch() };
	struct metrics_view v[3];
	char err[256];

	(void)state;
	family(b[0], "a", "A.", METRIC_GAUGE);
	add1(b[0], "k", "x", 1);
	family(b[0], "b_total", "B.", METRIC_COUNTER);
	add1(b[0], NULL, NULL, 2);
	/* b[1] has no family: a head that renders none */
	family(b[2], "t_total", "T.", METRIC_COUNTER);
	add1(b[2], "code", "200", 3);
	assert_int_equal(batch_histogram_family(b[2], "t_seconds", "H.", bounds, 1, err,
						sizeof err),
			 0);
	assert_int_equal(batch_add_histogram(b[2], NULL, NULL, 0, counts, 1.5, err, sizeof err), 0);
	for (int i = 0; i < 3; i++)
		batch_view(b[i], &v[i]);
	for (int k = BODY_TEXT; k <= BODY_JSON; k++)
		for (int h = 0; h < 2; h++) {
			struct render_source src[2] = { { .collector = "one", .view = &v[h] },
							{ .collector = "self", .view = &v[2] } };
			char *whole = render_whole((enum body_kind)k, src, 2);
			char *split = render_split((enum body_kind)k, src, 1, &src[1]);
			assert_string_equal(split, whole);
			free(whole);
			free(split);
		}
	for (int i = 0; i < 3; i++)
		batch_free(b[i]);
}

static void test_reserved_names_cannot_be_taken_by_a_later_source(void **state)
{
	struct batch *b[2] = { new_batch(), new_batch() };
	struct metrics_view v[2];
	struct render_result res;
	struct buf out;

	(void)state;
	family(b[0], "t_total", "Ours.", METRIC_COUNTER);
	add1(b[0], NULL, NULL, 1);
	family(b[1], "t_total", "Theirs.", METRIC_COUNTER);
	add1(b[1], NULL, NULL, 99);
	family(b[1], "u", "U.", METRIC_GAUGE);
	add1(b[1], NULL, NULL, 5);
	batch_view(b[0], &v[0]);
	batch_view(b[1], &v[1]);
	struct render_source src[2] = { { .collector = "self", .view = &v[0], .reserve = true },
					{ .collector = "spoof", .view = &v[1] } };
	buf_init(&out);
	assert_int_equal(render_text_head(&out, RENDER_PROMETHEUS_TEXT, src, 2, &res), 0);
	char *text = steal(&out);
	assert_string_equal(text, "# HELP u U.\n# TYPE u gauge\nu 5\n");
	assert_int_equal(res.duplicate_families, 1);
	assert_string_equal(res.dup_collector, "spoof");
	assert_int_equal(res.families, 1);
	free(text);
	batch_free(b[0]);
	batch_free(b[1]);
}

/* ---- buffer ---- */

static void test_buffer_grows_and_stays_nul_terminated(void **state)
{
	struct buf b;
	size_t len;

	(void)state;
	buf_init(&b);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%04d,", i);
	buf_printf(&b, "%0300d", 7); /* longer than the formatting scratch space */
	assert_false(buf_failed(&b));
	assert_int_equal(b.len, 5000 + 300);
	assert_int_equal(strlen(b.data), b.len);
	assert_memory_equal(b.data + 4995, "0999,", 5);
	char *s = buf_steal(&b, &len);
	assert_int_equal(len, 5300);
	assert_null(b.data);
	free(s);
	s = buf_steal(&b, &len); /* an empty buffer still gives a string */
	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_values_escape_backslash_quote_and_newline),
		cmocka_unit_test(test_help_escapes_backslash_and_newline_only),
		cmocka_unit_test(test_each_family_is_one_group_with_help_and_type_first),
		cmocka_unit_test(test_histogram_buckets_are_cumulative_and_inf_equals_count),
		cmocka_unit_test(test_summary_quantiles_sum_and_count_in_both_dialects),
		cmocka_unit_test(test_summary_json_has_quantiles_sum_and_count),
		cmocka_unit_test(test_values_print_integers_plainly_and_others_round_trip),
		cmocka_unit_test(test_every_finite_value_reads_back_exactly),
		cmocka_unit_test(test_special_values_are_NaN_and_signed_Inf),
		cmocka_unit_test(test_duplicate_family_is_skipped_once_and_counted),
		cmocka_unit_test(test_families_whose_samples_would_clash_are_duplicates),
		cmocka_unit_test(test_many_families_keep_first_wins_rule),
		cmocka_unit_test(test_openmetrics_dialect_suffixes_counters_and_ends_with_eof),
		cmocka_unit_test(test_openmetrics_le_values_are_canonical),
		cmocka_unit_test(test_template_replay_equals_direct_rendering),
		cmocka_unit_test(test_json_output_parses_back_with_every_field),
		cmocka_unit_test(
		    test_json_strings_escape_control_bytes_and_never_carry_broken_utf8),
		cmocka_unit_test(test_a_head_and_a_tail_read_as_one_body_in_every_format),
		cmocka_unit_test(test_reserved_names_cannot_be_taken_by_a_later_source),
		cmocka_unit_test(test_buffer_grows_and_stays_nul_terminated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
