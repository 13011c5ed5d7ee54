/* The sending thread of one endpoint (sender.h). */
#include "sender.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

struct sender {
	pthread_t thread;
	struct queue *q;
	struct client *c;
	struct sender_options o;
	atomic_bool stop;
	/* logging state */
	uint32_t failures;         /* consecutive failed attempts */
	uint64_t rejected;         /* rejected batches not yet logged */
	uint64_t failure_log_ms;   /* monotonic, of the last failure line */
	uint64_t rejection_log_ms; /* and of the last rejection line */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint32_t sender_backoff_ms(const struct sender_options *o, uint32_t failures)
{
	uint64_t d = o->min_backoff_ms ? o->min_backoff_ms : 1;

	for (uint32_t i = 1; i < failures && d < o->max_backoff_ms; i++)
		d *= 2;
	return d < o->max_backoff_ms ? (uint32_t)d : o->max_backoff_ms;
}

static bool log_due(uint64_t *last)
{
	uint64_t now = mono_ms();

	if (*last && now - *last < SENDER_LOG_EVERY_MS)
		return false;
	*last = now;
	return true;
}

static void log_outcome(struct sender *s, const struct queue_batch *b,
			const struct client_result *r)
{
	if (r->verdict == CLIENT_OK) {
		if (s->failures)
			log_info("remote write to %s works again after %u failed attempt%s",
				 s->o.name, s->failures, s->failures == 1 ? "" : "s");
		s->failures = 0;
		return;
	}
	if (r->verdict == CLIENT_REJECTED) {
		s->rejected++;
		if (log_due(&s->rejection_log_ms)) {
			log_warnx("remote write to %s refused a request of %" PRIu64
				  " samples (%s); dropped, not retried (%" PRIu64
				  " refused since the last such line)",
				  s->o.name, b->samples, r->reason, s->rejected);
			s->rejected = 0;
		}
		return;
	}
	if (++s->failures == 1)
		s->failure_log_ms = 0; /* a new run of failures is logged at once */
	if (log_due(&s->failure_log_ms))
		log_warnx("remote write to %s failed (%s); retrying, %u attempt%s so far",
			  s->o.name, r->reason, s->failures, s->failures == 1 ? "" : "s");
}

static enum queue_outcome outcome_of(const struct client_result *r)
{
	return r->verdict == CLIENT_OK         ? QUEUE_SENT
	       : r->verdict == CLIENT_REJECTED ? QUEUE_REJECTED
					       : QUEUE_RETRY;
}

/* Takes the next batch and builds its body; false when stopping. */
static bool next_batch(struct sender *s, struct queue_batch *b)
{
	char err[300], repaired[300];

	for (;;) {
		int rc = queue_take(s->q, b, repaired, sizeof repaired, err, sizeof err);
		if (repaired[0])
			log_warnx("queue of %s: %s", s->o.name, repaired);
		if (rc == 0)
			return false;
		if (rc > 0)
			rc = queue_batch_body(b, err, sizeof err);
		if (rc == 0)
			return true;
		log_warnx("queue of %s: %s", s->o.name, err);
		if (rc == -EPROTO)
			queue_finish(s->q, b, QUEUE_CORRUPT);
		else if (!queue_sleep(s->q, 1000))
			return false;
	}
}

static void *run(void *arg)
{
	struct sender *s = arg;
	struct queue_batch b = { 0 };
	struct client_result r;
	bool have = false;

	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		if (!have && !(have = next_batch(s, &b)))
			break;
		uint64_t t0 = mono_ms();
		client_post(s->c, b.data, b.len, &s->stop, &r);
		if (r.verdict == CLIENT_ABORTED)
			break;
		queue_observe_duration(s->q, (double)(mono_ms() - t0) / 1e3);
		log_outcome(s, &b, &r);
		have = queue_finish(s->q, &b, outcome_of(&r));
		if (!have)
			continue;
		uint64_t delay = r.retry_after_ms >= 0 ? (uint64_t)r.retry_after_ms
						       : sender_backoff_ms(&s->o, s->failures);
		if (delay > SENDER_RETRY_AFTER_MAX_MS)
			delay = SENDER_RETRY_AFTER_MAX_MS;
		if (!queue_sleep(s->q, delay))
			break;
	}
	queue_batch_free(&b);
	return NULL;
}

int sender_start(struct sender **out, struct queue *q, struct client *c,
		 const struct sender_options *o, char *err, size_t errlen)
{
	struct sender *s = calloc(1, sizeof *s);

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->q = q;
	s->c = c;
	s->o = *o;
	atomic_init(&s->stop, false);
	int rc = pthread_create(&s->thread, NULL, run, s);
	if (rc != 0) {
		snprintf(err, errlen, "pthread_create failed: %s", strerror(rc));
		free(s);
		return -rc;
	}
	*out = s;
	return 0;
}

void sender_stop(struct sender *s)
{
	if (!s)
		return;
	atomic_store_explicit(&s->stop, true, memory_order_relaxed);
	queue_stop(s->q);
	pthread_join(s->thread, NULL);
	free(s);
}
