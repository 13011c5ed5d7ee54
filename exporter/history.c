/*
 * The history store: per-source time rings, per-series value rings, a hash of
 * series by (source, key), and the byte budget.  See history.h.
 */
#include "history.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"

#define NAME_MAX_LEN      64
#define MIN_BUCKETS       256
#define CANONICAL_NAN_BIT 0x7ff8000000000000ull

struct hseries {
	struct hseries *hash_next;
	struct hseries *src_next;
	uint64_t hash;
	uint64_t last_seq; /* the source's slot sequence of the last present value */
	uint32_t src;
	uint32_t key_len;
	char *key;
	double *values; /* cap of the source */
};

/* Where sample k of the previous publish went: the fast path. */
struct map_entry {
	struct hseries *series; /* NULL: refused for the budget */
	uint32_t value_idx;
};

struct hsource {
	char name[NAME_MAX_LEN];
	uint32_t cap, head, count;
	uint32_t interval_ms;
	uint64_t seq; /* slots written, ever */
	int64_t *t_ms;
	int64_t last_t_ms;
	bool down; /* the newest slot is a down marker */
	struct hseries *series;
	struct map_entry *map;
	size_t map_n, map_cap;
	uint64_t map_key, map_gen;
	uint32_t map_series, map_values; /* the view's counts when the map was made */
	bool map_valid;
	bool map_refused; /* some sample of the map found no room */
};

struct history {
	pthread_mutex_t lock;
	uint32_t retention_ms;
	size_t max_bytes, bytes;
	uint64_t n_series, dropped;
	size_t n_sources;
	struct hsource *sources;
	struct hseries **buckets;
	size_t n_buckets;
	/* the publish being written (between begin and end) */
	struct hsource *cur;
	size_t cur_src;
	uint32_t cur_slot;
	bool cur_skip;
	char scratch[HISTORY_KEY_MAX];
};

/* ---- small helpers ---- */

static uint64_t hash_key(uint32_t src, const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ src;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 0x100000001b3ull;
	return h;
}

static double store_value(double v)
{
	union {
		double d;
		uint64_t u;
	} x = { .d = v };
	if (isnan(v))
		x.u = CANONICAL_NAN_BIT;
	return x.d;
}

static double absent_value(void)
{
	union {
		double d;
		uint64_t u;
	} x = { .u = HISTORY_ABSENT_BITS };
	return x.d;
}

static void fill_absent(double *v, size_t n)
{
	double a = absent_value();

	for (size_t i = 0; i < n; i++)
		v[i] = a;
}

static size_t series_cost(const struct hsource *s, size_t key_len)
{
	return sizeof(struct hseries) + key_len + (size_t)s->cap * sizeof(double);
}

static uint32_t cap_for(uint32_t retention_ms, uint32_t interval_ms)
{
	if (interval_ms < HISTORY_MIN_INTERVAL_MS)
		interval_ms = HISTORY_MIN_INTERVAL_MS;
	return (retention_ms + interval_ms - 1) / interval_ms + 1;
}

/* ---- the series hash ---- */

static struct hseries **bucket_of(struct history *h, uint64_t hash)
{
	return &h->buckets[hash & (h->n_buckets - 1)];
}

static struct hseries *find_series(struct history *h, uint32_t src, const char *key, size_t len,
				   uint64_t hash)
{
	for (struct hseries *s = *bucket_of(h, hash); s; s = s->hash_next)
		if (s->hash == hash && s->src == src && s->key_len == len &&
		    memcmp(s->key, key, len) == 0)
			return s;
	return NULL;
}

static void grow_buckets(struct history *h)
{
	size_t n = h->n_buckets * 2;
	struct hseries **b = calloc(n, sizeof *b);

	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < h->n_buckets; i++)
		for (struct hseries *s = h->buckets[i], *next; s; s = next) {
			next = s->hash_next;
			s->hash_next = b[s->hash & (n - 1)];
			b[s->hash & (n - 1)] = s;
		}
	free(h->buckets);
	h->bytes += (n - h->n_buckets) * sizeof *b;
	h->buckets = b;
	h->n_buckets = n;
}

static struct hseries *new_series(struct history *h, uint32_t src, const char *key, size_t len,
				  uint64_t hash)
{
	struct hsource *so = &h->sources[src];
	size_t cost = series_cost(so, len);
	struct hseries *s;

	if (h->bytes + cost > h->max_bytes)
		return NULL;
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->key = malloc(len ? len : 1);
	s->values = malloc((size_t)so->cap * sizeof(double));
	if (!s->key || !s->values) {
		free(s->key);
		free(s->values);
		free(s);
		return NULL;
	}
	memcpy(s->key, key, len);
	fill_absent(s->values, so->cap);
	s->key_len = (uint32_t)len;
	s->src = src;
	s->hash = hash;
	s->hash_next = *bucket_of(h, hash);
	*bucket_of(h, hash) = s;
	s->src_next = so->series;
	so->series = s;
	h->bytes += cost;
	if (++h->n_series > h->n_buckets)
		grow_buckets(h);
	return s;
}

static void unlink_hash(struct history *h, struct hseries *s)
{
	struct hseries **p = bucket_of(h, s->hash);

	while (*p != s)
		p = &(*p)->hash_next;
	*p = s->hash_next;
}

static void free_series(struct history *h, struct hseries *s)
{
	h->bytes -= series_cost(&h->sources[s->src], s->key_len);
	h->n_series--;
	free(s->key);
	free(s->values);
	free(s);
}

/* ---- setup ---- */

int history_new(struct history **out, const struct history_options *opt, size_t n_sources,
		const char *const *names, char *err, size_t errlen)
{
	struct history *h = calloc(1, sizeof *h);

	*out = NULL;
	if (!h || !(h->sources = calloc(n_sources ? n_sources : 1, sizeof *h->sources)) ||
	    !(h->buckets = calloc(MIN_BUCKETS, sizeof *h->buckets))) {
		history_free(h);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&h->lock, NULL);
	h->retention_ms = opt && opt->retention_ms ? opt->retention_ms
						   : HISTORY_DEFAULT_RETENTION_MS;
	h->max_bytes = opt && opt->max_bytes ? opt->max_bytes : HISTORY_DEFAULT_MAX_BYTES;
	h->n_sources = n_sources;
	h->n_buckets = MIN_BUCKETS;
	h->bytes = sizeof *h + n_sources * sizeof *h->sources + MIN_BUCKETS * sizeof *h->buckets;
	for (size_t i = 0; i < n_sources; i++)
		snprintf(h->sources[i].name, NAME_MAX_LEN, "%s", names[i]);
	*out = h;
	return 0;
}

void history_free(struct history *h)
{
	if (!h)
		return;
	for (size_t i = 0; h->sources && i < h->n_sources; i++) {
		struct hsource *so = &h->sources[i];
		for (struct hseries *s = so->series, *next; s; s = next) {
			next = s->src_next;
			free(s->key);
			free(s->values);
			free(s);
		}
		free(so->t_ms);
		free(so->map);
	}
	if (h->buckets)
		pthread_mutex_destroy(&h->lock);
	free(h->sources);
	free(h->buckets);
	free(h);
}

/* ---- ring sizing ---- */

/* Copies the newest `keep` slots of ring old[cap] (next write at head) to the
 * front of fresh, oldest first. */
static void linearize(void *fresh, const void *old, uint32_t cap, uint32_t head, uint32_t keep,
		      size_t elem)
{
	for (uint32_t i = 0; i < keep; i++) {
		uint32_t from = (head + cap - keep + i) % cap;
		memcpy((char *)fresh + (size_t)i * elem, (const char *)old + (size_t)from * elem,
		       elem);
	}
}

static size_t count_series(const struct hsource *so)
{
	size_t n = 0;

	for (const struct hseries *s = so->series; s; s = s->src_next)
		n++;
	return n;
}

/* Every new array first, then the switch: on ENOMEM the source keeps its old
 * size, and every series of a source always has the source's cap. */
static bool resize_source(struct history *h, struct hsource *so, uint32_t newcap)
{
	uint32_t keep = so->count < newcap ? so->count : newcap;
	size_t n = count_series(so), i = 0;
	double **fresh = calloc(n ? n : 1, sizeof *fresh);
	int64_t *t = calloc(newcap, sizeof *t);
	bool ok = fresh && t;

	for (i = 0; ok && i < n; i++)
		ok = (fresh[i] = malloc((size_t)newcap * sizeof(double))) != NULL;
	if (!ok) {
		for (size_t k = 0; fresh && k < n; k++)
			free(fresh[k]);
		free(fresh);
		free(t);
		return false;
	}
	i = 0;
	for (struct hseries *s = so->series; s; s = s->src_next, i++) {
		fill_absent(fresh[i], newcap);
		if (so->cap)
			linearize(fresh[i], s->values, so->cap, so->head, keep, sizeof(double));
		free(s->values);
		s->values = fresh[i];
	}
	if (so->cap)
		linearize(t, so->t_ms, so->cap, so->head, keep, sizeof *t);
	h->bytes += ((size_t)newcap - so->cap) * (sizeof *t + n * sizeof(double));
	free(fresh);
	free(so->t_ms);
	so->t_ms = t;
	so->cap = newcap;
	so->count = keep;
	so->head = keep % newcap;
	return true;
}

/* Sizes the source's rings for its interval; false when it has none. */
static bool ensure_cap(struct history *h, struct hsource *so, uint32_t interval_ms)
{
	uint32_t want = cap_for(h->retention_ms, interval_ms);

	so->interval_ms = interval_ms;
	if (so->cap != want)
		resize_source(h, so, want);
	return so->cap > 0;
}

/* ---- writing one publish ---- */

static void evict_absent(struct history *h, struct hsource *so)
{
	for (struct hseries **p = &so->series; *p;) {
		struct hseries *s = *p;
		if (so->seq - s->last_seq < so->cap) {
			p = &s->src_next;
			continue;
		}
		*p = s->src_next;
		unlink_hash(h, s);
		free_series(h, s);
		so->map_valid = false;
	}
}

/* Opens slot t_ms of source src; false when it cannot be written (not newer,
 * or no ring). */
static bool begin_locked(struct history *h, size_t src, int64_t t_ms, uint32_t interval_ms)
{
	struct hsource *so = &h->sources[src];

	h->cur = NULL;
	if (src >= h->n_sources || (so->count && t_ms <= so->last_t_ms) ||
	    !ensure_cap(h, so, interval_ms))
		return false;
	h->cur = so;
	h->cur_src = src;
	h->cur_slot = so->head;
	so->t_ms[so->head] = t_ms;
	so->head = (so->head + 1) % so->cap;
	if (so->count < so->cap)
		so->count++;
	so->seq++;
	so->last_t_ms = t_ms;
	so->down = false;
	return true;
}

static void put_series(struct history *h, struct hseries *s, double v)
{
	s->values[h->cur_slot] = store_value(v);
	s->last_seq = h->cur->seq;
}

/* The series of key in the current source, created if there is room. */
static struct hseries *lookup_or_create(struct history *h, const char *key, size_t len)
{
	uint32_t src = (uint32_t)h->cur_src;
	uint64_t hash = hash_key(src, key, len);
	struct hseries *s = find_series(h, src, key, len, hash);

	return s ? s : new_series(h, src, key, len, hash);
}

static void end_locked(struct history *h)
{
	struct hsource *so = h->cur;
	double a = absent_value();

	if (!so)
		return;
	for (struct hseries *s = so->series; s; s = s->src_next)
		if (s->last_seq != so->seq)
			s->values[h->cur_slot] = a;
	evict_absent(h, so);
	h->cur = NULL;
}

int history_begin(struct history *h, size_t src, int64_t t_ms, uint32_t interval_ms)
{
	pthread_mutex_lock(&h->lock);
	h->cur_skip = !begin_locked(h, src, t_ms, interval_ms);
	return h->cur_skip ? -EALREADY : 0;
}

int history_put(struct history *h, const char *key, size_t key_len, double value)
{
	if (h->cur_skip || !h->cur)
		return -EALREADY;
	if (key_len == 0 || key_len > HISTORY_KEY_MAX || !memchr(key, '\0', key_len))
		return -EINVAL;
	struct hseries *s = lookup_or_create(h, key, key_len);
	if (!s) {
		h->dropped++;
		return -ENOSPC;
	}
	put_series(h, s, value);
	return 0;
}

void history_end(struct history *h)
{
	if (!h->cur_skip)
		end_locked(h);
	h->cur = NULL;
	pthread_mutex_unlock(&h->lock);
}

void history_mark_down(struct history *h, size_t src, int64_t t_ms)
{
	pthread_mutex_lock(&h->lock);
	struct hsource *so = src < h->n_sources ? &h->sources[src] : NULL;
	if (so && so->count && !so->down) {
		if (t_ms <= so->last_t_ms)
			t_ms = so->last_t_ms + 1;
		if (begin_locked(h, src, t_ms, so->interval_ms))
			end_locked(h);
		so->down = true;
	}
	pthread_mutex_unlock(&h->lock);
}

/* ---- keys ---- */

struct label_ref {
	const char *name, *value;
	size_t name_len, value_len;
};

static int cmp_label(const struct label_ref *a, const struct label_ref *b)
{
	size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
	int c = memcmp(a->name, b->name, n);

	return c ? c : (a->name_len > b->name_len) - (a->name_len < b->name_len);
}

static void sort_labels(struct label_ref *l, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct label_ref x = l[i];
		size_t j = i;
		for (; j > 0 && cmp_label(&l[j - 1], &x) > 0; j--)
			l[j] = l[j - 1];
		l[j] = x;
	}
}

static bool key_append(char *out, size_t outlen, size_t *pos, const char *s, size_t n)
{
	if (*pos + n + 1 > outlen)
		return false;
	memcpy(out + *pos, s, n);
	out[*pos + n] = '\0';
	*pos += n + 1;
	return true;
}

static size_t key_of_refs(char *out, size_t outlen, const char *name, size_t name_len,
			  struct label_ref *l, size_t n)
{
	size_t pos = 0;

	sort_labels(l, n);
	if (!key_append(out, outlen, &pos, name, name_len))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!key_append(out, outlen, &pos, l[i].name, l[i].name_len) ||
		    !key_append(out, outlen, &pos, l[i].value, l[i].value_len))
			return 0;
	return pos;
}

size_t history_key(char *out, size_t outlen, const char *name, size_t name_len,
		   const char *const *label_names, const size_t *name_lens,
		   const char *const *label_values, const size_t *value_lens, size_t n)
{
	struct label_ref l[METRIC_LABELS_MAX + 1];

	if (n > METRIC_LABELS_MAX + 1)
		return 0;
	for (size_t i = 0; i < n; i++)
		l[i] = (struct label_ref){ label_names[i], label_values[i], name_lens[i],
					   value_lens[i] };
	return key_of_refs(out, outlen, name, name_len, l, n);
}

/* ---- recording a view ---- */

/* One sample of a view: its key parts and where its value is. */
struct sample_ctx {
	const struct metrics_view *v;
	struct blob_family fam;
	struct blob_series ser;
	struct label_ref labels[METRIC_LABELS_MAX + 1];
	size_t n_labels;
};

static void load_series_labels(struct sample_ctx *c)
{
	c->n_labels = 0;
	for (uint32_t i = 0; i < c->ser.n_labels && i < METRIC_LABELS_MAX; i++) {
		struct blob_label l;
		view_label(c->v, c->ser.first_label + i, &l);
		c->labels[c->n_labels++] = (struct label_ref){ view_string(c->v, l.name_off),
							       view_string(c->v, l.value_off),
							       l.name_len, l.value_len };
	}
}

static bool map_reserve(struct history *h, struct hsource *so, size_t n)
{
	if (n <= so->map_cap)
		return true;
	size_t cap = so->map_cap ? so->map_cap * 2 : 64;
	while (cap < n)
		cap *= 2;
	struct map_entry *m = realloc(so->map, cap * sizeof *m);
	if (!m)
		return false;
	h->bytes += (cap - so->map_cap) * sizeof *m;
	so->map = m;
	so->map_cap = cap;
	return true;
}

/* Records one sample by key, and remembers where it went for the fast path. */
static void slow_sample(struct history *h, struct sample_ctx *c, const char *suffix,
			const char *extra_name, const char *extra_value, uint32_t value_idx)
{
	struct hsource *so = h->cur;
	char name[METRIC_NAME_MAX + 16];
	size_t name_len = (size_t)snprintf(name, sizeof name, "%.*s%s", (int)c->fam.name_len,
					   view_string(c->v, c->fam.name_off), suffix);
	struct label_ref l[METRIC_LABELS_MAX + 1];
	size_t n = c->n_labels;

	memcpy(l, c->labels, n * sizeof *l);
	if (extra_name)
		l[n++] = (struct label_ref){ extra_name, extra_value, strlen(extra_name),
					     strlen(extra_value) };
	size_t len = key_of_refs(h->scratch, sizeof h->scratch, name, name_len, l, n);
	struct hseries *s = len ? lookup_or_create(h, h->scratch, len) : NULL;
	if (s)
		put_series(h, s, view_value(c->v, value_idx));
	else {
		h->dropped++;
		so->map_refused = true;
	}
	if (so->map_valid && map_reserve(h, so, so->map_n + 1))
		so->map[so->map_n++] = (struct map_entry){ s, value_idx };
	else
		so->map_valid = false;
}

static void slow_histogram(struct history *h, struct sample_ctx *c)
{
	uint32_t idx = c->ser.value_idx, nb = c->fam.n_bounds;
	char le[NUMFMT_MAX];

	for (uint32_t i = 0; i < nb; i++) {
		numfmt_value(le, view_bound(c->v, c->fam.first_bound + i));
		slow_sample(h, c, "_bucket", "le", le, idx + i);
	}
	slow_sample(h, c, "_bucket", "le", "+Inf", idx + nb);
	slow_sample(h, c, "_sum", NULL, NULL, idx + nb + 1);
	slow_sample(h, c, "_count", NULL, NULL, idx + nb);
}

static void slow_summary(struct history *h, struct sample_ctx *c)
{
	uint32_t idx = c->ser.value_idx, nq = c->fam.n_bounds;
	char q[NUMFMT_MAX];

	for (uint32_t i = 0; i < nq; i++) {
		numfmt_value(q, view_bound(c->v, c->fam.first_bound + i));
		slow_sample(h, c, "", "quantile", q, idx + i);
	}
	slow_sample(h, c, "_sum", NULL, NULL, idx + nq);
	slow_sample(h, c, "_count", NULL, NULL, idx + nq + 1);
}

static void record_slow(struct history *h, const struct metrics_view *v)
{
	struct sample_ctx c = { .v = v };

	for (uint32_t f = 0; f < v->hdr.n_families; f++) {
		view_family(v, f, &c.fam);
		for (uint32_t i = 0; i < c.fam.n_series; i++) {
			view_series(v, c.fam.first_series + i, &c.ser);
			load_series_labels(&c);
			if (c.fam.type == METRIC_HISTOGRAM)
				slow_histogram(h, &c);
			else if (c.fam.type == METRIC_SUMMARY)
				slow_summary(h, &c);
			else
				slow_sample(h, &c, "", NULL, NULL, c.ser.value_idx);
		}
	}
}

static void record_fast(struct history *h, const struct metrics_view *v)
{
	struct hsource *so = h->cur;

	for (size_t k = 0; k < so->map_n; k++) {
		struct map_entry *e = &so->map[k];
		if (e->series)
			put_series(h, e->series, view_value(v, e->value_idx));
		else
			h->dropped++;
	}
}

int history_record_view(struct history *h, size_t src, const struct metrics_view *v,
			uint64_t meta_key, int64_t t_ms, uint32_t interval_ms)
{
	pthread_mutex_lock(&h->lock);
	if (begin_locked(h, src, t_ms, interval_ms)) {
		struct hsource *so = h->cur;
		bool same = so->map_valid && so->map_key == meta_key &&
			    so->map_gen == v->hdr.meta_generation &&
			    so->map_series == v->hdr.n_series && so->map_values == v->hdr.n_values;
		/* a refused series may fit now: retry by key every 64 publishes */
		if (same && !(so->map_refused && so->seq % 64 == 0))
			record_fast(h, v);
		else {
			so->map_n = 0;
			so->map_valid = true;
			so->map_refused = false;
			so->map_key = meta_key;
			so->map_gen = v->hdr.meta_generation;
			so->map_series = v->hdr.n_series;
			so->map_values = v->hdr.n_values;
			record_slow(h, v);
		}
		end_locked(h);
	}
	pthread_mutex_unlock(&h->lock);
	return 0;
}

/* ---- reading ---- */

/* The slots of a source inside [from, to]: ring positions first .. first+n. */
struct slot_range {
	uint32_t first, n;
};

static struct slot_range range_of(const struct hsource *so, int64_t from, int64_t to)
{
	struct slot_range r = { 0, 0 };
	uint32_t oldest = (so->head + so->cap - so->count) % (so->cap ? so->cap : 1);

	for (uint32_t i = 0; i < so->count; i++) {
		int64_t t = so->t_ms[(oldest + i) % so->cap];
		if (t < from)
			continue;
		if (t > to)
			break;
		if (r.n++ == 0)
			r.first = (oldest + i) % so->cap;
	}
	return r;
}

static bool any_present(const struct hseries *s, const struct hsource *so, struct slot_range r)
{
	for (uint32_t i = 0; i < r.n; i++)
		if (!history_is_absent(s->values[(r.first + i) % so->cap]))
			return true;
	return false;
}

static int copy_series(struct history_series *out, const struct hseries *s,
		       const struct hsource *so, struct slot_range r, bool keys_only)
{
	memset(out, 0, sizeof *out);
	if (keys_only)
		r.n = 0;
	out->key = malloc(s->key_len);
	out->t_ms = malloc((r.n ? r.n : 1) * sizeof *out->t_ms);
	out->values = malloc((r.n ? r.n : 1) * sizeof *out->values);
	if (!out->key || !out->t_ms || !out->values)
		return -ENOMEM;
	memcpy(out->key, s->key, s->key_len);
	out->key_len = s->key_len;
	out->src = s->src;
	out->n = r.n;
	for (uint32_t i = 0; i < r.n; i++) {
		uint32_t k = (r.first + i) % so->cap;
		out->t_ms[i] = so->t_ms[k];
		out->values[i] = s->values[k];
	}
	return 0;
}

static int push_selected(struct history_selection *sel, size_t *cap, const struct hseries *s,
			 const struct hsource *so, struct slot_range r, bool keys_only)
{
	if (sel->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct history_series *g = realloc(sel->series, nc * sizeof *g);
		if (!g)
			return -ENOMEM;
		sel->series = g;
		*cap = nc;
	}
	int rc = copy_series(&sel->series[sel->n], s, so, r, keys_only);
	sel->n++; /* freed with the selection even when half copied */
	return rc;
}

static int select_locked(struct history *h, int64_t from_ms, int64_t to_ms, history_match_fn match,
			 void *ctx, struct history_selection *sel, bool keys_only)
{
	size_t cap = 0;

	for (size_t i = 0; i < h->n_sources; i++) {
		const struct hsource *so = &h->sources[i];
		struct slot_range r = range_of(so, from_ms, to_ms);
		if (r.n == 0)
			continue;
		for (const struct hseries *s = so->series; s; s = s->src_next) {
			if (!match(ctx, s->key, s->key_len) || !any_present(s, so, r))
				continue;
			int rc = push_selected(sel, &cap, s, so, r, keys_only);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int select_any(struct history *h, int64_t from_ms, int64_t to_ms, history_match_fn match,
		      void *ctx, struct history_selection *sel, bool keys_only)
{
	memset(sel, 0, sizeof *sel);
	pthread_mutex_lock(&h->lock);
	int rc = select_locked(h, from_ms, to_ms, match, ctx, sel, keys_only);
	pthread_mutex_unlock(&h->lock);
	if (rc < 0)
		history_selection_free(sel);
	return rc;
}

int history_select(struct history *h, int64_t from_ms, int64_t to_ms, history_match_fn match,
		   void *ctx, struct history_selection *sel)
{
	return select_any(h, from_ms, to_ms, match, ctx, sel, false);
}

int history_select_keys(struct history *h, int64_t from_ms, int64_t to_ms, history_match_fn match,
			void *ctx, struct history_selection *sel)
{
	return select_any(h, from_ms, to_ms, match, ctx, sel, true);
}

void history_selection_free(struct history_selection *sel)
{
	for (size_t i = 0; i < sel->n; i++) {
		free(sel->series[i].key);
		free(sel->series[i].t_ms);
		free(sel->series[i].values);
	}
	free(sel->series);
	memset(sel, 0, sizeof *sel);
}

void history_stats(struct history *h, struct history_stats *st)
{
	pthread_mutex_lock(&h->lock);
	st->bytes = h->bytes;
	st->max_bytes = h->max_bytes;
	st->series = h->n_series;
	st->samples_dropped = h->dropped;
	st->retention_ms = h->retention_ms;
	pthread_mutex_unlock(&h->lock);
}
