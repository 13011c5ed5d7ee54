/*
 * test_promtext.c - the strict Prometheus text parser: what it accepts comes
 * back out of the exporter's renderer unchanged (but for sorted labels and
 * normalised numbers), and what it refuses names the line and the reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "buf.h"
#include "render.h"
#include "metrics.h"
#include "promtext.h"

static struct batch *new_batch(void)
{
	struct batch_limits lim;
	batch_limits_default(&lim);
	struct batch *b = batch_new(&lim);
	assert_non_null(b);
	return b;
}

/* Parses text and renders the batch as the exporter would; NULL on a parse error. */
static char *roundtrip(const char *text, char *err, size_t errlen)
{
	struct batch *b = new_batch();
	struct metrics_view v;
	struct buf out;
	struct render_source src = { .collector = "test", .view = &v };
	struct render_result res;

	err[0] = '\0';
	if (promtext_parse(b, text, strlen(text), err, errlen) < 0) {
		batch_free(b);
		return NULL;
	}
	batch_view(b, &v);
	buf_init(&out);
	assert_int_equal(render_text(&out, RENDER_PROMETHEUS_TEXT, &src, 1, &res), 0);
	char *s = strndup(out.data ? out.data : "", out.len);
	buf_free(&out);
	batch_free(b);
	return s;
}

static void expect_same(const char *in, const char *want)
{
	char err[600];
	char *got = roundtrip(in, err, sizeof err);
	if (got == NULL)
		fail_msg("refused: %s\ninput:\n%s", err, in);
	assert_string_equal(got, want);
	free(got);
}

static void expect_error(const char *in, const char *want_err)
{
	char err[600];
	char *got = roundtrip(in, err, sizeof err);
	if (got != NULL)
		fail_msg("accepted, expected \"%s\":\n%s", want_err, got);
	if (strcmp(err, want_err) != 0)
		fail_msg("error\n  \"%s\", expected\n  \"%s\"", err, want_err);
}

/* ---- accepted ---- */

static void test_counters_gauges_and_untyped_round_trip(void **unused)
{
	(void)unused;
	const char *in = "# HELP a_total Requests.\n"
			 "# TYPE a_total counter\n"
			 "a_total{code=\"200\"} 10\n"
			 "a_total{code=\"500\"} 2\n"
			 "# TYPE temp gauge\n"
			 "temp -3.5\n"
			 "plain 1e3\n";
	expect_same(in, "# HELP a_total Requests.\n"
			"# TYPE a_total counter\n"
			"a_total{code=\"200\"} 10\n"
			"a_total{code=\"500\"} 2\n"
			"# HELP temp \n"
			"# TYPE temp gauge\n"
			"temp -3.5\n"
			"# HELP plain \n"
			"# TYPE plain untyped\n"
			"plain 1000\n");
}

static void test_blanks_comments_and_empty_lines_are_skipped(void **unused)
{
	(void)unused;
	expect_same("\n  # just a comment\n#\n\t\nx{ a = \"1\" , } \t 2\n   \n",
		    "# HELP x \n# TYPE x untyped\nx{a=\"1\"} 2\n");
}

static void test_label_and_help_escapes_are_decoded(void **unused)
{
	(void)unused;
	expect_same("# HELP x back\\\\slash\\nnewline\n"
		    "x{v=\"q\\\"uote\\\\ and\\nnl\"} 1\n",
		    "# HELP x back\\\\slash\\nnewline\n# TYPE x untyped\n"
		    "x{v=\"q\\\"uote\\\\ and\\nnl\"} 1\n");
}

static void test_labels_are_sorted_by_name(void **unused)
{
	(void)unused;
	expect_same("x{b=\"2\",a=\"1\"} 1\n",
		    "# HELP x \n# TYPE x untyped\nx{a=\"1\",b=\"2\"} 1\n");
}

static void test_special_values_parse_like_go(void **unused)
{
	(void)unused;
	expect_same("a NaN\nb +Inf\nc -Inf\nd inf\ne .5\nf 5.\ng -0\n",
		    "# HELP a \n# TYPE a untyped\na NaN\n"
		    "# HELP b \n# TYPE b untyped\nb +Inf\n"
		    "# HELP c \n# TYPE c untyped\nc -Inf\n"
		    "# HELP d \n# TYPE d untyped\nd +Inf\n"
		    "# HELP e \n# TYPE e untyped\ne 0.5\n"
		    "# HELP f \n# TYPE f untyped\nf 5\n"
		    "# HELP g \n# TYPE g untyped\ng -0\n");
}

static void test_utf8_label_values_are_kept(void **unused)
{
	(void)unused;
	expect_same("x{city=\"Zürich\"} 1\n",
		    "# HELP x \n# TYPE x untyped\nx{city=\"Zürich\"} 1\n");
}

static void test_histogram_with_buckets_sum_and_count(void **unused)
{
	(void)unused;
	const char *in = "# HELP lat Latency.\n"
			 "# TYPE lat histogram\n"
			 "lat_bucket{path=\"/\",le=\"0.1\"} 1\n"
			 "lat_bucket{path=\"/\",le=\"1\"} 3\n"
			 "lat_bucket{path=\"/\",le=\"+Inf\"} 4\n"
			 "lat_sum{path=\"/\"} 2.5\n"
			 "lat_count{path=\"/\"} 4\n"
			 "lat_count{path=\"/x\"} 0\n"
			 "lat_sum{path=\"/x\"} 0\n"
			 "lat_bucket{le=\"+Inf\",path=\"/x\"} 0\n"
			 "lat_bucket{path=\"/x\",le=\"1.0\"} 0\n"
			 "lat_bucket{path=\"/x\",le=\"0.1\"} 0\n";
	expect_same(in, "# HELP lat Latency.\n"
			"# TYPE lat histogram\n"
			"lat_bucket{path=\"/\",le=\"0.1\"} 1\n"
			"lat_bucket{path=\"/\",le=\"1\"} 3\n"
			"lat_bucket{path=\"/\",le=\"+Inf\"} 4\n"
			"lat_sum{path=\"/\"} 2.5\n"
			"lat_count{path=\"/\"} 4\n"
			"lat_bucket{path=\"/x\",le=\"0.1\"} 0\n"
			"lat_bucket{path=\"/x\",le=\"1\"} 0\n"
			"lat_bucket{path=\"/x\",le=\"+Inf\"} 0\n"
			"lat_sum{path=\"/x\"} 0\n"
			"lat_count{path=\"/x\"} 0\n");
}

static void test_summary_with_quantiles_sum_and_count(void **unused)
{
	(void)unused;
	const char *in = "# HELP rpc_seconds RPC latency.\n# TYPE rpc_seconds summary\n"
			 "rpc_seconds{m=\"get\",quantile=\"0.99\"} 0.25\n"
			 "rpc_seconds{quantile=\"0.5\",m=\"get\"} 0.1\n"
			 "rpc_seconds_sum{m=\"get\"} 12.5\n"
			 "rpc_seconds_count{m=\"get\"} 100\n"
			 "rpc_seconds_count{m=\"put\"} 0\n"
			 "rpc_seconds_sum{m=\"put\"} 0\n"
			 "rpc_seconds{m=\"put\",quantile=\"0.5\"} NaN\n"
			 "rpc_seconds{m=\"put\",quantile=\"0.99\"} NaN\n"
			 "# TYPE bare summary\nbare_sum 3\nbare_count 2\n";
	expect_same(in, "# HELP rpc_seconds RPC latency.\n"
			"# TYPE rpc_seconds summary\n"
			"rpc_seconds{m=\"get\",quantile=\"0.5\"} 0.1\n"
			"rpc_seconds{m=\"get\",quantile=\"0.99\"} 0.25\n"
			"rpc_seconds_sum{m=\"get\"} 12.5\n"
			"rpc_seconds_count{m=\"get\"} 100\n"
			"rpc_seconds{m=\"put\",quantile=\"0.5\"} NaN\n"
			"rpc_seconds{m=\"put\",quantile=\"0.99\"} NaN\n"
			"rpc_seconds_sum{m=\"put\"} 0\n"
			"rpc_seconds_count{m=\"put\"} 0\n"
			"# HELP bare \n# TYPE bare summary\nbare_sum 3\nbare_count 2\n");
	expect_same("# TYPE z summary\nz{quantile=\"-0\"} 1\nz{quantile=\"1e0\"} 2\nz_sum 3\n"
		    "z_count 4\n",
		    "# HELP z \n# TYPE z summary\nz{quantile=\"0\"} 1\nz{quantile=\"1\"} 2\n"
		    "z_sum 3\nz_count 4\n");
}

static void test_family_without_samples_is_left_out(void **unused)
{
	(void)unused;
	expect_same("# HELP e Empty.\n# TYPE e gauge\nx 1\n", "# HELP x \n# TYPE x untyped\nx 1\n");
}

static void test_suffixed_names_without_a_histogram_type_are_plain_families(void **unused)
{
	(void)unused;
	expect_same("x_count 3\n", "# HELP x_count \n# TYPE x_count untyped\nx_count 3\n");
}

/* ---- refused ---- */

struct refusal {
	const char *input;
	const char *error;
};

static const struct refusal refusals[] = {
	{ "x 1 1700000000\n",
	  "line 1, column 5: a timestamp; they are not supported (as in node_exporter)" },
	{ "x 1", "line 1: the last line does not end with \\n" },
	{ "x 1\r\n", "line 1, column 4: a carriage return; lines end with \\n alone" },
	{ "x{a=\"\xff\"} 1\n", "line 1, column 6: not valid UTF-8 (or a NUL byte)" },
	{ "x 1\ny 1\nx 2\n",
	  "line 3, column 1: this name was already used by the family that starts at line "
	  "1; the lines of a family must be together, and each name belongs to one family" },
	{ "x{a=\"1\"} 1\nx{a=\"1\"} 2\n",
	  "line 2: the family that starts at line 1 already has a series with these labels" },
	{ "x{a=\"1\",b=\"2\"} 1\nx{b=\"2\",a=\"1\"} 2\n",
	  "line 2: the family that starts at line 1 already has a series with these labels" },
	{ "x{a=\"1\",a=\"2\"} 1\n",
	  "line 1, column 9: this label was already given at column 3; a series has each "
	  "label once" },
	{ "x{__a=\"1\"} 1\n",
	  "line 1, column 3: the label name starts with __, which Prometheus reserves" },
	{ "__x 1\n",
	  "line 1, column 1: the metric name starts with __, which Prometheus reserves" },
	{ "1x 1\n", "line 1, column 1: expected a metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*" },
	{ "x{a=\"1\\t\"} 1\n",
	  "line 1, column 7: invalid escape in a label value; only \\\\, \\\" and \\n are allowed" },
	{ "x{a=\"1} 1\n", "line 1, column 5: a label value has no closing quote" },
	{ "x{a=1} 1\n", "line 1, column 5: a label value must be in double quotes" },
	{ "x{a=\"1\" b=\"2\"} 1\n", "line 1, column 9: expected , or } after a label value" },
	{ "x{=\"1\"} 1\n",
	  "line 1, column 3: expected a label name matching [a-zA-Z_][a-zA-Z0-9_]*, or } "
	  "to end the labels" },
	{ "x\n", "line 1, column 2: expected a value after the metric name and labels" },
	{ "x one\n", "line 1, column 3: a value must be a number, +Inf, -Inf or NaN" },
	{ "x 0x10\n", "line 1, column 3: a value must be a number, +Inf, -Inf or NaN" },
	{ "x 1e999\n", "line 1, column 3: a value must be a number, +Inf, -Inf or NaN" },
	{ "x 1 2 3\n", "line 1, column 5: unexpected text after the value" },
	{ "x-y 1\n",
	  "line 1, column 2: this character is not allowed in a metric name (names match "
	  "[a-zA-Z_:][a-zA-Z0-9_:]*); expected { or a blank after the name" },
	{ "# HELP x a\\tb\nx 1\n",
	  "line 1, column 11: invalid escape in a HELP text; only \\\\ and \\n are allowed" },
	{ "# HELP x a\n# HELP x b\n",
	  "line 2: a second HELP line for the family that starts at line 1; a family has "
	  "at most one" },
	{ "# TYPE x gauge\n# TYPE x gauge\n",
	  "line 2: a second TYPE line for the family that starts at line 1; a family has "
	  "at most one" },
	{ "x 1\n# TYPE x gauge\n",
	  "line 2: a TYPE line after the samples of the family that starts at line 1; HELP "
	  "and TYPE come before the samples" },
	{ "# TYPE x gauge extra\n",
	  "line 1, column 16: unexpected text after the type: # TYPE name type ends there" },
	{ "# TYPE x counterr\n",
	  "line 1, column 10: unknown type; expected counter, gauge, histogram, summary or "
	  "untyped" },
	{ "# TYPE x\n",
	  "line 1, column 9: expected a type: # TYPE name counter|gauge|histogram|summary|untyped" },
	{ "# HELP\n", "line 1, column 7: expected a metric name: # HELP name text" },
	{ "# TYPE c counter\nc -1\n",
	  "line 2, column 3: a counter's value must be 0 or more (counters are never "
	  "negative, nor NaN)" },
	{ "# TYPE h histogram\nh 1\n",
	  "line 2, column 1: the samples of the histogram family that starts at line 1 are "
	  "named after it with _bucket, _sum or _count" },
	{ "# TYPE h histogram\nh_bucket 1\n",
	  "line 2, column 1: a _bucket line needs an le label (the bucket's upper bound)" },
	{ "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n",
	  "line 2, column 10: le must be a number or +Inf (the bucket's upper bound)" },
	{ "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
	  "line 2: this series of the histogram family that starts at line 1 has no bucket "
	  "with le=\"+Inf\"" },
	{ "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
	  "line 2: in this series of the histogram family that starts at line 1, the "
	  "le=\"+Inf\" bucket differs from _count; they must be equal" },
	{ "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",
	  "line 2: this series of the histogram family that starts at line 1 has no _sum line" },
	{ "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 2\n",
	  "line 2: this series of the histogram family that starts at line 1 has no _count line" },
	{ "# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_sum "
	  "1\nh_count 2\n",
	  "line 2: in this series of the histogram family that starts at line 1, bucket 2 "
	  "(in le order) holds less than bucket 1; bucket counts are cumulative and never "
	  "decrease" },
	{ "# TYPE h histogram\nh_bucket{le=\"1\"} 0.5\n",
	  "line 2, column 18: bucket counts must be whole numbers from 0 to 2^53" },
	{ "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"1.0\"} 1\n",
	  "line 3, column 10: this series already has a bucket with this le; each bound "
	  "appears once per series" },
	{ "# TYPE h histogram\nh_sum{le=\"1\"} 1\n",
	  "line 2, column 7: _sum and _count lines have no le label; only _bucket lines do" },
	{ "# TYPE h histogram\nh_sum 1\nh_sum 1\n",
	  "line 3: the series that starts at line 2 already has a _sum line; a series has one" },
	{ "# TYPE h histogram\n"
	  "h_bucket{a=\"1\",le=\"1\"} 0\nh_bucket{a=\"1\",le=\"+Inf\"} 0\nh_sum{a=\"1\"} "
	  "0\nh_count{a=\"1\"} 0\n"
	  "h_bucket{a=\"2\",le=\"2\"} 0\nh_bucket{a=\"2\",le=\"+Inf\"} 0\nh_sum{a=\"2\"} "
	  "0\nh_count{a=\"2\"} 0\n",
	  "line 6: this series has other buckets than the first series of the histogram "
	  "family that starts at line 1; every series must have the same buckets" },
	{ "# TYPE h histogram\n"
	  "h_sum{a=\"1\"} 0\nh_sum{a=\"2\"} 0\nh_count{a=\"1\"} 0\n",
	  "line 2: this series of the histogram family that starts at line 1 has no _count line" },
	{ "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\nh_count 1\n",
	  "line 5: the series that starts at line 2 already has a _count line; a series has one" },
	{ "# TYPE s summary\ns{quantile=\"1.5\"} 1\ns_sum 1\ns_count 1\n",
	  "line 2, column 3: a quantile must be a number from 0 to 1" },
	{ "# TYPE s summary\ns{quantile=\"-0.1\"} 1\n",
	  "line 2, column 3: a quantile must be a number from 0 to 1" },
	{ "# TYPE s summary\ns{quantile=\"NaN\"} 1\n",
	  "line 2, column 3: a quantile must be a number from 0 to 1" },
	{ "# TYPE s summary\ns{quantile=\"x\"} 1\n",
	  "line 2, column 3: a quantile must be a number from 0 to 1" },
	{ "# TYPE s summary\ns 1\n",
	  "line 2, column 1: a summary's line without _sum or _count needs a quantile label" },
	{ "# TYPE s summary\n"
	  "s{a=\"1\",quantile=\"0.5\"} 1\ns_sum{a=\"1\"} 1\ns_count{a=\"1\"} 1\n"
	  "s{a=\"2\",quantile=\"0.9\"} 1\ns_sum{a=\"2\"} 1\ns_count{a=\"2\"} 1\n",
	  "line 5: this series has other quantiles than the first series of the summary "
	  "family that starts at line 1; every series must have the same quantiles" },
	{ "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\n",
	  "line 2: this series of the summary family that starts at line 1 has no _count line" },
	{ "# TYPE s summary\ns_count 1\n",
	  "line 2: this series of the summary family that starts at line 1 has no _sum line" },
	{ "# TYPE s summary\ns_sum 1\ns_count -1\n",
	  "line 2: this series of the summary family that starts at line 1 has a negative "
	  "or NaN _count; a count is 0 or more" },
	{ "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns{quantile=\"0.50\"} 2\n",
	  "line 3, column 3: this series already has this quantile; each quantile appears "
	  "once per series" },
	{ "# TYPE s summary\ns_sum{quantile=\"0.5\"} 1\n",
	  "line 2, column 7: _sum and _count lines have no quantile label; only a "
	  "summary's quantile lines do" },
	{ "# TYPE s summary\ns_count 1\ns_count 1\n",
	  "line 3: the series that starts at line 2 already has a _count line; a series has one" },
	{ "# TYPE s summary\n"
	  "s_sum{a=\"1\"} 0\ns_sum{a=\"2\"} 0\ns_count{a=\"1\"} 0\n",
	  "line 2: this series of the summary family that starts at line 1 has no _count line" },
	{ "# TYPE s summary\ns_sum 1\ns_count 1\ns_sum 1\ns_count 1\n",
	  "line 4: the series that starts at line 2 already has a _sum line; a series has one" },
};

/* Families whose exposed names meet (metric_exposed_names): refused at the first
 * sample of the later one, naming both by the lines where they start. */
#define CLASH(line, first, second)                                                          \
	"line " #line ": the family that starts at line " #first " and the one that starts at " \
	"line " #second " would both expose one name (a counter is exposed with and without " \
	"_total, a histogram with _bucket, _sum and _count, a summary with _sum and _count): " \
	"rename one of them, or keep the lines of one family together"
static const struct refusal clashes[] = {
	/* the input fuzz_promtext found (tests/fuzz/crashes/promtext/), reduced */
	{ "x NaN\n# TYPE x_total counter\nx_total{a=\"b\"} 5e-3\n",
	  CLASH(3, 1, 2) },
	{ "# TYPE x_total counter\nx_total 1\nx 2\n",
	  CLASH(3, 1, 3) },
	{ "# TYPE c counter\nc 1\n# TYPE c_total gauge\nc_total 2\n",
	  CLASH(4, 1, 3) },
	{ "# TYPE a counter\na 1\n# TYPE a_total counter\na_total 1\n",
	  CLASH(4, 1, 3) },
	{ "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"
	  "# TYPE h_bucket gauge\nh_bucket 1\n",
	  CLASH(6, 1, 5) },
	{ "h_count 1\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
	  CLASH(3, 1, 2) },
	{ "# TYPE s summary\ns_sum 1\ns_count 1\ny 1\ns_count 2\n",
	  CLASH(5, 1, 5) },
	{ "# TYPE s summary\ns_sum 1\ns_count 1\n# TYPE s_total counter\ns_total 1\n",
	  CLASH(5, 1, 4) },
	{ "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"
	  "# TYPE h_count counter\nh_count 1\n",
	  CLASH(6, 1, 5) },
};

static void test_families_exposing_one_name_are_refused_naming_both(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < sizeof clashes / sizeof clashes[0]; i++) {
		print_message("case %zu: %s", i, clashes[i].input);
		expect_error(clashes[i].input, clashes[i].error);
	}
}

/* What the parser accepts, the renderers serve whole, in both dialects. */
static void expect_served_whole(const char *in)
{
	struct batch *b = new_batch();
	struct metrics_view v;
	struct render_source src = { .collector = "test", .view = &v };
	char err[600];

	if (promtext_parse(b, in, strlen(in), err, sizeof err) < 0)
		fail_msg("refused: %s\ninput:\n%s", err, in);
	batch_view(b, &v);
	for (int d = 0; d < RENDER_DIALECTS; d++) {
		struct render_result res;
		struct buf out;
		buf_init(&out);
		assert_int_equal(render_text(&out, (enum render_dialect)d, &src, 1, &res), 0);
		assert_int_equal(res.duplicate_families, 0);
		assert_int_equal(res.series, v.hdr.n_series);
		buf_free(&out);
	}
	batch_free(b);
}

static void test_names_that_do_not_meet_are_served_whole(void **unused)
{
	(void)unused;
	/* a family without samples is left out, so it takes no names */
	expect_same("h_sum 1\n# TYPE h histogram\n",
		    "# HELP h_sum \n# TYPE h_sum untyped\nh_sum 1\n");
	expect_same("s_count 1\n# TYPE s summary\n",
		    "# HELP s_count \n# TYPE s_count untyped\ns_count 1\n");
	expect_served_whole(
	    "# TYPE s summary\ns_sum 1\ns_count 1\ns_bucket 1\n# TYPE s_sum gauge\n");
	expect_served_whole("# TYPE x_total gauge\nx_total 1\nx 1\n");
	expect_served_whole("# TYPE x counter\nx 1\nx_sum 1\nx_total_total 1\n");
	expect_served_whole("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"
			    "h_total 1\nh_bucket_sum 1\n# TYPE h_created counter\nh_created 1\n");
	expect_served_whole("# TYPE _total counter\n_total 1\n");
}

static void test_bad_input_is_refused_with_line_column_and_reason(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
		expect_error(refusals[i].input, refusals[i].error);
}

/*
 * Errors never echo the input (it may be a secret in the wrong place): every
 * bad input below carries a marker, "s3cr3t" (any case) or the number 7331,
 * where the parser could be tempted to quote it, and the error must name the
 * line and column without it.
 */
struct leak_case {
	const char *input;
	size_t line, column; /* column 0: the error names no column */
};

static const struct leak_case leak_cases[] = {
	/* names */
	{ "ok 1\ntok_s3cr3t-x 1\n", 2, 11 },
	{ "__s3cr3t 1\n", 1, 1 },
	{ "# HELP tok-s3cr3t text\n", 1, 8 },
	{ "# TYPE __s3cr3t gauge\n", 1, 8 },
	{ "# TYPE s3cr3t\n", 1, 14 },
	{ "x{__s3cr3t=\"1\"} 1\n", 1, 3 },
	{ "x{s3cr3t-l=\"1\"} 1\n", 1, 9 },
	{ "x{S3CR3T=\"1\",S3CR3T=\"2\"} 1\n", 1, 14 },
	{ "s3cr3t_a 1\ns3cr3t_b 1\ns3cr3t_a 2\n", 3, 1 },
	/* values, and what follows them */
	{ "x Sup3rS3cr3t\n", 1, 3 },
	{ "x 0x7331\n", 1, 3 },
	{ "x 1 S3CR3T\n", 1, 5 },
	{ "x 1 7331\n", 1, 5 },
	{ "# TYPE c counter\nc -7331\n", 2, 3 },
	{ "x{a=\"s3cr3t\"} 1\nx{a=\"s3cr3t\"} 2\n", 2, 0 },
	/* label values, escapes, quotes */
	{ "x{a=\"s3cr3t\\q\"} 1\n", 1, 12 },
	{ "x{a=\"s3cr3t} 1\n", 1, 5 },
	{ "x{a=s3cr3t} 1\n", 1, 5 },
	{ "x{a=\"1\" s3cr3t=\"2\"} 1\n", 1, 9 },
	/* HELP and TYPE */
	{ "# HELP x s3cr3t\\t\n", 1, 16 },
	{ "# HELP x s3cr3t\n# HELP x again\n", 2, 0 },
	{ "# TYPE x s3cr3t\n", 1, 10 },
	{ "# TYPE x gauge s3cr3t\n", 1, 16 },
	{ "s3cr3t 1\n# TYPE s3cr3t gauge\n", 2, 0 },
	/* histograms and summaries */
	{ "# TYPE h histogram\nh_bucket{le=\"s3cr3t\"} 1\n", 2, 10 },
	{ "# TYPE h histogram\nh_bucket{k=\"s3cr3t\",le=\"7331\"} 1\nh_sum 1\nh_count 1\n", 2, 0 },
	{ "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 7331\nh_sum 1\nh_count 7332\n", 2, 0 },
	{ "# TYPE h histogram\nh_bucket{le=\"7331\"} 5\nh_bucket{le=\"+Inf\"} 4\nh_sum 1\n"
	  "h_count 4\n",
	  2, 0 },
	{ "# TYPE h histogram\nh_bucket{le=\"7331\"} 1\nh_bucket{le=\"7331.0\"} 1\n", 3, 10 },
	{ "# TYPE h histogram\nh_bucket{le=\"1\"} 7331.5\n", 2, 18 },
	{ "# TYPE h histogram\nh_sum{le=\"7331\"} 1\n", 2, 7 },
	{ "# TYPE s3cr3t histogram\ns3cr3t 1\n", 2, 1 },
	{ "# TYPE s summary\ns{quantile=\"7331\"} 1\n", 2, 3 },
	{ "# TYPE s summary\ns{k=\"s3cr3t\"} 1\n", 2, 1 },
	{ "# TYPE s summary\ns_sum{k=\"s3cr3t\"} 1\ns_count{k=\"s3cr3t\"} -7331\n", 2, 0 },
	{ "# TYPE s summary\ns{quantile=\"0.7331\"} 1\ns{quantile=\"0.73310\"} 2\n", 3, 3 },
	{ "s3cr3t_sum 1\n# TYPE s3cr3t summary\ns3cr3t_count 1\n", 3, 0 },
	{ "x_total 7331\n# TYPE x counter\nx 7331\n", 3, 0 },
	/* whole lines */
	{ "s3cr3t 1\r\n", 1, 9 },
	{ "s3cr3t{a=\"\xff\"} 1\n", 1, 11 },
	{ "s3cr3t 1", 1, 0 },
};

static bool holds_marker(const char *err)
{
	for (const char *p = err; *p; p++)
		if (strncasecmp(p, "s3cr3t", 6) == 0 || strncmp(p, "7331", 4) == 0)
			return true;
	return false;
}

static void expect_no_echo(const char *in, size_t len, size_t line, size_t column)
{
	struct batch *b = new_batch();
	char err[600] = "", where[64];

	if (promtext_parse(b, in, len, err, sizeof err) >= 0)
		fail_msg("accepted: %s", in);
	if (holds_marker(err) || strchr(err, '?') != NULL)
		fail_msg("the error echoes the input (or misses a number): \"%s\"\ninput: %s", err,
			 in);
	if (column)
		snprintf(where, sizeof where, "line %zu, column %zu: ", line, column);
	else
		snprintf(where, sizeof where, "line %zu: ", line);
	if (strncmp(err, where, strlen(where)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"\ninput: %s", err, where, in);
	batch_free(b);
}

static void fill_with_marker(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s[i] = "s3cr3t"[i % 6];
}

static void test_errors_never_echo_the_input(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < sizeof leak_cases / sizeof leak_cases[0]; i++) {
		const struct leak_case *c = &leak_cases[i];
		expect_no_echo(c->input, strlen(c->input), c->line, c->column);
	}
	/* An overlong line, an overlong name, label value and HELP. */
	size_t n = PROMTEXT_LINE_MAX + 64;
	char *in = malloc(n + 1);
	assert_non_null(in);
	fill_with_marker(in, n);
	memcpy(in + n - 3, " 1\n", 3);
	expect_no_echo(in, n, 1, 0);
	fill_with_marker(in, n);
	memcpy(in + METRIC_NAME_MAX + 6, " 1\n", 3);
	expect_no_echo(in, METRIC_NAME_MAX + 9, 1, 1);
	fill_with_marker(in, n);
	memcpy(in, "x{a=\"", 5);
	memcpy(in + LABEL_VALUE_MAX + 10, "\"} 1\n", 5);
	expect_no_echo(in, LABEL_VALUE_MAX + 15, 1, 5);
	fill_with_marker(in, n);
	memcpy(in, "# HELP x ", 9);
	in[METRIC_HELP_MAX + 20] = '\n';
	expect_no_echo(in, METRIC_HELP_MAX + 21, 1, 10);
	free(in);
}

/* The batch's own refusals, reached through the parser, name no input either. */
static void test_batch_refusals_through_the_parser_name_no_input(void **unused)
{
	(void)unused;
	struct batch_limits lim;
	batch_limits_default(&lim);
	lim.max_series = 1;
	lim.max_families = 2;
	struct batch *b = batch_new(&lim);
	char err[600];
	const char *series = "s3cr3t{k=\"s3cr3t\"} 1\ns3cr3t{k=\"7331\"} 1\n";
	assert_int_equal(promtext_parse(b, series, strlen(series), err, sizeof err), -ENOSPC);
	assert_string_equal(err,
			    "line 2: the series was refused: the limit of 1 series is reached");
	batch_free(b);
	lim.max_series = 10;
	b = batch_new(&lim);
	const char *families = "s3cr3t_a 1\ns3cr3t_b 1\ns3cr3t_c 1\n";
	assert_int_equal(promtext_parse(b, families, strlen(families), err, sizeof err), -ENOSPC);
	assert_string_equal(err,
			    "line 3: the family was refused: the limit of 2 families is reached");
	batch_free(b);
}

/* promtext_parse_lines says where each family of the batch starts. */
static void test_family_lines_are_reported_in_batch_order(void **unused)
{
	(void)unused;
	struct batch *b = new_batch();
	size_t lines[4] = { 0 };
	char err[600];
	const char *in = "# HELP e Empty.\n\n# HELP a A.\n# TYPE a gauge\na 1\n"
			 "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\nz 2\n";
	assert_int_equal(promtext_parse_lines(b, in, strlen(in), lines, 2, err, sizeof err), 0);
	assert_int_equal(lines[0], 3);
	assert_int_equal(lines[1], 6);
	assert_int_equal(lines[2], 0); /* beyond cap */
	batch_free(b);
}

/* The form the textfile collector and the CLI print: as a compiler does. */
static void test_errors_in_a_file_read_like_a_compilers(void **unused)
{
	(void)unused;
	char out[200];
	promtext_error_in(out, sizeof out, "a.prom", "line 3, column 7: what");
	assert_string_equal(out, "a.prom:3:7: what");
	promtext_error_in(out, sizeof out, "a.prom", "line 3: what");
	assert_string_equal(out, "a.prom:3: what");
	promtext_error_in(out, sizeof out, "a.prom", "out of memory");
	assert_string_equal(out, "a.prom: out of memory");
}

static void test_overlong_line_is_refused(void **unused)
{
	(void)unused;
	size_t n = PROMTEXT_LINE_MAX + 10;
	char *in = malloc(n + 1);
	assert_non_null(in);
	memset(in, 'a', n);
	in[n - 3] = ' ';
	in[n - 2] = '1';
	in[n - 1] = '\n';
	in[n] = '\0';
	expect_error(in, "line 1: the line is longer than 65536 bytes");
	free(in);
}

static void test_batch_limits_are_reported_with_the_line(void **unused)
{
	(void)unused;
	struct batch_limits lim;
	batch_limits_default(&lim);
	lim.max_series = 2;
	struct batch *b = batch_new(&lim);
	char err[600];
	const char *in = "x{a=\"1\"} 1\nx{a=\"2\"} 1\nx{a=\"3\"} 1\n";
	assert_int_equal(promtext_parse(b, in, strlen(in), err, sizeof err), -ENOSPC);
	assert_non_null(strstr(err, "line 3: "));
	assert_non_null(strstr(err, "limit of 2 series"));
	batch_free(b);
}

static void test_too_many_family_names_are_refused(void **unused)
{
	(void)unused;
	size_t cap = (PROMTEXT_FAMILIES_MAX + 1) * 24, n = 0;
	char *in = malloc(cap);
	assert_non_null(in);
	for (int i = 0; i <= PROMTEXT_FAMILIES_MAX; i++)
		n += (size_t)snprintf(in + n, cap - n, "# TYPE f%d gauge\n", i);
	struct batch *b = new_batch();
	char err[600];
	assert_int_equal(promtext_parse(b, in, n, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "more than 10000 metric families"));
	batch_free(b);
	free(in);
}

/* Every prefix of a valid document either parses or fails with a message. */
static void test_every_truncation_fails_cleanly_or_parses(void **unused)
{
	(void)unused;
	const char *doc =
	    "# HELP lat L.\n# TYPE lat histogram\n"
	    "lat_bucket{a=\"x\\\"y\",le=\"1\"} 1\nlat_bucket{a=\"x\\\"y\",le=\"+Inf\"} 1\n"
	    "lat_sum{a=\"x\\\"y\"} 1\nlat_count{a=\"x\\\"y\"} 1\nz{q=\"é\"} NaN\n"
	    "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 2\ns_count 3\n";
	size_t len = strlen(doc);
	for (size_t n = 0; n <= len; n++) {
		struct batch *b = new_batch();
		char err[600] = "";
		char *copy = malloc(n + 1); /* exact size, so ASan sees any overread */
		memcpy(copy, doc, n);
		int rc = promtext_parse(b, copy, n, err, sizeof err);
		assert_true(rc == 0 || (rc < 0 && strncmp(err, "line ", 5) == 0));
		free(copy);
		batch_free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_gauges_and_untyped_round_trip),
		cmocka_unit_test(test_blanks_comments_and_empty_lines_are_skipped),
		cmocka_unit_test(test_label_and_help_escapes_are_decoded),
		cmocka_unit_test(test_labels_are_sorted_by_name),
		cmocka_unit_test(test_special_values_parse_like_go),
		cmocka_unit_test(test_utf8_label_values_are_kept),
		cmocka_unit_test(test_histogram_with_buckets_sum_and_count),
		cmocka_unit_test(test_summary_with_quantiles_sum_and_count),
		cmocka_unit_test(test_family_without_samples_is_left_out),
		cmocka_unit_test(test_suffixed_names_without_a_histogram_type_are_plain_families),
		cmocka_unit_test(test_bad_input_is_refused_with_line_column_and_reason),
		cmocka_unit_test(test_families_exposing_one_name_are_refused_naming_both),
		cmocka_unit_test(test_names_that_do_not_meet_are_served_whole),
		cmocka_unit_test(test_errors_never_echo_the_input),
		cmocka_unit_test(test_batch_refusals_through_the_parser_name_no_input),
		cmocka_unit_test(test_family_lines_are_reported_in_batch_order),
		cmocka_unit_test(test_errors_in_a_file_read_like_a_compilers),
		cmocka_unit_test(test_overlong_line_is_refused),
		cmocka_unit_test(test_batch_limits_are_reported_with_the_line),
		cmocka_unit_test(test_too_many_family_names_are_refused),
		cmocka_unit_test(test_every_truncation_fails_cleanly_or_parses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
