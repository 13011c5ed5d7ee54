/*
 * queue.h - one endpoint's write-ahead queue (wal.h) shared by two threads:
 * the reader loop appends requests; the endpoint's sender takes batches,
 * sends them and says how it went.  Every count the self metrics show about
 * the endpoint lives here.
 *
 * Batching: a batch is consecutive records from the first unacknowledged one,
 * within one file, holding at most max_samples samples (one record at least).
 * It is due when that many samples are pending, or when the oldest pending
 * sample is batch_deadline old (so replayed data goes at once).  Records older
 * than max_age are dropped, not sent.
 *
 * The bound: an append may remove the oldest files (wal.h).  Samples removed
 * that way are counted as dropped ("queue_full") - except those of the batch
 * being sent at that moment, which count as sent if that send succeeds, and as
 * dropped if it does not (it is then not retried: the bound evicted it).
 *
 * Locking: one mutex around the WAL and the counters it guards, one condition
 * variable for "something was appended" and "stop".  The counters the self
 * metrics read without the lock are relaxed atomics (monotonic, independent).
 */
#ifndef SHMETRICS_SHIPPER_QUEUE_H
#define SHMETRICS_SHIPPER_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wal.h"

enum queue_drop_reason {
	DROP_REJECTED,   /* the receiver answered 4xx (not 429) */
	DROP_QUEUE_FULL, /* removed to stay within max_bytes */
	DROP_TOO_OLD,    /* older than max_age when its turn came */
	DROP_CORRUPT,    /* a queued request that could not be decoded */
	DROP_REASONS
};

extern const char *const queue_drop_reason_names[DROP_REASONS];

#define QUEUE_DURATION_BOUNDS 12
extern const double queue_duration_bounds[QUEUE_DURATION_BOUNDS];

struct queue_stats {
	_Atomic uint64_t samples_sent, samples_failed, samples_retried;
	_Atomic uint64_t series_sent, series_failed, series_retried;
	_Atomic uint64_t samples_dropped[DROP_REASONS], series_dropped[DROP_REASONS];
	_Atomic uint64_t requests_sent, bytes_sent;
	_Atomic uint64_t corruptions, corrupt_bytes;
	_Atomic uint64_t last_success_ms; /* wall clock, 0: never */
	_Atomic uint64_t duration_counts[QUEUE_DURATION_BOUNDS + 1];
	_Atomic uint64_t duration_sum_us;
};

/* What the self metrics show of the queue itself (taken under the lock). */
struct queue_state {
	uint64_t bytes, max_bytes;
	uint64_t pending_samples;
	bool have_oldest;
	int64_t oldest_ts; /* ms */
};

struct queue_batching {
	uint32_t max_samples;
	uint32_t deadline_ms;
	uint64_t max_age_ms; /* 0: no limit */
};

/* A batch taken for sending: the records' payloads as they are stored. */
struct queue_batch {
	uint64_t from, to; /* positions */
	uint32_t records;
	uint64_t samples;
	int64_t min_ts, max_ts;
	unsigned char *raw; /* the payloads, one after another */
	size_t raw_len, raw_cap;
	uint32_t *lens; /* payload lengths */
	size_t lens_cap;
	/* the request body (queue_batch_body): raw itself, or body */
	const unsigned char *data;
	size_t len;
	unsigned char *body, *plain;
	size_t body_cap, plain_cap;
};

struct queue;

/* Opens the queue in dirfd (see wal_open; rep says what was repaired). */
int queue_open(struct queue **out, int dirfd, const struct wal_limits *lim,
	       const struct queue_batching *b, struct wal_repair *rep, char *err, size_t errlen);
void queue_close(struct queue *q);

struct queue_stats *queue_stats(struct queue *q);
void queue_state(struct queue *q, struct queue_state *st);
/* The per-collector newest timestamps found in the files when opening. */
const struct wal_source *queue_sources(struct queue *q, size_t *n);

/* Appends one request (snappy-compressed WriteRequest).  *evicted gets the
 * samples the bound removed and counted as dropped. */
int queue_append(struct queue *q, const char *source, int64_t min_ts, int64_t max_ts,
		 uint32_t n_samples, const void *payload, size_t len, uint64_t *evicted, char *err,
		 size_t errlen);

/* fdatasync (wal_sync) under the lock. */
int queue_sync(struct queue *q, char *err, size_t errlen);

/* Wakes every wait: queue_take returns 0 and queue_sleep returns early from
 * now on. */
void queue_stop(struct queue *q);
bool queue_stopping(struct queue *q);

/*
 * Waits for a due batch and fills b (whose buffers it reuses).  Returns 1 with
 * a batch, 0 when stopping, or a negative errno (err says why; the caller logs
 * it and waits before trying again).  repairs of corrupt records found on the
 * way are counted; *repaired gets their description for the log ("" if none).
 */
int queue_take(struct queue *q, struct queue_batch *b, char *repaired, size_t replen, char *err,
	       size_t errlen);

/* The body to POST for b: its one payload as stored, or the payloads
 * decompressed, joined and compressed again.  -EPROTO when a payload is not
 * valid snappy (the batch is then to be finished as QUEUE_CORRUPT). */
int queue_batch_body(struct queue_batch *b, char *err, size_t errlen);

void queue_batch_free(struct queue_batch *b);

enum queue_outcome { QUEUE_SENT, QUEUE_REJECTED, QUEUE_RETRY, QUEUE_CORRUPT };

/*
 * Records how sending b went.  Returns true when b is still to be sent again
 * (QUEUE_RETRY, and the bound has not evicted it meanwhile); false when b is
 * finished and the next one should be taken.
 */
bool queue_finish(struct queue *q, struct queue_batch *b, enum queue_outcome o);

/* Records one send's duration in the histogram. */
void queue_observe_duration(struct queue *q, double seconds);

/* Sleeps ms or until queue_stop.  Returns false when stopping. */
bool queue_sleep(struct queue *q, uint64_t ms);

/* Wall-clock milliseconds (the timestamps' clock). */
int64_t queue_now_ms(void);

#endif
