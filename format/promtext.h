/*
 * promtext.h - a strict parser for the Prometheus text format (0.0.4), for input
 * nobody vouches for: *.prom files of the textfile collector and the standard
 * output of exec collectors.
 *
 * What is accepted (docs/textfile-exec.md has the full list):
 *  - "# HELP name text" (escapes \\ and \n) and "# TYPE name type" (counter,
 *    gauge, histogram, summary, untyped), each at most once per family and
 *    before its samples; other "#" lines are comments;
 *  - samples "name{label="value",...} value": names by metric_name_check and
 *    label_name_check, label values with the escapes \\, \" and \n, UTF-8;
 *    values in decimal, NaN, +Inf, -Inf (any case, as Go's ParseFloat reads them);
 *  - histograms: name_bucket with an "le" label, name_sum and name_count per
 *    series, the lines of one series together, the same bucket bounds in every
 *    series, integer cumulative counts that never decrease, a +Inf bucket equal
 *    to name_count;
 *  - summaries: name{quantile="q"} lines (q from 0 to 1), name_sum and
 *    name_count per series, the lines of one series together, the same
 *    quantiles in every series (none at all is allowed), a count >= 0; the
 *    quantile values may be NaN.
 *
 * What is refused, with "line N, column C: reason" (or "line N: reason" for a
 * whole line, a series or a family): anything else, in particular
 * timestamps (node_exporter's textfile collector refuses them too), a family
 * whose lines are not contiguous, two families with samples whose exposed names
 * meet (metric_exposed_names: an untyped x beside a counter x_total, a gauge
 * h_sum beside a histogram h), a series twice, a label twice, negative counters,
 * hex numbers, carriage returns, lines longer than PROMTEXT_LINE_MAX, and a last
 * line without its newline.  Reasons name lines, columns and metric and label
 * names, never other text of the input (it may hold a secret).  So what is
 * accepted is served whole by the renderers, in both dialects.
 *
 * Memory is bounded by PROMTEXT_LINE_MAX and the number of family names the
 * input uses (at most PROMTEXT_FAMILIES_MAX); the batch's own limits bound the
 * rest.  No input makes it read out of bounds, loop forever or crash: the fuzz
 * target calls promtext_parse.
 *
 * Errors never hold a byte of the input, which may be a secret that failed to
 * parse (a file put in the wrong place): no name, label, value, HELP text,
 * type word or offending character.  They name the line, the 1-based byte
 * column where it applies, what is wrong and what is expected, e.g.
 *     line 3, column 12: a value must be a number, +Inf, -Inf or NaN (...)
 *     line 7: this series of the histogram family that starts at line 5 has no
 *     bucket with le="+Inf"
 * A family is named by the line where it starts (its HELP, TYPE or first
 * sample line).
 */
#ifndef SHMETRICS_PROMTEXT_H
#define SHMETRICS_PROMTEXT_H

#include <stddef.h>

#include "metrics.h"

#define PROMTEXT_LINE_MAX     (64 * 1024)
#define PROMTEXT_FAMILIES_MAX 10000

/*
 * Parses text[0..len) (not NUL-terminated) and adds its families to b, which
 * should be empty.  Labels of each series are sorted by name.  Families that
 * had no HELP line get an empty help; families without samples are left out.
 *
 * Returns 0, or a negative errno with "line N[, column C]: reason" in err:
 * -EINVAL for input that is not strict Prometheus text, -ENOSPC when b's
 * limits are reached, -ENOMEM.  On failure b holds a partial result: callers
 * discard it (batch_reset).
 */
int promtext_parse(struct batch *b, const char *text, size_t len, char *err, size_t errlen);

/*
 * promtext_parse that also tells where each family starts, so that a caller
 * can name a family without its name: family_line[i] gets the line of the i-th
 * family of b (in b's order), for i < cap.
 */
int promtext_parse_lines(struct batch *b, const char *text, size_t len, size_t *family_line,
			 size_t cap, char *err, size_t errlen);

/*
 * Formats a promtext error about a file as compilers do: "path:N:C: reason",
 * "path:N: reason", or "path: reason" when err names no line.
 */
void promtext_error_in(char *out, size_t outlen, const char *path, const char *err);

#endif
