/* The batch: building it, packing it into a blob, and viewing a blob. */
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERROR_MAX 512

_Static_assert(sizeof(struct blob_header) == 72, "blob header layout changed");
_Static_assert(sizeof(struct blob_family) == 48, "blob family layout changed");
_Static_assert(sizeof(struct blob_series) == 16, "blob series layout changed");
_Static_assert(sizeof(struct blob_label) == 16, "blob label layout changed");
_Static_assert(sizeof(double) == 8, "values are IEEE 754 binary64");

struct batch {
	struct batch_limits lim;
	struct blob_header hdr; /* counts, flags, duration */
	struct blob_family *families;
	struct blob_series *series;
	struct blob_label *labels;
	double *bounds;
	char *strings;
	double *values;
	char error[ERROR_MAX];
	int64_t current_family; /* -1 before the first batch_family */
	uint32_t dropped;       /* series refused for limits since the last reset */
	uint32_t *series_hash;  /* open addressing over series, index + 1, 0 = empty */
	uint32_t *series_slot;  /* the hash slot of each series, to clear just those */
	uint32_t hash_mask;
	unsigned char *blob;
	size_t blob_len;
};

void batch_limits_default(struct batch_limits *lim)
{
	lim->max_families = 1024;
	lim->max_series = 10000;
	lim->max_labels = 40000;
	lim->max_values = 20000;
	lim->max_bounds = 1024;
	lim->string_bytes = 512 * 1024;
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

void view_compute_offsets(struct metrics_view *v)
{
	const struct blob_header *h = &v->hdr;
	v->families_off = sizeof(struct blob_header);
	v->series_off = v->families_off + (size_t)h->n_families * sizeof(struct blob_family);
	v->labels_off = v->series_off + (size_t)h->n_series * sizeof(struct blob_series);
	v->bounds_off = v->labels_off + (size_t)h->n_labels * sizeof(struct blob_label);
	v->strings_off = v->bounds_off + (size_t)h->n_bounds * sizeof(double);
	v->values_off = v->strings_off + align8(h->strings_len);
	v->error_off = v->values_off + (size_t)h->n_values * sizeof(double);
}

static size_t blob_total(const struct metrics_view *v)
{
	return v->error_off + align8(v->hdr.error_len);
}

size_t batch_blob_capacity(const struct batch_limits *lim)
{
	struct metrics_view v = { .hdr = {
				      .n_families = lim->max_families,
				      .n_series = lim->max_series,
				      .n_labels = lim->max_labels,
				      .n_values = lim->max_values,
				      .n_bounds = lim->max_bounds,
				      .strings_len = lim->string_bytes,
				      .error_len = ERROR_MAX,
				  } };

	if (lim->string_bytes > (1u << 30) || lim->max_series > (1u << 26) ||
	    lim->max_labels > (1u << 28) || lim->max_values > (1u << 28) ||
	    lim->max_families > (1u << 24) || lim->max_bounds > (1u << 24))
		return 0;
	view_compute_offsets(&v);
	return blob_total(&v);
}

/* ---- building ---- */

struct batch *batch_new(const struct batch_limits *lim)
{
	size_t cap = batch_blob_capacity(lim);
	struct batch *b = calloc(1, sizeof *b);
	uint32_t slots = 16;

	if (b == NULL || cap == 0)
		goto fail;
	while (slots < lim->max_series * 2u)
		slots *= 2;
	b->lim = *lim;
	b->families = calloc(lim->max_families + 1u, sizeof *b->families);
	b->series = calloc(lim->max_series + 1u, sizeof *b->series);
	b->labels = calloc(lim->max_labels + 1u, sizeof *b->labels);
	b->bounds = calloc(lim->max_bounds + 1u, sizeof *b->bounds);
	b->strings = malloc(lim->string_bytes + 8u);
	b->values = calloc(lim->max_values + 1u, sizeof *b->values);
	b->series_hash = calloc(slots, sizeof *b->series_hash);
	b->series_slot = calloc(lim->max_series + 1u, sizeof *b->series_slot);
	b->hash_mask = slots - 1;
	b->blob = malloc(cap);
	if (!b->families || !b->series || !b->labels || !b->bounds || !b->strings || !b->values ||
	    !b->series_hash || !b->series_slot || !b->blob)
		goto fail;
	batch_reset(b);
	return b;
fail:
	batch_free(b);
	return NULL;
}

void batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	free(b->families);
	free(b->series);
	free(b->labels);
	free(b->bounds);
	free(b->strings);
	free(b->values);
	free(b->series_hash);
	free(b->series_slot);
	free(b->blob);
	free(b);
}

static void clear_series_hash(struct batch *b)
{
	for (uint32_t i = 0; i < b->hdr.n_series; i++)
		b->series_hash[b->series_slot[i]] = 0;
}

void batch_reset(struct batch *b)
{
	clear_series_hash(b);
	memset(&b->hdr, 0, sizeof b->hdr);
	b->error[0] = '\0';
	b->current_family = -1;
	b->dropped = 0;
	b->blob_len = 0;
}

static int add_string(struct batch *b, const char *s, size_t len, uint32_t *off, char *err,
		      size_t errlen)
{
	if (len > b->lim.string_bytes - b->hdr.strings_len) {
		snprintf(err, errlen,
			 "string space of %u bytes is full (limit strings per collector)",
			 b->lim.string_bytes);
		return -ENOSPC;
	}
	memcpy(b->strings + b->hdr.strings_len, s, len);
	*off = b->hdr.strings_len;
	b->hdr.strings_len += (uint32_t)len;
	return 0;
}

static bool family_exists(const struct batch *b, const char *name, size_t len)
{
	for (uint32_t i = 0; i < b->hdr.n_families; i++) {
		const struct blob_family *f = &b->families[i];
		if (f->name_len == len && memcmp(b->strings + f->name_off, name, len) == 0)
			return true;
	}
	return false;
}

static int check_family(struct batch *b, const char *name, const char *help, char *err,
			size_t errlen)
{
	size_t name_len = strlen(name), help_len = strlen(help);
	int rc = metric_name_check(name, name_len, err, errlen);

	if (rc < 0)
		return rc;
	if (help_len > METRIC_HELP_MAX || !utf8_valid(help, help_len)) {
		snprintf(err, errlen, "the help text must be UTF-8 of at most %d bytes",
			 METRIC_HELP_MAX);
		return -EINVAL;
	}
	if (family_exists(b, name, name_len)) {
		snprintf(err, errlen, "a family of that name was already added to this batch");
		return -EINVAL;
	}
	if (b->hdr.n_families >= b->lim.max_families) {
		snprintf(err, errlen, "the family was refused: the limit of %u families is reached",
			 b->lim.max_families);
		return -ENOSPC;
	}
	return 0;
}

static int start_family(struct batch *b, const char *name, const char *help, uint32_t type,
			char *err, size_t errlen)
{
	struct blob_family f = { .type = type, .first_series = b->hdr.n_series };
	uint32_t strings_before = b->hdr.strings_len;
	int rc = check_family(b, name, help, err, errlen);

	if (rc == 0)
		rc = add_string(b, name, strlen(name), &f.name_off, err, errlen);
	if (rc == 0)
		rc = add_string(b, help, strlen(help), &f.help_off, err, errlen);
	if (rc < 0) {
		b->hdr.strings_len = strings_before;
		return rc;
	}
	f.name_len = (uint32_t)strlen(name);
	f.help_len = (uint32_t)strlen(help);
	b->families[b->hdr.n_families] = f;
	b->current_family = b->hdr.n_families++;
	return 0;
}

int batch_family(struct batch *b, const char *name, const char *help, enum metric_type type,
		 char *err, size_t errlen)
{
	if (type != METRIC_UNTYPED && type != METRIC_COUNTER && type != METRIC_GAUGE) {
		snprintf(err, errlen,
			 "use batch_histogram_family or batch_summary_family for histograms and "
			 "summaries");
		return -EINVAL;
	}
	return start_family(b, name, help, type, err, errlen);
}

/* Histogram bounds and summary quantiles: finite and strictly increasing;
 * quantiles also within [0,1]. */
static int check_bounds(uint32_t type, const double *bounds, uint32_t n, char *err, size_t errlen)
{
	bool summary = type == METRIC_SUMMARY;

	if (n > HISTOGRAM_BUCKETS_MAX) {
		snprintf(err, errlen, "a %s may have at most %d %s", metric_type_name(type),
			 HISTOGRAM_BUCKETS_MAX, summary ? "quantiles" : "bucket bounds");
		return -EINVAL;
	}
	for (uint32_t i = 0; i < n; i++) {
		bool bad = !isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])) ||
			   (summary && (bounds[i] < 0 || bounds[i] > 1));
		if (bad) {
			snprintf(err, errlen,
				 "%s must be finite%s and strictly increasing (%s %u is not)",
				 summary ? "quantiles" : "bucket bounds",
				 summary ? ", within [0,1]" : "", summary ? "quantile" : "bound",
				 i + 1);
			return -EINVAL;
		}
	}
	return 0;
}

static int bounded_family(struct batch *b, const char *name, const char *help, uint32_t type,
			  const double *bounds, uint32_t n, char *err, size_t errlen)
{
	int rc = check_bounds(type, bounds, n, err, errlen);

	if (rc < 0)
		return rc;
	if (n > b->lim.max_bounds - b->hdr.n_bounds) {
		snprintf(err, errlen,
			 "the %s was refused: the limit of %u bounds and quantiles is reached",
			 metric_type_name(type), b->lim.max_bounds);
		return -ENOSPC;
	}
	rc = start_family(b, name, help, type, err, errlen);
	if (rc < 0)
		return rc;
	struct blob_family *f = &b->families[b->current_family];
	f->first_bound = b->hdr.n_bounds;
	f->n_bounds = n;
	if (n > 0)
		memcpy(b->bounds + b->hdr.n_bounds, bounds, n * sizeof *bounds);
	b->hdr.n_bounds += n;
	return 0;
}

int batch_histogram_family(struct batch *b, const char *name, const char *help,
			   const double *bounds, uint32_t n, char *err, size_t errlen)
{
	return bounded_family(b, name, help, METRIC_HISTOGRAM, bounds, n, err, errlen);
}

int batch_summary_family(struct batch *b, const char *name, const char *help,
			 const double *quantiles, uint32_t n, char *err, size_t errlen)
{
	return bounded_family(b, name, help, METRIC_SUMMARY, quantiles, n, err, errlen);
}

/* Labels are named by their position in the call (1-based), never by name. */
static int check_labels(const struct blob_family *f, const char *const *names,
			const char *const *values, size_t n, char *err, size_t errlen)
{
	char why[200];

	if (n > METRIC_LABELS_MAX) {
		snprintf(err, errlen, "a series may have at most %d labels", METRIC_LABELS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]), vlen = strlen(values[i]);
		if (label_name_check(names[i], len, why, sizeof why) < 0) {
			snprintf(err, errlen, "label %zu: %s", i + 1, why);
			return -EINVAL;
		}
		const char *reserved = family_reserved_label(f->type);
		if (reserved && strcmp(names[i], reserved) == 0) {
			snprintf(err, errlen, "label %zu: a %s may not have a label named %s",
				 i + 1, metric_type_name(f->type), reserved);
			return -EINVAL;
		}
		if (vlen > LABEL_VALUE_MAX || !utf8_valid(values[i], vlen)) {
			snprintf(err, errlen,
				 "label %zu: the value must be UTF-8 of at most %d bytes", i + 1,
				 LABEL_VALUE_MAX);
			return -EINVAL;
		}
		for (size_t k = 0; k < i; k++) {
			if (strcmp(names[k], names[i]) == 0) {
				snprintf(err, errlen,
					 "labels %zu and %zu have the same name; a series has each "
					 "label once",
					 k + 1, i + 1);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* FNV-1a over the label pairs (order-sensitive: callers add labels in a fixed order). */
static uint32_t labels_hash(uint32_t family, const char *const *names, const char *const *values,
			    size_t n)
{
	uint32_t h = 2166136261u ^ family;
	for (size_t i = 0; i < n; i++) {
		for (const char *p = names[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		h = (h ^ 0xffu) * 16777619u;
		for (const char *p = values[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		h = (h ^ 0xfeu) * 16777619u;
	}
	return h;
}

static bool same_labels(const struct batch *b, const struct blob_series *s,
			const char *const *names, const char *const *values, size_t n)
{
	if (s->n_labels != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct blob_label *l = &b->labels[s->first_label + i];
		if (l->name_len != strlen(names[i]) || l->value_len != strlen(values[i]) ||
		    memcmp(b->strings + l->name_off, names[i], l->name_len) != 0 ||
		    memcmp(b->strings + l->value_off, values[i], l->value_len) != 0)
			return false;
	}
	return true;
}

/* Finds the hash slot for the label set: an empty one, or -1 if it is taken by a twin. */
static int64_t find_series_slot(const struct batch *b, const char *const *names,
				const char *const *values, size_t n)
{
	uint32_t fam = (uint32_t)b->current_family;
	uint32_t i = labels_hash(fam, names, values, n) & b->hash_mask;

	for (;; i = (i + 1) & b->hash_mask) {
		uint32_t idx = b->series_hash[i];
		if (idx == 0)
			return i;
		const struct blob_series *s = &b->series[idx - 1];
		if (s->family == fam && same_labels(b, s, names, values, n))
			return -1;
	}
}

static int check_capacity(const struct batch *b, size_t n, uint32_t nvalues, char *err,
			  size_t errlen)
{
	if (b->hdr.n_series >= b->lim.max_series) {
		snprintf(err, errlen, "the series was refused: the limit of %u series is reached",
			 b->lim.max_series);
		return -ENOSPC;
	}
	if (n > b->lim.max_labels - b->hdr.n_labels ||
	    nvalues > b->lim.max_values - b->hdr.n_values) {
		snprintf(err, errlen, "the series was refused: label or value space is full");
		return -ENOSPC;
	}
	return 0;
}

static int add_label_strings(struct batch *b, const char *const *names, const char *const *values,
			     size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		struct blob_label *l = &b->labels[b->hdr.n_labels + i];
		int rc = add_string(b, names[i], strlen(names[i]), &l->name_off, err, errlen);
		if (rc == 0)
			rc = add_string(b, values[i], strlen(values[i]), &l->value_off, err,
					errlen);
		if (rc < 0)
			return rc;
		l->name_len = (uint32_t)strlen(names[i]);
		l->value_len = (uint32_t)strlen(values[i]);
	}
	return 0;
}

/* Series refused because a limit was reached are counted (batch_dropped). */
static int count_refusal(struct batch *b, int rc)
{
	if (rc == -ENOSPC)
		b->dropped++;
	return rc;
}

uint32_t batch_dropped(const struct batch *b)
{
	return b->dropped;
}

void batch_room(const struct batch *b, struct batch_limits *room)
{
	room->max_families = b->lim.max_families - b->hdr.n_families;
	room->max_series = b->lim.max_series - b->hdr.n_series;
	room->max_labels = b->lim.max_labels - b->hdr.n_labels;
	room->max_values = b->lim.max_values - b->hdr.n_values;
	room->max_bounds = b->lim.max_bounds - b->hdr.n_bounds;
	room->string_bytes = b->lim.string_bytes - b->hdr.strings_len;
}

/* Adds a series with room for nvalues values; returns its first value index via *vidx. */
static int add_series(struct batch *b, const char *const *names, const char *const *values,
		      size_t n, uint32_t nvalues, uint32_t *vidx, char *err, size_t errlen)
{
	if (b->current_family < 0) {
		snprintf(err, errlen, "series added before any family was started");
		return -EINVAL;
	}
	struct blob_family *f = &b->families[b->current_family];
	int rc = check_labels(f, names, values, n, err, errlen);
	if (rc == 0)
		rc = check_capacity(b, n, nvalues, err, errlen);
	if (rc < 0)
		return count_refusal(b, rc);
	int64_t slot = find_series_slot(b, names, values, n);
	if (slot < 0) {
		snprintf(err, errlen, "the family already has a series with these labels");
		return -EEXIST;
	}
	uint32_t strings_before = b->hdr.strings_len;
	rc = add_label_strings(b, names, values, n, err, errlen);
	if (rc < 0) {
		b->hdr.strings_len = strings_before;
		return count_refusal(b, rc);
	}
	b->series[b->hdr.n_series] = (struct blob_series){
		.family = (uint32_t)b->current_family,
		.first_label = b->hdr.n_labels,
		.n_labels = (uint32_t)n,
		.value_idx = b->hdr.n_values,
	};
	b->series_slot[b->hdr.n_series] = (uint32_t)slot;
	b->series_hash[slot] = ++b->hdr.n_series;
	b->hdr.n_labels += (uint32_t)n;
	*vidx = b->hdr.n_values;
	b->hdr.n_values += nvalues;
	f->n_series++;
	return 0;
}

int batch_add(struct batch *b, const char *const *names, const char *const *values, size_t n,
	      double value, char *err, size_t errlen)
{
	uint32_t vidx;
	if (b->current_family >= 0 && family_value_count(&b->families[b->current_family]) != 1) {
		snprintf(err, errlen,
			 "use batch_add_histogram or batch_add_summary for histogram "
			 "and summary series");
		return -EINVAL;
	}
	int rc = add_series(b, names, values, n, 1, &vidx, err, errlen);
	if (rc == 0)
		b->values[vidx] = value;
	return rc;
}

int batch_add_histogram(struct batch *b, const char *const *names, const char *const *values,
			size_t n, const uint64_t *counts, double sum, char *err, size_t errlen)
{
	if (b->current_family < 0 || b->families[b->current_family].type != METRIC_HISTOGRAM) {
		snprintf(err, errlen, "batch_add_histogram needs a histogram family");
		return -EINVAL;
	}
	uint32_t nb = b->families[b->current_family].n_bounds, vidx;
	int rc = add_series(b, names, values, n, nb + 2, &vidx, err, errlen);
	if (rc < 0)
		return rc;
	uint64_t cumulative = 0;
	for (uint32_t i = 0; i <= nb; i++) {
		cumulative += counts[i];
		b->values[vidx + i] = (double)cumulative;
	}
	b->values[vidx + nb + 1] = sum;
	return 0;
}

int batch_add_summary(struct batch *b, const char *const *names, const char *const *values,
		      size_t n, const double *quantile_values, double sum, double count, char *err,
		      size_t errlen)
{
	if (b->current_family < 0 || b->families[b->current_family].type != METRIC_SUMMARY) {
		snprintf(err, errlen, "batch_add_summary needs a summary family");
		return -EINVAL;
	}
	if (!(count >= 0)) {
		snprintf(err, errlen, "a summary's count must be 0 or more");
		return -EINVAL;
	}
	uint32_t nq = b->families[b->current_family].n_bounds, vidx;
	int rc = add_series(b, names, values, n, nq + 2, &vidx, err, errlen);
	if (rc < 0)
		return rc;
	if (nq > 0)
		memcpy(b->values + vidx, quantile_values, nq * sizeof *quantile_values);
	b->values[vidx + nq] = sum;
	b->values[vidx + nq + 1] = count;
	return 0;
}

void batch_set_status(struct batch *b, bool success, uint64_t duration_ns, const char *error)
{
	b->hdr.flags = success ? BLOB_FLAG_SUCCESS : 0;
	b->hdr.duration_ns = duration_ns;
	snprintf(b->error, sizeof b->error, "%s", error ? error : "");
	/* A message cut at the buffer end must still be UTF-8: drop a partial sequence. */
	size_t len = strlen(b->error);
	while (len > 0 && !utf8_valid(b->error, len))
		b->error[--len] = '\0';
}

/* ---- packing ---- */

void *batch_blob(struct batch *b, size_t *len)
{
	struct metrics_view v = { .hdr = b->hdr };
	struct blob_header *h = &v.hdr;

	h->error_len = (uint32_t)strlen(b->error);
	view_compute_offsets(&v);
	h->used_bytes = blob_total(&v);
	/* Zero only the padding after strings and after the error text. */
	memset(b->blob + v.strings_off + h->strings_len, 0,
	       v.values_off - v.strings_off - h->strings_len);
	memset(b->blob + v.error_off + h->error_len, 0, h->used_bytes - v.error_off - h->error_len);
	memcpy(b->blob, h, sizeof *h);
	memcpy(b->blob + v.families_off, b->families, h->n_families * sizeof *b->families);
	memcpy(b->blob + v.series_off, b->series, h->n_series * sizeof *b->series);
	memcpy(b->blob + v.labels_off, b->labels, h->n_labels * sizeof *b->labels);
	memcpy(b->blob + v.bounds_off, b->bounds, h->n_bounds * sizeof *b->bounds);
	memcpy(b->blob + v.strings_off, b->strings, h->strings_len);
	memcpy(b->blob + v.values_off, b->values, h->n_values * sizeof *b->values);
	memcpy(b->blob + v.error_off, b->error, h->error_len);
	b->blob_len = h->used_bytes;
	*len = h->used_bytes;
	return b->blob;
}

size_t batch_meta_bytes(const struct batch *b)
{
	struct metrics_view v = { .hdr = b->hdr };
	view_compute_offsets(&v);
	return v.values_off;
}

void batch_view(struct batch *b, struct metrics_view *v)
{
	size_t len;
	const void *blob = batch_blob(b, &len);
	v->blob = blob;
	memcpy(&v->hdr, blob, sizeof v->hdr);
	view_compute_offsets(v);
}

/* ---- viewing ---- */

void view_family(const struct metrics_view *v, uint32_t i, struct blob_family *out)
{
	memcpy(out, v->blob + v->families_off + (size_t)i * sizeof *out, sizeof *out);
}

void view_series(const struct metrics_view *v, uint32_t i, struct blob_series *out)
{
	memcpy(out, v->blob + v->series_off + (size_t)i * sizeof *out, sizeof *out);
}

void view_label(const struct metrics_view *v, uint32_t i, struct blob_label *out)
{
	memcpy(out, v->blob + v->labels_off + (size_t)i * sizeof *out, sizeof *out);
}

double view_value(const struct metrics_view *v, uint32_t i)
{
	double d;
	memcpy(&d, v->blob + v->values_off + (size_t)i * sizeof d, sizeof d);
	return d;
}

double view_bound(const struct metrics_view *v, uint32_t i)
{
	double d;
	memcpy(&d, v->blob + v->bounds_off + (size_t)i * sizeof d, sizeof d);
	return d;
}

const char *view_string(const struct metrics_view *v, uint32_t off)
{
	return (const char *)v->blob + v->strings_off + off;
}

const char *view_error(const struct metrics_view *v, size_t *len)
{
	*len = v->hdr.error_len;
	return (const char *)v->blob + v->error_off;
}

uint32_t family_value_count(const struct blob_family *f)
{
	return f->type == METRIC_HISTOGRAM || f->type == METRIC_SUMMARY ? f->n_bounds + 2 : 1;
}

const char *family_reserved_label(uint32_t type)
{
	if (type == METRIC_HISTOGRAM)
		return "le";
	return type == METRIC_SUMMARY ? "quantile" : NULL;
}
