/*
 * render_query.h - the JSON bodies of the Prometheus HTTP API subset the
 * exporter serves from its history (docs/dashboard.md):
 *
 *   {"status":"success","data":{"resultType":"matrix","result":[
 *       {"metric":{"__name__":"node_load1"},"values":[[1700000000.25,"0.5"], ...]}]}}
 *   {"status":"error","errorType":"bad_data","error":"..."}
 *
 * Series come as canonical keys (series_key.h).  Timestamps are Unix
 * milliseconds, written as seconds with three decimals; values as strings, in
 * the text format's spelling ("0.5", "NaN", "+Inf").  Nothing is logged; the
 * output buffer's failed flag reports out of memory.
 */
#ifndef SHMETRICS_FORMAT_RENDER_QUERY_H
#define SHMETRICS_FORMAT_RENDER_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum query_result_type {
	QUERY_RESULT_VECTOR, /* one sample per series: "value" */
	QUERY_RESULT_MATRIX, /* samples per series: "values" */
};

struct query_result_series {
	const char *key;
	size_t key_len;
	size_t n; /* samples; exactly 1 in a vector */
	const int64_t *t_ms;
	const double *values;
};

/* A success body with a vector or matrix of series[0..n). */
void render_query_result(struct buf *out, enum query_result_type type,
			 const struct query_result_series *series, size_t n);

/* {"status":"error","errorType":TYPE,"error":MSG}; MSG is escaped. */
void render_query_error(struct buf *out, const char *type, const char *msg);

/* A success body whose data is an array of strings (label names or values). */
void render_query_strings(struct buf *out, const char *const *s, const size_t *len, size_t n);

/* A success body whose data is an array of label sets (the series endpoint). */
void render_query_label_sets(struct buf *out, const char *const *keys, const size_t *key_lens,
			     size_t n);

/* Appends s[0..len) as a JSON string (quotes included); control characters
 * become \u00XX, other bytes (UTF-8) are copied. */
void render_json_string(struct buf *out, const char *s, size_t len);

#endif
