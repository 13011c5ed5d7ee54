/*
 * test_promtext.c - the strict Prometheus text parser: what it accepts comes
 * back out of the exporter's renderer unchanged (but for sorted labels and
 * normalised numbers), and what it refuses names the line and the reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void expect_refused(const char *in, const char *want_err)
{
	char err[600];
	char *got = roundtrip(in, err, sizeof err);
	if (got != NULL)
		fail_msg("accepted, expected \"%s\":\n%s", want_err, got);
	if (strstr(err, want_err) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, want_err);
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
	{ "x 1 1700000000\n", "line 1: x has a timestamp; timestamps are not supported" },
	{ "x 1", "line 1: the last line does not end with a newline" },
	{ "x 1\r\n", "line 1: carriage return" },
	{ "x{a=\"\xff\"} 1\n", "line 1: not valid UTF-8" },
	{ "x 1\ny 1\nx 2\n", "line 3: x was already used at line 1" },
	{ "x{a=\"1\"} 1\nx{a=\"1\"} 2\n", "line 2: x has this series twice" },
	{ "x{a=\"1\",b=\"2\"} 1\nx{b=\"2\",a=\"1\"} 2\n", "line 2: x has this series twice" },
	{ "x{a=\"1\",a=\"2\"} 1\n", "line 1: label a appears twice" },
	{ "x{__a=\"1\"} 1\n", "starts with \"__\"" },
	{ "__x 1\n", "starts with \"__\"" },
	{ "1x 1\n", "line 1: expected a metric name at column 1" },
	{ "x{a=\"1\\t\"} 1\n", "line 1: invalid escape in a label value" },
	{ "x{a=\"1} 1\n", "no closing quote" },
	{ "x{a=1} 1\n", "must be in double quotes" },
	{ "x{a=\"1\" b=\"2\"} 1\n", "expected , or }" },
	{ "x{=\"1\"} 1\n", "expected a label name" },
	{ "x\n", "x has no value" },
	{ "x one\n", "line 1: the value of x at column 3 is not a number" },
	{ "x 0x10\n", "is not a number" },
	{ "x 1e999\n", "is not a number" },
	{ "x 1 2 3\n", "unexpected text after the value" },
	{ "x-y 1\n", "unexpected character after x at column 2" },
	{ "# HELP x a\\tb\nx 1\n", "line 1: invalid escape in HELP" },
	{ "# HELP x a\n# HELP x b\n", "line 2: second HELP line for x" },
	{ "# TYPE x gauge\n# TYPE x gauge\n", "line 2: second TYPE line for x" },
	{ "x 1\n# TYPE x gauge\n", "line 2: TYPE line for x after its samples" },
	{ "# TYPE x gauge extra\n", "TYPE line for x must be" },
	{ "# TYPE x counterr\n", "unknown type for x at column 10" },
	{ "# TYPE x\n", "TYPE line for x must be" },
	{ "# HELP\n", "HELP line without a metric name" },
	{ "# TYPE c counter\nc -1\n", "line 2: counter c has a negative value" },
	{ "# TYPE h histogram\nh 1\n", "samples must be named h_bucket" },
	{ "# TYPE h histogram\nh_bucket 1\n", "a _bucket line has no le label" },
	{ "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n",
	  "histogram h: an le label is not a number" },
	{ "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
	  "line 2: histogram h: a series has no bucket with le=\"+Inf\"" },
	{ "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
	  "line 2: histogram h: the +Inf bucket differs from h_count" },
	{ "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",
	  "a series has no h_sum line" },
	{ "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 2\n",
	  "a series has no h_count line" },
	{ "# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n",
	  "bucket counts must not decrease" },
	{ "# TYPE h histogram\nh_bucket{le=\"1\"} 0.5\n", "whole numbers" },
	{ "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"1.0\"} 1\n",
	  "line 3: histogram h: a series has two buckets with the same le" },
	{ "# TYPE h histogram\nh_sum{le=\"1\"} 1\n", "only _bucket lines have an le label" },
	{ "# TYPE h histogram\nh_sum 1\nh_sum 1\n", "a series has two _sum lines" },
	{ "# TYPE h histogram\n"
	  "h_bucket{a=\"1\",le=\"1\"} 0\nh_bucket{a=\"1\",le=\"+Inf\"} 0\nh_sum{a=\"1\"} 0\nh_count{a=\"1\"} 0\n"
	  "h_bucket{a=\"2\",le=\"2\"} 0\nh_bucket{a=\"2\",le=\"+Inf\"} 0\nh_sum{a=\"2\"} 0\nh_count{a=\"2\"} 0\n",
	  "line 6: histogram h: every series must have the same buckets" },
	{ "# TYPE h histogram\n"
	  "h_sum{a=\"1\"} 0\nh_sum{a=\"2\"} 0\nh_count{a=\"1\"} 0\n",
	  "line 2: histogram h: a series has no h_count line" },
	{ "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\nh_count 1\n",
	  "line 5: histogram h: a series has two _count lines" },
	{ "# TYPE s summary\ns{quantile=\"1.5\"} 1\ns_sum 1\ns_count 1\n",
	  "line 2: summary s: a quantile label is not a number from 0 to 1" },
	{ "# TYPE s summary\ns{quantile=\"-0.1\"} 1\n",
	  "line 2: summary s: a quantile label is not a number" },
	{ "# TYPE s summary\ns{quantile=\"NaN\"} 1\n",
	  "line 2: summary s: a quantile label is not a number" },
	{ "# TYPE s summary\ns{quantile=\"x\"} 1\n",
	  "line 2: summary s: a quantile label is not a number" },
	{ "# TYPE s summary\ns 1\n", "line 2: summary s: a line named s needs a quantile label" },
	{ "# TYPE s summary\n"
	  "s{a=\"1\",quantile=\"0.5\"} 1\ns_sum{a=\"1\"} 1\ns_count{a=\"1\"} 1\n"
	  "s{a=\"2\",quantile=\"0.9\"} 1\ns_sum{a=\"2\"} 1\ns_count{a=\"2\"} 1\n",
	  "line 5: summary s: every series must have the same quantiles" },
	{ "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\n",
	  "line 2: summary s: a series has no s_count line" },
	{ "# TYPE s summary\ns_count 1\n", "line 2: summary s: a series has no s_sum line" },
	{ "# TYPE s summary\ns_sum 1\ns_count -1\n",
	  "line 2: summary s: s_count is negative or NaN" },
	{ "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns{quantile=\"0.50\"} 2\n",
	  "line 3: summary s: a series has one quantile twice" },
	{ "# TYPE s summary\ns_sum{quantile=\"0.5\"} 1\n",
	  "line 2: summary s: only quantile lines have a quantile label" },
	{ "# TYPE s summary\ns_count 1\ns_count 1\n",
	  "line 3: summary s: a series has two _count" },
	{ "# TYPE s summary\n"
	  "s_sum{a=\"1\"} 0\ns_sum{a=\"2\"} 0\ns_count{a=\"1\"} 0\n",
	  "line 2: summary s: a series has no s_count line" },
	{ "# TYPE s summary\ns_sum 1\ns_count 1\ns_sum 1\ns_count 1\n",
	  "line 4: summary s: a series has two _sum lines" },
};

/* Families whose exposed names meet (metric_exposed_names): refused, naming both. */
static const struct refusal clashes[] = {
	/* the input fuzz_promtext found (tests/fuzz/crashes/promtext/), reduced */
	{ "x NaN\n# TYPE x_total counter\nx_total{a=\"b\"} 5e-3\n",
	  "line 3: counter x_total and untyped x (line 1) would both be exposed as x (a counter is "
	  "exposed with and without _total); rename one of them" },
	{ "# TYPE x_total counter\nx_total 1\nx 2\n",
	  "line 3: untyped x and counter x_total (line 2) would both be exposed as x (a counter" },
	{ "# TYPE c counter\nc 1\n# TYPE c_total gauge\nc_total 2\n",
	  "line 4: gauge c_total and counter c (line 2) would both be exposed as c_total" },
	{ "# TYPE a counter\na 1\n# TYPE a_total counter\na_total 1\n",
	  "line 4: counter a_total and counter a (line 2) would both be exposed as a_total" },
	{ "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"
	  "# TYPE h_bucket gauge\nh_bucket 1\n",
	  "line 6: gauge h_bucket and histogram h (line 2) would both be exposed as h_bucket (a "
	  "histogram is also exposed as NAME_bucket, NAME_sum, NAME_count); rename one of them" },
	{ "h_count 1\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
	  "line 3: histogram h and untyped h_count (line 1) would both be exposed as h_count" },
	{ "# TYPE s summary\ns_sum 1\ns_count 1\ny 1\ns_count 2\n",
	  "line 5: untyped s_count and summary s (line 2) would both be exposed as s_count (a "
	  "summary is also exposed as NAME_sum, NAME_count)" },
	{ "# TYPE s summary\ns_sum 1\ns_count 1\n# TYPE s_total counter\ns_total 1\n",
	  "line 5: counter s_total and summary s (line 2) would both be exposed as s" },
	{ "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"
	  "# TYPE h_count counter\nh_count 1\n",
	  "line 6: counter h_count and histogram h (line 2) would both be exposed as h_count" },
};

static void test_families_exposing_one_name_are_refused_naming_both(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < sizeof clashes / sizeof clashes[0]; i++) {
		print_message("case %zu: %s", i, clashes[i].input);
		expect_refused(clashes[i].input, clashes[i].error);
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

static void test_bad_input_is_refused_with_line_and_reason(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
		print_message("case %zu: %s", i, refusals[i].input);
		expect_refused(refusals[i].input, refusals[i].error);
	}
}

/* Errors name lines, columns and metric names, never the text of the input:
 * a file that fails to parse may hold a secret. */
static void test_errors_never_echo_the_input(void **unused)
{
	static const char *const inputs[] = {
		"db_password Sup3rS3cret\n",
		"x{a=\"1\"} Sup3rS3cret\n",
		"x 1 Sup3rS3cret\n",
		"x 1 -Sup3rS3cret\n",
		"# TYPE x Sup3rS3cret\n",
		"# HELP x Sup3rS3cret\\t\n",
		"# TYPE h histogram\nh_bucket{le=\"Sup3rS3cret\"} 1\n",
		"# TYPE s summary\ns{quantile=\"Sup3rS3cret\"} 1\n",
		"x{a=\"Sup3rS3cret\\q\"} 1\n",
		"x{a=\"Sup3rS3cret} 1\n",
		"x{a=Sup3rS3cret} 1\n",
		"{Sup3rS3cret} 1\n",
		"x-Sup3rS3cret 1\n",
		"x{a=\"Sup3rS3cret\"} 1\nx{a=\"Sup3rS3cret\"} 1\n",
		"# TYPE c counter\nc{a=\"Sup3rS3cret\"} -1\n",
	};
	(void)unused;
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		char err[600];
		char *got = roundtrip(inputs[i], err, sizeof err);
		print_message("case %zu: %s", i, err);
		assert_null(got);
		assert_true(strncmp(err, "line ", 5) == 0);
		assert_null(strstr(err, "Sup3rS3cret"));
	}
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
	expect_refused(in, "line 1: line longer than");
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
		cmocka_unit_test(test_bad_input_is_refused_with_line_and_reason),
		cmocka_unit_test(test_families_exposing_one_name_are_refused_naming_both),
		cmocka_unit_test(test_names_that_do_not_meet_are_served_whole),
		cmocka_unit_test(test_errors_never_echo_the_input),
		cmocka_unit_test(test_overlong_line_is_refused),
		cmocka_unit_test(test_batch_limits_are_reported_with_the_line),
		cmocka_unit_test(test_too_many_family_names_are_refused),
		cmocka_unit_test(test_every_truncation_fails_cleanly_or_parses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
