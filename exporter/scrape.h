/*
 * scrape.h - one scrape: bring every collector's snapshot up to date, decide
 * which are up, add the exporter's own metrics, and render the lot - or hand out
 * the body rendered for an earlier request when nothing changed since.
 *
 * A collector is up when its segment could be read (a consistent, valid
 * snapshot), its writer is alive, and its last publish is no older than
 * staleness_intervals times its interval.  The series of a collector that is not
 * up are omitted (Prometheus then marks them stale); its health metrics say why.
 * A missing, busy or corrupt segment is never fatal: it is reported as down and
 * reopened on the next scrape.
 *
 * Caching: a request first probes every segment's header (one pread, no copy),
 * unless another request did so less than probe_ms ago: under load, a publish
 * becomes visible within probe_ms instead of costing two syscalls per
 * collector per request.  Only a collector whose sequence word moved is
 * snapshot and validated again.  A rendered body is reused, for the same format, encoding and
 * selection, until a collector publishes, a collector's up/down state changes,
 * or the body is older than cache_ms.  The exporter's own metrics in a reused
 * body are those of the moment it was rendered.
 *
 * Thread safety: scrape_get may be called from several threads at once; probes
 * and renders are serialized inside.  Bodies are immutable and reference
 * counted, so one body may be sent on many connections at once.
 * scrape_count_request is lock-free.
 */
#ifndef SHMETRICS_EXPORTER_SCRAPE_H
#define SHMETRICS_EXPORTER_SCRAPE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCRAPE_MAX_COLLECTORS   128
#define SCRAPE_DEFAULT_CACHE_MS 1000
#define SCRAPE_DEFAULT_PROBE_MS 20

struct scrape_options {
	const char *instance; /* segment names are /shmetrics.<instance>.<collector> */
	const char *const *collectors;
	size_t n_collectors;          /* at most SCRAPE_MAX_COLLECTORS */
	uint32_t staleness_intervals; /* 0 means the default, 3 */
	uint32_t cache_ms;            /* 0 means SCRAPE_DEFAULT_CACHE_MS */
	uint32_t probe_ms;            /* segments are probed at most this often; 0: every request */
};

enum scrape_format {
	SCRAPE_FORMAT_TEXT,        /* Prometheus text 0.0.4 */
	SCRAPE_FORMAT_OPENMETRICS, /* OpenMetrics 1.0.0 text */
	SCRAPE_FORMAT_JSON,        /* docs/exporter.md */
};
#define SCRAPE_FORMATS 3

/* A set of collectors, by their index in scrape_options.collectors. */
struct scrape_selection {
	uint64_t bits[SCRAPE_MAX_COLLECTORS / 64];
};

struct scrape_request {
	enum scrape_format format;
	bool gzip;
	struct scrape_selection sel;
};

/* An immutable response body; release it when sent. */
struct scrape_body {
	atomic_uint refs;
	bool gzip; /* data is gzip-compressed */
	size_t len;
	char *data;
};

struct scrape;

/* Checks the names and allocates; opens no segment yet.  -EINVAL or -ENOMEM
 * with the reason in err. */
int scrape_new(struct scrape **out, const struct scrape_options *opt, char *err, size_t errlen);
void scrape_free(struct scrape *s);

/* Every configured collector. */
void scrape_select_all(const struct scrape *s, struct scrape_selection *sel);

/*
 * node_exporter's filters: with collect names, only those collectors; without,
 * all of them; then minus the exclude names.  An unknown name is -ENOENT with
 * "unknown collector \"x\"..." in err.
 */
int scrape_select(const struct scrape *s, const char *const *collect, size_t ncollect,
		  const char *const *exclude, size_t nexclude, struct scrape_selection *sel,
		  char *err, size_t errlen);

/* The body answering req, with one reference for the caller.  0, or -ENOMEM. */
int scrape_get(struct scrape *s, const struct scrape_request *req, struct scrape_body **out);

void scrape_body_release(struct scrape_body *b);

/* Counts one answered HTTP request in shmetrics_exporter_requests_total{code}. */
void scrape_count_request(struct scrape *s, unsigned status);

/* A connection refused by the connection limits, in
 * shmetrics_exporter_connections_refused_total{reason,answer}. */
enum scrape_refusal { SCRAPE_REFUSED_PER_IP, SCRAPE_REFUSED_TOTAL };
enum scrape_refusal_answer { SCRAPE_ANSWERED_503, SCRAPE_CLOSED_AT_ACCEPT };
void scrape_count_refused(struct scrape *s, enum scrape_refusal why,
			  enum scrape_refusal_answer how);

#endif
