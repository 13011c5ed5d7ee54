/*
 * scrape.h - one scrape: snapshot every collector's segment, decide which are up,
 * add the exporter's own metrics, and render the lot.
 *
 * A collector is up when its segment could be read (a consistent, valid
 * snapshot), its writer is alive, and its last publish is no older than
 * staleness_intervals times its interval.  The series of a collector that is not
 * up are omitted (Prometheus then marks them stale); its health metrics say why.
 * A missing, busy or corrupt segment is never fatal: it is reported as down and
 * reopened on the next scrape.
 *
 * Thread safety: scrape_render may be called from several threads at once; the
 * scrapes are serialized inside.  scrape_count_request is lock-free.
 */
#ifndef SHMETRICS_EXPORTER_SCRAPE_H
#define SHMETRICS_EXPORTER_SCRAPE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct scrape_options {
	const char *instance;            /* segment names are /shmetrics.<instance>.<collector> */
	const char *const *collectors;
	size_t n_collectors;
	uint32_t staleness_intervals;    /* 0 means the default, 3 */
};

enum scrape_format {
	SCRAPE_FORMAT_TEXT, /* Prometheus text 0.0.4 */
	SCRAPE_FORMAT_JSON, /* docs/exporter.md */
};

struct scrape;

/* Checks the names and allocates; opens no segment yet.  -EINVAL or -ENOMEM
 * with the reason in err. */
int scrape_new(struct scrape **out, const struct scrape_options *opt, char *err, size_t errlen);
void scrape_free(struct scrape *s);

/* Scrapes all collectors and appends the body to out.  0, or -ENOMEM. */
int scrape_render(struct scrape *s, enum scrape_format f, struct buf *out);

/* Counts one answered HTTP request in shmetrics_exporter_requests_total{code}. */
void scrape_count_request(struct scrape *s, unsigned status);

#endif
