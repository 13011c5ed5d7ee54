/*
 * Prometheus text exposition, one renderer for both dialects.  The places where
 * text 0.0.4 and OpenMetrics differ are the escaping of HELP, the type names, the
 * counter suffix, the spelling of "le" and "quantile" and the end of the body; each is a
 * function taking the dialect.
 *
 * Every line is "static text, then maybe a value".  An emitter either writes
 * both straight into the output (sources without a template) or records the
 * static text and the value's index into a template, which later renders are
 * replayed from: that keeps escaping and label formatting out of the per-scrape
 * work.  The same emitting code serves both, so the two paths cannot diverge.
 */
#include "render_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"

#define NO_VALUE UINT32_MAX

/* One line: the static text ending at `end` in the template's text, then the
 * value with index `value` (NO_VALUE: the text is a whole line or two). */
struct piece {
	uint32_t end;
	uint32_t value;
};

struct dialect_tmpl {
	bool valid;
	uint64_t key[8];
	struct buf text;
	struct piece *pieces;
	size_t n_pieces, cap_pieces;
	uint32_t *fam_first; /* n_families + 1 entries: each family's first piece */
	size_t body_estimate;
};

struct render_tmpl {
	struct dialect_tmpl d[RENDER_DIALECTS];
};

struct emitter {
	struct buf *text;
	struct dialect_tmpl *t; /* NULL: direct output into text */
	const struct metrics_view *v;
	enum render_dialect dialect;
};

/* ---- dialect switch points ---- */

static bool help_escapes_quotes(enum render_dialect d)
{
	return d == RENDER_OPENMETRICS;
}

/* OpenMetrics calls the untyped type "unknown". */
static const char *type_name(enum render_dialect d, uint32_t type)
{
	const char *name = metric_type_name(type);
	return d == RENDER_OPENMETRICS && strcmp(name, "untyped") == 0 ? "unknown" : name;
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

/* OpenMetrics wants one spelling per bound or quantile ("1.0", not "1"). */
static void format_le(enum render_dialect d, char *out, double v)
{
	if (d == RENDER_OPENMETRICS)
		numfmt_canonical(out, v);
	else
		numfmt_value(out, v);
}

/* ---- emitting ---- */

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
		buf_append(out, esc, 2);
		run = i + 1;
	}
	buf_append(out, s + run, len - run);
}

static void put_value(struct buf *out, double v)
{
	char *p = buf_space(out, NUMFMT_MAX + 1);

	if (!p)
		return;
	size_t n = numfmt_value(p, v);
	p[n] = '\n';
	buf_commit(out, n + 1);
}

static void push_piece(struct dialect_tmpl *t, uint32_t end, uint32_t value)
{
	if (t->n_pieces == t->cap_pieces) {
		size_t cap = t->cap_pieces ? t->cap_pieces * 2 : 64;
		struct piece *p = realloc(t->pieces, cap * sizeof *p);
		if (!p) {
			t->text.failed = true; /* the template's one failure flag */
			return;
		}
		t->pieces = p;
		t->cap_pieces = cap;
	}
	t->pieces[t->n_pieces++] = (struct piece){ end, value };
}

/* Ends a line: the value (formatted now, or recorded) and the newline.  With
 * NO_VALUE, only marks the end of static text for the template. */
static void emit_value(struct emitter *e, uint32_t idx)
{
	if (!e->t) {
		if (idx != NO_VALUE)
			put_value(e->text, view_value(e->v, idx));
		return;
	}
	if (e->text->len > UINT32_MAX) /* too big to index: fall back to direct */
		e->text->failed = true;
	else
		push_piece(e->t, (uint32_t)e->text->len, idx);
}

static void emit_header(struct emitter *e, const struct blob_family *fam)
{
	const struct metrics_view *v = e->v;
	const char *name = view_string(v, fam->name_off);
	size_t nlen = family_name_len(e->dialect, name, fam->name_len, fam->type);

	buf_append(e->text, "# HELP ", 7);
	buf_append(e->text, name, nlen);
	buf_putc(e->text, ' ');
	put_escaped(e->text, view_string(v, fam->help_off), fam->help_len,
		    help_escapes_quotes(e->dialect));
	buf_append(e->text, "\n# TYPE ", 8);
	buf_append(e->text, name, nlen);
	buf_putc(e->text, ' ');
	buf_puts(e->text, type_name(e->dialect, fam->type));
	buf_putc(e->text, '\n');
	emit_value(e, NO_VALUE);
}

/* {a="x",b="y"} with extra="..." (le or quantile) appended when extra_value is
 * not NULL; nothing at all when there are no labels. */
static void put_labels(struct buf *out, const struct metrics_view *v, const struct blob_series *s,
		       const char *extra, const char *extra_value)
{
	if (s->n_labels == 0 && !extra_value)
		return;
	buf_putc(out, '{');
	for (uint32_t i = 0; i < s->n_labels; i++) {
		struct blob_label l;
		view_label(v, s->first_label + i, &l);
		if (i)
			buf_putc(out, ',');
		buf_append(out, view_string(v, l.name_off), l.name_len);
		buf_append(out, "=\"", 2);
		put_escaped(out, view_string(v, l.value_off), l.value_len, true);
		buf_putc(out, '"');
	}
	if (extra_value) {
		if (s->n_labels)
			buf_putc(out, ',');
		buf_puts(out, extra);
		buf_append(out, "=\"", 2);
		buf_puts(out, extra_value);
		buf_putc(out, '"');
	}
	buf_putc(out, '}');
}

struct sample {
	const char *name;
	size_t name_len;
	const char *suffix;
	const char *extra; /* "le" or "quantile" */
	const char *extra_value;
	uint32_t value;
};

static void emit_sample(struct emitter *e, const struct blob_series *s, const struct sample *smp)
{
	buf_append(e->text, smp->name, smp->name_len);
	buf_puts(e->text, smp->suffix);
	put_labels(e->text, e->v, s, smp->extra, smp->extra_value);
	buf_putc(e->text, ' ');
	emit_value(e, smp->value);
}

static void emit_histogram(struct emitter *e, const struct blob_family *fam,
			   const struct blob_series *s)
{
	char le[NUMFMT_MAX];
	struct sample smp = {
		view_string(e->v, fam->name_off), fam->name_len, "_bucket", "le", le, 0
	};
	uint32_t nb = fam->n_bounds;

	for (uint32_t i = 0; i < nb; i++) {
		format_le(e->dialect, le, view_bound(e->v, fam->first_bound + i));
		smp.value = s->value_idx + i;
		emit_sample(e, s, &smp);
	}
	snprintf(le, sizeof le, "+Inf");
	smp.value = s->value_idx + nb;
	emit_sample(e, s, &smp);
	smp.extra_value = NULL;
	smp.suffix = "_sum";
	smp.value = s->value_idx + nb + 1;
	emit_sample(e, s, &smp);
	smp.suffix = "_count";
	smp.value = s->value_idx + nb;
	emit_sample(e, s, &smp);
}

static void emit_summary(struct emitter *e, const struct blob_family *fam,
			 const struct blob_series *s)
{
	char q[NUMFMT_MAX];
	struct sample smp = {
		view_string(e->v, fam->name_off), fam->name_len, "", "quantile", q, 0
	};
	uint32_t nq = fam->n_bounds;

	for (uint32_t i = 0; i < nq; i++) {
		format_le(e->dialect, q, view_bound(e->v, fam->first_bound + i));
		smp.value = s->value_idx + i;
		emit_sample(e, s, &smp);
	}
	smp.extra_value = NULL;
	smp.suffix = "_sum";
	smp.value = s->value_idx + nq;
	emit_sample(e, s, &smp);
	smp.suffix = "_count";
	smp.value = s->value_idx + nq + 1;
	emit_sample(e, s, &smp);
}

static void emit_family(struct emitter *e, const struct blob_family *fam)
{
	const char *name = view_string(e->v, fam->name_off);
	struct sample smp = { name,
			      family_name_len(e->dialect, name, fam->name_len, fam->type),
			      counter_suffix(e->dialect, fam->type),
			      NULL,
			      NULL,
			      0 };

	emit_header(e, fam);
	for (uint32_t i = 0; i < fam->n_series; i++) {
		struct blob_series s;
		view_series(e->v, fam->first_series + i, &s);
		if (fam->type == METRIC_HISTOGRAM) {
			emit_histogram(e, fam, &s);
			continue;
		}
		if (fam->type == METRIC_SUMMARY) {
			emit_summary(e, fam, &s);
			continue;
		}
		smp.value = s.value_idx;
		emit_sample(e, &s, &smp);
	}
}

/* ---- templates ---- */

struct render_tmpl *render_tmpl_new(void)
{
	return calloc(1, sizeof(struct render_tmpl));
}

static void dialect_tmpl_clear(struct dialect_tmpl *t)
{
	buf_free(&t->text);
	free(t->pieces);
	free(t->fam_first);
	memset(t, 0, sizeof *t);
}

void render_tmpl_free(struct render_tmpl *t)
{
	if (!t)
		return;
	for (int i = 0; i < RENDER_DIALECTS; i++)
		dialect_tmpl_clear(&t->d[i]);
	free(t);
}

/* Everything the template's text was derived from, as far as the view says. */
static void tmpl_key(const struct render_source *src, uint64_t key[8])
{
	const struct blob_header *h = &src->view->hdr;

	key[0] = src->meta_key;
	key[1] = h->meta_generation;
	key[2] = h->n_families;
	key[3] = h->n_series;
	key[4] = h->n_labels;
	key[5] = h->n_values;
	key[6] = h->n_bounds;
	key[7] = h->strings_len;
}

static int tmpl_build(struct dialect_tmpl *t, const struct render_source *src,
		      enum render_dialect d)
{
	const struct metrics_view *v = src->view;
	struct emitter e = { &t->text, t, v, d };

	dialect_tmpl_clear(t);
	t->fam_first = malloc(((size_t)v->hdr.n_families + 1) * sizeof *t->fam_first);
	if (!t->fam_first)
		return -ENOMEM;
	for (uint32_t i = 0; i < v->hdr.n_families && !t->text.failed; i++) {
		struct blob_family fam;
		view_family(v, i, &fam);
		t->fam_first[i] = (uint32_t)t->n_pieces;
		emit_family(&e, &fam);
	}
	t->fam_first[v->hdr.n_families] = (uint32_t)t->n_pieces;
	if (t->text.failed || t->n_pieces >= UINT32_MAX) {
		dialect_tmpl_clear(t);
		return -ENOMEM;
	}
	t->body_estimate = t->text.len + (size_t)v->hdr.n_values * 12;
	tmpl_key(src, t->key);
	t->valid = true;
	return 0;
}

/* The source's template for dialect d, built if stale; NULL: render directly. */
static struct dialect_tmpl *tmpl_for(const struct render_source *src, enum render_dialect d)
{
	uint64_t key[8];

	if (!src->tmpl)
		return NULL;
	struct dialect_tmpl *t = &src->tmpl->d[d];
	tmpl_key(src, key);
	if (t->valid && memcmp(key, t->key, sizeof key) == 0)
		return t;
	return tmpl_build(t, src, d) == 0 ? t : NULL;
}

static void replay_family(struct buf *out, const struct dialect_tmpl *t,
			  const struct metrics_view *v, uint32_t fam)
{
	const char *text = t->text.data;

	for (uint32_t p = t->fam_first[fam]; p < t->fam_first[fam + 1]; p++) {
		uint32_t start = p ? t->pieces[p - 1].end : 0;
		buf_append(out, text + start, t->pieces[p].end - start);
		if (t->pieces[p].value != NO_VALUE)
			put_value(out, view_value(v, t->pieces[p].value));
	}
}

/* ---- rendering ---- */

struct text_ctx {
	struct buf *out;
	enum render_dialect dialect;
	const struct render_source *tmpl_src; /* the source tmpl belongs to */
	struct dialect_tmpl *tmpl;
};

static int put_family(void *ctx, const struct render_source *src, uint32_t index,
		      const struct blob_family *fam)
{
	struct text_ctx *c = ctx;

	if (c->tmpl_src != src) {
		c->tmpl_src = src;
		c->tmpl = tmpl_for(src, c->dialect);
		if (c->tmpl)
			buf_presize(c->out, c->out->len + c->tmpl->body_estimate);
	}
	if (c->tmpl) {
		replay_family(c->out, c->tmpl, src->view, index);
	} else {
		struct emitter e = { c->out, NULL, src->view, c->dialect };
		emit_family(&e, fam);
	}
	return buf_failed(c->out) ? -ENOMEM : 0;
}

static int text_part(struct buf *out, enum render_dialect d, const struct render_source *src,
		     size_t n, struct render_result *res, bool end)
{
	struct text_ctx c = { out, d, NULL, NULL };

	if (res)
		memset(res, 0, sizeof *res);
	int rc = render_each_family(src, n, res, put_family, &c);
	if (rc == 0 && end && d == RENDER_OPENMETRICS)
		buf_puts(out, "# EOF\n");
	return rc ? rc : buf_failed(out) ? -ENOMEM : 0;
}

int render_text(struct buf *out, enum render_dialect d, const struct render_source *src, size_t n,
		struct render_result *res)
{
	return text_part(out, d, src, n, res, true);
}

int render_text_head(struct buf *out, enum render_dialect d, const struct render_source *src,
		     size_t n, struct render_result *res)
{
	return text_part(out, d, src, n, res, false);
}
