/*
 * scrape_internal.h - the state behind scrape.h, shared by scrape.c (cache,
 * rendering), scrape_collector.c (one collector's segment) and scrape_self.c
 * (the exporter's own metrics).  Not for other modules.
 */
#ifndef SHMETRICS_EXPORTER_SCRAPE_INTERNAL_H
#define SHMETRICS_EXPORTER_SCRAPE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"
#include "render.h"
#include "scrape.h"
#include "segment.h"

#define ERROR_TEXT_MAX  600
#define N_REQUEST_CODES 8
#define N_RENDER_BOUNDS 13
#define CACHE_SLOTS     12

/* Why a collector is down; a change is logged once instead of every scrape. */
enum down_reason {
	REASON_NONE,
	REASON_MISSING,
	REASON_UNREADABLE,
	REASON_BUSY,
	REASON_NO_WRITER,
	REASON_NEVER_PUBLISHED,
	REASON_STALE,
};

struct collector_state {
	char name[SEGMENT_COLLECTOR_MAX + 1];
	char shm_name[SEGMENT_NAME_MAX + 1];
	struct seg_reader *reader; /* NULL until opened; closed again on failure */
	int probe_fd;              /* the same segment, for pread of its header; -1 */
	/* the latest snapshot; view_ok false when there is none */
	bool view_ok;
	struct metrics_view view;
	struct seg_info info;
	uint64_t seq_seen;   /* the header's seq read just before that snapshot */
	uint64_t checked_ns; /* monotonic time of the last full read */
	uint64_t opens;      /* reader (re)opens: part of the template key */
	struct render_tmpl *tmpl;
	/* the verdict of this request */
	bool up, success;
	enum down_reason reason;
	char error[ERROR_TEXT_MAX];
	uint64_t series;
	/* kept across scrapes */
	enum down_reason logged_reason;
	bool known; /* a batch was ever read: the two fields below are meaningful */
	uint64_t publish_ns, duration_ns;
};

struct cache_entry {
	bool used;
	enum scrape_format format;
	struct scrape_selection sel;
	uint64_t version;     /* scrape.version it was rendered at */
	uint64_t rendered_ns; /* monotonic */
	uint64_t last_use;
	struct scrape_body *plain, *gz;
};

struct scrape {
	pthread_mutex_t lock;
	uint32_t staleness;
	uint64_t cache_ns;
	uint64_t probe_ns;
	uint64_t probed_ns; /* monotonic time of the last refresh; 0 never */
	size_t n;
	struct collector_state *col;
	struct render_source *sources;            /* n + 1 */
	struct render_collector_status *statuses; /* n */
	struct batch *self;
	/* bumped whenever a rendered body could differ (new data, new verdicts) */
	uint64_t version;
	uint64_t use_tick;
	struct cache_entry cache[CACHE_SLOTS];
	/* self-metrics */
	uint64_t dup_total;
	uint64_t last_dups;
	uint64_t renders;
	uint64_t render_counts[N_RENDER_BOUNDS + 1];
	double render_sum;
	_Atomic uint64_t requests[N_REQUEST_CODES];
	_Atomic uint64_t scrapes[SCRAPE_FORMATS][2]; /* [format][gzip] */
	_Atomic uint64_t refused[2][2];              /* [scrape_refusal][answer] */
};

extern const unsigned scrape_request_codes[N_REQUEST_CODES];

static inline bool selection_has(const struct scrape_selection *sel, size_t i)
{
	return (sel->bits[i / 64] >> (i % 64)) & 1u;
}

uint64_t scrape_monotonic_ns(void);

/* Opens nothing yet: fills names, probe_fd = -1. */
void collector_init(struct collector_state *c);
void collector_close(struct collector_state *c);

/*
 * Brings c up to date for a request at wall time now: a pread of the header when
 * nothing moved, a full snapshot otherwise.  Returns true when what a render
 * would show of c changed since the previous call.
 */
bool collector_refresh(struct collector_state *c, uint64_t now, uint64_t mono_now,
		       uint32_t staleness);

/* Builds the exporter's own metrics for the selected collectors into s->self
 * and gives a view of it.  0 or a negative errno (logged). */
int self_build(struct scrape *s, const struct scrape_selection *sel, struct metrics_view *v);

/* Records one render's duration in the histogram. */
void self_observe_render(struct scrape *s, double seconds);

/* Limits for the self batch with n collectors. */
void self_limits(struct batch_limits *lim, size_t n);

#endif
