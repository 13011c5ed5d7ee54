/*
 * client_registry.c - registering families and series, and enforcing the
 * segment's limits at registration so that every publish fits.
 */
#include "client_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double default_bounds[] = { .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10 };

static char *dup_string(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

static void free_strings(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char **dup_strings(const char *const *v, size_t n)
{
	char **d = calloc(n ? n : 1, sizeof *d);

	for (size_t i = 0; d != NULL && i < n; i++) {
		d[i] = dup_string(v[i]);
		if (d[i] == NULL) {
			free_strings(d, i);
			return NULL;
		}
	}
	return d;
}

/* ---- limits ---- */

static bool usage_fits(const struct client_usage *u, const struct batch_limits *l)
{
	return u->families <= l->max_families && u->series <= l->max_series &&
	       u->labels <= l->max_labels && u->values <= l->max_values &&
	       u->bounds <= l->max_bounds && u->strings <= l->string_bytes;
}

static void usage_add(struct client_usage *u, const struct client_usage *d)
{
	u->families += d->families;
	u->series += d->series;
	u->labels += d->labels;
	u->values += d->values;
	u->bounds += d->bounds;
	u->strings += d->strings;
}

/* The limit that u exceeds, for the message. */
static const char *limit_hit(const struct client_usage *u, const struct batch_limits *l,
			     uint32_t *value)
{
	if (u->series > l->max_series)
		return *value = l->max_series, "series (max_series in the agent's configuration)";
	if (u->families > l->max_families)
		return *value = l->max_families, "families";
	if (u->labels > l->max_labels)
		return *value = l->max_labels, "label pairs";
	if (u->values > l->max_values)
		return *value = l->max_values, "values";
	if (u->bounds > l->max_bounds)
		return *value = l->max_bounds, "histogram bucket bounds";
	return *value = l->string_bytes, "bytes of names, help and label values";
}

/* Accounts for d, or refuses it with -ENOSPC and counts the drop. */
static int reserve(struct shmetrics *m, const struct client_usage *d, const char *what,
		   const char *name)
{
	struct client_usage u = m->used;
	uint32_t value;

	usage_add(&u, d);
	if (usage_fits(&u, &m->lim)) {
		m->used = u;
		return 0;
	}
	atomic_fetch_add_explicit(&m->dropped, 1, memory_order_relaxed);
	const char *limit = limit_hit(&u, &m->lim, &value);
	return client_fail(-ENOSPC, "%s: %s refused: collector \"%s\" reached its limit of %u %s",
			   name, what, m->collector, value, limit);
}

void client_reserve_self(struct shmetrics *m)
{
	m->used.families = 1;
	m->used.series = 1;
	m->used.values = 1;
	m->used.strings = strlen(CLIENT_DROPPED_NAME) + strlen(CLIENT_DROPPED_HELP);
}

/* ---- checks ---- */

static int check_help(const char *name, const char *help)
{
	size_t len = strlen(help);

	if (len > METRIC_HELP_MAX || !utf8_valid(help, len))
		return client_fail(-EINVAL,
				   "%s: help must be UTF-8 of at most %d bytes (it has %zu)", name,
				   METRIC_HELP_MAX, len);
	return 0;
}

static int check_label_names(const char *name, enum metric_type type, uint32_t aggregate,
			     const char *const *names, size_t n)
{
	char why[256];

	if (n > METRIC_LABELS_MAX)
		return client_fail(-EINVAL, "%s: %zu label names; at most %d are allowed", name, n,
				   METRIC_LABELS_MAX);
	if (n > 0 && names == NULL)
		return client_fail(-EINVAL, "%s: label_names is NULL but n_labels is %zu", name, n);
	for (size_t i = 0; i < n; i++) {
		if (names[i] == NULL)
			return client_fail(-EINVAL, "%s: label name %zu is NULL", name, i + 1);
		if (label_name_check(names[i], strlen(names[i]), why, sizeof why) < 0)
			return client_fail(-EINVAL, "%s: label name %zu: %s", name, i + 1, why);
		if (type == METRIC_HISTOGRAM && strcmp(names[i], "le") == 0)
			return client_fail(-EINVAL,
					   "%s: a histogram may not have a label named le "
					   "(it names the buckets)",
					   name);
		if (aggregate == AGG_PER_WORKER && strcmp(names[i], AGG_WORKER_LABEL) == 0)
			return client_fail(-EINVAL,
					   "%s: a gauge aggregated per worker may not have a label "
					   "named worker (it names the worker)",
					   name);
		for (size_t k = 0; k < i; k++)
			if (strcmp(names[k], names[i]) == 0)
				return client_fail(-EINVAL, "%s: label name %s appears twice", name,
						   names[i]);
	}
	return 0;
}

static int check_bounds(const char *name, const double *b, size_t n)
{
	if (n > HISTOGRAM_BUCKETS_MAX)
		return client_fail(-EINVAL, "%s: %zu buckets; at most %d are allowed", name, n,
				   HISTOGRAM_BUCKETS_MAX);
	for (size_t i = 0; i < n; i++)
		if (!isfinite(b[i]) || (i > 0 && !(b[i] > b[i - 1])))
			return client_fail(-EINVAL,
					   "%s: bucket bounds must be finite and strictly "
					   "increasing (bound %zu is %g)",
					   name, i + 1, b[i]);
	return 0;
}

static int check_family_args(struct shmetrics *m, const char *name, const char *help,
			     enum metric_type type, uint32_t aggregate, const char *const *labels,
			     size_t n)
{
	char why[256];

	if (m == NULL || name == NULL)
		return client_fail(-EINVAL, "registering a family: the collector and the name "
					    "must not be NULL");
	if (metric_name_check(name, strlen(name), why, sizeof why) < 0)
		return client_fail(-EINVAL, "registering a family: %s", why);
	struct metric_exposed mine, own;
	metric_exposed_names(name, strlen(name), type, &mine);
	metric_exposed_names(CLIENT_DROPPED_NAME, strlen(CLIENT_DROPPED_NAME), METRIC_COUNTER,
			     &own);
	if (metric_exposed_meet(&mine, &own) != NULL)
		return client_fail(-EEXIST, "%s would be exposed as the library's own metric %s",
				   name, CLIENT_DROPPED_NAME);
	int rc = check_help(name, help);
	return rc < 0 ? rc : check_label_names(name, type, aggregate, labels, n);
}

/* ---- families ---- */

static struct shmetrics_family *family_find(struct shmetrics *m, const char *name)
{
	for (size_t i = 0; i < m->n_families; i++)
		if (strcmp(m->families[i]->name, name) == 0)
			return m->families[i];
	return NULL;
}

/* A registered family (of another name) whose exposed names meet those of
 * name (see metric_exposed_names); *shared is the name both would take. */
static const struct shmetrics_family *exposed_clash(struct shmetrics *m, const char *name,
						    enum metric_type type,
						    struct metric_exposed *mine,
						    const char **shared)
{
	struct metric_exposed theirs;

	metric_exposed_names(name, strlen(name), type, mine);
	for (size_t i = 0; i < m->n_families; i++) {
		const struct shmetrics_family *f = m->families[i];
		metric_exposed_names(f->name, strlen(f->name), f->type, &theirs);
		*shared = metric_exposed_meet(mine, &theirs);
		if (*shared != NULL)
			return f;
	}
	return NULL;
}

/* What a registration asks for. */
struct family_shape {
	enum metric_type type;
	uint32_t aggregate;
	const char *const *labels;
	size_t n;
	const double *bounds;
	size_t nb;
};

static bool same_shape(const struct shmetrics_family *f, const struct family_shape *sh)
{
	const char *const *labels = sh->labels;
	const double *bounds = sh->bounds;
	size_t n = sh->n, nb = sh->nb;

	if (f->type != sh->type || f->aggregate != sh->aggregate || f->n_labels != n ||
	    f->n_bounds != nb)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(f->label_names[i], labels[i]) != 0)
			return false;
	return nb == 0 || memcmp(f->bounds, bounds, nb * sizeof *bounds) == 0;
}

static void family_free(struct shmetrics_family *f);

static struct shmetrics_family *family_alloc(struct shmetrics *m, const char *name,
					     const char *help, const struct family_shape *sh)
{
	struct shmetrics_family *f = calloc(1, sizeof *f);
	const char *const *labels = sh->labels;
	const double *bounds = sh->bounds;
	size_t n = sh->n, nb = sh->nb;

	if (f == NULL)
		return NULL;
	f->owner = m;
	f->type = sh->type;
	f->aggregate = sh->aggregate;
	f->n_labels = n;
	f->n_bounds = (uint32_t)nb;
	f->name = dup_string(name);
	f->help = dup_string(help);
	f->label_names = dup_strings(labels, n);
	f->bounds = calloc(nb ? nb : 1, sizeof *f->bounds);
	f->slot_mask = 15;
	f->slots = calloc(f->slot_mask + 1u, sizeof *f->slots);
	if (!f->name || !f->help || !f->label_names || !f->bounds || !f->slots) {
		family_free(f);
		return NULL;
	}
	if (nb)
		memcpy(f->bounds, bounds, nb * sizeof *bounds);
	return f;
}

static int family_append(struct shmetrics *m, struct shmetrics_family *f)
{
	if (m->n_families == m->cap_families) {
		size_t cap = m->cap_families ? m->cap_families * 2 : 16;
		void *p = realloc(m->families, cap * sizeof *m->families);
		if (p == NULL)
			return -ENOMEM;
		m->families = p;
		m->cap_families = cap;
	}
	m->families[m->n_families++] = f;
	return 0;
}

static struct shmetrics_family *no_family(int rc)
{
	(void)rc;
	return NULL;
}

static struct shmetrics_family *register_locked(struct shmetrics *m, const char *name,
						const char *help, const struct family_shape *sh)
{
	struct shmetrics_family *f = family_find(m, name);
	const struct shmetrics_family *clash;
	size_t nb = sh->nb;
	struct metric_exposed mine;
	const char *shared = NULL;

	if (f != NULL) {
		if (same_shape(f, sh))
			return f;
		return no_family(client_fail(-EEXIST,
					     "%s is already registered as a %s with "
					     "%zu label name(s), %u bucket(s) and aggregate %s; a "
					     "second registration must have the same type, label "
					     "names, buckets and aggregate",
					     name, metric_type_name(f->type), f->n_labels,
					     f->n_bounds, metric_aggregate_name(f->aggregate)));
	}
	clash = exposed_clash(m, name, sh->type, &mine, &shared);
	if (clash != NULL)
		return no_family(client_fail(-EEXIST,
					     "%s collides with %s %s: both would be exposed as %s "
					     "(a counter is exposed with and without _total, a "
					     "histogram with _bucket, _sum and _count)",
					     name, metric_type_name(clash->type), clash->name,
					     shared));
	struct client_usage d = { .families = 1,
				  .bounds = nb,
				  .strings = strlen(name) + strlen(help) };
	if (reserve(m, &d, "family", name) < 0)
		return NULL;
	f = family_alloc(m, name, help, sh);
	if (f == NULL || family_append(m, f) < 0) {
		family_free(f);
		m->used.families--;
		m->used.bounds -= nb;
		m->used.strings -= d.strings;
		return no_family(client_fail(-ENOMEM, "%s: out of memory", name));
	}
	return f;
}

static struct shmetrics_family *register_family(struct shmetrics *m, const char *name,
						const char *help, const struct family_shape *sh)
{
	if (help == NULL)
		help = "";
	if (check_family_args(m, name, help, sh->type, sh->aggregate, sh->labels, sh->n) < 0)
		return NULL;
	if (client_check_fork(m) < 0)
		return NULL;
	pthread_mutex_lock(&m->lock);
	struct shmetrics_family *f = register_locked(m, name, help, sh);
	pthread_mutex_unlock(&m->lock);
	return f;
}

SHMETRICS_API struct shmetrics_family *shmetrics_counter(struct shmetrics *m, const char *name,
							 const char *help,
							 const char *const *label_names,
							 size_t n_labels)
{
	struct family_shape sh = { METRIC_COUNTER, AGG_SUM, label_names, n_labels, NULL, 0 };
	return register_family(m, name, help, &sh);
}

SHMETRICS_API struct shmetrics_family *shmetrics_gauge(struct shmetrics *m, const char *name,
						       const char *help,
						       const char *const *label_names,
						       size_t n_labels)
{
	return shmetrics_gauge_aggregated(m, name, help, label_names, n_labels,
					  SHMETRICS_AGGREGATE_SUM);
}

_Static_assert((int)SHMETRICS_AGGREGATE_SUM == (int)AGG_SUM &&
		   (int)SHMETRICS_AGGREGATE_MAX == (int)AGG_MAX &&
		   (int)SHMETRICS_AGGREGATE_MIN == (int)AGG_MIN &&
		   (int)SHMETRICS_AGGREGATE_LAST == (int)AGG_LAST &&
		   (int)SHMETRICS_AGGREGATE_WORKER == (int)AGG_PER_WORKER,
	       "the public aggregates are the segment's");

SHMETRICS_API struct shmetrics_family *shmetrics_gauge_aggregated(struct shmetrics *m,
								  const char *name,
								  const char *help,
								  const char *const *label_names,
								  size_t n_labels, int aggregate)
{
	struct family_shape sh = {
		METRIC_GAUGE, (uint32_t)aggregate, label_names, n_labels, NULL, 0
	};

	if (aggregate < 0 || aggregate > AGG_MAX_VALUE)
		return no_family(client_fail(-EINVAL,
					     "%s: aggregate %d is not one of sum (0), max (1), min "
					     "(2), last (3) and worker (4)",
					     name ? name : "gauge", aggregate));
	return register_family(m, name, help, &sh);
}

SHMETRICS_API struct shmetrics_family *shmetrics_histogram(struct shmetrics *m, const char *name,
							   const char *help,
							   const char *const *label_names,
							   size_t n_labels, const double *bounds,
							   size_t n_bounds)
{
	if (bounds == NULL && n_bounds == 0) {
		bounds = default_bounds;
		n_bounds = sizeof default_bounds / sizeof default_bounds[0];
	}
	if (bounds == NULL)
		return no_family(client_fail(-EINVAL, "%s: bounds is NULL but n_bounds is %zu",
					     name ? name : "histogram", n_bounds));
	if (check_bounds(name ? name : "histogram", bounds, n_bounds) < 0)
		return NULL;
	struct family_shape sh = { METRIC_HISTOGRAM, AGG_SUM, label_names,
				   n_labels,         bounds,  n_bounds };
	return register_family(m, name, help, &sh);
}

/* ---- series ---- */

static uint32_t values_hash(const char *const *v, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		for (const unsigned char *p = (const unsigned char *)v[i]; *p; p++)
			h = (h ^ *p) * 16777619u;
		h = (h ^ 0xffu) * 16777619u; /* separator: ("a","b") differs from ("ab","") */
	}
	return h;
}

static bool same_values(const struct shmetrics_series *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->label_values[i], v[i]) != 0)
			return false;
	return true;
}

static struct shmetrics_series *series_find(const struct shmetrics_family *f, const char *const *v,
					    uint32_t hash)
{
	for (uint32_t i = hash & f->slot_mask;; i = (i + 1) & f->slot_mask) {
		uint32_t idx = f->slots[i];
		if (idx == 0)
			return NULL;
		struct shmetrics_series *s = f->series[idx - 1];
		if (s->hash == hash && same_values(s, v, f->n_labels))
			return s;
	}
}

static void slot_insert(uint32_t *slots, uint32_t mask, uint32_t hash, uint32_t idx1)
{
	uint32_t i = hash & mask;

	while (slots[i] != 0)
		i = (i + 1) & mask;
	slots[i] = idx1;
}

/* Keeps the table at most half full; grows the series array alongside. */
static int family_grow(struct shmetrics_family *f)
{
	if (f->n_series == f->cap_series) {
		size_t cap = f->cap_series ? f->cap_series * 2 : 8;
		void *p = realloc(f->series, cap * sizeof *f->series);
		if (p == NULL)
			return -ENOMEM;
		f->series = p;
		f->cap_series = cap;
	}
	if ((f->n_series + 1) * 2 <= (size_t)f->slot_mask + 1)
		return 0;
	uint32_t mask = f->slot_mask * 2 + 1;
	uint32_t *slots = calloc(mask + 1u, sizeof *slots);
	if (slots == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < f->n_series; i++)
		slot_insert(slots, mask, f->series[i]->hash, (uint32_t)i + 1);
	free(f->slots);
	f->slots = slots;
	f->slot_mask = mask;
	return 0;
}

static void series_free(struct shmetrics_series *s)
{
	if (s == NULL)
		return;
	client_hist_free(s->hist);
	free_strings(s->label_values, s->family->n_labels);
	free(s);
}

static struct shmetrics_series *series_alloc(struct shmetrics_family *f, const char *const *v,
					     uint32_t hash)
{
	size_t size = (sizeof(struct shmetrics_series) + 63) & ~(size_t)63;
	struct shmetrics_series *s = aligned_alloc(64, size);

	if (s == NULL)
		return NULL;
	memset(s, 0, size);
	atomic_init(&s->ints, 0);
	/* +0.0 for counters; gauges start unset (client_internal.h) */
	atomic_init(&s->bits, f->type == METRIC_GAUGE ? GAUGE_UNSET : 0);
	atomic_init(&s->set_ns, 0);
	s->owner = f->owner;
	s->aggregate = f->aggregate;
	s->type = f->type;
	s->n_bounds = f->n_bounds;
	s->bounds = f->bounds;
	s->family = f;
	s->hash = hash;
	s->label_values = dup_strings(v, f->n_labels);
	if (f->type == METRIC_HISTOGRAM)
		s->hist = client_hist_new(f->n_bounds);
	if (s->label_values == NULL || (f->type == METRIC_HISTOGRAM && s->hist == NULL)) {
		series_free(s);
		return NULL;
	}
	return s;
}

static int check_values(const struct shmetrics_family *f, const char *const *v, size_t n)
{
	if (n != f->n_labels)
		return client_fail(-EINVAL,
				   "%s: %zu label value(s) given; the family has %zu label "
				   "name(s)",
				   f->name, n, f->n_labels);
	if (n > 0 && v == NULL)
		return client_fail(-EINVAL, "%s: label_values is NULL", f->name);
	for (size_t i = 0; i < n; i++) {
		if (v[i] == NULL)
			return client_fail(-EINVAL, "%s: value of label %s is NULL", f->name,
					   f->label_names[i]);
		size_t len = strlen(v[i]);
		if (len > LABEL_VALUE_MAX || !utf8_valid(v[i], len))
			return client_fail(-EINVAL,
					   "%s: value of label %s must be UTF-8 of at most "
					   "%d bytes (it has %zu)",
					   f->name, f->label_names[i], LABEL_VALUE_MAX, len);
	}
	return 0;
}

static struct client_usage series_usage(const struct shmetrics_family *f, const char *const *v)
{
	struct blob_family bf = { .type = f->type,
				  .aggregate = f->aggregate,
				  .n_bounds = f->n_bounds };
	struct client_usage d = { .series = 1,
				  .labels = f->n_labels,
				  .values = family_value_count(&bf) };

	for (size_t i = 0; i < f->n_labels; i++)
		d.strings += strlen(f->label_names[i]) + strlen(v[i]);
	return d;
}

static struct shmetrics_series *series_locked(struct shmetrics_family *f, const char *const *v)
{
	struct shmetrics *m = f->owner;
	uint32_t hash = values_hash(v, f->n_labels);
	struct shmetrics_series *s = series_find(f, v, hash);

	if (s != NULL)
		return s;
	struct client_usage d = series_usage(f, v);
	if (reserve(m, &d, "series", f->name) < 0)
		return NULL;
	s = family_grow(f) == 0 ? series_alloc(f, v, hash) : NULL;
	if (s == NULL) {
		m->used.series--;
		m->used.labels -= d.labels;
		m->used.values -= d.values;
		m->used.strings -= d.strings;
		client_fail(-ENOMEM, "%s: out of memory", f->name);
		return NULL;
	}
	f->series[f->n_series++] = s;
	slot_insert(f->slots, f->slot_mask, hash, (uint32_t)f->n_series);
	return s;
}

SHMETRICS_API struct shmetrics_series *shmetrics_series(struct shmetrics_family *f,
							const char *const *label_values,
							size_t n_values)
{
	if (f == NULL) {
		client_fail(-EINVAL, "shmetrics_series: the family is NULL (did its registration "
				     "fail?)");
		return NULL;
	}
	if (check_values(f, label_values, n_values) < 0 || client_check_fork(f->owner) < 0)
		return NULL;
	pthread_mutex_lock(&f->owner->lock);
	struct shmetrics_series *s = series_locked(f, label_values);
	pthread_mutex_unlock(&f->owner->lock);
	return s;
}

/* ---- freeing ---- */

static void family_free(struct shmetrics_family *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n_series; i++)
		series_free(f->series[i]);
	free(f->series);
	free(f->slots);
	free_strings(f->label_names, f->n_labels);
	free(f->bounds);
	free(f->name);
	free(f->help);
	free(f);
}

void client_registry_free(struct shmetrics *m)
{
	for (size_t i = 0; i < m->n_families; i++)
		family_free(m->families[i]);
	free(m->families);
	m->families = NULL;
	m->n_families = m->cap_families = 0;
}
