/*
 * query.h - a subset of Prometheus' HTTP query API over the history
 * (docs/dashboard.md has the user's view of it).
 *
 * Expressions are single series selectors, with the four matchers:
 *   name
 *   name{label="v", label!="v", label=~"re", label!~"re"}
 *   {__name__=~"a|b", job="x"}
 * optionally followed by a range, name{...}[5m], in an instant query.
 * Regular expressions are POSIX extended ones, anchored at both ends as in
 * PromQL; RE2-only syntax (\d, (?i), ...) is refused with an error.
 *
 * Endpoints (each fills out with a JSON body and returns the HTTP status):
 *   query        instant vector at time (default now), or the raw samples of
 *                a range selector (resultType matrix)
 *   query_range  start, end, step: each step takes the newest sample at or
 *                before it within the 5 minute lookback, none after a
 *                staleness marker; at most 11000 points per series
 *   series       label sets of the series matching match[] in [start, end]
 *   labels       label names (match[] optional)
 *   label_values the values of one label, __name__ for metric names
 * Bad parameters are 400 with errorType bad_data; out of memory is 503.
 */
#ifndef SHMETRICS_EXPORTER_QUERY_H
#define SHMETRICS_EXPORTER_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "history.h"

#define QUERY_MAX_MATCH    16    /* match[] parameters */
#define QUERY_MAX_MATCHERS 32    /* matchers in one selector */
#define QUERY_MAX_LEN      8192  /* bytes of one expression */
#define QUERY_MAX_POINTS   11000 /* per series in query_range, as Prometheus */
#define QUERY_LOOKBACK_MS  300000
#define QUERY_MAX_SAMPLES  5000000 /* per response */

/* The request's parameters; NULL when absent. */
struct query_args {
	const char *query;
	const char *time;
	const char *start;
	const char *end;
	const char *step;
	const char *match[QUERY_MAX_MATCH];
	size_t n_match;
	int64_t now_ms; /* the request's "now", Unix ms */
};

unsigned query_instant(struct history *h, const struct query_args *a, struct buf *out);
unsigned query_range(struct history *h, const struct query_args *a, struct buf *out);
unsigned query_series(struct history *h, const struct query_args *a, struct buf *out);
unsigned query_labels(struct history *h, const struct query_args *a, struct buf *out);
unsigned query_label_values(struct history *h, const char *label, const struct query_args *a,
			    struct buf *out);

/* ---- the parts, for tests ---- */

struct selector;

/*
 * Parses expression s into *out (free with selector_free).  -EINVAL with
 * "1:COL: what is wrong" in err.  range_ms gets the [range], 0 when none.
 */
int selector_parse(const char *s, struct selector **out, int64_t *range_ms, char *err,
		   size_t errlen);
void selector_free(struct selector *sel);

/* True when the series of canonical key matches every matcher of sel. */
bool selector_matches(const struct selector *sel, const char *key, size_t key_len);

/* A Unix time in ms from seconds ("1700000000.5") or RFC 3339. */
int query_parse_time(const char *s, int64_t *ms);

/* A duration in ms from seconds ("15", "0.5") or Prometheus units ("1m30s"). */
int query_parse_duration(const char *s, int64_t *ms);

#endif
