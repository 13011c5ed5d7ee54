/*
 * seg_merge.c - merging the batches of a collector's workers (contract in
 * seg_merge.h).
 *
 * The merge keeps its own tables, sized once from its limits: families by name,
 * series by (family, worker, label set) in open-addressing hash tables, their
 * label strings (NUL-terminated, as the batch API wants them) in an arena, and
 * their values.  Inputs usually repeat one another's metadata exactly (workers
 * of one program register the same series in the same order), so the mapping
 * from an input's series to merged series is remembered and reused while the
 * next input's metadata bytes are the same.
 */
#include "seg_merge.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE          UINT32_MAX
#define CONFLICT_TEXT 240

struct mfam {
	uint32_t name, name_len, help, help_len; /* offsets into the arena */
	uint32_t type, aggregate;
	uint32_t first_bound, n_bounds; /* into bounds[] */
	uint32_t head, tail;            /* its series, in order: index + 1 */
	uint32_t in_values;             /* values of an input series of it */
};

struct mser {
	uint32_t family, hash;
	uint32_t first_label, n_labels; /* into labels[] */
	uint32_t worker;                /* MERGE_NO_WORKER unless aggregated per worker */
	uint32_t value;                 /* first of its values */
	uint32_t next;                  /* next series of its family: index + 1 */
	uint32_t merged;                /* inputs merged into it */
	uint32_t slot;                  /* its place in ser_slots */
	double set_ns;                  /* "last" gauges: when its value was set */
};

struct mlabel {
	uint32_t name, name_len, value, value_len;
};

/* What the previous input's series became, while the next input repeats its
 * metadata byte for byte. */
struct remembered {
	unsigned char *meta; /* the input's bytes up to its values (header included) */
	size_t len, cap;
	struct metrics_view view; /* over meta: what it was checked as */
	uint64_t tag;             /* the caller's name for this metadata; 0: none */
	enum merge_input kind;
	bool valid;
	uint32_t *fam_map;  /* input family -> merged family + 1, 0: skipped */
	uint32_t *ser_map;  /* input series -> merged series + 1, 0: skipped */
	uint32_t *ser_vidx; /* input series -> its first value */
};

struct seg_merge {
	struct batch_limits lim;
	enum merge_mode mode;
	struct mfam *fams;
	uint32_t n_fams, fam_mask, *fam_slots;
	struct mser *ser;
	uint32_t n_ser, ser_mask, *ser_slots;
	struct mlabel *labels;
	uint32_t n_labels;
	double *bounds;
	uint32_t n_bounds;
	char *arena;
	uint32_t arena_len, arena_cap;
	double *values;
	uint32_t n_values;
	struct remembered prev;
	uint64_t publish_ns, duration_ns, dropped, conflicts;
	char conflict[CONFLICT_TEXT];
};

/* ---- creation ---- */

static uint32_t table_size(uint32_t n)
{
	uint32_t size = 16;

	while (size < n * 2u && size < (1u << 30))
		size *= 2;
	return size;
}

static bool tables_alloc(struct seg_merge *m)
{
	const struct batch_limits *l = &m->lim;

	m->fam_mask = table_size(l->max_families) - 1;
	m->ser_mask = table_size(l->max_series) - 1;
	/* NUL terminators: one per family name and help and per label string. */
	m->arena_cap = l->string_bytes + l->max_families * 2u + l->max_labels * 2u + 64u;
	m->fams = calloc(l->max_families + 1u, sizeof *m->fams);
	m->fam_slots = calloc(m->fam_mask + 1u, sizeof *m->fam_slots);
	m->ser = calloc(l->max_series + 1u, sizeof *m->ser);
	m->ser_slots = calloc(m->ser_mask + 1u, sizeof *m->ser_slots);
	m->labels = calloc(l->max_labels + 1u, sizeof *m->labels);
	m->bounds = calloc(l->max_bounds + 1u, sizeof *m->bounds);
	m->arena = malloc(m->arena_cap);
	m->values = calloc(l->max_values + 1u, sizeof *m->values);
	m->prev.fam_map = calloc(l->max_families + 1u, sizeof *m->prev.fam_map);
	m->prev.ser_map = calloc(l->max_series + 1u, sizeof *m->prev.ser_map);
	m->prev.ser_vidx = calloc(l->max_series + 1u, sizeof *m->prev.ser_vidx);
	return m->prev.ser_vidx && m->fams && m->fam_slots && m->ser && m->ser_slots && m->labels &&
	       m->bounds && m->arena && m->values && m->prev.fam_map && m->prev.ser_map;
}

/*
 * The merged batch's limits: the inputs', plus, when serving, room for the
 * "worker" label (its name and a slot number) of every series, since a series
 * aggregated per worker carries one label more than the workers published.
 */
static void output_limits(struct batch_limits *out, const struct batch_limits *in,
			  enum merge_mode mode)
{
	*out = *in;
	if (mode != MERGE_SERVE)
		return;
	uint64_t labels = (uint64_t)in->max_labels + in->max_series;
	uint64_t strings = (uint64_t)in->string_bytes + (uint64_t)in->max_series * 12u;
	out->max_labels = labels > (1u << 28) ? (1u << 28) : (uint32_t)labels;
	out->string_bytes = strings > (1u << 30) ? (1u << 30) : (uint32_t)strings;
}

int seg_merge_new(struct seg_merge **out, const struct batch_limits *lim, enum merge_mode mode)
{
	struct seg_merge *m = calloc(1, sizeof *m);

	if (m == NULL || batch_blob_capacity(lim) == 0)
		goto fail;
	output_limits(&m->lim, lim, mode);
	m->mode = mode;
	if (!tables_alloc(m))
		goto fail;
	seg_merge_reset(m);
	*out = m;
	return 0;
fail:
	seg_merge_free(m);
	return -ENOMEM;
}

void seg_merge_free(struct seg_merge *m)
{
	if (m == NULL)
		return;
	free(m->fams);
	free(m->fam_slots);
	free(m->ser);
	free(m->ser_slots);
	free(m->labels);
	free(m->bounds);
	free(m->arena);
	free(m->values);
	free(m->prev.meta);
	free(m->prev.fam_map);
	free(m->prev.ser_map);
	free(m->prev.ser_vidx);
	free(m);
}

const struct batch_limits *seg_merge_limits(const struct seg_merge *m)
{
	return &m->lim;
}

void seg_merge_reset(struct seg_merge *m)
{
	/* Only the slots in use are cleared: the tables are sized for the limits. */
	for (uint32_t i = 0; i < m->n_ser; i++)
		m->ser_slots[m->ser[i].slot] = 0;
	memset(m->fam_slots, 0, ((size_t)m->fam_mask + 1) * sizeof *m->fam_slots);
	m->n_fams = m->n_ser = m->n_labels = m->n_bounds = m->arena_len = m->n_values = 0;
	m->prev.valid = false;
	m->publish_ns = m->duration_ns = m->dropped = m->conflicts = 0;
	m->conflict[0] = '\0';
}

uint64_t seg_merge_dropped(const struct seg_merge *m)
{
	return m->dropped;
}

uint64_t seg_merge_conflicts(const struct seg_merge *m)
{
	return m->conflicts;
}

/* ---- strings ---- */

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 16777619u;
	return h;
}

/* Copies s[0..n) into the arena, NUL-terminated; NONE when it is full. */
static uint32_t arena_add(struct seg_merge *m, const char *s, uint32_t n)
{
	if (n >= m->arena_cap - m->arena_len)
		return NONE;
	uint32_t off = m->arena_len;
	memcpy(m->arena + off, s, n);
	m->arena[off + n] = '\0';
	m->arena_len += n + 1;
	return off;
}

static bool arena_eq(const struct seg_merge *m, uint32_t off, uint32_t len, const char *s,
		     uint32_t n)
{
	return len == n && memcmp(m->arena + off, s, n) == 0;
}

/* Named by its position in the worker's batch: errors never echo a segment's text. */
static void note_conflict(struct seg_merge *m, uint32_t family, uint32_t worker, const char *why)
{
	if (m->conflicts++ > 0)
		return;
	char who[32] = "the retained totals";
	if (worker != MERGE_NO_WORKER)
		snprintf(who, sizeof who, "worker %u", worker);
	snprintf(m->conflict, sizeof m->conflict, "family %u of %s skipped: %s", family + 1, who,
		 why);
}

/* ---- families ---- */

static uint32_t fam_find(const struct seg_merge *m, const char *name, uint32_t len, uint32_t *slot)
{
	uint32_t k = fnv(2166136261u, name, len) & m->fam_mask;

	for (;; k = (k + 1) & m->fam_mask) {
		uint32_t idx = m->fam_slots[k];
		if (idx == 0) {
			*slot = k;
			return NONE;
		}
		const struct mfam *f = &m->fams[idx - 1];
		if (arena_eq(m, f->name, f->name_len, name, len))
			return idx - 1;
	}
}

/* Why an input family cannot join merged family mf, or NULL. */
static const char *fam_mismatch(const struct seg_merge *m, const struct mfam *mf,
				const struct metrics_view *v, const struct blob_family *f)
{
	if (mf->type != f->type)
		return "another worker registered it with another type";
	if (mf->aggregate != f->aggregate)
		return "another worker registered it with another aggregate";
	if (mf->n_bounds != f->n_bounds)
		return "another worker registered it with other buckets";
	for (uint32_t k = 0; k < f->n_bounds; k++)
		if (m->bounds[mf->first_bound + k] != view_bound(v, f->first_bound + k))
			return "another worker registered it with other buckets";
	return NULL;
}

static uint32_t fam_create(struct seg_merge *m, const struct metrics_view *v,
			   const struct blob_family *f, uint32_t slot)
{
	if (m->n_fams >= m->lim.max_families || f->n_bounds > m->lim.max_bounds - m->n_bounds)
		return NONE;
	uint32_t save = m->arena_len;
	struct mfam mf = { .type = f->type,
			   .aggregate = f->aggregate,
			   .n_bounds = f->n_bounds,
			   .first_bound = m->n_bounds,
			   .name_len = f->name_len,
			   .help_len = f->help_len };
	mf.name = arena_add(m, view_string(v, f->name_off), f->name_len);
	mf.help = arena_add(m, view_string(v, f->help_off), f->help_len);
	if (mf.name == NONE || mf.help == NONE) {
		m->arena_len = save;
		return NONE;
	}
	for (uint32_t k = 0; k < f->n_bounds; k++)
		m->bounds[m->n_bounds++] = view_bound(v, f->first_bound + k);
	mf.in_values = family_value_count(f);
	m->fams[m->n_fams] = mf;
	m->fam_slots[slot] = m->n_fams + 1;
	return m->n_fams++;
}

/* Whether an input family of this kind takes part in this merge at all. */
static bool fam_wanted(const struct seg_merge *m, const struct blob_family *f,
		       enum merge_input kind)
{
	if (f->type == METRIC_COUNTER || f->type == METRIC_HISTOGRAM)
		return true;
	if (f->type == METRIC_SUMMARY)
		return true; /* refused as a conflict, so that it is reported */
	if (f->type == METRIC_GAUGE && f->aggregate == AGG_LAST)
		return true;
	/* Other gauges and untyped: what live workers show now. */
	return m->mode == MERGE_SERVE && kind == MERGE_LIVE;
}

/* The merged family of input family f: its index + 1, or 0 to skip it. */
static uint32_t fam_map(struct seg_merge *m, const struct metrics_view *v, uint32_t index,
			const struct blob_family *f, uint32_t worker, enum merge_input kind)
{
	uint32_t slot;

	if (!fam_wanted(m, f, kind))
		return 0;
	if (f->type == METRIC_SUMMARY) {
		note_conflict(m, index, worker, "summaries cannot be merged");
		return 0;
	}
	uint32_t idx = fam_find(m, view_string(v, f->name_off), f->name_len, &slot);
	if (idx == NONE) {
		idx = fam_create(m, v, f, slot);
		if (idx == NONE) {
			m->dropped += f->n_series;
			return 0;
		}
		return idx + 1;
	}
	const char *why = fam_mismatch(m, &m->fams[idx], v, f);
	if (why != NULL) {
		note_conflict(m, index, worker, why);
		return 0;
	}
	return idx + 1;
}

/* ---- series ---- */

static uint32_t series_hash(uint32_t fam, uint32_t worker, const struct metrics_view *v,
			    const struct blob_series *s)
{
	uint32_t h = fnv(2166136261u, &fam, sizeof fam);

	h = fnv(h, &worker, sizeof worker);
	for (uint32_t i = 0; i < s->n_labels; i++) {
		struct blob_label l;
		view_label(v, s->first_label + i, &l);
		h = fnv(h, view_string(v, l.name_off), l.name_len);
		h = (h ^ 0xffu) * 16777619u;
		h = fnv(h, view_string(v, l.value_off), l.value_len);
		h = (h ^ 0xfeu) * 16777619u;
	}
	return h;
}

static bool series_eq(const struct seg_merge *m, const struct mser *ms, uint32_t fam,
		      uint32_t worker, const struct metrics_view *v, const struct blob_series *s)
{
	if (ms->family != fam || ms->worker != worker || ms->n_labels != s->n_labels)
		return false;
	for (uint32_t i = 0; i < s->n_labels; i++) {
		struct blob_label l;
		const struct mlabel *ml = &m->labels[ms->first_label + i];
		view_label(v, s->first_label + i, &l);
		if (!arena_eq(m, ml->name, ml->name_len, view_string(v, l.name_off), l.name_len) ||
		    !arena_eq(m, ml->value, ml->value_len, view_string(v, l.value_off),
			      l.value_len))
			return false;
	}
	return true;
}

/* Values a merged series of family f owns here. */
static uint32_t merged_values(const struct seg_merge *m, const struct mfam *f)
{
	struct blob_family bf = { .type = f->type,
				  .aggregate = f->aggregate,
				  .n_bounds = f->n_bounds };

	if (m->mode == MERGE_SERVE && f->type == METRIC_GAUGE)
		bf.aggregate = AGG_SUM; /* served as a plain gauge */
	return family_value_count(&bf);
}

static bool copy_labels(struct seg_merge *m, const struct metrics_view *v,
			const struct blob_series *s)
{
	for (uint32_t i = 0; i < s->n_labels; i++) {
		struct blob_label l;
		struct mlabel *ml = &m->labels[m->n_labels + i];
		view_label(v, s->first_label + i, &l);
		ml->name = arena_add(m, view_string(v, l.name_off), l.name_len);
		ml->value = arena_add(m, view_string(v, l.value_off), l.value_len);
		ml->name_len = l.name_len;
		ml->value_len = l.value_len;
		if (ml->name == NONE || ml->value == NONE)
			return false;
	}
	return true;
}

static uint32_t series_create(struct seg_merge *m, uint32_t fam, uint32_t worker, uint32_t hash,
			      const struct metrics_view *v, const struct blob_series *s)
{
	struct mfam *f = &m->fams[fam];
	uint32_t nvals = merged_values(m, f), save = m->arena_len;
	/* The "worker" label and its value, in the output's label and string space. */
	uint32_t extra = worker != MERGE_NO_WORKER, extra_bytes = extra ? 12 : 0;

	if (m->n_ser >= m->lim.max_series ||
	    s->n_labels + extra > m->lim.max_labels - m->n_labels ||
	    nvals > m->lim.max_values - m->n_values || extra_bytes > m->arena_cap - m->arena_len ||
	    !copy_labels(m, v, s)) {
		m->arena_len = save;
		m->dropped++;
		return NONE;
	}
	m->arena_len += extra_bytes;
	struct mser *ms = &m->ser[m->n_ser];
	*ms = (struct mser){ .family = fam,
			     .hash = hash,
			     .first_label = m->n_labels,
			     .n_labels = s->n_labels,
			     .worker = worker,
			     .value = m->n_values };
	memset(m->values + m->n_values, 0, nvals * sizeof *m->values);
	m->n_labels += s->n_labels + extra;
	m->n_values += nvals;
	if (f->tail)
		m->ser[f->tail - 1].next = m->n_ser + 1;
	else
		f->head = m->n_ser + 1;
	f->tail = m->n_ser + 1;
	return m->n_ser++;
}

static uint32_t series_map(struct seg_merge *m, uint32_t fam, uint32_t worker,
			   const struct metrics_view *v, const struct blob_series *s)
{
	uint32_t hash = series_hash(fam, worker, v, s);
	uint32_t k = hash & m->ser_mask;

	for (;; k = (k + 1) & m->ser_mask) {
		uint32_t idx = m->ser_slots[k];
		if (idx == 0)
			break;
		if (m->ser[idx - 1].hash == hash &&
		    series_eq(m, &m->ser[idx - 1], fam, worker, v, s))
			return idx;
	}
	uint32_t created = series_create(m, fam, worker, hash, v, s);
	if (created == NONE)
		return 0;
	m->ser_slots[k] = created + 1;
	m->ser[created].slot = k;
	return created + 1;
}

/* ---- values ---- */

static void merge_gauge(struct seg_merge *m, struct mser *ms, const struct mfam *f,
			const double *in)
{
	double *out = m->values + ms->value;

	switch (f->aggregate) {
	case AGG_MAX:
		if (ms->merged == 0 || in[0] > *out)
			*out = in[0];
		break;
	case AGG_MIN:
		if (ms->merged == 0 || in[0] < *out)
			*out = in[0];
		break;
	case AGG_LAST:
		if (ms->merged == 0 || in[1] >= ms->set_ns) {
			*out = in[0];
			ms->set_ns = in[1];
			if (m->mode == MERGE_RETAIN)
				out[1] = in[1];
		}
		break;
	default: /* sum, and one worker's own series */
		*out += in[0];
	}
}

/* Merges the values of one input series (values: the input's values section). */
static void merge_values(struct seg_merge *m, uint32_t ser, const unsigned char *values,
			 uint32_t value_idx)
{
	struct mser *ms = &m->ser[ser];
	const struct mfam *f = &m->fams[ms->family];
	double in[HISTOGRAM_BUCKETS_MAX + 2];
	uint32_t n = f->in_values;

	if (f->type == METRIC_COUNTER) { /* the common case, kept short */
		memcpy(in, values + (size_t)value_idx * 8, sizeof *in);
		m->values[ms->value] += in[0];
		ms->merged++;
		return;
	}
	memcpy(in, values + (size_t)value_idx * 8, n * sizeof *in);
	if (f->type == METRIC_GAUGE || f->type == METRIC_UNTYPED)
		merge_gauge(m, ms, f, in);
	else
		for (uint32_t i = 0; i < n; i++)
			m->values[ms->value + i] += in[i];
	ms->merged++;
}

/* ---- inputs ---- */

static bool gauge_live_only(const struct mfam *f)
{
	return (f->type == METRIC_GAUGE && f->aggregate != AGG_LAST) || f->type == METRIC_UNTYPED;
}

/* One input: its metadata (meta, a validated view whose labels and strings are
 * read) and its values section. */
struct input {
	const struct metrics_view *meta;
	const unsigned char *values;
	uint32_t worker;
	enum merge_input kind;
};

static void add_family_series(struct seg_merge *m, const struct input *in,
			      const struct blob_family *f, uint32_t fam, bool again)
{
	const struct mfam *mf = &m->fams[fam];
	uint32_t who = mf->type == METRIC_GAUGE && mf->aggregate == AGG_PER_WORKER
			   ? in->worker
			   : MERGE_NO_WORKER;
	uint32_t *map = m->prev.ser_map, *vidx = m->prev.ser_vidx;

	for (uint32_t si = f->first_series; si < f->first_series + f->n_series; si++) {
		if (again && who == MERGE_NO_WORKER) {
			if (map[si] != 0)
				merge_values(m, map[si] - 1, in->values, vidx[si]);
			continue;
		}
		struct blob_series s;
		view_series(in->meta, si, &s);
		uint32_t idx = series_map(m, fam, who, in->meta, &s);
		map[si] = who == MERGE_NO_WORKER ? idx : 0;
		vidx[si] = s.value_idx;
		if (idx != 0)
			merge_values(m, idx - 1, in->values, s.value_idx);
	}
}

/* The input's metadata: its counts, and everything from its families up to its
 * values. */
static bool same_meta_as_before(const struct seg_merge *m, const struct metrics_view *v,
				enum merge_input kind)
{
	const size_t from = offsetof(struct blob_header, n_families);
	const size_t to = offsetof(struct blob_header, flags);

	return m->prev.valid && m->prev.kind == kind && m->prev.len == v->values_off &&
	       memcmp((const char *)&v->hdr + from, (const char *)&m->prev.view.hdr + from,
		      to - from) == 0 &&
	       memcmp(m->prev.meta + v->families_off, v->blob + v->families_off,
		      v->values_off - v->families_off) == 0;
}

/* Starts the maps afresh for v; remembers its metadata unless memory is short
 * (the merge is then merely slower). */
static void remember_meta(struct seg_merge *m, const struct metrics_view *v, enum merge_input kind)
{
	size_t len = v->values_off;

	memset(m->prev.fam_map, 0, v->hdr.n_families * sizeof *m->prev.fam_map);
	memset(m->prev.ser_map, 0, v->hdr.n_series * sizeof *m->prev.ser_map);
	m->prev.valid = false;
	m->prev.tag = 0;
	if (len > m->prev.cap) {
		unsigned char *p = realloc(m->prev.meta, len);
		if (p == NULL)
			return;
		m->prev.meta = p;
		m->prev.cap = len;
	}
	memcpy(m->prev.meta, v->blob, len);
	m->prev.len = len;
	m->prev.kind = kind;
	m->prev.view = *v;
	m->prev.view.blob = m->prev.meta;
	m->prev.valid = true;
}

static void note_times(struct seg_merge *m, uint64_t publish_ns, uint64_t duration_ns,
		       enum merge_input kind)
{
	if (publish_ns > m->publish_ns)
		m->publish_ns = publish_ns;
	if (kind == MERGE_LIVE && duration_ns > m->duration_ns)
		m->duration_ns = duration_ns;
}

static void add_input(struct seg_merge *m, const struct input *in, bool again)
{
	const struct metrics_view *v = in->meta;

	for (uint32_t i = 0; i < v->hdr.n_families; i++) {
		struct blob_family f;
		view_family(v, i, &f);
		uint32_t fam = again ? m->prev.fam_map[i] : fam_map(m, v, i, &f, in->worker, in->kind);
		m->prev.fam_map[i] = fam;
		if (fam != 0 && !(in->kind == MERGE_ENDED && gauge_live_only(&m->fams[fam - 1])))
			add_family_series(m, in, &f, fam - 1, again);
	}
}

void seg_merge_add_tagged(struct seg_merge *m, const struct metrics_view *v, uint32_t worker,
			  enum merge_input kind, uint64_t tag)
{
	struct input in = { v, v->blob + v->values_off, worker, kind };
	bool again = tag != 0 && m->prev.valid && m->prev.tag == tag && m->prev.kind == kind
			 ? true
			 : same_meta_as_before(m, v, kind);

	if (!again)
		remember_meta(m, v, kind);
	note_times(m, v->hdr.publish_time_ns, v->hdr.duration_ns, kind);
	add_input(m, &in, again);
	if (m->prev.valid)
		m->prev.tag = tag;
}

void seg_merge_add(struct seg_merge *m, const struct metrics_view *v, uint32_t worker,
		   enum merge_input kind)
{
	seg_merge_add_tagged(m, v, worker, kind, 0);
}

bool seg_merge_add_values(struct seg_merge *m, uint64_t tag, const struct blob_header *hdr,
			  const unsigned char *values, uint32_t worker, enum merge_input kind)
{
	if (tag == 0 || !m->prev.valid || m->prev.tag != tag || m->prev.kind != kind ||
	    m->prev.view.hdr.n_values != hdr->n_values)
		return false;
	struct input in = { &m->prev.view, values, worker, kind };
	note_times(m, hdr->publish_time_ns, hdr->duration_ns, kind);
	add_input(m, &in, true);
	return true;
}

/* ---- the merged batch ---- */

static int start_family(struct seg_merge *m, const struct mfam *f, struct batch *out)
{
	const char *name = m->arena + f->name, *help = m->arena + f->help;
	char err[8];

	if (f->type == METRIC_HISTOGRAM)
		return batch_histogram_family(out, name, help, m->bounds + f->first_bound,
					      f->n_bounds, err, sizeof err);
	if (f->type == METRIC_GAUGE && m->mode == MERGE_RETAIN)
		return batch_gauge_family(out, name, help, f->aggregate, err, sizeof err);
	return batch_family(out, name, help, f->type, err, sizeof err);
}

static int add_series(struct seg_merge *m, const struct mser *ms, struct batch *out)
{
	const char *names[METRIC_LABELS_MAX + 1], *values[METRIC_LABELS_MAX + 1];
	char worker[16], err[8];
	uint32_t n = 0;

	for (; n < ms->n_labels && n < METRIC_LABELS_MAX; n++) {
		names[n] = m->arena + m->labels[ms->first_label + n].name;
		values[n] = m->arena + m->labels[ms->first_label + n].value;
	}
	if (ms->worker != MERGE_NO_WORKER) {
		snprintf(worker, sizeof worker, "%u", ms->worker);
		names[n] = AGG_WORKER_LABEL;
		values[n++] = worker;
	}
	return batch_add_raw(out, names, values, n, m->values + ms->value, err, sizeof err);
}

uint64_t seg_merge_build(struct seg_merge *m, struct batch *out)
{
	batch_reset(out);
	for (uint32_t i = 0; i < m->n_fams; i++) {
		const struct mfam *f = &m->fams[i];
		bool started = start_family(m, f, out) == 0;
		for (uint32_t s = f->head; s != 0; s = m->ser[s - 1].next)
			if (!started || add_series(m, &m->ser[s - 1], out) < 0)
				m->dropped++;
	}
	batch_set_status(out, true, m->duration_ns, m->conflicts ? m->conflict : NULL);
	batch_stamp(out, m->publish_ns, 0);
	return m->publish_ns;
}
