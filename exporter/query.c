/*
 * The query endpoints (query.h): parameters, selection from the history,
 * evaluation, then the JSON body.  The history's lock is held only while the
 * matching series are copied; evaluation and rendering run without it.
 */
#include "query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render_query.h"
#include "series_key.h"

#define ERR_MAX        512
#define STATUS_OK      200
#define STATUS_BAD     400
#define STATUS_EXEC    422
#define STATUS_UNAVAIL 503
#define ALL_TIME_FROM  (INT64_MIN / 4)
#define ALL_TIME_TO    (INT64_MAX / 4)

static unsigned fail(struct buf *out, unsigned status, const char *type, const char *msg)
{
	buf_reset(out);
	render_query_error(out, type, msg);
	return status;
}

static unsigned bad_param(struct buf *out, const char *param, const char *why)
{
	char msg[ERR_MAX + 64];

	snprintf(msg, sizeof msg, "invalid parameter \"%s\": %.*s", param, ERR_MAX, why);
	return fail(out, STATUS_BAD, "bad_data", msg);
}

static unsigned no_memory(struct buf *out)
{
	return fail(out, STATUS_UNAVAIL, "internal", "out of memory");
}

/* ---- matching callbacks ---- */

static bool match_one(void *ctx, const char *key, size_t key_len)
{
	return selector_matches(ctx, key, key_len);
}

struct selector_set {
	struct selector *sel[QUERY_MAX_MATCH];
	size_t n;
};

static bool match_any(void *ctx, const char *key, size_t key_len)
{
	const struct selector_set *set = ctx;

	if (set->n == 0)
		return true;
	for (size_t i = 0; i < set->n; i++)
		if (selector_matches(set->sel[i], key, key_len))
			return true;
	return false;
}

static void set_free(struct selector_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		selector_free(set->sel[i]);
	set->n = 0;
}

/* ---- one series per key, the earliest source winning (as in /metrics) ---- */

static int cmp_series(const void *a, const void *b)
{
	const struct history_series *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);

	if (c)
		return c;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return (x->src > y->src) - (x->src < y->src);
}

static void drop_series(struct history_series *s)
{
	free(s->key);
	free(s->t_ms);
	free(s->values);
	memset(s, 0, sizeof *s);
}

static void sort_and_dedup(struct history_selection *sel)
{
	size_t w = 0;

	if (sel->n > 1)
		qsort(sel->series, sel->n, sizeof *sel->series, cmp_series);
	for (size_t i = 0; i < sel->n; i++) {
		struct history_series *s = &sel->series[i];
		if (w > 0 && sel->series[w - 1].key_len == s->key_len &&
		    memcmp(sel->series[w - 1].key, s->key, s->key_len) == 0) {
			drop_series(s);
			continue;
		}
		sel->series[w++] = *s;
	}
	sel->n = w;
}

/* ---- evaluation ---- */

/* Keeps only present samples; returns how many there are. */
static size_t keep_present(struct history_series *s)
{
	size_t w = 0;

	for (size_t i = 0; i < s->n; i++)
		if (!history_is_absent(s->values[i])) {
			s->t_ms[w] = s->t_ms[i];
			s->values[w++] = s->values[i];
		}
	return s->n = w;
}

/* The newest sample at or before t within the lookback, as one sample at t. */
static size_t keep_instant(struct history_series *s, int64_t t)
{
	size_t last = s->n;

	for (size_t i = 0; i < s->n; i++)
		if (s->t_ms[i] <= t)
			last = i;
	if (last == s->n || history_is_absent(s->values[last]) ||
	    s->t_ms[last] <= t - QUERY_LOOKBACK_MS)
		return s->n = 0;
	s->values[0] = s->values[last];
	s->t_ms[0] = t;
	return s->n = 1;
}

struct steps {
	int64_t start, end, step;
	size_t n;
};

/* Replaces the samples of s by its value at every step. */
static int evaluate_steps(struct history_series *s, const struct steps *st)
{
	int64_t *t = malloc(st->n * sizeof *t);
	double *v = malloc(st->n * sizeof *v);
	size_t j = 0, w = 0;

	if (!t || !v) {
		free(t);
		free(v);
		return -ENOMEM;
	}
	for (size_t k = 0; k < st->n; k++) {
		int64_t at = st->start + (int64_t)k * st->step;
		while (j + 1 < s->n && s->t_ms[j + 1] <= at)
			j++;
		if (j < s->n && s->t_ms[j] <= at && s->t_ms[j] > at - QUERY_LOOKBACK_MS &&
		    !history_is_absent(s->values[j])) {
			t[w] = at;
			v[w++] = s->values[j];
		}
	}
	free(s->t_ms);
	free(s->values);
	s->t_ms = t;
	s->values = v;
	s->n = w;
	return 0;
}

/* ---- answering ---- */

static unsigned render_selection(struct history_selection *sel, enum query_result_type type,
				 struct buf *out)
{
	struct query_result_series *rs = calloc(sel->n ? sel->n : 1, sizeof *rs);
	size_t n = 0, samples = 0;

	if (!rs)
		return no_memory(out);
	for (size_t i = 0; i < sel->n; i++) {
		struct history_series *s = &sel->series[i];
		if (s->n == 0)
			continue;
		samples += s->n;
		rs[n++] = (struct query_result_series){ s->key, s->key_len, s->n, s->t_ms,
							s->values };
	}
	if (samples > QUERY_MAX_SAMPLES) {
		free(rs);
		return fail(out, STATUS_EXEC, "execution",
			    "query processing would load too many samples into memory");
	}
	render_query_result(out, type, rs, n);
	free(rs);
	return buf_failed(out) ? no_memory(out) : STATUS_OK;
}

static unsigned parse_query(const struct query_args *a, struct selector **sel, int64_t *range_ms,
			    struct buf *out)
{
	char err[ERR_MAX];

	*sel = NULL;
	if (!a->query || !*a->query)
		return bad_param(out, "query", "missing; expected a series selector");
	int rc = selector_parse(a->query, sel, range_ms, err, sizeof err);
	if (rc == -ENOMEM)
		return no_memory(out);
	return rc < 0 ? bad_param(out, "query", err) : STATUS_OK;
}

static unsigned time_param(const char *name, const char *v, int64_t dflt, int64_t *ms,
			   struct buf *out)
{
	*ms = dflt;
	if (v && *v && query_parse_time(v, ms) < 0)
		return bad_param(out, name,
				 "expected Unix seconds (1700000000.5) or RFC 3339 "
				 "(2023-11-14T22:13:20Z)");
	return STATUS_OK;
}

unsigned query_instant(struct history *h, const struct query_args *a, struct buf *out)
{
	struct history_selection hs;
	struct selector *sel;
	int64_t range, t;
	unsigned st = parse_query(a, &sel, &range, out);

	if (st == STATUS_OK)
		st = time_param("time", a->time, a->now_ms, &t, out);
	if (st != STATUS_OK) {
		selector_free(sel);
		return st;
	}
	int64_t from = range ? t - range + 1 : t - QUERY_LOOKBACK_MS + 1;
	int rc = history_select(h, from, t, match_one, sel, &hs);
	selector_free(sel);
	if (rc < 0)
		return no_memory(out);
	sort_and_dedup(&hs);
	for (size_t i = 0; i < hs.n; i++)
		range ? keep_present(&hs.series[i]) : keep_instant(&hs.series[i], t);
	st = render_selection(&hs, range ? QUERY_RESULT_MATRIX : QUERY_RESULT_VECTOR, out);
	history_selection_free(&hs);
	return st;
}

static unsigned range_params(const struct query_args *a, struct steps *st, struct buf *out)
{
	unsigned s;

	if (!a->start || !a->end || !a->step)
		return bad_param(out, !a->start ? "start" : !a->end ? "end" : "step", "missing");
	if ((s = time_param("start", a->start, 0, &st->start, out)) != STATUS_OK ||
	    (s = time_param("end", a->end, 0, &st->end, out)) != STATUS_OK)
		return s;
	if (query_parse_duration(a->step, &st->step) < 0 || st->step <= 0)
		return bad_param(out, "step",
				 "zero or negative query resolution step widths are not accepted. "
				 "Try a positive integer");
	if (st->end < st->start)
		return bad_param(out, "end", "end timestamp must not be before start time");
	if ((st->end - st->start) / st->step >= QUERY_MAX_POINTS)
		return fail(out, STATUS_BAD, "bad_data",
			    "exceeded maximum resolution of 11,000 points per timeseries. Try "
			    "decreasing the query resolution (?step=XX)");
	st->n = (size_t)((st->end - st->start) / st->step) + 1;
	return STATUS_OK;
}

unsigned query_range(struct history *h, const struct query_args *a, struct buf *out)
{
	struct history_selection hs;
	struct selector *sel;
	struct steps steps;
	int64_t range;
	unsigned st = parse_query(a, &sel, &range, out);

	if (st == STATUS_OK && range)
		st = bad_param(out, "query",
			       "invalid expression type \"range vector\" for range query, must be "
			       "Scalar or instant Vector");
	if (st == STATUS_OK)
		st = range_params(a, &steps, out);
	if (st != STATUS_OK) {
		selector_free(sel);
		return st;
	}
	int rc = history_select(h, steps.start - QUERY_LOOKBACK_MS + 1, steps.end, match_one, sel,
				&hs);
	selector_free(sel);
	if (rc < 0)
		return no_memory(out);
	sort_and_dedup(&hs);
	for (size_t i = 0; rc == 0 && i < hs.n; i++)
		rc = evaluate_steps(&hs.series[i], &steps);
	st = rc < 0 ? no_memory(out) : render_selection(&hs, QUERY_RESULT_MATRIX, out);
	history_selection_free(&hs);
	return st;
}

/* ---- metadata ---- */

static unsigned parse_matches(const struct query_args *a, bool required, struct selector_set *set,
			      struct buf *out)
{
	char err[ERR_MAX];
	int64_t range;

	set->n = 0;
	if (required && a->n_match == 0)
		return bad_param(out, "match[]", "no match[] parameter provided");
	for (size_t i = 0; i < a->n_match; i++) {
		int rc = selector_parse(a->match[i], &set->sel[set->n], &range, err, sizeof err);
		if (rc == 0 && range) {
			selector_free(set->sel[set->n]);
			rc = -EINVAL;
			snprintf(err, sizeof err, "a range is not allowed here");
		}
		if (rc < 0) {
			set_free(set);
			return rc == -ENOMEM ? no_memory(out) : bad_param(out, "match[]", err);
		}
		set->n++;
	}
	return STATUS_OK;
}

/* Selects the keys matching a's match[] within its start/end. */
static unsigned select_keys(struct history *h, const struct query_args *a, bool required,
			    struct history_selection *hs, struct buf *out)
{
	struct selector_set set;
	int64_t from, to;
	unsigned st = time_param("start", a->start, ALL_TIME_FROM, &from, out);

	if (st == STATUS_OK)
		st = time_param("end", a->end, ALL_TIME_TO, &to, out);
	if (st == STATUS_OK)
		st = parse_matches(a, required, &set, out);
	if (st != STATUS_OK)
		return st;
	int rc = history_select_keys(h, from, to, match_any, &set, hs);
	set_free(&set);
	if (rc < 0)
		return no_memory(out);
	sort_and_dedup(hs);
	return STATUS_OK;
}

unsigned query_series(struct history *h, const struct query_args *a, struct buf *out)
{
	struct history_selection hs;
	unsigned st = select_keys(h, a, true, &hs, out);

	if (st != STATUS_OK)
		return st;
	const char **keys = calloc(hs.n + 1, sizeof *keys);
	size_t *lens = calloc(hs.n + 1, sizeof *lens);
	if (keys && lens) {
		for (size_t i = 0; i < hs.n; i++) {
			keys[i] = hs.series[i].key;
			lens[i] = hs.series[i].key_len;
		}
		render_query_label_sets(out, keys, lens, hs.n);
	}
	st = keys && lens && !buf_failed(out) ? STATUS_OK : no_memory(out);
	free(keys);
	free(lens);
	history_selection_free(&hs);
	return st;
}

struct str {
	const char *s;
	size_t len;
};

struct strings {
	struct str *v;
	size_t n, cap;
};

static bool strings_add(struct strings *st, const char *s, size_t len)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;
		struct str *nv = realloc(st->v, cap * sizeof *nv);
		if (!nv)
			return false;
		st->v = nv;
		st->cap = cap;
	}
	st->v[st->n++] = (struct str){ s, len };
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	const struct str *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Sorts by bytes and removes repeats. */
static void strings_unique(struct strings *st)
{
	size_t w = 0;

	if (st->n > 1)
		qsort(st->v, st->n, sizeof *st->v, cmp_str);
	for (size_t i = 0; i < st->n; i++)
		if (w == 0 || cmp_str(&st->v[w - 1], &st->v[i]) != 0)
			st->v[w++] = st->v[i];
	st->n = w;
}

static unsigned answer_strings(struct strings *st, struct buf *out, bool ok)
{
	const char **s = ok ? calloc(st->n + 1, sizeof *s) : NULL;
	size_t *len = ok ? calloc(st->n + 1, sizeof *len) : NULL;
	unsigned status;

	if (s && len) {
		strings_unique(st);
		for (size_t i = 0; i < st->n; i++) {
			s[i] = st->v[i].s;
			len[i] = st->v[i].len;
		}
		render_query_strings(out, s, len, st->n);
	}
	status = s && len && !buf_failed(out) ? STATUS_OK : no_memory(out);
	free(s);
	free(len);
	free(st->v);
	return status;
}

unsigned query_labels(struct history *h, const struct query_args *a, struct buf *out)
{
	struct history_selection hs;
	struct strings st = { 0 };
	unsigned status = select_keys(h, a, false, &hs, out);
	bool ok = true;

	if (status != STATUS_OK)
		return status;
	if (hs.n)
		ok = strings_add(&st, "__name__", 8);
	for (size_t i = 0; ok && i < hs.n; i++) {
		const char *l, *v;
		size_t ll, vl, pos = 0;
		while (ok && series_key_next_label(hs.series[i].key, hs.series[i].key_len, &pos, &l,
						   &ll, &v, &vl))
			ok = strings_add(&st, l, ll);
		if (st.n > 65536)
			strings_unique(&st);
	}
	status = answer_strings(&st, out, ok);
	history_selection_free(&hs);
	return status;
}

static bool label_name_valid(const char *s)
{
	char err[128];

	return strcmp(s, "__name__") == 0 || label_name_check(s, strlen(s), err, sizeof err) == 0;
}

unsigned query_label_values(struct history *h, const char *label, const struct query_args *a,
			    struct buf *out)
{
	struct history_selection hs;
	struct strings st = { 0 };
	bool ok = true, name = strcmp(label, "__name__") == 0;

	if (!label_name_valid(label))
		return bad_param(out, "label", "not a valid label name");
	unsigned status = select_keys(h, a, false, &hs, out);
	if (status != STATUS_OK)
		return status;
	for (size_t i = 0; ok && i < hs.n; i++) {
		const char *v;
		size_t vl;
		if (name)
			series_key_name(hs.series[i].key, hs.series[i].key_len, &v, &vl);
		else if (!series_key_label(hs.series[i].key, hs.series[i].key_len, label,
					   strlen(label), &v, &vl))
			continue;
		ok = strings_add(&st, v, vl);
		if (st.n > 65536)
			strings_unique(&st);
	}
	status = answer_strings(&st, out, ok);
	history_selection_free(&hs);
	return status;
}
