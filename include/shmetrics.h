/*
 * shmetrics.h - publish your own metrics through a shmetrics agent.
 *
 * libshmetrics lets a program act as one *custom collector* of a running
 * shmetrics-agent: it registers counters, gauges and histograms, updates them
 * from any number of threads, and a background thread publishes them into the
 * collector's shared-memory segment, from which the agent's exporter serves
 * them on /metrics next to the host metrics.  Build with
 *
 *	cc app.c $(pkg-config --cflags --libs shmetrics)
 *
 * A minimal collector:
 *
 *	struct shmetrics *m = shmetrics_open(NULL, NULL);
 *	if (m == NULL)
 *		errx(1, "%s", shmetrics_last_error());
 *	const char *labels[] = { "method" };
 *	struct shmetrics_family *f = shmetrics_counter(m, "app_requests_total",
 *						       "Requests served.", labels, 1);
 *	const char *get[] = { "GET" };
 *	struct shmetrics_series *reqs = shmetrics_series(f, get, 1);
 *	...
 *	shmetrics_inc(reqs);          // hot path: lock-free, allocation-free
 *	...
 *	shmetrics_close(m);
 *
 * OBJECTS
 *	struct shmetrics         an attached collector (one per collector and process)
 *	struct shmetrics_family  a registered metric family: name, help, type,
 *	                         label names (and bucket bounds for a histogram)
 *	struct shmetrics_series  one series of a family: a set of label values
 *	All three are owned by the library.  Families and series stay valid, and
 *	keep their identity, until shmetrics_close() of their collector; they are
 *	never freed before, so a handle may be cached and used without checks.
 *
 * ERRORS
 *	Calls that can fail return NULL or a negative errno value (-EINVAL,
 *	-ENOSPC, ...) and record a message for a human in the calling thread,
 *	read with shmetrics_last_error().  Messages name the object and say what
 *	to change, e.g.
 *	    app_requests_total: series refused: collector "myapp" reached its
 *	    limit of 10000 series (max_series in the agent's configuration)
 *	A name that breaks the rules is not repeated; the message says which
 *	character and which rule ("registering a family: character 4 of the
 *	metric name is not allowed; metric names must match ...").
 *	Nothing in the library prints, logs, exits or aborts.
 *
 * THREADS
 *	Every function may be called from any thread.
 *	- Updates (shmetrics_inc/add/set/observe) on an existing series are
 *	  lock-free and allocation-free: C11 atomic operations on the series' own
 *	  words.  Any number of threads may update the same series at once; no
 *	  update is lost.  They never wait for the publisher.
 *	- Registration (shmetrics_counter/gauge/histogram, shmetrics_series) takes
 *	  the collector's lock and may allocate; it may wait for a publish in
 *	  progress.  Look series up once and keep the handle on hot paths.
 *	- Publishing (the background thread, or shmetrics_publish) takes the same
 *	  lock.  A histogram is published consistently: its buckets, sum and count
 *	  all describe the same set of observations (the +Inf bucket always equals
 *	  the count).  A counter or gauge is published with its value at that
 *	  moment.
 *	- shmetrics_close() must not race with any other call on the same
 *	  collector or its families and series.
 *	- Signal handlers may call the update functions (they are async-signal-
 *	  safe: only atomic operations) but nothing else.
 *
 * WORKERS AND FORK
 *	A collector declared with "workers": N in the agent's configuration
 *	takes up to N processes at once (a pre-fork server's workers), each
 *	publishing into a slot of its own; the exporter merges them: counters
 *	and histograms summed, gauges by the aggregate given to
 *	shmetrics_gauge_aggregated.  What an ended worker counted stays in the
 *	sums until the collector is reset (an agent restart, `shmetrics
 *	reset`).  Nothing else changes in the API.
 *	- fork(): the library notices it.  In the child, every collector the
 *	  parent had open starts again with its series at zero, and attaches
 *	  as a new worker (with a publisher thread of its own) at its first
 *	  call: families and series handles stay valid.  That first call is not
 *	  async-signal-safe; it returns the error if attaching fails (a
 *	  collector without workers refuses a second writer), and the child's
 *	  values are then not published.
 *	- exit(): every attached collector publishes once more, so a worker
 *	  that exits normally loses nothing; one killed loses at most what it
 *	  counted since its last publish (its interval).
 *
 * PROCESS DEATH AND RESTARTS
 *	Values live in the process.  When it dies its series stop being
 *	published; the exporter reports the collector down and omits the series
 *	at once (writer not running) or after the staleness window (no publish).
 *	When the process starts again its counters start again from zero, which
 *	Prometheus treats as an ordinary counter reset (rate() and increase()
 *	handle it).  Keep a value that must survive restarts somewhere else.
 *
 * LIMITS
 *	The agent sizes each segment: at most max_series series (and a matching
 *	number of families, label pairs, bucket bounds and string bytes) per
 *	collector.  A registration that would not fit is refused with -ENOSPC and
 *	counted in the collector's own series shmetrics_client_series_dropped_total,
 *	which the library publishes with your metrics (it reserves room for it).
 *	Names and help longer than the limits below are refused with -EINVAL.
 *	Nothing is ever truncated.
 *
 * See docs/custom-collectors.md for running a collector under the agent
 * ("command") or attaching to one it created for you ("external").
 */
#ifndef SHMETRICS_H
#define SHMETRICS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SHMETRICS_API __attribute__((visibility("default")))
#else
#define SHMETRICS_API
#endif

#define SHMETRICS_VERSION_MAJOR 0
#define SHMETRICS_VERSION_MINOR 1

/* Limits on what may be registered (longer is refused, never truncated). */
#define SHMETRICS_NAME_MAX        200  /* metric name, bytes */
#define SHMETRICS_HELP_MAX        1024 /* help text, bytes of UTF-8 */
#define SHMETRICS_LABEL_NAME_MAX  100  /* label name, bytes */
#define SHMETRICS_LABEL_VALUE_MAX 1024 /* label value, bytes of UTF-8 */
#define SHMETRICS_LABELS_MAX      16   /* label names per family */
#define SHMETRICS_BUCKETS_MAX     64   /* finite bucket bounds per histogram */

struct shmetrics;
struct shmetrics_family;
struct shmetrics_series;

/* shmetrics_options.flags */
#define SHMETRICS_NO_PUBLISHER 1u /* no background thread: publish with shmetrics_publish() */

/*
 * Options of shmetrics_open().  Zero-initialise it and set what you need;
 * a NULL options pointer means all defaults.
 */
struct shmetrics_options {
	/* Agent instance whose segments to use (its directory: $SHMETRICS_SEGMENTS_DIR,
	 * else /run/shmetrics, $XDG_RUNTIME_DIR/shmetrics or /tmp/shmetrics-UID, as
	 * docs/cli.md says, then INSTANCE/NAME.seg).
	 * NULL: $SHMETRICS_INSTANCE, else "main".  Ignored when name is NULL. */
	const char *instance;
	/* Publish interval in milliseconds (at least 10).  0: $SHMETRICS_INTERVAL
	 * ("10s", "500ms") when name is NULL, else the interval the agent wrote
	 * into the segment, else 5000.  Readers measure staleness in it. */
	unsigned interval_ms;
	unsigned flags; /* SHMETRICS_NO_PUBLISHER */
};

/*
 * shmetrics_open - attach to a collector's segment as its only writer.
 *
 * name NULL: the program was started by the agent as a "command" custom
 * collector; the segment is its descriptor $SHMETRICS_SEGMENT_FD (and the name from
 * $SHMETRICS_COLLECTOR).  name "NAME": attach to the segment the agent created
 * for the "external" custom collector NAME ([a-zA-Z0-9_-]{1,63}).  The segment
 * must exist (the agent creates it) and the caller needs read and write
 * permission on it (its owner, group and mode are set in the agent's
 * configuration).  A segment that another running process writes is refused:
 * a collector has exactly one writer -- unless it was declared with workers,
 * in which case this process takes a free worker slot, or is refused (-EBUSY)
 * when every slot is held by a running process.
 *
 * Unless SHMETRICS_NO_PUBLISHER is set, starts a background thread (all
 * signals blocked) that publishes every interval.  Publishes once right away,
 * so the collector shows up at once.
 *
 * Returns the collector, or NULL with the reason in shmetrics_last_error()
 * (the segment's name and the failing call, e.g. a permission problem).
 * Release it with shmetrics_close().
 */
SHMETRICS_API struct shmetrics *shmetrics_open(const char *name,
					       const struct shmetrics_options *options);

/*
 * shmetrics_close - stop the publisher, publish one last time, detach and free
 * the collector with all its families and series.  NULL is ignored.  The
 * segment stays (it is the agent's); readers see the collector go stale.
 */
SHMETRICS_API void shmetrics_close(struct shmetrics *m);

/*
 * shmetrics_publish - publish every registered series now (in addition to the
 * background thread).  Returns 0, or a negative errno with the reason in
 * shmetrics_last_error() (e.g. the segment's memory could not be reserved).
 * Serialised with the background publisher.
 */
SHMETRICS_API int shmetrics_publish(struct shmetrics *m);

/* The collector's name and its interval in milliseconds. */
SHMETRICS_API const char *shmetrics_collector_name(const struct shmetrics *m);
SHMETRICS_API unsigned shmetrics_interval_ms(const struct shmetrics *m);

/*
 * Registering families.
 *
 * name: [a-zA-Z_:][a-zA-Z0-9_:]*, not starting with "__", at most
 * SHMETRICS_NAME_MAX bytes.  Counters should end in "_total" (the Prometheus
 * convention; promtool warns otherwise), and units should be base units
 * ("_seconds", "_bytes").  help: UTF-8, at most SHMETRICS_HELP_MAX bytes, NULL
 * for none.  label_names: n_labels names ([a-zA-Z_][a-zA-Z0-9_]*, not "__..."),
 * distinct, at most SHMETRICS_LABELS_MAX; NULL when n_labels is 0.  The strings
 * are copied.
 *
 * Registering a name again with the same type, label names (and bounds) returns
 * the same family (the first help is kept).  Another type, other label names or
 * other bounds: NULL with -EEXIST in the message.  So is a family whose exposed
 * names would meet another's: a counter is exposed as NAME and NAME_total (with
 * or without the suffix, as OpenMetrics spells it), a histogram as NAME,
 * NAME_bucket, NAME_sum and NAME_count; a gauge "x_total" next to a counter
 * "x", or a gauge "h_sum" next to a histogram "h", is refused.
 *
 * Returns the family, or NULL with the reason in shmetrics_last_error(): an
 * invalid argument, a conflicting registration, or a limit of the segment
 * reached (counted in shmetrics_client_series_dropped_total).
 */
SHMETRICS_API struct shmetrics_family *shmetrics_counter(struct shmetrics *m, const char *name,
							 const char *help,
							 const char *const *label_names,
							 size_t n_labels);
SHMETRICS_API struct shmetrics_family *shmetrics_gauge(struct shmetrics *m, const char *name,
						       const char *help,
						       const char *const *label_names,
						       size_t n_labels);

/* How the values of one gauge series in several workers merge into one. */
enum shmetrics_aggregate {
	SHMETRICS_AGGREGATE_SUM = 0,   /* the sum over live workers (shmetrics_gauge) */
	SHMETRICS_AGGREGATE_MAX = 1,   /* the largest value of a live worker */
	SHMETRICS_AGGREGATE_MIN = 2,   /* the smallest value of a live worker */
	SHMETRICS_AGGREGATE_LAST = 3,  /* the value set last by any worker, even an ended one */
	SHMETRICS_AGGREGATE_WORKER = 4 /* one series per live worker, label worker="SLOT" */
};

/*
 * shmetrics_gauge_aggregated - a gauge whose workers merge by aggregate.  In a
 * collector without workers the aggregate has no effect.  A gauge series that
 * a worker never set, incremented or added to is not part of its contribution
 * (a worker that never touched it does not pull a min down to 0).  With
 * SHMETRICS_AGGREGATE_WORKER the label name "worker" is reserved; with
 * SHMETRICS_AGGREGATE_LAST every update also reads the clock.  Registering the
 * name again with another aggregate is refused (-EEXIST).
 */
SHMETRICS_API struct shmetrics_family *shmetrics_gauge_aggregated(struct shmetrics *m,
								  const char *name,
								  const char *help,
								  const char *const *label_names,
								  size_t n_labels, int aggregate);

/* The worker slot this process holds in m, or -1 (no workers, or not attached
 * yet after a fork). */
SHMETRICS_API int shmetrics_worker_slot(const struct shmetrics *m);
/*
 * A histogram with n_bounds finite upper bounds, strictly increasing (an
 * observation v lands in the first bucket with v <= bound, else in +Inf), at
 * most SHMETRICS_BUCKETS_MAX.  bounds NULL and n_bounds 0: the Prometheus
 * default buckets (.005 .01 .025 .05 .1 .25 .5 1 2.5 5 10).  The label name
 * "le" is reserved.
 */
SHMETRICS_API struct shmetrics_family *shmetrics_histogram(struct shmetrics *m, const char *name,
							   const char *help,
							   const char *const *label_names,
							   size_t n_labels, const double *bounds,
							   size_t n_bounds);

/*
 * shmetrics_series - the series of family f with these label values (one per
 * label name, in the order the names were registered; UTF-8, at most
 * SHMETRICS_LABEL_VALUE_MAX bytes; "" is a valid value).  Created at its
 * first use with value 0; later calls with equal values return the same
 * handle.  Returns NULL with the reason in shmetrics_last_error() (wrong
 * number of values, invalid UTF-8, the collector's series limit reached).
 */
SHMETRICS_API struct shmetrics_series *shmetrics_series(struct shmetrics_family *f,
							const char *const *label_values,
							size_t n_values);

/*
 * Updates.  Lock-free, allocation-free, async-signal-safe; any thread.
 *
 * shmetrics_inc      counter or gauge: +1
 * shmetrics_add      counter: + v (v finite and >= 0); gauge: + v (finite)
 * shmetrics_set      gauge: = v (any double, also NaN and infinities)
 * shmetrics_observe  histogram: one observation of v (not NaN)
 *
 * Return 0, or -EINVAL when the operation does not fit the family's type or v
 * is not allowed (the series is then unchanged; the message is in
 * shmetrics_last_error()).  s must not be NULL.
 */
SHMETRICS_API int shmetrics_inc(struct shmetrics_series *s);
SHMETRICS_API int shmetrics_add(struct shmetrics_series *s, double v);
SHMETRICS_API int shmetrics_set(struct shmetrics_series *s, double v);
SHMETRICS_API int shmetrics_observe(struct shmetrics_series *s, double v);

/*
 * shmetrics_last_error - the message of the last failed call in this thread,
 * or "" if none failed yet.  The string belongs to the library and stays
 * valid until the next failing call in the same thread.
 */
SHMETRICS_API const char *shmetrics_last_error(void);

#ifdef __cplusplus
}
#endif

#endif
