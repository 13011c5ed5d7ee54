/*
 * client_internal.h - what the files of libshmetrics (lib/client*.c) share.
 * The public contract is include/shmetrics.h.
 *
 * Concurrency contract
 * --------------------
 * Three kinds of callers touch a collector:
 *
 *  - updaters (any thread, shmetrics_inc/add/set/observe): only atomic
 *    operations on their series' own words; never a lock, never a wait;
 *  - registrars (shmetrics_counter/.../shmetrics_series): under m->lock;
 *  - the publisher (background thread or shmetrics_publish): under m->lock, so
 *    there is one publisher at a time and it sees a stable registry.
 *
 * Counters and gauges need no more than that: each value is one word (a
 * counter has two: an integer part for increments and a double part for
 * fractional additions), and a reader that loads it gets some value it held.
 *
 * Histograms need their buckets, sum and count to agree.  Each histogram series
 * has two shards, and one 64-bit ticket word whose top bit names the *hot*
 * shard and whose other 63 bits count the observations ever started:
 *
 *	observe(v):
 *	    t = ticket.fetch_add(1)                   enters shard t>>63 atomically
 *	    shard[t>>63].bucket[i(v)] += 1            relaxed
 *	    shard[t>>63].sum += v                     relaxed CAS loop on the bits
 *	    shard[t>>63].done.fetch_add(1, release)   "my writes to this shard are over"
 *
 *	publish (holding m->lock):
 *	    t = ticket.fetch_add(1 << 63)             flips the hot shard
 *	    cold = t >> 63; started = t & ~(1 << 63)
 *	    expect[cold] += started - started_at_last_flip
 *	    wait (bounded) until shard[cold].done (acquire) == expect[cold]
 *	    snapshot[cold] = shard[cold]              nobody writes it now
 *	    publish snapshot[0] + snapshot[1]
 *
 * Every observation that started before the flip went into the cold shard or
 * into the other one, whose snapshot was taken when it had drained at the flip
 * before; so the sum of both snapshots is exactly the set of observations
 * started before this flip: sum of buckets == count.  Observers never wait.
 * The publisher waits only for observations in flight (a few instructions); if
 * a thread stays preempted inside one for longer than the bound, that shard's
 * previous snapshot is used for this publish (older, but still consistent) and
 * its stragglers are counted at its next turn, since shards are cumulative.
 */
#ifndef SHMETRICS_CLIENT_INTERNAL_H
#define SHMETRICS_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"
#include "segment.h"
#include "shmetrics.h"

#define CLIENT_DROPPED_NAME "shmetrics_client_series_dropped_total"
#define CLIENT_DROPPED_HELP                                                                  \
	"Families and series this collector refused at registration because a limit of its " \
	"segment was reached."
#define CLIENT_DEFAULT_INTERVAL_MS 5000u
#define CLIENT_MIN_INTERVAL_MS     10u

/* What registered families and series will take in a batch. */
struct client_usage {
	uint64_t families, series, labels, values, bounds, strings;
};

struct hist_shard {
	_Atomic uint64_t done;      /* observations finished in this shard, ever */
	_Atomic uint64_t sum_bits;  /* double */
	_Atomic uint64_t buckets[]; /* n_bounds + 1, the last one +Inf (not cumulative) */
};

struct hist {
	_Atomic uint64_t ticket; /* see the contract above */
	struct hist_shard *shard[2];
	/* publisher only, under the collector's lock */
	uint64_t started_at_flip;
	uint64_t expect[2];
	uint64_t *snap_counts[2]; /* n_bounds + 1 each */
	double snap_sum[2];
};

struct shmetrics_series {
	/* hot words first, on their own cache line (the struct is 64-byte aligned) */
	_Atomic uint64_t ints; /* counter: integral increments */
	_Atomic uint64_t bits; /* counter: fractional additions; gauge: the value (double) */
	enum metric_type type;
	uint32_t n_bounds;
	const double *bounds; /* the family's */
	struct hist *hist;    /* histograms only */
	struct shmetrics_family *family;
	char **label_values;
	uint32_t hash;
};

struct shmetrics_family {
	struct shmetrics *owner;
	enum metric_type type;
	char *name, *help;
	size_t n_labels;
	char **label_names;
	uint32_t n_bounds;
	double *bounds;
	struct shmetrics_series **series;
	size_t n_series, cap_series;
	uint32_t *slots; /* open addressing over series: index + 1, 0 = empty */
	uint32_t slot_mask;
};

struct shmetrics {
	pthread_mutex_t lock; /* registry and publishing */
	struct seg_writer *writer;
	struct batch *batch;
	struct batch_limits lim;
	char what[PATH_MAX + 80]; /* the segment, for messages */
	char collector[SEGMENT_COLLECTOR_MAX + 1];
	unsigned interval_ms;
	struct client_usage used;
	struct shmetrics_family **families;
	size_t n_families, cap_families;
	_Atomic uint64_t dropped;

	/* the publisher thread */
	pthread_mutex_t wake_lock;
	pthread_cond_t wake;
	bool stopping;
	bool has_thread;
	pthread_t thread;
};

/* Records the calling thread's error message; returns rc. */
int client_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Registry (client_registry.c); the caller holds m->lock where noted. */
void client_registry_free(struct shmetrics *m);
/* Usage of the library's own self-metric, reserved at open. */
void client_reserve_self(struct shmetrics *m);

/* Values (client_update.c). */
struct hist *client_hist_new(uint32_t n_bounds);
void client_hist_free(struct hist *h);
/* The series' value now (counters, gauges). */
double client_value(const struct shmetrics_series *s);
/* Flips and drains the histogram; fills counts[n_bounds+1] and *sum with a
 * consistent state.  Publisher only, under m->lock. */
void client_hist_collect(struct hist *h, uint32_t n_bounds, uint64_t *counts, double *sum);

/* Publishing (client_publish.c); the caller holds m->lock. */
int client_publish_locked(struct shmetrics *m);

#endif
