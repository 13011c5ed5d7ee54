/*
 * sender.h - one endpoint's sending thread: takes due batches from the queue,
 * posts them, and retries with exponential backoff (min_backoff doubling up to
 * max_backoff, or the receiver's Retry-After) on 5xx, 429 and failed
 * connections; any other answer drops the batch, counted and logged with the
 * receiver's reason.  Batches go one at a time, in queue order, so every
 * series' samples arrive in timestamp order.
 */
#ifndef SHMETRICS_SHIPPER_SENDER_H
#define SHMETRICS_SHIPPER_SENDER_H

#include <stdint.h>

#include "client.h"
#include "queue.h"

/* A Retry-After longer than this is cut to it. */
#define SENDER_RETRY_AFTER_MAX_MS 600000u
/* Repeated failures are logged at most this often. */
#define SENDER_LOG_EVERY_MS       60000u

struct sender_options {
	uint32_t min_backoff_ms, max_backoff_ms;
	const char *name; /* the endpoint in log lines (its URL without a query) */
};

struct sender;

/* Starts the thread; q and c stay the caller's and must outlive it. */
int sender_start(struct sender **out, struct queue *q, struct client *c,
		 const struct sender_options *o, char *err, size_t errlen);

/* Stops the thread (an unfinished request is aborted and sent again on the
 * next start) and frees it. */
void sender_stop(struct sender *s);

/* The next delay after *failures consecutive failures (this one included). */
uint32_t sender_backoff_ms(const struct sender_options *o, uint32_t failures);

#endif
