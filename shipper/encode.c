/*
 * Templates of TimeSeries messages and packing them (encode.h).
 *
 * Memory: a template's strings, Label messages and label pointer arrays live in
 * an arena of blocks that never move, so the messages can point into it; the
 * per-sample arrays grow while the template is built and are linked to each
 * other only once it is complete.  Label messages are shared where they can be:
 * one __name__ label per family and suffix, one le or quantile label per bound,
 * one label per series pair for all the samples of a histogram series.
 */
#include "encode.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"
#include "remote.pb-c.h"

#define ARENA_BLOCK  (64 * 1024)
#define MAX_LABELS   (METRIC_LABELS_MAX + 2) /* + __name__, + le/quantile */
#define EXT_MAX      64
#define SUFFIXES_MAX (HISTOGRAM_BUCKETS_MAX + 3)

/* ---- arena ---- */

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct arena_block *head;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;

	n = (n + 15) & ~(size_t)15;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += n;
	return p;
}

static char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

static void arena_free(struct arena *a)
{
	while (a->head) {
		struct arena_block *b = a->head;
		a->head = b->next;
		free(b);
	}
}

/* ---- the template ---- */

struct hash_idx {
	uint64_t hash;
	uint32_t idx;
};

struct tmpl {
	bool valid;
	uint64_t key;
	uint32_t counts[4]; /* families, series, labels, values of the view */
	size_t n, cap;
	Prometheus__TimeSeries *ts;
	Prometheus__TimeSeries **ts_ptrs;
	Prometheus__Sample *samples;
	Prometheus__Sample **sample_ptrs;
	uint32_t *value_idx;
	struct hash_idx *by_hash; /* sorted by hash */
	uint64_t *families;       /* sorted name hashes */
	size_t n_families, families_cap;
	struct arena arena;
};

struct encoder {
	const struct encode_rules *rules;
	struct tmpl cur;
	/* the external labels as shared Label messages, and a scratch pointer array */
	Prometheus__Label ext[EXT_MAX];
	size_t n_ext;
	Prometheus__TimeSeries **scratch;
	size_t scratch_cap;
	unsigned char *out;
	size_t out_cap;
};

static void tmpl_free(struct tmpl *t)
{
	free(t->ts);
	free(t->ts_ptrs);
	free(t->samples);
	free(t->sample_ptrs);
	free(t->value_idx);
	free(t->by_hash);
	free(t->families);
	arena_free(&t->arena);
	memset(t, 0, sizeof *t);
}

static int tmpl_grow(struct tmpl *t)
{
	size_t cap = t->cap ? 2 * t->cap : 256;
	Prometheus__TimeSeries *ts = realloc(t->ts, cap * sizeof *ts);
	if (ts)
		t->ts = ts;
	uint32_t *vi = ts ? realloc(t->value_idx, cap * sizeof *vi) : NULL;
	if (vi)
		t->value_idx = vi;
	struct hash_idx *h = vi ? realloc(t->by_hash, cap * sizeof *h) : NULL;
	if (!h)
		return -ENOMEM;
	t->by_hash = h;
	t->cap = cap;
	return 0;
}

static int family_hash_add(struct tmpl *t, uint64_t h)
{
	if (t->n_families == t->families_cap) {
		size_t cap = t->families_cap ? 2 * t->families_cap : 64;
		uint64_t *f = realloc(t->families, cap * sizeof *f);
		if (!f)
			return -ENOMEM;
		t->families = f;
		t->families_cap = cap;
	}
	t->families[t->n_families++] = h;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_hash_idx(const void *a, const void *b)
{
	const struct hash_idx *x = a, *y = b;
	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* Links the per-sample arrays once they stop moving. */
static int tmpl_finish(struct tmpl *t)
{
	size_t n = t->n ? t->n : 1;

	if (t->n && t->n < t->cap) { /* give back what doubling left over */
		Prometheus__TimeSeries *ts = realloc(t->ts, n * sizeof *ts);
		if (ts)
			t->ts = ts;
	}
	t->ts_ptrs = malloc(n * sizeof *t->ts_ptrs);
	t->samples = malloc(n * sizeof *t->samples);
	t->sample_ptrs = malloc(n * sizeof *t->sample_ptrs);
	if (!t->ts_ptrs || !t->samples || !t->sample_ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		prometheus__sample__init(&t->samples[i]);
		t->sample_ptrs[i] = &t->samples[i];
		t->ts[i].n_samples = 1;
		t->ts[i].samples = &t->sample_ptrs[i];
		t->ts_ptrs[i] = &t->ts[i];
	}
	qsort(t->by_hash, t->n, sizeof *t->by_hash, cmp_hash_idx);
	qsort(t->families, t->n_families, sizeof *t->families, cmp_u64);
	t->valid = true;
	return 0;
}

/* ---- hashing and relabelling ---- */

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

static uint64_t fnv(uint64_t h, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= FNV_PRIME;
	}
	return h;
}

uint64_t encode_name_hash(const char *name, size_t len)
{
	return fnv(FNV_OFFSET, name, len);
}

static uint64_t labels_hash(Prometheus__Label *const *l, size_t n)
{
	uint64_t h = FNV_OFFSET;

	for (size_t i = 0; i < n; i++) {
		h = fnv(h, l[i]->name, strlen(l[i]->name) + 1); /* the NUL separates */
		h = fnv(h, l[i]->value, strlen(l[i]->value) + 1);
	}
	return h;
}

bool encode_relabel_pass(const struct relabel_rule *rules, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		bool match = regexec(&rules[i].re, name, 0, NULL, 0) == 0;
		if (match != rules[i].keep)
			return false;
	}
	return true;
}

/* ---- building ---- */

/* One sample a series of a family yields: a name suffix, an optional le or
 * quantile label, and which of the series' values it carries. */
struct expansion {
	Prometheus__Label *name;  /* __name__, NULL when relabelling drops it */
	Prometheus__Label *extra; /* le / quantile, or NULL */
	uint32_t value_off;
};

struct family_plan {
	size_t n;
	struct expansion x[SUFFIXES_MAX];
};

struct builder {
	struct encoder *e;
	struct tmpl *t;
	const struct metrics_view *v;
};

static Prometheus__Label *label_new(struct arena *a, const char *name, const char *value,
				    size_t value_len)
{
	Prometheus__Label *l = arena_alloc(a, sizeof *l);
	char *val = l ? arena_strndup(a, value, value_len) : NULL;

	if (!val)
		return NULL;
	prometheus__label__init(l);
	l->name = (char *)name;
	l->value = val;
	return l;
}

/* The __name__ label for base+suffix, or NULL (with *dropped) when the rules
 * leave that name out. */
static Prometheus__Label *name_label(struct builder *b, const char *base, size_t len,
				     const char *suffix, bool *dropped)
{
	char full[METRIC_NAME_MAX + 16];
	int n = snprintf(full, sizeof full, "%.*s%s", (int)len, base, suffix);

	*dropped = !encode_relabel_pass(b->e->rules->relabel, b->e->rules->n_relabel, full);
	if (*dropped)
		return NULL;
	return label_new(&b->t->arena, "__name__", full, (size_t)n);
}

static int plan_add(struct builder *b, struct family_plan *p, const char *base, size_t len,
		    const char *suffix, const char *extra_name, double extra, uint32_t off)
{
	struct expansion *x = &p->x[p->n++];
	char num[NUMFMT_MAX];
	bool dropped;

	x->value_off = off;
	x->extra = NULL;
	x->name = name_label(b, base, len, suffix, &dropped);
	if (!x->name)
		return dropped ? 0 : -ENOMEM;
	if (extra_name) {
		size_t nlen = numfmt_value(num, extra);
		x->extra = label_new(&b->t->arena, extra_name, num, nlen);
		if (!x->extra)
			return -ENOMEM;
	}
	return 0;
}

/* What each series of family f turns into (remote.proto's header comment). */
static int plan_family(struct builder *b, const struct blob_family *f, struct family_plan *p)
{
	const char *base = view_string(b->v, f->name_off);
	size_t len = f->name_len;
	uint32_t nb = f->n_bounds;
	int rc = 0;

	p->n = 0;
	if (f->type == METRIC_HISTOGRAM) {
		for (uint32_t i = 0; rc == 0 && i < nb; i++)
			rc = plan_add(b, p, base, len, "_bucket", "le",
				      view_bound(b->v, f->first_bound + i), i);
		if (rc == 0)
			rc = plan_add(b, p, base, len, "_bucket", "le", INFINITY, nb);
		if (rc == 0)
			rc = plan_add(b, p, base, len, "_sum", NULL, 0, nb + 1);
		if (rc == 0)
			rc = plan_add(b, p, base, len, "_count", NULL, 0, nb);
	} else if (f->type == METRIC_SUMMARY) {
		for (uint32_t i = 0; rc == 0 && i < nb; i++)
			rc = plan_add(b, p, base, len, "", "quantile",
				      view_bound(b->v, f->first_bound + i), i);
		if (rc == 0)
			rc = plan_add(b, p, base, len, "_sum", NULL, 0, nb);
		if (rc == 0)
			rc = plan_add(b, p, base, len, "_count", NULL, 0, nb + 1);
	} else {
		rc = plan_add(b, p, base, len, "", NULL, 0, 0);
	}
	return rc;
}

static int label_cmp(const void *a, const void *b)
{
	const Prometheus__Label *x = *(Prometheus__Label *const *)a;
	const Prometheus__Label *y = *(Prometheus__Label *const *)b;
	return strcmp(x->name, y->name);
}

static bool has_label(Prometheus__Label *const *l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i]->name, name) == 0)
			return true;
	return false;
}

/* One TimeSeries: the name, the series' own labels, the extra one, then the
 * external labels the series does not have; sorted. */
static int add_sample(struct builder *b, const struct expansion *x, Prometheus__Label *const *own,
		      size_t n_own, uint32_t value_idx)
{
	struct tmpl *t = b->t;
	size_t n = 0, max = n_own + 2 + b->e->n_ext;
	Prometheus__Label **l = arena_alloc(&t->arena, max * sizeof *l);

	if (!l || (t->n == t->cap && tmpl_grow(t) < 0))
		return -ENOMEM;
	l[n++] = x->name;
	memcpy(l + n, own, n_own * sizeof *own);
	n += n_own;
	if (x->extra)
		l[n++] = x->extra;
	for (size_t i = 0; i < b->e->n_ext; i++)
		if (!has_label(l, n_own + 1 + (x->extra != NULL), b->e->ext[i].name))
			l[n++] = &b->e->ext[i];
	qsort(l, n, sizeof *l, label_cmp);
	Prometheus__TimeSeries *ts = &t->ts[t->n];
	prometheus__time_series__init(ts);
	ts->n_labels = n;
	ts->labels = l;
	t->value_idx[t->n] = value_idx;
	t->by_hash[t->n] = (struct hash_idx){ labels_hash(l, n), (uint32_t)t->n };
	t->n++;
	return 0;
}

static int build_series(struct builder *b, uint32_t si, const struct family_plan *p)
{
	Prometheus__Label *own[METRIC_LABELS_MAX];
	struct blob_series s;
	struct blob_label bl;
	int rc = 0;

	view_series(b->v, si, &s);
	for (uint32_t i = 0; i < s.n_labels; i++) {
		view_label(b->v, s.first_label + i, &bl);
		char *name = arena_strndup(&b->t->arena, view_string(b->v, bl.name_off),
					   bl.name_len);
		own[i] = name ? label_new(&b->t->arena, name, view_string(b->v, bl.value_off),
					  bl.value_len)
			      : NULL;
		if (!own[i])
			return -ENOMEM;
	}
	for (size_t j = 0; rc == 0 && j < p->n; j++)
		if (p->x[j].name)
			rc = add_sample(b, &p->x[j], own, s.n_labels,
					s.value_idx + p->x[j].value_off);
	return rc;
}

static int build_family(struct builder *b, uint32_t fi, encode_skip_fn skip, void *skip_ctx)
{
	struct family_plan p;
	struct blob_family f;

	view_family(b->v, fi, &f);
	const char *name = view_string(b->v, f.name_off);
	if (skip && skip(skip_ctx, name, f.name_len))
		return 0;
	int rc = family_hash_add(b->t, encode_name_hash(name, f.name_len));
	if (rc == 0)
		rc = plan_family(b, &f, &p);
	for (uint32_t s = 0; rc == 0 && s < f.n_series; s++)
		rc = build_series(b, f.first_series + s, &p);
	return rc;
}

static void view_counts(const struct metrics_view *v, uint32_t counts[4])
{
	counts[0] = v->hdr.n_families;
	counts[1] = v->hdr.n_series;
	counts[2] = v->hdr.n_labels;
	counts[3] = v->hdr.n_values;
}

static int tmpl_build(struct encoder *e, struct tmpl *t, const struct metrics_view *v, uint64_t key,
		      encode_skip_fn skip, void *skip_ctx)
{
	struct builder b = { e, t, v };
	int rc = 0;

	memset(t, 0, sizeof *t);
	t->key = key;
	view_counts(v, t->counts);
	for (uint32_t f = 0; rc == 0 && f < v->hdr.n_families; f++)
		rc = build_family(&b, f, skip, skip_ctx);
	if (rc == 0)
		rc = tmpl_finish(t);
	if (rc < 0)
		tmpl_free(t);
	return rc;
}

/* ---- packing ---- */

static void set_value(Prometheus__Sample *s, double v, int64_t ts)
{
	if (isnan(v)) {
		uint64_t bits = ENCODE_NAN_BITS;
		memcpy(&v, &bits, sizeof v);
	}
	s->value = v;
	s->timestamp = ts;
}

static void set_stale(Prometheus__Sample *s, int64_t ts)
{
	uint64_t bits = ENCODE_STALE_NAN_BITS;

	memcpy(&s->value, &bits, sizeof s->value);
	s->timestamp = ts;
}

static int pack_one(struct encoder *e, Prometheus__TimeSeries **ts, size_t n, int64_t ts_ms,
		    const struct encode_sink *sink)
{
	Prometheus__WriteRequest req = PROMETHEUS__WRITE_REQUEST__INIT;

	req.n_timeseries = n;
	req.timeseries = ts;
	size_t size = prometheus__write_request__get_packed_size(&req);
	if (size > e->out_cap) {
		unsigned char *p = realloc(e->out, size);
		if (!p)
			return -ENOMEM;
		e->out = p;
		e->out_cap = size;
	}
	size_t len = prometheus__write_request__pack(&req, e->out);
	return sink->emit(sink->ctx, e->out, len, (uint32_t)n, ts_ms, ts_ms);
}

/* ts[0..n) in requests of at most max_samples. */
static int pack_all(struct encoder *e, Prometheus__TimeSeries **ts, size_t n, int64_t ts_ms,
		    const struct encode_sink *sink, char *err, size_t errlen)
{
	size_t step = e->rules->max_samples ? e->rules->max_samples : n;
	int rc = 0;

	for (size_t off = 0; rc == 0 && off < n; off += step)
		rc = pack_one(e, ts + off, n - off < step ? n - off : step, ts_ms, sink);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory packing a request");
	else if (rc < 0)
		snprintf(err, errlen, "queueing a request failed: %s", strerror(-rc));
	return rc;
}

static int scratch_reserve(struct encoder *e, size_t n)
{
	if (n <= e->scratch_cap)
		return 0;
	Prometheus__TimeSeries **p = realloc(e->scratch, n * sizeof *p);
	if (!p)
		return -ENOMEM;
	e->scratch = p;
	e->scratch_cap = n;
	return 0;
}

static bool hash_present(const struct tmpl *t, uint64_t h)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->by_hash[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && t->by_hash[lo].hash == h;
}

/* Stale markers for the series of old that now (NULL: nothing) lacks. */
static int send_gone(struct encoder *e, struct tmpl *old, const struct tmpl *now, int64_t ts_ms,
		     const struct encode_sink *sink, char *err, size_t errlen)
{
	size_t n = 0;

	if (!old->valid || old->n == 0)
		return 0;
	if (scratch_reserve(e, old->n) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < old->n; i++) {
		const struct hash_idx *h = &old->by_hash[i];
		if (now && hash_present(now, h->hash))
			continue;
		set_stale(&old->samples[h->idx], ts_ms);
		e->scratch[n++] = &old->ts[h->idx];
	}
	return pack_all(e, e->scratch, n, ts_ms, sink, err, errlen);
}

/* ---- the API ---- */

int encoder_new(struct encoder **out, const struct encode_rules *rules)
{
	struct encoder *e = calloc(1, sizeof *e);

	if (!e)
		return -ENOMEM;
	e->rules = rules;
	e->n_ext = rules->n_ext < EXT_MAX ? rules->n_ext : EXT_MAX;
	for (size_t i = 0; i < e->n_ext; i++) {
		prometheus__label__init(&e->ext[i]);
		e->ext[i].name = (char *)rules->ext_names[i];
		e->ext[i].value = (char *)rules->ext_values[i];
	}
	*out = e;
	return 0;
}

void encoder_free(struct encoder *e)
{
	if (!e)
		return;
	tmpl_free(&e->cur);
	free(e->scratch);
	free(e->out);
	free(e);
}

static bool tmpl_matches(const struct tmpl *t, const struct metrics_view *v, uint64_t key)
{
	uint32_t counts[4];

	view_counts(v, counts);
	return t->valid && t->key == key && memcmp(counts, t->counts, sizeof counts) == 0;
}

static int rebuild(struct encoder *e, const struct metrics_view *v, uint64_t key, int64_t ts_ms,
		   encode_skip_fn skip, void *skip_ctx, const struct encode_sink *sink, char *err,
		   size_t errlen)
{
	struct tmpl next;
	int rc = tmpl_build(e, &next, v, key, skip, skip_ctx);

	if (rc < 0) {
		snprintf(err, errlen, "out of memory building the series of a batch");
		return rc;
	}
	rc = send_gone(e, &e->cur, &next, ts_ms, sink, err, errlen);
	tmpl_free(&e->cur);
	e->cur = next;
	return rc;
}

int encoder_publish(struct encoder *e, const struct metrics_view *v, uint64_t key, int64_t ts_ms,
		    encode_skip_fn skip, void *skip_ctx, const struct encode_sink *sink,
		    bool *rebuilt, char *err, size_t errlen)
{
	struct tmpl *t = &e->cur;
	bool again = !tmpl_matches(t, v, key);
	int rc = again ? rebuild(e, v, key, ts_ms, skip, skip_ctx, sink, err, errlen) : 0;

	if (rebuilt)
		*rebuilt = again;
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < t->n; i++)
		set_value(&t->samples[i], view_value(v, t->value_idx[i]), ts_ms);
	return pack_all(e, t->ts_ptrs, t->n, ts_ms, sink, err, errlen);
}

int encoder_stale_all(struct encoder *e, int64_t ts_ms, const struct encode_sink *sink, char *err,
		      size_t errlen)
{
	int rc = send_gone(e, &e->cur, NULL, ts_ms, sink, err, errlen);

	tmpl_free(&e->cur);
	return rc;
}

size_t encoder_series(const struct encoder *e)
{
	return e->cur.valid ? e->cur.n : 0;
}

const uint64_t *encoder_families(const struct encoder *e, size_t *n)
{
	*n = e->cur.valid ? e->cur.n_families : 0;
	return e->cur.families;
}
