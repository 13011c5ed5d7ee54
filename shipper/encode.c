/*
 * Templates of TimeSeries messages and packing them (encode.h).
 *
 * A template keeps, for every sample of a publish, its series' labels already
 * packed: libprotobuf-c packs each TimeSeries once, with its sorted labels and
 * no samples, when the template is built.  Each publish then packs only the
 * Sample messages (libprotobuf-c again) and writes the framing around them:
 * field 1 of the WriteRequest holding a TimeSeries made of the cached label
 * bytes and field 2, the Sample.  That is the byte sequence libprotobuf-c
 * writes for the whole request (fields in number order, lengths as varints);
 * tests/test_shipper_encode.c checks the two are identical.  It spares the
 * two walks over every label of every series per publish that a whole-request
 * pack costs (most of the shipper's CPU time before), and the Label messages
 * themselves, which live only while the template is built.
 *
 * The Label messages, their strings and pointer arrays come from an arena of
 * blocks that never move, freed once the template is built.
 */
#include "array.h"
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

/* One sample: its series' packed labels in tmpl.bytes, and its value. */
struct tmpl_entry {
	uint32_t off, len;
	uint32_t value_idx;
};

struct tmpl {
	bool valid;
	uint64_t key;
	uint32_t counts[4]; /* families, series, labels, values of the view */
	size_t n, cap;
	struct tmpl_entry *e;
	unsigned char *bytes; /* packed TimeSeries messages without samples */
	size_t bytes_len, bytes_cap;
	uint64_t *families; /* sorted name hashes */
	size_t n_families, families_cap;
};

struct encoder {
	const struct encode_rules *rules;
	struct tmpl cur;
	/* the external labels as shared Label messages */
	Prometheus__Label ext[EXT_MAX];
	size_t n_ext;
	unsigned char *out;
	size_t out_cap;
};

static void tmpl_free(struct tmpl *t)
{
	free(t->e);
	free(t->bytes);
	free(t->families);
	memset(t, 0, sizeof *t);
}

static int tmpl_reserve(struct tmpl *t)
{
	return array_reserve(&t->e, &t->cap, t->n + 1, sizeof *t->e);
}

static int family_hash_add(struct tmpl *t, uint64_t h)
{
	if (array_reserve(&t->families, &t->families_cap, t->n_families + 1, sizeof *t->families) <
	    0)
		return -ENOMEM;
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
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Gives back what doubling left over; the template stays as long as the set
 * of series does. */
static void tmpl_finish(struct tmpl *t)
{
	if (t->n && t->n < t->cap) {
		struct tmpl_entry *e = realloc(t->e, t->n * sizeof *e);
		if (e) {
			t->e = e;
			t->cap = t->n;
		}
	}
	if (t->bytes_len && t->bytes_len < t->bytes_cap) {
		unsigned char *b = realloc(t->bytes, t->bytes_len);
		if (b) {
			t->bytes = b;
			t->bytes_cap = t->bytes_len;
		}
	}
	if (t->n_families) /* families is NULL without any */
		qsort(t->families, t->n_families, sizeof *t->families, cmp_u64);
	t->valid = true;
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
	struct arena arena; /* Label messages and strings, while building */
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
	return label_new(&b->arena, "__name__", full, (size_t)n);
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
		x->extra = label_new(&b->arena, extra_name, num, nlen);
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

/* One sample's series: the name, the series' own labels, the extra one, then
 * the external labels the series does not have; sorted, packed, hashed. */
static int add_sample(struct builder *b, const struct expansion *x, Prometheus__Label *const *own,
		      size_t n_own, uint32_t value_idx)
{
	Prometheus__Label *l[MAX_LABELS + EXT_MAX];
	Prometheus__TimeSeries ts = PROMETHEUS__TIME_SERIES__INIT;
	struct tmpl *t = b->t;
	size_t n = 0;

	l[n++] = x->name;
	memcpy(l + n, own, n_own * sizeof *own);
	n += n_own;
	if (x->extra)
		l[n++] = x->extra;
	for (size_t i = 0; i < b->e->n_ext; i++)
		if (!has_label(l, n_own + 1 + (x->extra != NULL), b->e->ext[i].name))
			l[n++] = &b->e->ext[i];
	qsort(l, n, sizeof *l, label_cmp);
	ts.n_labels = n;
	ts.labels = l;
	size_t len = prometheus__time_series__get_packed_size(&ts);
	if (tmpl_reserve(t) < 0 ||
	    array_reserve(&t->bytes, &t->bytes_cap, t->bytes_len + len, 1) < 0 || len > UINT32_MAX)
		return -ENOMEM;
	unsigned char *p = t->bytes + t->bytes_len;
	prometheus__time_series__pack(&ts, p);
	t->e[t->n] = (struct tmpl_entry){ (uint32_t)t->bytes_len, (uint32_t)len, value_idx };
	t->bytes_len += len;
	t->n++;
	return 0;
}

static int build_series(struct builder *b, uint32_t si, const struct family_plan *p)
{
	Prometheus__Label *own[METRIC_LABELS_MAX];
	struct blob_series s;
	struct blob_label bl;
	size_t n = 0;
	int rc = 0;

	view_series(b->v, si, &s);
	for (uint32_t i = 0; i < s.n_labels; i++) {
		view_label(b->v, s.first_label + i, &bl);
		if (bl.value_len == 0) /* an empty label is no label, as a scrape stores it */
			continue;
		char *name = arena_strndup(&b->arena, view_string(b->v, bl.name_off), bl.name_len);
		own[n] = name ? label_new(&b->arena, name, view_string(b->v, bl.value_off),
					  bl.value_len)
			      : NULL;
		if (!own[n++])
			return -ENOMEM;
	}
	for (size_t j = 0; rc == 0 && j < p->n; j++)
		if (p->x[j].name)
			rc = add_sample(b, &p->x[j], own, n, s.value_idx + p->x[j].value_off);
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

static struct hash_idx *hashes_of(const struct tmpl *t);

static int cmp_idx(const void *a, const void *b)
{
	const struct hash_idx *x = a, *y = b;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Two series with the same labels in one request make the receiver refuse it
 * whole.  A batch cannot hold such twins, but dropping empty labels can make
 * them ({a=""} and {}): the first one stays, as with a scrape. */
static int drop_duplicates(struct tmpl *t)
{
	struct hash_idx *h = hashes_of(t);
	size_t n = 0;

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) /* sorted by hash, then by position */
		if (i == 0 || h[i].hash != h[i - 1].hash)
			h[n++] = h[i];
	if (n < t->n) {
		qsort(h, n, sizeof *h, cmp_idx);
		for (size_t i = 0; i < n; i++)
			t->e[i] = t->e[h[i].idx];
		t->n = n;
	}
	free(h);
	return 0;
}

static int tmpl_build(struct encoder *e, struct tmpl *t, const struct metrics_view *v, uint64_t key,
		      encode_skip_fn skip, void *skip_ctx)
{
	struct builder b = { e, t, v, { NULL } };
	int rc = 0;

	memset(t, 0, sizeof *t);
	t->key = key;
	view_counts(v, t->counts);
	for (uint32_t f = 0; rc == 0 && f < v->hdr.n_families; f++)
		rc = build_family(&b, f, skip, skip_ctx);
	arena_free(&b.arena);
	if (rc == 0)
		rc = drop_duplicates(t);
	if (rc == 0)
		tmpl_finish(t);
	else
		tmpl_free(t);
	return rc;
}

/* ---- packing ---- */

/* Room for the framing of one entry besides its label bytes. */
#define FRAME_MAX 48

static size_t varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

static void sample_of(Prometheus__Sample *s, const struct metrics_view *v, uint32_t idx, int64_t ts)
{
	double d;
	uint64_t bits = ENCODE_STALE_NAN_BITS;

	if (v) {
		d = view_value(v, idx);
		if (isnan(d))
			bits = ENCODE_NAN_BITS;
		else
			memcpy(&bits, &d, sizeof bits);
	}
	memcpy(&s->value, &bits, sizeof s->value);
	s->timestamp = ts;
}

/*
 * WriteRequest field 1 (tag 0x0a, a length-delimited TimeSeries): the cached
 * TimeSeries bytes (its labels, field 1) followed by its field 2 (tag 0x12), the
 * Sample packed by libprotobuf-c.
 */
static size_t frame(unsigned char *out, const unsigned char *labels, uint32_t len,
		    const Prometheus__Sample *s)
{
	unsigned char sb[32], lenbuf[10];
	size_t slen = prometheus__sample__pack(s, sb);
	size_t inner = len + 1 + varint(lenbuf, slen) + slen;
	size_t n = 0;

	out[n++] = 0x0a;
	n += varint(out + n, inner);
	memcpy(out + n, labels, len);
	n += len;
	out[n++] = 0x12;
	n += varint(out + n, slen);
	memcpy(out + n, sb, slen);
	return n + slen;
}

/* One request of the entries which[0..n) of t (or t's entries from first),
 * valued from v, or stale markers when v is NULL. */
static int pack_one(struct encoder *e, const struct tmpl *t, const uint32_t *which, size_t first,
		    size_t n, const struct metrics_view *v, int64_t ts,
		    const struct encode_sink *sink)
{
	Prometheus__Sample s = PROMETHEUS__SAMPLE__INIT;
	size_t need = 0, len = 0;

	for (size_t k = 0; k < n; k++)
		need += t->e[which ? which[k] : first + k].len + FRAME_MAX;
	if (array_reserve(&e->out, &e->out_cap, need, 1) < 0)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		const struct tmpl_entry *en = &t->e[which ? which[k] : first + k];
		sample_of(&s, v, en->value_idx, ts);
		len += frame(e->out + len, t->bytes + en->off, en->len, &s);
	}
	return sink->emit(sink->ctx, e->out, len, (uint32_t)n, ts, ts);
}

/* n entries in requests of at most max_samples. */
static int pack_all(struct encoder *e, const struct tmpl *t, const uint32_t *which, size_t n,
		    const struct metrics_view *v, int64_t ts, const struct encode_sink *sink,
		    char *err, size_t errlen)
{
	size_t step = e->rules->max_samples ? e->rules->max_samples : n;
	int rc = 0;

	for (size_t off = 0; rc == 0 && off < n; off += step)
		rc = pack_one(e, t, which ? which + off : NULL, off,
			      n - off < step ? n - off : step, v, ts, sink);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory packing a request");
	else if (rc < 0)
		snprintf(err, errlen, "queueing a request failed: %s", strerror(-rc));
	return rc;
}

/* The identity of every entry of t (a hash of its packed labels), sorted;
 * NULL when out of memory. */
static struct hash_idx *hashes_of(const struct tmpl *t)
{
	struct hash_idx *h = malloc((t->n ? t->n : 1) * sizeof *h);

	if (!h)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		h[i] = (struct hash_idx){ fnv(FNV_OFFSET, (const char *)t->bytes + t->e[i].off,
					      t->e[i].len),
					  (uint32_t)i };
	qsort(h, t->n, sizeof *h, cmp_hash_idx);
	return h;
}

static bool hash_present(const struct hash_idx *h, size_t n, uint64_t want)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h[mid].hash < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && h[lo].hash == want;
}

/* Stale markers for the series of old that now (NULL: nothing) lacks. */
static int send_gone(struct encoder *e, const struct tmpl *old, const struct tmpl *now, int64_t ts,
		     const struct encode_sink *sink, char *err, size_t errlen)
{
	size_t n = 0;

	if (!old->valid || old->n == 0)
		return 0;
	struct hash_idx *ho = hashes_of(old), *hn = now ? hashes_of(now) : NULL;
	uint32_t *gone = malloc(old->n * sizeof *gone);
	int rc = -ENOMEM;
	if (ho && (hn || !now) && gone) {
		for (size_t i = 0; i < old->n; i++)
			if (!hn || !hash_present(hn, now->n, ho[i].hash))
				gone[n++] = ho[i].idx;
		rc = pack_all(e, old, gone, n, NULL, ts, sink, err, errlen);
	} else {
		snprintf(err, errlen, "out of memory");
	}
	free(ho);
	free(hn);
	free(gone);
	return rc;
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
	return pack_all(e, t, NULL, t->n, v, ts_ms, sink, err, errlen);
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
