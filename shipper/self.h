/*
 * self.h - the shipper's own metrics, published into its own segment (which
 * the agent creates and lists to the exporter as collector "shipper"), every
 * SHIPPER_SELF_INTERVAL_MS.  Per endpoint, labelled url="..." (the URL
 * without its query); docs/remote-write.md lists them:
 *
 *   shmetrics_remote_write_samples_sent_total             counter
 *   shmetrics_remote_write_samples_failed_total           counter, every failed attempt
 *   shmetrics_remote_write_samples_retried_total          counter, failed attempts retried
 *   shmetrics_remote_write_samples_dropped_total{reason}  counter: rejected, queue_full,
 *                                                         too_old, corrupt
 *   shmetrics_remote_write_series_{sent,failed,retried}_total, _series_dropped_total{reason}
 *                                                         the same in TimeSeries messages
 *   shmetrics_remote_write_series                         gauge, series per round of publishes
 *   shmetrics_remote_write_requests_sent_total, _bytes_sent_total (compressed bodies)
 *   shmetrics_remote_write_queue_bytes, _queue_max_bytes, _queue_pending_samples
 *   shmetrics_remote_write_oldest_pending_sample_age_seconds
 *   shmetrics_remote_write_last_send_success_timestamp_seconds
 *   shmetrics_remote_write_queue_corruptions_total, _queue_corrupt_bytes_total
 *   shmetrics_remote_write_send_duration_seconds          histogram
 * and per collector:
 *   shmetrics_remote_write_publishes_missed_total{collector}   counter: publishes
 *                                 replaced in their segment before the shipper read them
 */
#ifndef SHMETRICS_SHIPPER_SELF_H
#define SHMETRICS_SHIPPER_SELF_H

#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"
#include "segdir.h"

struct self_metrics;

/* Attaches as the writer of collector's (already created) segment in dir. */
int self_open(struct self_metrics **out, const struct segdir *dir, const char *collector, char *err,
	      size_t errlen);
void self_close(struct self_metrics *m);

/* The collectors read, and the publishes each missed. */
struct self_sources {
	const char *const *names;
	const uint64_t *missed;
	size_t n;
};

/* Publishes one batch: eps[0..n), with series[i] the series endpoint i is
 * sent per round of publishes, and the collectors' missed publishes. */
int self_publish(struct self_metrics *m, struct endpoint *eps, const uint64_t *series, size_t n,
		 const struct self_sources *src, char *err, size_t errlen);

#endif
