/*
 * metrics.h - the metric model shared by every shmetrics process.
 *
 * A *batch* is everything one collector publishes at once: families (name, help,
 * type), their series (label pairs) and the series' values, plus the status of the
 * collection that produced them.  Collectors build a batch with the batch_* calls;
 * the segment writer publishes it; the segment reader hands the exporter a
 * *view* of a validated copy; the renderers turn a view into text or JSON.
 *
 * The batch is stored as a packed blob (see docs/segment-layout.md): a header,
 * then arrays of fixed-size records, then strings, then values.  The same blob
 * format lives in shared memory, so a view over a collector's private batch and a
 * view over a reader's validated copy are the same thing.
 *
 * Records are read through the accessors below (which copy them out with memcpy):
 * a reader's copy is a plain byte buffer, and this keeps every access free of
 * alignment and aliasing assumptions.
 *
 * Errors: functions returning int give 0 on success or a negative errno, and fill
 * the caller's err buffer with a message a user can act on.  Nothing here logs.
 * The messages never quote a name, help text, label value, bound or value they
 * were given, nor anything read from a blob: those may come from a file that
 * failed to parse, and that file may be a secret.  They say what is wrong
 * (which character of a name, which label of a series, which limit); the
 * caller, whose call failed, knows which family or series it was.
 */
#ifndef SHMETRICS_METRICS_H
#define SHMETRICS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum metric_type {
	METRIC_UNTYPED = 0,
	METRIC_COUNTER = 1,
	METRIC_GAUGE = 2,
	METRIC_HISTOGRAM = 3,
	METRIC_SUMMARY = 4,
};

/* Lengths above these are refused at registration, never truncated. */
#define METRIC_NAME_MAX       200
#define METRIC_HELP_MAX       1024
#define LABEL_NAME_MAX        100
#define LABEL_VALUE_MAX       1024
#define METRIC_LABELS_MAX     32 /* node_dmi_info has up to 20 */
#define HISTOGRAM_BUCKETS_MAX 64

/* How much one batch may hold.  Fixed when the segment is created. */
struct batch_limits {
	uint32_t max_families;
	uint32_t max_series;
	uint32_t max_labels; /* label pairs over all series */
	uint32_t max_values; /* 1 per counter/gauge series, bounds+2 per histogram/summary */
	uint32_t max_bounds; /* histogram bounds and summary quantiles over all families */
	uint32_t string_bytes;
};

/* Defaults sized for a host collector; a segment of these is about 1 MiB. */
void batch_limits_default(struct batch_limits *lim);

/* ---- blob records (layout documented in docs/segment-layout.md) ---- */

struct blob_header {
	uint64_t used_bytes;      /* header + all sections, multiple of 8 */
	uint64_t meta_generation; /* changes whenever the set of series changes */
	uint64_t publish_time_ns; /* CLOCK_REALTIME when the batch was published */
	uint64_t duration_ns;     /* how long the collection took */
	uint32_t n_families;
	uint32_t n_series;
	uint32_t n_labels;
	uint32_t n_values;
	uint32_t n_bounds;
	uint32_t strings_len; /* padded to a multiple of 8 in the blob */
	uint32_t flags;       /* BLOB_FLAG_* */
	uint32_t error_len;   /* collection error message, after the values */
	/* Segments with workers (docs/segment-layout.md): the claim number of the
	 * worker that published the batch into its slot, and the collector's reset
	 * epoch it was built under.  0 elsewhere. */
	uint32_t worker_epoch;
	uint32_t reset_epoch;
};
#define BLOB_FLAG_SUCCESS 1u

struct blob_family {
	uint32_t name_off, name_len;
	uint32_t help_off, help_len;
	uint32_t type; /* enum metric_type */
	uint32_t first_series, n_series;
	/* histogram: finite upper bounds, increasing; summary: quantiles in [0,1],
	 * increasing */
	uint32_t first_bound, n_bounds;
	uint32_t aggregate; /* gauges: enum metric_aggregate; 0 for other types */
	uint32_t reserved[2];
};

/*
 * How the gauges of several workers of one collector merge into one value
 * (docs/custom-collectors.md, "Workers").  Counters and histograms are always
 * summed.  A LAST gauge series owns two values: the value and the time it was
 * set (CLOCK_REALTIME, ns, as a double), so that the latest across workers wins.
 */
enum metric_aggregate {
	AGG_SUM = 0,
	AGG_MAX = 1,
	AGG_MIN = 2,
	AGG_LAST = 3,
	AGG_PER_WORKER = 4, /* one series per live worker, with a "worker" label */
};
#define AGG_MAX_VALUE    AGG_PER_WORKER
#define AGG_WORKER_LABEL "worker"

/*
 * A series owns values[value_idx ...]: one value for counter, gauge and untyped
 * (two for a gauge aggregated AGG_LAST: the value, then the time it was set);
 * for a histogram n_bounds+2 values: the cumulative count of each finite bucket,
 * then the +Inf bucket (which is the count), then the sum; for a summary n_bounds+2
 * values: the value at each quantile, then the sum, then the count.
 */
struct blob_series {
	uint32_t family;
	uint32_t first_label, n_labels;
	uint32_t value_idx;
};

struct blob_label {
	uint32_t name_off, name_len;
	uint32_t value_off, value_len;
};

/* ---- read-only view over a blob ---- */

struct metrics_view {
	const unsigned char *blob; /* starts with struct blob_header */
	struct blob_header hdr;
	/* section offsets inside blob, derived from the counts */
	size_t families_off, series_off, labels_off, bounds_off, strings_off, values_off;
	size_t error_off;
};

/*
 * Check that buf[0..len) is a well-formed blob within lim and make a view of it.
 * Every count, offset, length and string is checked here (names against the
 * Prometheus rules, label values as UTF-8, series ranges, histogram shapes), so
 * code holding a view may index it without further checks.  buf must stay alive
 * and unchanged while the view is used.  Returns 0, or -EPROTO with the reason.
 */
int metrics_view_open(struct metrics_view *v, const void *buf, size_t len,
		      const struct batch_limits *lim, char *err, size_t errlen);

/*
 * The same, when a view that passed these checks is at hand (known; may be
 * NULL): if buf's counts and metadata (families to values) are byte for byte
 * known's, only the header, sizes and error message are checked again -- the
 * rest depends on those bytes alone -- and *like_known (may be NULL) says so.
 * known must have passed metrics_view_open and its buffer must not have
 * changed since.
 */
int metrics_view_open_like(struct metrics_view *v, const void *buf, size_t len,
			   const struct batch_limits *lim, const struct metrics_view *known,
			   bool *like_known, char *err, size_t errlen);

/* True when a and b have the same counts and the same bytes from their families
 * to their values: the same families, series and labels. */
bool metrics_view_same_meta(const struct metrics_view *a, const struct metrics_view *b);

/* Fills v's section offsets from the counts in v->hdr (no checks). */
void view_compute_offsets(struct metrics_view *v);

void view_family(const struct metrics_view *v, uint32_t i, struct blob_family *out);
void view_series(const struct metrics_view *v, uint32_t i, struct blob_series *out);
void view_label(const struct metrics_view *v, uint32_t i, struct blob_label *out);
double view_value(const struct metrics_view *v, uint32_t i);
double view_bound(const struct metrics_view *v, uint32_t i);
/* Pointer to the string area at off (strings are not NUL-terminated). */
const char *view_string(const struct metrics_view *v, uint32_t off);
/* The collection error message (error_len bytes, may be 0). */
const char *view_error(const struct metrics_view *v, size_t *len);
/* Values per series of family f: 1, 2 for an AGG_LAST gauge, or n_bounds + 2
 * for a histogram or summary. */
uint32_t family_value_count(const struct blob_family *f);
/* The label a type's series may not carry ("le", "quantile"), or NULL. */
const char *family_reserved_label(uint32_t type);
/* The same for the series of family f: also "worker" for a gauge aggregated
 * per worker. */
const char *series_reserved_label(const struct blob_family *f);

/* "sum", "max", "min", "last", "worker", or "?" for an unknown aggregate. */
const char *metric_aggregate_name(uint32_t aggregate);

/* "counter", "gauge", "histogram", "summary", or "untyped" (also for an unknown type). */
const char *metric_type_name(uint32_t type);

/* ---- name rules (Prometheus data model) ---- */

/*
 * The names a family takes in the exposition, in either text dialect: its own
 * name; for a counter its name both with and without "_total" (OpenMetrics names
 * the family without the suffix and its samples with it); for a histogram
 * NAME_bucket, NAME_sum and NAME_count; for a summary NAME_sum and NAME_count.
 * Two families whose names meet would expose samples of one name: the parser
 * refuses them, the textfile collector refuses the later file, the client
 * library the later registration, and the renderers skip the later family
 * (docs/exporter.md, "Duplicate families").
 */
#define METRIC_EXPOSED_MAX 4
struct metric_exposed {
	size_t n;
	size_t len[METRIC_EXPOSED_MAX];
	char name[METRIC_EXPOSED_MAX][METRIC_NAME_MAX + 8]; /* NUL-terminated */
};

/* Fills out with the names family name[0..len) of this type takes. */
void metric_exposed_names(const char *name, size_t len, uint32_t type, struct metric_exposed *out);

/* The first name of a that b takes too, or NULL when they do not meet. */
const char *metric_exposed_meet(const struct metric_exposed *a, const struct metric_exposed *b);

/* [a-zA-Z_:][a-zA-Z0-9_:]*, not starting with "__", at most METRIC_NAME_MAX.
 * The reason names the rule and the position ("character 3 of the metric name is
 * not allowed; ..."), never the name. */
int metric_name_check(const char *s, size_t len, char *err, size_t errlen);
/* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__", at most LABEL_NAME_MAX. */
int label_name_check(const char *s, size_t len, char *err, size_t errlen);
/* Well-formed UTF-8 without NUL bytes. */
bool utf8_valid(const char *s, size_t len);
/* The length of the longest well-formed prefix of s (len when all of s is). */
size_t utf8_valid_prefix(const char *s, size_t len);

/* ---- building a batch (collector side, private memory) ---- */

struct batch;

/* Allocates a batch able to hold lim.  Returns NULL on out of memory. */
struct batch *batch_new(const struct batch_limits *lim);
void batch_free(struct batch *b);

/* Empties the batch for the next collection cycle; keeps its memory. */
void batch_reset(struct batch *b);

/*
 * Starts family `name`; following batch_add_* calls add series to it.  Each family
 * may be started once per batch.  Returns -EINVAL (bad name/help/type, or the
 * family was already started) or -ENOSPC (limits reached), with the reason.
 */
int batch_family(struct batch *b, const char *name, const char *help, enum metric_type type,
		 char *err, size_t errlen);

/* Like batch_family for a gauge whose workers merge by aggregate (enum
 * metric_aggregate).  AGG_LAST series are added with batch_add_timed. */
int batch_gauge_family(struct batch *b, const char *name, const char *help, uint32_t aggregate,
		       char *err, size_t errlen);

/* Like batch_family for a histogram with n finite, strictly increasing bounds. */
int batch_histogram_family(struct batch *b, const char *name, const char *help,
			   const double *bounds, uint32_t n, char *err, size_t errlen);

/* Like batch_family for a summary with n quantiles (finite, in [0,1], strictly
 * increasing; n may be 0: a summary of just _sum and _count). */
int batch_summary_family(struct batch *b, const char *name, const char *help,
			 const double *quantiles, uint32_t n, char *err, size_t errlen);

/*
 * Adds one series to the current family.  names/values are n label pairs
 * (n may be 0).  Label names must be valid and unique within the series and not
 * start with "__"; values must be UTF-8.  A second series with the same label set
 * in one family is refused (-EEXIST).
 */
int batch_add(struct batch *b, const char *const *names, const char *const *values, size_t n,
	      double value, char *err, size_t errlen);

/* Adds a series of an AGG_LAST gauge: its value and when it was set (ns since
 * the epoch).  batch_add refuses such a family's series. */
int batch_add_timed(struct batch *b, const char *const *names, const char *const *values, size_t n,
		    double value, double set_ns, char *err, size_t errlen);

/* Adds a histogram series: counts[n_bounds+1] per bucket (not cumulative; the last
 * is the +Inf bucket), and the sum of observations. */
int batch_add_histogram(struct batch *b, const char *const *names, const char *const *values,
			size_t n, const uint64_t *counts, double sum, char *err, size_t errlen);

/* Adds a summary series: quantile_values[n_bounds] (NaN allowed, as Prometheus
 * allows it for a quantile without observations), the sum and the count (>= 0).
 * Summary series may not have a label named quantile. */
int batch_add_summary(struct batch *b, const char *const *names, const char *const *values,
		      size_t n, const double *quantile_values, double sum, double count, char *err,
		      size_t errlen);

/* Series refused since the last reset because a limit was reached (-ENOSPC). */
uint32_t batch_dropped(const struct batch *b);

/*
 * What the batch can still take before a limit refuses: families, series, label
 * pairs, values, bounds and string bytes.  A collector whose series count depends
 * on the host (one per cgroup, per process group) sizes its output with this
 * instead of finding the limit half-way through a family.
 */
void batch_room(const struct batch *b, struct batch_limits *room);

/* Adds a series of the current family with its values as they are stored:
 * family_value_count of them (cumulative bucket counts then the sum for a
 * histogram, value then time for a "last" gauge). */
int batch_add_raw(struct batch *b, const char *const *names, const char *const *values, size_t n,
		  const double *vals, char *err, size_t errlen);

/* Sets the publish time and metadata generation the packed batch carries (a
 * writer stamps its own when it publishes; a merged batch carries its inputs'). */
void batch_stamp(struct batch *b, uint64_t publish_time_ns, uint64_t meta_generation);

/* Records the outcome of the collection (error may be NULL). */
void batch_set_status(struct batch *b, bool success, uint64_t duration_ns, const char *error);

/* Packs the batch and gives a view of it (valid until the next batch_* call). */
void batch_view(struct batch *b, struct metrics_view *v);

/*
 * Packs the batch into its blob form.  The blob stays owned by the batch and is
 * valid until the next batch_* call; the writer stamps publish_time_ns and
 * meta_generation into it before publishing.
 */
void *batch_blob(struct batch *b, size_t *len);

/* Bytes of the blob up to (not including) the values section: equal prefixes mean
 * the same set of series. */
size_t batch_meta_bytes(const struct batch *b);

/* Size of the largest blob that fits lim; overflow-checked, 0 if lim is absurd. */
size_t batch_blob_capacity(const struct batch_limits *lim);

#endif
