/*
 * negotiate.h - choosing the body format and encoding from request headers.
 * Pure functions of the header text; tested table-driven in test_exporter.c.
 */
#ifndef SHMETRICS_EXPORTER_NEGOTIATE_H
#define SHMETRICS_EXPORTER_NEGOTIATE_H

#include <stdbool.h>

#include "scrape.h"

/*
 * The format for /metrics from an Accept header (NULL: none sent).  OpenMetrics
 * (application/openmetrics-text, version 1.0.0, 0.0.1 or none) is chosen when
 * allowed and its q-value is the highest of the acceptable types, ties going to
 * the one listed first; everything else, including an Accept that names nothing
 * we serve, gets Prometheus text 0.0.4, as Prometheus' own client libraries do.
 */
enum scrape_format negotiate_format(const char *accept, bool openmetrics_allowed);

/* True when Accept-Encoding lists gzip (or x-gzip) with a nonzero q-value. */
bool negotiate_gzip(const char *accept_encoding);

#endif
