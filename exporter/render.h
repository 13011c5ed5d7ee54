/*
 * render.h - turns collectors' views into an exposition body.
 *
 * Both renderers take the same input: a list of sources, each a collector name
 * and a validated view (see metrics.h), rendered in order.  Family names are
 * unique in the output: when two sources carry a family of the same name, the
 * first one wins and the later one is skipped and counted in the result.  Callers
 * put the exporter's own metrics first so that no collector can shadow them.
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
	RENDER_OPENMETRICS,     /* application/openmetrics-text; version=1.0.0 (not served yet) */
};

struct render_source {
	const char *collector;
	const struct metrics_view *view;
};

struct render_result {
	uint64_t duplicate_families; /* families skipped for an earlier one of the same name */
	uint64_t series;             /* series rendered */
	/* The first skipped family, for the caller's log line ("" if none). */
	char dup_family[METRIC_NAME_MAX + 1];
	char dup_collector[64];
};

/* Appends the text exposition of src[0..n) to out, in dialect d. */
int render_text(struct buf *out, enum render_dialect d, const struct render_source *src,
		size_t n, struct render_result *res);

/* What the JSON body says about one collector (see docs/exporter.md). */
struct render_collector_status {
	const char *name;
	bool up;
	bool success;
	bool have_batch;            /* false: the two fields below are unknown (null) */
	double last_publish_seconds;
	double duration_seconds;
	const char *error;          /* NULL when there is nothing to report */
	uint64_t series;
};

/*
 * Appends the JSON document of docs/exporter.md: collectors[0..ncol) as the
 * "collectors" array and the families of src[0..n) as "families".
 */
int render_json(struct buf *out, const struct render_collector_status *col, size_t ncol,
		const struct render_source *src, size_t n, struct render_result *res);

/*
 * Counts the families of src[0..n) that the renderers would skip as duplicates,
 * without rendering (the caller needs the count before it renders its own metrics).
 */
int render_count_duplicates(const struct render_source *src, size_t n, uint64_t *dups);

/*
 * Formats a sample value for the text formats: integers (|v| < 2^63) without an
 * exponent, other finite values in the shortest of %.15g/%.16g/%.17g that reads
 * back as v, and NaN, +Inf, -Inf.  out needs RENDER_VALUE_MAX bytes.
 */
#define RENDER_VALUE_MAX 32
void render_format_value(char *out, double v);

#endif
