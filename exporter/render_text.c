/*
 * Prometheus text exposition, one renderer for both dialects.  The places where
 * text 0.0.4 and OpenMetrics differ are the escaping of HELP, the type names, the
 * counter suffix and the end of the body; each is a function taking the dialect.
 */
#include "render_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct text_ctx {
	struct buf *out;
	enum render_dialect dialect;
};

/* Appends s[0..len) escaping backslash and newline, and the double quote too
 * when quotes is set.  Unescaped runs are copied in one piece. */
static void put_escaped(struct buf *out, const char *s, size_t len, bool quotes)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		const char *esc = NULL;
		if (s[i] == '\\')
			esc = "\\\\";
		else if (s[i] == '\n')
			esc = "\\n";
		else if (s[i] == '"' && quotes)
			esc = "\\\"";
		if (!esc)
			continue;
		buf_append(out, s + run, i - run);
		buf_puts(out, esc);
		run = i + 1;
	}
	buf_append(out, s + run, len - run);
}

static bool help_escapes_quotes(enum render_dialect d)
{
	return d == RENDER_OPENMETRICS;
}

static const char *type_name(enum render_dialect d, uint32_t type)
{
	switch (type) {
	case METRIC_COUNTER:
		return "counter";
	case METRIC_GAUGE:
		return "gauge";
	case METRIC_HISTOGRAM:
		return "histogram";
	default:
		return d == RENDER_OPENMETRICS ? "unknown" : "untyped";
	}
}

/* OpenMetrics names a counter family without "_total" and puts the suffix on
 * its samples; text 0.0.4 uses the name as registered for both. */
static size_t family_name_len(enum render_dialect d, const char *name, size_t len, uint32_t type)
{
	static const char total[] = "_total";
	const size_t tlen = sizeof total - 1;

	if (d == RENDER_OPENMETRICS && type == METRIC_COUNTER && len > tlen &&
	    memcmp(name + len - tlen, total, tlen) == 0)
		return len - tlen;
	return len;
}

static const char *counter_suffix(enum render_dialect d, uint32_t type)
{
	return d == RENDER_OPENMETRICS && type == METRIC_COUNTER ? "_total" : "";
}

static void put_header(struct text_ctx *c, const struct metrics_view *v,
		       const struct blob_family *fam)
{
	const char *name = view_string(v, fam->name_off);
	size_t nlen = family_name_len(c->dialect, name, fam->name_len, fam->type);

	buf_puts(c->out, "# HELP ");
	buf_append(c->out, name, nlen);
	buf_putc(c->out, ' ');
	put_escaped(c->out, view_string(v, fam->help_off), fam->help_len,
		    help_escapes_quotes(c->dialect));
	buf_puts(c->out, "\n# TYPE ");
	buf_append(c->out, name, nlen);
	buf_printf(c->out, " %s\n", type_name(c->dialect, fam->type));
}

/* {a="x",b="y"} with le="..." appended when le is not NULL; nothing at all
 * when there are no labels. */
static void put_labels(struct buf *out, const struct metrics_view *v,
		       const struct blob_series *s, const char *le)
{
	if (s->n_labels == 0 && !le)
		return;
	buf_putc(out, '{');
	for (uint32_t i = 0; i < s->n_labels; i++) {
		struct blob_label l;
		view_label(v, s->first_label + i, &l);
		if (i)
			buf_putc(out, ',');
		buf_append(out, view_string(v, l.name_off), l.name_len);
		buf_puts(out, "=\"");
		put_escaped(out, view_string(v, l.value_off), l.value_len, true);
		buf_putc(out, '"');
	}
	if (le)
		buf_printf(out, "%sle=\"%s\"", s->n_labels ? "," : "", le);
	buf_putc(out, '}');
}

struct sample {
	const char *name;
	size_t name_len;
	const char *suffix;
	const char *le;
	double value;
};

static void put_sample(struct text_ctx *c, const struct metrics_view *v,
		       const struct blob_series *s, const struct sample *smp)
{
	char num[RENDER_VALUE_MAX];

	buf_append(c->out, smp->name, smp->name_len);
	buf_puts(c->out, smp->suffix);
	put_labels(c->out, v, s, smp->le);
	render_format_value(num, smp->value);
	buf_putc(c->out, ' ');
	buf_puts(c->out, num);
	buf_putc(c->out, '\n');
}

static void put_histogram(struct text_ctx *c, const struct metrics_view *v,
			  const struct blob_family *fam, const struct blob_series *s)
{
	char le[RENDER_VALUE_MAX];
	struct sample smp = { view_string(v, fam->name_off), fam->name_len, "_bucket", le, 0 };
	uint32_t nb = fam->n_bounds;

	for (uint32_t i = 0; i < nb; i++) {
		render_format_value(le, view_bound(v, fam->first_bound + i));
		smp.value = view_value(v, s->value_idx + i);
		put_sample(c, v, s, &smp);
	}
	snprintf(le, sizeof le, "+Inf");
	smp.value = view_value(v, s->value_idx + nb);
	put_sample(c, v, s, &smp);
	smp.le = NULL;
	smp.suffix = "_sum";
	smp.value = view_value(v, s->value_idx + nb + 1);
	put_sample(c, v, s, &smp);
	smp.suffix = "_count";
	smp.value = view_value(v, s->value_idx + nb);
	put_sample(c, v, s, &smp);
}

static int put_family(void *ctx, const struct render_source *src, const struct blob_family *fam)
{
	struct text_ctx *c = ctx;
	const struct metrics_view *v = src->view;
	const char *name = view_string(v, fam->name_off);
	struct sample smp = {
		name, family_name_len(c->dialect, name, fam->name_len, fam->type),
		counter_suffix(c->dialect, fam->type), NULL, 0
	};

	put_header(c, v, fam);
	for (uint32_t i = 0; i < fam->n_series; i++) {
		struct blob_series s;
		view_series(v, fam->first_series + i, &s);
		if (fam->type == METRIC_HISTOGRAM) {
			put_histogram(c, v, fam, &s);
			continue;
		}
		smp.value = view_value(v, s.value_idx);
		put_sample(c, v, &s, &smp);
	}
	return buf_failed(c->out) ? -ENOMEM : 0;
}

int render_text(struct buf *out, enum render_dialect d, const struct render_source *src,
		size_t n, struct render_result *res)
{
	struct text_ctx c = { out, d };

	if (res)
		memset(res, 0, sizeof *res);
	int rc = render_each_family(src, n, res, put_family, &c);
	if (rc == 0 && d == RENDER_OPENMETRICS)
		buf_puts(out, "# EOF\n");
	return rc ? rc : buf_failed(out) ? -ENOMEM : 0;
}
