/*
 * dashboard.h - serving the embedded dashboard files (web_assets.h): lookup by
 * URL path, a gzip copy made once per file on first use, and an ETag (a hash
 * of the contents) so that a reload costs a 304.
 */
#ifndef SHMETRICS_EXPORTER_DASHBOARD_H
#define SHMETRICS_EXPORTER_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>

#include "web_assets.h"

#define DASHBOARD_ETAG_MAX 24

/* The asset served at path ("/" is the page), or NULL. */
const struct web_asset *dashboard_find(const char *path);

/* Its gzip copy, made on the first call and kept; false on out of memory
 * (serve it plain then).  Thread-safe. */
bool dashboard_gzip(const struct web_asset *a, const void **data, size_t *len);

/* "\"<16 hex digits>\"", a hash of the contents. */
void dashboard_etag(const struct web_asset *a, char *out, size_t outlen);

/* True when an If-None-Match header value names etag (or is "*"). */
bool dashboard_etag_matches(const char *if_none_match, const char *etag);

#endif
