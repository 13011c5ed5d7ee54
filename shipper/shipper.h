/*
 * shipper.h - the remote-write shipper process (shmetrics-shipper), which the
 * agent starts when remote write is configured (docs/remote-write.md).
 *
 * One loop reads every collector's segment, as the exporter does, and turns
 * each new publish into samples stamped with the collector's publish time:
 * a 1 s collector gives 1 s samples, with no re-scrape in between.  For every
 * endpoint the samples are encoded (encode.h) and appended to the endpoint's
 * write-ahead queue (queue.h); one sender thread per endpoint (sender.h) sends
 * them.  Collectors that go down get stale markers and health series
 * (health.h).  The shipper's own metrics go into its own segment, which the
 * exporter serves like any collector's (self.h).
 *
 * Ordering: per collector, every timestamp the shipper queues is later than the
 * one before (a publish that would break this is skipped), and each queue is
 * sent in order, one batch at a time: every series reaches the receiver in
 * timestamp order, what was queued before a restart ahead of what comes after.
 */
#ifndef SHMETRICS_SHIPPER_SHIPPER_H
#define SHMETRICS_SHIPPER_SHIPPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "config.h"
#include "segment.h"

#define SHIPPER_MAX_COLLECTORS   130
#define SHIPPER_MAX_ENDPOINTS    8
#define SHIPPER_LIST_MAX         16 /* headers, external labels, relabel rules per endpoint */
/* How often the shipper publishes its own metrics (its segment's interval). */
#define SHIPPER_SELF_INTERVAL_MS 5000u
/* How often queued data is made durable with fdatasync (docs/remote-write.md). */
#define SHIPPER_SYNC_INTERVAL_MS 1000u

/* Defaults: the agent's configuration's (config.h), which the agent always
 * passes anyway. */
#define SHIPPER_DEFAULT_MAX_BYTES         CONFIG_RW_DEFAULT_MAX_BYTES
#define SHIPPER_DEFAULT_MAX_AGE_MS        CONFIG_RW_DEFAULT_MAX_AGE_MS
#define SHIPPER_DEFAULT_BATCH_MAX_SAMPLES CONFIG_RW_DEFAULT_BATCH_MAX_SAMPLES
#define SHIPPER_DEFAULT_BATCH_DEADLINE_MS CONFIG_RW_DEFAULT_BATCH_DEADLINE_MS
#define SHIPPER_DEFAULT_MIN_BACKOFF_MS    CONFIG_RW_DEFAULT_MIN_BACKOFF_MS
#define SHIPPER_DEFAULT_MAX_BACKOFF_MS    CONFIG_RW_DEFAULT_MAX_BACKOFF_MS
#define SHIPPER_DEFAULT_TIMEOUT_MS        CONFIG_RW_DEFAULT_TIMEOUT_MS

/* One remote-write endpoint.  Strings point into the command line. */
struct endpoint_options {
	const char *url;
	const char *username, *password_file, *bearer_token_file;
	const char *ca_file, *cert_file, *key_file, *server_name;
	bool insecure_skip_verify;
	size_t n_headers;
	const char *headers[CLIENT_HEADERS_MAX]; /* "Name: value" */
	size_t n_ext;
	const char *ext_names[SHIPPER_LIST_MAX], *ext_values[SHIPPER_LIST_MAX];
	size_t n_relabel;
	bool relabel_keep[SHIPPER_LIST_MAX];
	const char *relabel_regex[SHIPPER_LIST_MAX];
	uint64_t max_bytes;
	uint32_t max_age_ms; /* 0: no limit */
	uint32_t batch_max_samples, batch_deadline_ms;
	uint32_t min_backoff_ms, max_backoff_ms;
	uint32_t timeout_ms;
};

struct shipper_options {
	const char *instance;
	const char *segments_dir; /* the base of the instance's directory (segdir.h) */
	uint32_t max_series;      /* what a segment may hold (seg_read_limits_for) */
	size_t n_collectors;
	const char *collectors[SHIPPER_MAX_COLLECTORS];
	const char *self_segment; /* the collector name of our own metrics' segment; NULL: none */
	const char *queue_dir;
	uint32_t staleness_intervals;
	size_t n_endpoints;
	struct endpoint_options endpoints[SHIPPER_MAX_ENDPOINTS];
};

/* Fills the documented defaults. */
void shipper_endpoint_defaults(struct endpoint_options *e);

/* Runs until SIGTERM or SIGINT.  Returns the exit status: 0, 1 when setting up
 * failed, 78 (EX_CONFIG) when the options cannot work. */
int shipper_run(const struct shipper_options *o);

/* The endpoint's URL as logs and metric labels show it: without a query or a
 * fragment.  Returns out. */
const char *shipper_url_name(const char *url, char *out, size_t outlen);

#endif
