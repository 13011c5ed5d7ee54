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
 * snapshot and validated again.  A reply is a head and a tail.  The head - the
 * collectors' families and their health metrics - is reused, for the same
 * format, encoding and selection, until a collector publishes, a collector's
 * up/down state changes, or it is older than cache_ms.  The tail - the
 * exporter's own counters (requests, scrapes, renders, process_*) - is rendered
 * for every request, so those are current at every scrape however long the
 * head is cached.
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

#include "gzip.h"

#define SCRAPE_MAX_COLLECTORS   128
#define SCRAPE_DEFAULT_CACHE_MS 1000
#define SCRAPE_DEFAULT_PROBE_MS 20

struct scrape_options {
	const char *segments_dir; /* segments are SEGMENTS_DIR/INSTANCE/COLLECTOR.seg (segdir.h) */
	const char *instance;
	const struct seg_read_limits *limits; /* what a segment may be; NULL: the default */

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

/* An immutable, shared head of replies (see gzip.h for gz). */
struct scrape_body {
	atomic_uint refs;
	size_t len;
	char *data;
	struct gzip_head_info gz; /* a compressed head: what its tail needs */
};

/* One request's answer: head then tail, sent as one body.  Owned by the
 * caller until scrape_reply_free. */
struct scrape_reply {
	struct scrape_body *head; /* a reference to the cached head */
	char *tail;               /* this request's own, malloc'd */
	size_t tail_len;
	bool gzip; /* head and tail are one gzip member */
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

/* The reply to req in a new *out, for the caller to free.  0, or -ENOMEM. */
int scrape_get(struct scrape *s, const struct scrape_request *req, struct scrape_reply **out);

static inline size_t scrape_reply_len(const struct scrape_reply *r)
{
	return r->head->len + r->tail_len;
}

/* Head and tail joined in one malloc'd, NUL-terminated buffer (the caller frees
 * it); NULL on out of memory. */
char *scrape_reply_join(const struct scrape_reply *r);

void scrape_reply_free(struct scrape_reply *r);

/* Counts one answered HTTP request in shmetrics_exporter_requests_total{code}. */
void scrape_count_request(struct scrape *s, unsigned status);

/* A connection refused by the connection limits, in
 * shmetrics_exporter_connections_refused_total{reason,answer}. */
enum scrape_refusal { SCRAPE_REFUSED_PER_IP, SCRAPE_REFUSED_TOTAL };
enum scrape_refusal_answer { SCRAPE_ANSWERED_503, SCRAPE_CLOSED_AT_ACCEPT };
void scrape_count_refused(struct scrape *s, enum scrape_refusal why,
			  enum scrape_refusal_answer how);

/*
 * The history of recent values (history.h): created once, before serving;
 * every batch the scrape reads from then on is recorded, and the history is
 * freed with s.  0, or -ENOMEM/-EINVAL with err.
 */
struct history;
struct history_options;
int scrape_history_new(struct scrape *s, const struct history_options *opt, char *err,
		       size_t errlen);
struct history *scrape_history(struct scrape *s); /* NULL when none */

/* Probes every segment now, as a request would: the history's sampler calls
 * it so that every publish is recorded even when nobody scrapes. */
void scrape_refresh(struct scrape *s);

/* The shortest collection interval the segments state; 0 when none yet. */
uint32_t scrape_min_interval_ms(struct scrape *s);

#endif
