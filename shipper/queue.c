/* One endpoint's queue between the reader loop and the sender (queue.h). */
#include "queue.h"

#include "array.h"

#include <errno.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const queue_drop_reason_names[DROP_REASONS] = { "rejected", "queue_full", "too_old",
							    "corrupt" };

const double queue_duration_bounds[QUEUE_DURATION_BOUNDS] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
							      0.5,   1,    2.5,   5,    10,  30 };

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* appended, or stop; on CLOCK_MONOTONIC */
	struct wal *wal;
	struct queue_batching b;
	uint64_t max_bytes;
	bool stop;
	/* the batch the sender holds */
	bool inflight, evicted;
	uint64_t inflight_from, inflight_samples;
	struct queue_stats st;
};

static void add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

int64_t queue_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline_in(struct timespec *ts, uint64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int queue_open(struct queue **out, int dirfd, const struct wal_limits *lim,
	       const struct queue_batching *b, struct wal_repair *rep, char *err, size_t errlen)
{
	struct queue *q = calloc(1, sizeof *q);
	pthread_condattr_t ca;

	if (!q) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = wal_open(&q->wal, dirfd, lim, rep, err, errlen);
	if (rc < 0) {
		free(q);
		return rc;
	}
	q->b = *b;
	q->max_bytes = lim->max_bytes;
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (rep->files) {
		add(&q->st.corruptions, rep->files);
		add(&q->st.corrupt_bytes, rep->bytes);
	}
	*out = q;
	return 0;
}

void queue_close(struct queue *q)
{
	if (!q)
		return;
	wal_close(q->wal);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

struct queue_stats *queue_stats(struct queue *q)
{
	return &q->st;
}

void queue_state(struct queue *q, struct queue_state *st)
{
	pthread_mutex_lock(&q->lock);
	st->bytes = wal_bytes(q->wal);
	st->max_bytes = q->max_bytes;
	st->pending_samples = wal_pending_samples(q->wal);
	st->have_oldest = wal_oldest_ts(q->wal, &st->oldest_ts);
	pthread_mutex_unlock(&q->lock);
}

const struct wal_source *queue_sources(struct queue *q, size_t *n)
{
	return wal_sources(q->wal, n);
}

/* Counts what the WAL repaired since the last call; its words go to rep. */
static void take_repairs_locked(struct queue *q, char *rep, size_t replen)
{
	struct wal_repair r;

	wal_take_repairs(q->wal, &r);
	if (!r.files)
		return;
	add(&q->st.corruptions, r.files);
	add(&q->st.corrupt_bytes, r.bytes);
	if (rep && replen && !rep[0])
		snprintf(rep, replen, "%s", r.first);
}

int queue_append(struct queue *q, const char *source, int64_t min_ts, int64_t max_ts,
		 uint32_t n_samples, const void *payload, size_t len, uint64_t *evicted, char *err,
		 size_t errlen)
{
	struct wal_drop drop;

	pthread_mutex_lock(&q->lock);
	int rc = wal_append(q->wal, source, min_ts, max_ts, n_samples, payload, len, &drop, err,
			    errlen);
	uint64_t counted = drop.samples;
	if (drop.records && q->inflight && !q->evicted && q->inflight_from < drop.to) {
		q->evicted = true; /* counted when the sender finishes it */
		counted -= q->inflight_samples < counted ? q->inflight_samples : counted;
	}
	add(&q->st.samples_dropped[DROP_QUEUE_FULL], counted);
	add(&q->st.series_dropped[DROP_QUEUE_FULL], counted);
	*evicted = counted;
	if (rc == 0)
		pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

int queue_sync(struct queue *q, char *err, size_t errlen)
{
	pthread_mutex_lock(&q->lock);
	int rc = wal_sync(q->wal, err, errlen);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void queue_stop(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

bool queue_stopping(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	bool s = q->stop;
	pthread_mutex_unlock(&q->lock);
	return s;
}

bool queue_sleep(struct queue *q, uint64_t ms)
{
	struct timespec until;

	deadline_in(&until, ms);
	pthread_mutex_lock(&q->lock);
	while (!q->stop && pthread_cond_timedwait(&q->cond, &q->lock, &until) != ETIMEDOUT)
		;
	bool go_on = !q->stop;
	pthread_mutex_unlock(&q->lock);
	return go_on;
}

/* ---- taking a batch ---- */

static void drop_acked_locked(struct queue *q, enum queue_drop_reason why, uint64_t to,
			      uint64_t samples)
{
	char err[200];

	add(&q->st.samples_dropped[why], samples);
	add(&q->st.series_dropped[why], samples);
	wal_ack(q->wal, to, samples, err, sizeof err);
}

/* Drops the records at the head that are older than max_age. */
static void drop_too_old_locked(struct queue *q, int64_t now)
{
	struct wal_record_info info;
	char err[200];

	if (!q->b.max_age_ms)
		return;
	while (wal_peek(q->wal, wal_acked(q->wal), &info, err, sizeof err) == 0 &&
	       info.max_ts < now - (int64_t)q->b.max_age_ms)
		drop_acked_locked(q, DROP_TOO_OLD, info.next, info.n_samples);
}

/* Appends the record info describes to b. */
static int batch_add(struct queue *q, struct queue_batch *b, const struct wal_record_info *info,
		     char *err, size_t errlen)
{
	if (array_reserve(&b->raw, &b->raw_cap, b->raw_len + info->payload_len, 1) < 0 ||
	    array_reserve(&b->lens, &b->lens_cap, b->records + 1, sizeof *b->lens) < 0) {
		snprintf(err, errlen, "out of memory reading the queue");
		return -ENOMEM;
	}
	int rc = wal_read(q->wal, info, b->raw + b->raw_len, err, errlen);
	if (rc < 0)
		return rc;
	if (b->records == 0) {
		b->from = info->pos;
		b->min_ts = info->min_ts;
		b->max_ts = info->max_ts;
	}
	b->min_ts = info->min_ts < b->min_ts ? info->min_ts : b->min_ts;
	b->max_ts = info->max_ts > b->max_ts ? info->max_ts : b->max_ts;
	b->lens[b->records++] = info->payload_len;
	b->raw_len += info->payload_len;
	b->samples += info->n_samples;
	b->to = info->next;
	return 0;
}

/* Fills b from the head: 1 with records, 0 with none, or a negative errno.
 * The first batch after a restart ends where the one being sent then ended. */
static int fill_locked(struct queue *q, struct queue_batch *b, char *err, size_t errlen)
{
	struct wal_record_info info;
	uint64_t pos = wal_acked(q->wal), until = wal_take_resend(q->wal);

	b->records = 0;
	b->samples = 0;
	b->raw_len = 0;
	for (;;) {
		int rc = wal_peek(q->wal, pos, &info, err, errlen);
		if (rc == 1 || (rc < 0 && b->records))
			break;
		if (rc < 0)
			return rc;
		if (until && info.pos >= until)
			break;
		/* one file per batch; whole records; at most max_samples (but one at least) */
		if (b->records && !until &&
		    (info.pos != pos || b->samples + info.n_samples > q->b.max_samples))
			break;
		rc = batch_add(q, b, &info, err, errlen);
		if (rc < 0)
			return b->records ? 1 : rc;
		pos = info.next;
		if (!until && b->samples >= q->b.max_samples)
			break;
	}
	return b->records ? 1 : 0;
}

/* 0 when a batch is due now, else how many ms until one may be. */
static uint64_t due_in_locked(struct queue *q, int64_t now)
{
	int64_t oldest;

	if (wal_pending_samples(q->wal) == 0 || !wal_oldest_ts(q->wal, &oldest))
		return 1000;
	if (wal_pending_samples(q->wal) >= q->b.max_samples)
		return 0;
	int64_t age = now - oldest;
	if (age >= (int64_t)q->b.deadline_ms)
		return 0;
	uint64_t wait = (uint64_t)((int64_t)q->b.deadline_ms - (age > 0 ? age : 0));
	return wait < q->b.deadline_ms ? wait : q->b.deadline_ms;
}

int queue_take(struct queue *q, struct queue_batch *b, char *repaired, size_t replen, char *err,
	       size_t errlen)
{
	struct timespec until;
	int rc = 0;

	repaired[0] = '\0';
	pthread_mutex_lock(&q->lock);
	while (!q->stop) {
		int64_t now = queue_now_ms();
		drop_too_old_locked(q, now);
		uint64_t wait = due_in_locked(q, now);
		if (wait == 0) {
			rc = fill_locked(q, b, err, errlen);
			take_repairs_locked(q, repaired, replen);
			if (rc != 0)
				break;
			wait = 10; /* the records were cut as corrupt: look again */
		}
		deadline_in(&until, wait);
		pthread_cond_timedwait(&q->cond, &q->lock, &until);
	}
	if (rc == 1 && wal_set_sending(q->wal, b->to, err, errlen) < 0)
		rc = -EIO;
	if (rc == 1) {
		q->inflight = true;
		q->evicted = false;
		q->inflight_from = b->from;
		q->inflight_samples = b->samples;
	} else if (q->stop) {
		rc = 0;
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

/* ---- the body, and how it went ---- */

/* The payloads decompressed one after another: one WriteRequest holding every
 * record's series (repeated fields concatenate), compressed again. */
static int join_payloads(struct queue_batch *b, char *err, size_t errlen)
{
	size_t total = 0, off = 0, len;

	for (uint32_t i = 0; i < b->records; off += b->lens[i++]) {
		if (snappy_uncompressed_length((const char *)b->raw + off, b->lens[i], &len) !=
		    SNAPPY_OK)
			goto corrupt;
		total += len;
	}
	size_t max = snappy_max_compressed_length(total);
	if (array_reserve(&b->plain, &b->plain_cap, total + 1, 1) < 0 ||
	    array_reserve(&b->body, &b->body_cap, max, 1) < 0) {
		snprintf(err, errlen, "out of memory building a request");
		return -ENOMEM;
	}
	size_t at = 0;
	off = 0;
	for (uint32_t i = 0; i < b->records; off += b->lens[i++]) {
		len = total - at;
		if (snappy_uncompress((const char *)b->raw + off, b->lens[i], (char *)b->plain + at,
				      &len) != SNAPPY_OK)
			goto corrupt;
		at += len;
	}
	b->len = max;
	if (snappy_compress((const char *)b->plain, at, (char *)b->body, &b->len) != SNAPPY_OK) {
		snprintf(err, errlen, "snappy compression failed");
		return -EIO;
	}
	b->data = b->body;
	return 0;
corrupt:
	snprintf(err, errlen, "a queued request is not valid snappy data");
	return -EPROTO;
}

int queue_batch_body(struct queue_batch *b, char *err, size_t errlen)
{
	size_t len;

	if (b->records != 1)
		return join_payloads(b, err, errlen);
	/* The record's CRC vouches for the bytes; a full validation would cost as
	 * much as decompressing them. */
	if (snappy_uncompressed_length((const char *)b->raw, b->raw_len, &len) != SNAPPY_OK) {
		snprintf(err, errlen, "a queued request is not valid snappy data");
		return -EPROTO;
	}
	b->data = b->raw;
	b->len = b->raw_len;
	return 0;
}

void queue_batch_free(struct queue_batch *b)
{
	free(b->raw);
	free(b->lens);
	free(b->body);
	free(b->plain);
	memset(b, 0, sizeof *b);
}

static void count_dropped(struct queue *q, enum queue_drop_reason why, uint64_t n)
{
	add(&q->st.samples_dropped[why], n);
	add(&q->st.series_dropped[why], n);
}

bool queue_finish(struct queue *q, struct queue_batch *b, enum queue_outcome o)
{
	char err[200];
	uint64_t n = b->samples;
	bool again = false;

	pthread_mutex_lock(&q->lock);
	if (o == QUEUE_SENT) {
		add(&q->st.samples_sent, n);
		add(&q->st.series_sent, n);
		add(&q->st.requests_sent, 1);
		add(&q->st.bytes_sent, b->len);
		atomic_store_explicit(&q->st.last_success_ms, (uint64_t)queue_now_ms(),
				      memory_order_relaxed);
	} else if (o == QUEUE_CORRUPT) {
		count_dropped(q, DROP_CORRUPT, n);
	} else {
		add(&q->st.samples_failed, n);
		add(&q->st.series_failed, n);
		if (o == QUEUE_REJECTED)
			count_dropped(q, DROP_REJECTED, n);
		else if (q->evicted)
			count_dropped(q, DROP_QUEUE_FULL, n);
		again = o == QUEUE_RETRY && !q->evicted;
	}
	if (again) {
		add(&q->st.samples_retried, n);
		add(&q->st.series_retried, n);
	} else {
		/* finished: its records are done with, unless the bound removed them already */
		if (!q->evicted)
			wal_ack(q->wal, b->to, n, err, sizeof err);
		q->inflight = false;
	}
	pthread_mutex_unlock(&q->lock);
	return again;
}

void queue_observe_duration(struct queue *q, double seconds)
{
	size_t i = 0;

	while (i < QUEUE_DURATION_BOUNDS && seconds > queue_duration_bounds[i])
		i++;
	add(&q->st.duration_counts[i], 1);
	add(&q->st.duration_sum_us, (uint64_t)(seconds * 1e6));
}
