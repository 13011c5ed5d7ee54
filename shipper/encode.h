/*
 * encode.h - one collector's batch as Prometheus remote-write requests.
 *
 * A publish of a collector becomes one sample per series the way Prometheus
 * stores what it scrapes: counters, gauges and untyped values under their
 * family's name; a histogram as NAME_bucket{le="..."} (cumulative, ending with
 * le="+Inf"), NAME_sum and NAME_count; a summary as NAME{quantile="..."},
 * NAME_sum and NAME_count.  Each sample travels as one TimeSeries message whose
 * labels (the name as __name__, the series' labels, the le or quantile label
 * and the endpoint's external labels) are sorted by name.
 *
 * An encoder keeps a *template* of those messages for one collector: built when
 * the collector's set of series changes, reused for every publish in between,
 * when only the sample values and the timestamp are written before packing.
 * When the set changes, every series of the old template missing from the new
 * one gets Prometheus' stale marker (ENCODE_STALE_NAN_BITS) at the new
 * timestamp, so queries end cleanly instead of running on for five minutes.
 *
 * Requests are packed with libprotobuf-c from shipper/remote.proto, at most
 * rules->max_samples samples each, and handed to the sink as uncompressed
 * protobuf bytes.
 *
 * Views are trusted here (metrics_view_open checked them).  Nothing logs.
 * Functions returning int give 0 or a negative errno with the reason in err.
 */
#ifndef SHMETRICS_SHIPPER_ENCODE_H
#define SHMETRICS_SHIPPER_ENCODE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

/* Prometheus' stale marker: a NaN no arithmetic produces. */
#define ENCODE_STALE_NAN_BITS 0x7ff0000000000002ull
/* Every other NaN is sent as this one, the NaN a scrape of "NaN" stores. */
#define ENCODE_NAN_BITS       0x7ff8000000000001ull

/* One write_relabel rule on metric names; regex is anchored at both ends. */
struct relabel_rule {
	bool keep; /* keep: only matching names pass; drop: matching names do not */
	regex_t re;
};

struct encode_rules {
	const struct relabel_rule *relabel;
	size_t n_relabel;
	/* Added to every series that has no label of that name. */
	const char *const *ext_names;
	const char *const *ext_values;
	size_t n_ext;
	uint32_t max_samples; /* per request; 0 means no limit */
};

/* Receives one request: the bytes of a WriteRequest with n_samples samples
 * stamped from min_ts to max_ts (ms).  A non-zero return stops the encoding and
 * is returned by the encoder call. */
typedef int (*encode_emit_fn)(void *ctx, const void *req, size_t len, uint32_t n_samples,
			      int64_t min_ts, int64_t max_ts);

struct encode_sink {
	encode_emit_fn emit;
	void *ctx;
};

/* Asked once per family while a template is built: true leaves the family out
 * (another source already sends that name). */
typedef bool (*encode_skip_fn)(void *ctx, const char *name, size_t len);

struct encoder;

/* rules must outlive the encoder.  0 or -ENOMEM. */
int encoder_new(struct encoder **out, const struct encode_rules *rules);
void encoder_free(struct encoder *e);

/*
 * Sends every sample of v stamped ts_ms.  key names v's set of series (the
 * caller's identity of writer and generation): when it or v's counts differ
 * from the template's, the template is rebuilt (skip, which may be NULL, is
 * asked about each family), stale markers go out for the series that are gone,
 * and *rebuilt (may be NULL) is set.
 */
int encoder_publish(struct encoder *e, const struct metrics_view *v, uint64_t key, int64_t ts_ms,
		    encode_skip_fn skip, void *skip_ctx, const struct encode_sink *sink,
		    bool *rebuilt, char *err, size_t errlen);

/* Stale markers at ts_ms for every series of the template, which is then
 * forgotten: the collector went down. */
int encoder_stale_all(struct encoder *e, int64_t ts_ms, const struct encode_sink *sink, char *err,
		      size_t errlen);

/* Samples each publish yields with the current template (0 before the first). */
size_t encoder_series(const struct encoder *e);

/* The sorted hashes (encode_name_hash) of the family names in the current
 * template; *n gets how many. */
const uint64_t *encoder_families(const struct encoder *e, size_t *n);

/* The hash encoder_families uses for a family name. */
uint64_t encode_name_hash(const char *name, size_t len);

/* True when metric name passes the rules (applied in order, like Prometheus'
 * keep and drop actions on __name__). */
bool encode_relabel_pass(const struct relabel_rule *rules, size_t n, const char *name);

#endif
