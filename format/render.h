/*
 * render.h - turns collectors' views into an exposition body.
 *
 * Both renderers take the same input: a list of sources, each a collector name
 * and a validated view (see metrics.h), rendered in order.  Family names are
 * unique in the output: when two sources carry a family of the same name, the
 * first one wins and the later one is skipped and counted in the result.  Callers
 * put the exporter's own metrics first so that no collector can shadow them.
 *
 * A body may also be rendered in two parts, a head (render_text_head,
 * render_json_head) and a tail (render_text, render_json_tail), whose outputs
 * concatenated read exactly as one body: the exporter caches the head, which
 * only changes when a collector publishes, and renders its own counters as a
 * tail at every request.  A source marked reserve in the head's list claims
 * the names of the tail's families there, so that no collector can take them.
 *
 * Views are trusted here (metrics_view_open checked them); nothing is logged.
 * Returns 0, or -ENOMEM (the output buffer is then in the failed state).
 */
#ifndef SHMETRICS_EXPORTER_RENDER_H
#define SHMETRICS_EXPORTER_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "metrics.h"

enum render_dialect {
	RENDER_PROMETHEUS_TEXT, /* text/plain; version=0.0.4 */
	RENDER_OPENMETRICS,     /* application/openmetrics-text; version=1.0.0 */
};
#define RENDER_DIALECTS 2

/*
 * What render_text keeps of a source between renders: for each dialect, the
 * text of every line up to its value (HELP/TYPE lines, names, escaped labels,
 * "le" values), and which value follows.  Re-rendering a source whose series
 * did not change then costs a copy and a number format per sample.
 */
struct render_tmpl;

struct render_tmpl *render_tmpl_new(void);
void render_tmpl_free(struct render_tmpl *t);

struct render_source {
	const char *collector;
	const struct metrics_view *view;
	/*
	 * Optional.  When set, render_text reuses the template while meta_key and
	 * the view's metadata counts and generation are those it was built from,
	 * and rebuilds it otherwise.  meta_key is the caller's name for "the same
	 * writer": a change of writer must change it.
	 */
	struct render_tmpl *tmpl;
	uint64_t meta_key;
	/* Claims the names of its families, so that later sources cannot use
	 * them, and renders nothing: the families come in another part. */
	bool reserve;
};

struct render_result {
	uint64_t duplicate_families; /* families skipped for an earlier one of the same name */
	uint64_t series;             /* series rendered */
	uint64_t families;           /* families rendered */
	/* The first skipped family, for the caller's log line ("" if none). */
	char dup_family[METRIC_NAME_MAX + 1];
	char dup_collector[64];
};

/* Appends the text exposition of src[0..n) to out, in dialect d (OpenMetrics
 * ends with "# EOF"). */
int render_text(struct buf *out, enum render_dialect d, const struct render_source *src, size_t n,
		struct render_result *res);

/* The same, as the head of a body: without the "# EOF" that the tail's
 * render_text writes. */
int render_text_head(struct buf *out, enum render_dialect d, const struct render_source *src,
		     size_t n, struct render_result *res);

/* What the JSON body says about one collector (see docs/exporter.md). */
struct render_collector_status {
	const char *name;
	bool up;
	bool success;
	bool have_batch; /* false: the two fields below are unknown (null) */
	double last_publish_seconds;
	double duration_seconds;
	const char *error; /* NULL when there is nothing to report */
	uint64_t series;
};

/* Bumped only when a field changes meaning or disappears (docs/exporter.md). */
#define RENDER_JSON_SCHEMA_VERSION 1

/*
 * Appends the JSON document of docs/exporter.md: collectors[0..ncol) as the
 * "collectors" array and the families of src[0..n) as "families".
 */
int render_json(struct buf *out, const struct render_collector_status *col, size_t ncol,
		const struct render_source *src, size_t n, struct render_result *res);

/* The same document in two parts: the head leaves the "families" array open
 * (res->families says how many it holds); the tail appends the families of
 * src[0..n) and closes it.  head_had_families: the head's res->families > 0. */
int render_json_head(struct buf *out, const struct render_collector_status *col, size_t ncol,
		     const struct render_source *src, size_t n, struct render_result *res);
int render_json_tail(struct buf *out, const struct render_source *src, size_t n,
		     bool head_had_families, struct render_result *res);

/*
 * Formats a sample value for the text formats (see numfmt.h): integers
 * (|v| < 2^63) without an exponent, other finite values in a short form that
 * reads back as exactly v, and NaN, +Inf, -Inf.  out needs RENDER_VALUE_MAX bytes.
 */
#define RENDER_VALUE_MAX 32
void render_format_value(char *out, double v);

#endif
