/*
 * client_update.c - the hot path of libshmetrics: updates on existing series,
 * and the publisher's side of the histogram shards (the protocol is described
 * in client_internal.h).
 */
#include "client_internal.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOT_BIT       (UINT64_C(1) << 63)
/* Largest double that still counts exactly in the integer word. */
#define EXACT_INT_MAX 9007199254740992.0 /* 2^53 */
/* How often the publisher looks for observations still in flight before it
 * settles for the shard's previous snapshot. */
#define DRAIN_SPINS   64
#define DRAIN_YIELDS  10000

static uint64_t to_bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

static double from_bits(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

/* *w += v for a double kept as bits; relaxed, since the word stands alone.  An
 * unset gauge counts as 0. */
static void add_double(_Atomic uint64_t *w, double v)
{
	uint64_t old = atomic_load_explicit(w, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(
	    w, &old, to_bits((old == GAUGE_UNSET ? 0.0 : from_bits(old)) + v), memory_order_relaxed,
	    memory_order_relaxed))
		;
}

/* A gauge aggregated "last" remembers when it changed: the latest wins across
 * workers.  CLOCK_REALTIME, since workers compare it with each other. */
static void stamp_last(struct shmetrics_series *s)
{
	struct timespec ts;

	if (s->aggregate != AGG_LAST)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	atomic_store_explicit(&s->set_ns, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
			      memory_order_relaxed);
}

static int misuse(const struct shmetrics_series *s, const char *op)
{
	return client_fail(-EINVAL, "%s: %s is not defined for a %s", s->family->name, op,
			   metric_type_name(s->type));
}

SHMETRICS_API int shmetrics_inc(struct shmetrics_series *s)
{
	int rc = client_check_fork(s->owner);

	if (s->type == METRIC_COUNTER) {
		atomic_fetch_add_explicit(&s->ints, 1, memory_order_relaxed);
		return rc;
	}
	if (s->type == METRIC_GAUGE) {
		add_double(&s->bits, 1.0);
		stamp_last(s);
		return rc;
	}
	return misuse(s, "shmetrics_inc");
}

SHMETRICS_API int shmetrics_add(struct shmetrics_series *s, double v)
{
	int rc = client_check_fork(s->owner);

	if (s->type == METRIC_GAUGE) {
		if (!isfinite(v))
			return client_fail(-EINVAL,
					   "%s: shmetrics_add(%g): the amount must be finite",
					   s->family->name, v);
		add_double(&s->bits, v);
		stamp_last(s);
		return rc;
	}
	if (s->type != METRIC_COUNTER)
		return misuse(s, "shmetrics_add");
	if (!(v >= 0) || !isfinite(v))
		return client_fail(
		    -EINVAL, "%s: shmetrics_add(%g): a counter only goes up by a finite amount",
		    s->family->name, v);
	if (v <= EXACT_INT_MAX && v == floor(v))
		atomic_fetch_add_explicit(&s->ints, (uint64_t)v, memory_order_relaxed);
	else
		add_double(&s->bits, v);
	return rc;
}

SHMETRICS_API int shmetrics_set(struct shmetrics_series *s, double v)
{
	int rc = client_check_fork(s->owner);
	uint64_t bits = to_bits(v);

	if (s->type != METRIC_GAUGE)
		return misuse(s, "shmetrics_set");
	if (bits == GAUGE_UNSET)
		bits = to_bits(NAN); /* a NaN of the caller's is a NaN, not "unset" */
	atomic_store_explicit(&s->bits, bits, memory_order_relaxed);
	stamp_last(s);
	return rc;
}

/* The bucket of v: the first bound >= v, or n (the +Inf bucket). */
static uint32_t bucket_of(const double *bounds, uint32_t n, double v)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (v <= bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

SHMETRICS_API int shmetrics_observe(struct shmetrics_series *s, double v)
{
	int rc = client_check_fork(s->owner);

	if (s->type != METRIC_HISTOGRAM)
		return misuse(s, "shmetrics_observe");
	if (isnan(v))
		return client_fail(-EINVAL, "%s: shmetrics_observe(NaN): not an observation",
				   s->family->name);
	struct hist *h = s->hist;
	/* Relaxed: which shard this observation enters is decided by the ticket
	 * word's modification order alone; the shard writes are published by the
	 * release on done below. */
	uint64_t t = atomic_fetch_add_explicit(&h->ticket, 1, memory_order_relaxed);
	struct hist_shard *sh = h->shard[t >> 63];

	atomic_fetch_add_explicit(&sh->buckets[bucket_of(s->bounds, s->n_bounds, v)], 1,
				  memory_order_relaxed);
	add_double(&sh->sum_bits, v);
	/* Release: pairs with the acquire load of done in drained(); a publisher
	 * that counts this observation as done sees its bucket and sum. */
	atomic_fetch_add_explicit(&sh->done, 1, memory_order_release);
	return rc;
}

double client_value(const struct shmetrics_series *s)
{
	uint64_t bits = atomic_load_explicit(&s->bits, memory_order_relaxed);
	double d = bits == GAUGE_UNSET ? 0.0 : from_bits(bits);

	if (s->type == METRIC_COUNTER)
		d += (double)atomic_load_explicit(&s->ints, memory_order_relaxed);
	return d;
}

static void shard_zero(struct hist_shard *sh, uint32_t n_bounds)
{
	atomic_store_explicit(&sh->done, 0, memory_order_relaxed);
	atomic_store_explicit(&sh->sum_bits, to_bits(0.0), memory_order_relaxed);
	for (uint32_t i = 0; i <= n_bounds; i++)
		atomic_store_explicit(&sh->buckets[i], 0, memory_order_relaxed);
}

void client_series_zero(struct shmetrics_series *s)
{
	struct hist *h = s->hist;

	atomic_store_explicit(&s->ints, 0, memory_order_relaxed);
	atomic_store_explicit(&s->bits, s->type == METRIC_GAUGE ? GAUGE_UNSET : to_bits(0.0),
			      memory_order_relaxed);
	atomic_store_explicit(&s->set_ns, 0, memory_order_relaxed);
	s->base = 0;
	if (h == NULL)
		return;
	atomic_store_explicit(&h->ticket, 0, memory_order_relaxed);
	h->started_at_flip = 0;
	h->base_sum = 0;
	for (int i = 0; i < 2; i++) {
		shard_zero(h->shard[i], s->n_bounds);
		h->expect[i] = 0;
		h->snap_sum[i] = 0;
		memset(h->snap_counts[i], 0, (s->n_bounds + 1u) * sizeof(uint64_t));
	}
	memset(h->base_counts, 0, (s->n_bounds + 1u) * sizeof(uint64_t));
}

/* ---- histograms ---- */

static struct hist_shard *shard_new(uint32_t n_bounds)
{
	size_t size = sizeof(struct hist_shard) + (n_bounds + 1u) * sizeof(_Atomic uint64_t);
	struct hist_shard *sh = aligned_alloc(64, (size + 63) & ~(size_t)63);

	if (sh == NULL)
		return NULL;
	atomic_init(&sh->done, 0);
	atomic_init(&sh->sum_bits, to_bits(0.0));
	for (uint32_t i = 0; i <= n_bounds; i++)
		atomic_init(&sh->buckets[i], 0);
	return sh;
}

struct hist *client_hist_new(uint32_t n_bounds)
{
	struct hist *h = calloc(1, sizeof *h);

	if (h == NULL)
		return NULL;
	atomic_init(&h->ticket, 0);
	h->base_counts = calloc(n_bounds + 1u, sizeof(uint64_t));
	for (int i = 0; i < 2; i++) {
		h->shard[i] = shard_new(n_bounds);
		h->snap_counts[i] = calloc(n_bounds + 1u, sizeof(uint64_t));
		if (h->shard[i] == NULL || h->snap_counts[i] == NULL || h->base_counts == NULL) {
			client_hist_free(h);
			return NULL;
		}
	}
	return h;
}

void client_hist_free(struct hist *h)
{
	if (h == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		free(h->shard[i]);
		free(h->snap_counts[i]);
	}
	free(h->base_counts);
	free(h);
}

/* True once every observation given to sh has finished writing it. */
static bool drained(struct hist_shard *sh, uint64_t expect)
{
	for (unsigned i = 0; i < DRAIN_SPINS + DRAIN_YIELDS; i++) {
		/* Acquire: pairs with the release on done in shmetrics_observe. */
		if (atomic_load_explicit(&sh->done, memory_order_acquire) == expect)
			return true;
		if (i >= DRAIN_SPINS)
			sched_yield();
	}
	return false;
}

void client_hist_collect(struct hist *h, uint32_t n_bounds, uint64_t *counts, double *sum)
{
	/* acq_rel: keeps this flip ordered with the previous publish's reads of the
	 * shard that now becomes hot again. */
	uint64_t t = atomic_fetch_add_explicit(&h->ticket, HOT_BIT, memory_order_acq_rel);
	unsigned cold = (unsigned)(t >> 63);
	uint64_t started = t & ~HOT_BIT;
	struct hist_shard *sh = h->shard[cold];

	h->expect[cold] += started - h->started_at_flip;
	h->started_at_flip = started;
	if (drained(sh, h->expect[cold])) {
		for (uint32_t i = 0; i <= n_bounds; i++)
			h->snap_counts[cold][i] = atomic_load_explicit(&sh->buckets[i],
								       memory_order_relaxed);
		h->snap_sum[cold] = from_bits(
		    atomic_load_explicit(&sh->sum_bits, memory_order_relaxed));
	}
	for (uint32_t i = 0; i <= n_bounds; i++)
		counts[i] = h->snap_counts[0][i] + h->snap_counts[1][i];
	*sum = h->snap_sum[0] + h->snap_sum[1];
}
