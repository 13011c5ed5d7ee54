/*
 * series_key.h - the canonical key of one sample series, as the history stores
 * it and the query renderer reads it: the sample name, a NUL, then for each
 * label, in increasing order of label name, the label name, a NUL, its value
 * and a NUL.  "node_load1\0" has no labels; "node_cpu_seconds_total\0cpu\0"
 * "0\0mode\0idle\0" has two.  Label values never contain a NUL (metrics.h).
 */
#ifndef SHMETRICS_FORMAT_SERIES_KEY_H
#define SHMETRICS_FORMAT_SERIES_KEY_H

#include <stdbool.h>
#include <stddef.h>

/* The sample name of key. */
void series_key_name(const char *key, size_t key_len, const char **name, size_t *name_len);

/*
 * The next label pair of key: start with *pos = 0; false after the last one
 * (or on a malformed key).
 */
bool series_key_next_label(const char *key, size_t key_len, size_t *pos, const char **lname,
			   size_t *lname_len, const char **lvalue, size_t *lvalue_len);

/* The value of label name in key: true and *value when it is there. */
bool series_key_label(const char *key, size_t key_len, const char *name, size_t name_len,
		      const char **value, size_t *value_len);

#endif
