/* The shipper's own metrics (self.h). */
#include "self.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "segment.h"

struct self_metrics {
	struct seg_writer *writer;
	struct batch *batch;
};

int self_open(struct self_metrics **out, const struct segdir *dir, const char *collector, char *err,
	      size_t errlen)
{
	struct self_metrics *m = calloc(1, sizeof *m);

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = seg_writer_attach(&m->writer, dir, collector, err, errlen);
	if (rc == 0) /* readers judge staleness by this */
		seg_writer_set_interval(m->writer, SHIPPER_SELF_INTERVAL_MS);
	if (rc == 0 && !(m->batch = batch_new(seg_writer_limits(m->writer)))) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
	if (rc < 0) {
		self_close(m);
		return rc;
	}
	*out = m;
	return 0;
}

void self_close(struct self_metrics *m)
{
	if (!m)
		return;
	batch_free(m->batch);
	if (m->writer)
		seg_writer_detach(m->writer);
	free(m);
}

/* What one family shows of an endpoint. */
typedef double (*ep_value_fn)(struct endpoint *e, const struct queue_state *st, uint64_t series);

static double load(_Atomic uint64_t *c)
{
	return (double)atomic_load_explicit(c, memory_order_relaxed);
}

#define STAT_FN(fn, field)                                                                  \
	static double fn(struct endpoint *e, const struct queue_state *st, uint64_t series) \
	{                                                                                   \
		(void)st, (void)series;                                                     \
		return load(&queue_stats(e->q)->field);                                     \
	}
STAT_FN(samples_sent, samples_sent)
STAT_FN(samples_failed, samples_failed)
STAT_FN(samples_retried, samples_retried)
STAT_FN(series_sent, series_sent)
STAT_FN(series_failed, series_failed)
STAT_FN(series_retried, series_retried)
STAT_FN(requests_sent, requests_sent)
STAT_FN(bytes_sent, bytes_sent)
STAT_FN(corruptions, corruptions)
STAT_FN(corrupt_bytes, corrupt_bytes)

static double queue_bytes(struct endpoint *e, const struct queue_state *st, uint64_t series)
{
	(void)e, (void)series;
	return (double)st->bytes;
}

static double queue_max_bytes(struct endpoint *e, const struct queue_state *st, uint64_t series)
{
	(void)e, (void)series;
	return (double)st->max_bytes;
}

static double pending(struct endpoint *e, const struct queue_state *st, uint64_t series)
{
	(void)e, (void)series;
	return (double)st->pending_samples;
}

static double oldest_age(struct endpoint *e, const struct queue_state *st, uint64_t series)
{
	(void)e, (void)series;
	int64_t age = st->have_oldest ? queue_now_ms() - st->oldest_ts : 0;
	return age > 0 ? (double)age / 1e3 : 0;
}

static double last_success(struct endpoint *e, const struct queue_state *st, uint64_t series)
{
	(void)st, (void)series;
	return load(&queue_stats(e->q)->last_success_ms) / 1e3;
}

static double active_series(struct endpoint *e, const struct queue_state *st, uint64_t series)
{
	(void)e, (void)st;
	return (double)series;
}

struct ep_family {
	const char *name, *help;
	enum metric_type type;
	ep_value_fn value;
};

static const struct ep_family ep_families[] = {
	{ "shmetrics_remote_write_samples_sent_total", "Samples the receiver accepted.",
	  METRIC_COUNTER, samples_sent },
	{ "shmetrics_remote_write_samples_failed_total",
	  "Samples in requests that failed, counted on every failed attempt.", METRIC_COUNTER,
	  samples_failed },
	{ "shmetrics_remote_write_samples_retried_total",
	  "Samples in failed requests that were sent again.", METRIC_COUNTER, samples_retried },
	{ "shmetrics_remote_write_series_sent_total",
	  "TimeSeries messages the receiver accepted (one per series and publish).", METRIC_COUNTER,
	  series_sent },
	{ "shmetrics_remote_write_series_failed_total",
	  "TimeSeries messages in requests that failed, on every failed attempt.", METRIC_COUNTER,
	  series_failed },
	{ "shmetrics_remote_write_series_retried_total",
	  "TimeSeries messages in failed requests that were sent again.", METRIC_COUNTER,
	  series_retried },
	{ "shmetrics_remote_write_series",
	  "Series sent for one round of publishes of every collector (after write_relabel).",
	  METRIC_GAUGE, active_series },
	{ "shmetrics_remote_write_requests_sent_total", "Requests the receiver accepted.",
	  METRIC_COUNTER, requests_sent },
	{ "shmetrics_remote_write_bytes_sent_total",
	  "Bytes of accepted request bodies (snappy-compressed protobuf).", METRIC_COUNTER,
	  bytes_sent },
	{ "shmetrics_remote_write_queue_bytes", "Bytes of the endpoint's queue files on disk.",
	  METRIC_GAUGE, queue_bytes },
	{ "shmetrics_remote_write_queue_max_bytes", "The queue's bound (queue.max_bytes).",
	  METRIC_GAUGE, queue_max_bytes },
	{ "shmetrics_remote_write_queue_pending_samples", "Samples queued and not yet sent.",
	  METRIC_GAUGE, pending },
	{ "shmetrics_remote_write_oldest_pending_sample_age_seconds",
	  "Age of the oldest sample not yet sent (0 when none is pending).", METRIC_GAUGE,
	  oldest_age },
	{ "shmetrics_remote_write_last_send_success_timestamp_seconds",
	  "When a request was last accepted (Unix time; 0: never).", METRIC_GAUGE, last_success },
	{ "shmetrics_remote_write_queue_corruptions_total",
	  "Damaged queue records or files found and cut off.", METRIC_COUNTER, corruptions },
	{ "shmetrics_remote_write_queue_corrupt_bytes_total", "Bytes cut off damaged queue files.",
	  METRIC_COUNTER, corrupt_bytes },
};
#define N_EP_FAMILIES (sizeof ep_families / sizeof ep_families[0])

static int add_simple(struct batch *b, const struct ep_family *f, struct endpoint *eps,
		      const struct queue_state *st, const uint64_t *series, size_t n, char *err,
		      size_t errlen)
{
	static const char *const label[] = { "url" };
	int rc = batch_family(b, f->name, f->help, f->type, err, errlen);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *value[] = { eps[i].name };
		rc = batch_add(b, label, value, 1, f->value(&eps[i], &st[i], series[i]), err,
			       errlen);
	}
	return rc;
}

static int add_dropped(struct batch *b, const char *name, const char *help, struct endpoint *eps,
		       size_t n, int samples, char *err, size_t errlen)
{
	static const char *const label[] = { "url", "reason" };
	int rc = batch_family(b, name, help, METRIC_COUNTER, err, errlen);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct queue_stats *qs = queue_stats(eps[i].q);
		for (size_t r = 0; rc == 0 && r < DROP_REASONS; r++) {
			const char *value[] = { eps[i].name, queue_drop_reason_names[r] };
			double v = load(samples ? &qs->samples_dropped[r] : &qs->series_dropped[r]);
			rc = batch_add(b, label, value, 2, v, err, errlen);
		}
	}
	return rc;
}

static int add_durations(struct batch *b, struct endpoint *eps, size_t n, char *err, size_t errlen)
{
	static const char *const label[] = { "url" };
	int rc = batch_histogram_family(b, "shmetrics_remote_write_send_duration_seconds",
					"Time to send one request, answer included.",
					queue_duration_bounds, QUEUE_DURATION_BOUNDS, err, errlen);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct queue_stats *qs = queue_stats(eps[i].q);
		uint64_t counts[QUEUE_DURATION_BOUNDS + 1];
		const char *value[] = { eps[i].name };
		for (size_t k = 0; k <= QUEUE_DURATION_BOUNDS; k++)
			counts[k] = atomic_load_explicit(&qs->duration_counts[k],
							 memory_order_relaxed);
		rc = batch_add_histogram(b, label, value, 1, counts,
					 load(&qs->duration_sum_us) / 1e6, err, errlen);
	}
	return rc;
}

static int add_missed(struct batch *b, const struct self_sources *src, char *err, size_t errlen)
{
	static const char *const label[] = { "collector" };
	int rc = batch_family(b, "shmetrics_remote_write_publishes_missed_total",
			      "Publishes of the collector replaced before the shipper read them "
			      "(it was not scheduled for longer than the collector's interval); "
			      "never sent.",
			      METRIC_COUNTER, err, errlen);

	for (size_t i = 0; rc == 0 && i < src->n; i++) {
		const char *value[] = { src->names[i] };
		rc = batch_add(b, label, value, 1, (double)src->missed[i], err, errlen);
	}
	return rc;
}

int self_publish(struct self_metrics *m, struct endpoint *eps, const uint64_t *series, size_t n,
		 const struct self_sources *src, char *err, size_t errlen)
{
	struct queue_state st[SHIPPER_MAX_ENDPOINTS];
	int rc = 0;

	batch_reset(m->batch);
	for (size_t i = 0; i < n; i++)
		queue_state(eps[i].q, &st[i]);
	for (size_t f = 0; rc == 0 && f < N_EP_FAMILIES; f++)
		rc = add_simple(m->batch, &ep_families[f], eps, st, series, n, err, errlen);
	if (rc == 0)
		rc = add_dropped(m->batch, "shmetrics_remote_write_samples_dropped_total",
				 "Samples dropped, by reason; never sent.", eps, n, 1, err, errlen);
	if (rc == 0)
		rc = add_dropped(m->batch, "shmetrics_remote_write_series_dropped_total",
				 "TimeSeries messages dropped, by reason; never sent.", eps, n, 0,
				 err, errlen);
	if (rc == 0)
		rc = add_durations(m->batch, eps, n, err, errlen);
	if (rc == 0)
		rc = add_missed(m->batch, src, err, errlen);
	if (rc < 0)
		return rc;
	batch_set_status(m->batch, true, 0, NULL);
	return seg_writer_publish(m->writer, m->batch, err, errlen);
}
