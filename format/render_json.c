/*
 * /metrics.json: the same families as the text format plus each collector's
 * health, as one JSON document (schema in docs/exporter.md), written straight
 * into the caller's buffer: no tree is built, and no JSON library is linked.
 * The preamble and each family are written one after the other, so that a
 * body can also be rendered in two parts (render_json_head, render_json_tail).
 *
 * Numbers: sample values that are integers up to 2^53 are written as integers,
 * other finite values in the shortest form that reads back as the same double
 * (numfmt.h), NaN and the infinities as the strings "NaN", "+Inf", "-Inf"
 * (JSON has no spelling for them).  The health timestamps and durations are
 * always written as reals ("12.0").  Strings are escaped as RFC 8259 asks;
 * text that is not UTF-8 (views were checked, but the status strings come from
 * elsewhere) has its non-ASCII bytes written as '?'.
 */
#include "render_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "numfmt.h"

/* ---- values ---- */

static void put_string(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	bool utf8 = utf8_valid(s, n);
	size_t run = 0; /* bytes copied as they are, flushed in one append */

	buf_putc(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && (c < 0x80 || utf8)) {
			run++;
			continue;
		}
		buf_append(out, s + i - run, run);
		run = 0;
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			buf_append(out, esc, 2);
		} else if (c == '\n') {
			buf_puts(out, "\\n");
		} else if (c == '\t') {
			buf_puts(out, "\\t");
		} else if (c == '\r') {
			buf_puts(out, "\\r");
		} else if (c < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			buf_append(out, esc, 6);
		} else {
			buf_putc(out, '?'); /* a byte of text that is not UTF-8 */
		}
	}
	buf_append(out, s + n - run, run);
	buf_putc(out, '"');
}

static void put_cstring(struct buf *out, const char *s)
{
	put_string(out, s, strlen(s));
}

/* A sample value or a bound: integers as integers, NaN and ±Inf as strings. */
static void put_value(struct buf *out, double v)
{
	char num[NUMFMT_MAX];

	if (isnan(v)) {
		buf_puts(out, "\"NaN\"");
	} else if (isinf(v)) {
		buf_puts(out, v > 0 ? "\"+Inf\"" : "\"-Inf\"");
	} else if (v >= -9007199254740992.0 && v <= 9007199254740992.0 && v == (double)(int64_t)v) {
		buf_printf(out, "%" PRId64, (int64_t)v);
	} else {
		buf_append(out, num, numfmt_value(num, v));
	}
}

/* A real that reads as one: "12.0", never "12". */
static void put_real(struct buf *out, double v)
{
	char num[NUMFMT_MAX];

	if (!isfinite(v))
		put_value(out, v);
	else
		buf_append(out, num, numfmt_canonical(num, v));
}

/* ---- families ---- */

struct json_ctx {
	struct buf *out;
	uint64_t families; /* written so far into the "families" array */
};

static void put_labels(struct buf *out, const struct metrics_view *v, const struct blob_series *s)
{
	buf_puts(out, "\"labels\":{");
	for (uint32_t i = 0; i < s->n_labels; i++) {
		struct blob_label l;
		view_label(v, s->first_label + i, &l);
		if (i)
			buf_putc(out, ',');
		put_string(out, view_string(v, l.name_off), l.name_len);
		buf_putc(out, ':');
		put_string(out, view_string(v, l.value_off), l.value_len);
	}
	buf_putc(out, '}');
}

static void put_sum_count(struct buf *out, double sum, double count)
{
	buf_puts(out, ",\"sum\":");
	put_value(out, sum);
	buf_puts(out, ",\"count\":");
	put_value(out, count);
}

static void put_buckets(struct buf *out, const struct metrics_view *v,
			const struct blob_family *fam, const struct blob_series *s)
{
	uint32_t nb = fam->n_bounds;

	buf_puts(out, ",\"buckets\":[");
	for (uint32_t i = 0; i <= nb; i++) {
		buf_puts(out, i ? ",{\"le\":" : "{\"le\":");
		put_value(out, i < nb ? view_bound(v, fam->first_bound + i) : INFINITY);
		buf_puts(out, ",\"count\":");
		put_value(out, view_value(v, s->value_idx + i));
		buf_putc(out, '}');
	}
	buf_putc(out, ']');
	put_sum_count(out, view_value(v, s->value_idx + nb + 1), view_value(v, s->value_idx + nb));
}

static void put_quantiles(struct buf *out, const struct metrics_view *v,
			  const struct blob_family *fam, const struct blob_series *s)
{
	uint32_t nq = fam->n_bounds;

	buf_puts(out, ",\"quantiles\":[");
	for (uint32_t i = 0; i < nq; i++) {
		buf_puts(out, i ? ",{\"quantile\":" : "{\"quantile\":");
		put_value(out, view_bound(v, fam->first_bound + i));
		buf_puts(out, ",\"value\":");
		put_value(out, view_value(v, s->value_idx + i));
		buf_putc(out, '}');
	}
	buf_putc(out, ']');
	put_sum_count(out, view_value(v, s->value_idx + nq), view_value(v, s->value_idx + nq + 1));
}

static void put_series(struct buf *out, const struct metrics_view *v, const struct blob_family *fam,
		       uint32_t idx)
{
	struct blob_series s;

	view_series(v, idx, &s);
	buf_putc(out, '{');
	put_labels(out, v, &s);
	if (fam->type == METRIC_HISTOGRAM) {
		put_buckets(out, v, fam, &s);
	} else if (fam->type == METRIC_SUMMARY) {
		put_quantiles(out, v, fam, &s);
	} else {
		buf_puts(out, ",\"value\":");
		put_value(out, view_value(v, s.value_idx));
	}
	buf_putc(out, '}');
}

static int add_family(void *ctx, const struct render_source *src, uint32_t index,
		      const struct blob_family *fam)
{
	struct json_ctx *c = ctx;
	const struct metrics_view *v = src->view;
	struct buf *out = c->out;

	(void)index;
	buf_puts(out, c->families++ ? ",{\"name\":" : "{\"name\":");
	put_string(out, view_string(v, fam->name_off), fam->name_len);
	buf_puts(out, ",\"type\":");
	put_cstring(out, metric_type_name(fam->type));
	buf_puts(out, ",\"help\":");
	put_string(out, view_string(v, fam->help_off), fam->help_len);
	buf_puts(out, ",\"collector\":");
	put_cstring(out, src->collector);
	buf_puts(out, ",\"series\":[");
	for (uint32_t i = 0; i < fam->n_series; i++) {
		if (i)
			buf_putc(out, ',');
		put_series(out, v, fam, fam->first_series + i);
	}
	buf_puts(out, "]}");
	return buf_failed(out) ? -ENOMEM : 0;
}

/* ---- the document ---- */

static void put_collector(struct buf *out, const struct render_collector_status *st)
{
	buf_puts(out, "{\"name\":");
	put_cstring(out, st->name);
	buf_printf(out, ",\"up\":%s,\"success\":%s,\"last_publish_timestamp_seconds\":",
		   st->up ? "true" : "false", st->success ? "true" : "false");
	if (st->have_batch)
		put_real(out, st->last_publish_seconds);
	else
		buf_puts(out, "null");
	buf_puts(out, ",\"duration_seconds\":");
	if (st->have_batch)
		put_real(out, st->duration_seconds);
	else
		buf_puts(out, "null");
	buf_puts(out, ",\"error\":");
	if (st->error)
		put_cstring(out, st->error);
	else
		buf_puts(out, "null");
	buf_printf(out, ",\"series\":%" PRIu64 "}", st->series);
}

int render_json_head(struct buf *out, const struct render_collector_status *col, size_t ncol,
		     const struct render_source *src, size_t n, struct render_result *res)
{
	struct json_ctx c = { out, 0 };

	if (res)
		memset(res, 0, sizeof *res);
	buf_printf(out, "{\"schema_version\":%d,\"collectors\":[", RENDER_JSON_SCHEMA_VERSION);
	for (size_t i = 0; i < ncol; i++) {
		if (i)
			buf_putc(out, ',');
		put_collector(out, &col[i]);
	}
	buf_puts(out, "],\"families\":[");
	int rc = buf_failed(out) ? -ENOMEM : render_each_family(src, n, res, add_family, &c);
	if (res)
		res->families = c.families;
	return rc ? rc : buf_failed(out) ? -ENOMEM : 0;
}

int render_json_tail(struct buf *out, const struct render_source *src, size_t n,
		     bool head_had_families, struct render_result *res)
{
	struct json_ctx c = { out, head_had_families };

	if (res)
		memset(res, 0, sizeof *res);
	int rc = render_each_family(src, n, res, add_family, &c);
	if (res)
		res->families = c.families - head_had_families;
	buf_puts(out, "]}\n");
	return rc ? rc : buf_failed(out) ? -ENOMEM : 0;
}

int render_json(struct buf *out, const struct render_collector_status *col, size_t ncol,
		const struct render_source *src, size_t n, struct render_result *res)
{
	struct render_result head;
	int rc = render_json_head(out, col, ncol, src, n, &head);

	if (res)
		*res = head;
	return rc ? rc : render_json_tail(out, NULL, 0, head.families > 0, NULL);
}
