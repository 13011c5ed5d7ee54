/*
 * scrape_internal.h - the state behind scrape.h, shared by scrape.c (cache,
 * rendering), scrape_collector.c (one collector's segment) and scrape_self.c
 * (the collectors' health metrics and the exporter's own).  Not for other
 * modules.
 */
#ifndef SHMETRICS_EXPORTER_SCRAPE_INTERNAL_H
#define SHMETRICS_EXPORTER_SCRAPE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"
#include "procstat.h"
#include "render.h"
#include "scrape.h"
#include "segment.h"

#define ERROR_TEXT_MAX  600
#define N_REQUEST_CODES 10
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
	struct segdir *dir;                   /* the scrape's; fd -1 until it could be opened */
	const char *dir_error;                /* why it could not be */
	const struct seg_read_limits *limits; /* the exporter's own, never the segment's */
	struct seg_reader *reader;            /* NULL until opened; closed again on failure */
	/* the latest snapshot; view_ok false when there is none */
	bool view_ok;
	struct metrics_view view;
	struct seg_info info;
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
	struct scrape_body *plain, *gz; /* heads (scrape.h) */
	uint64_t head_families;         /* families in the head (JSON needs to know) */
};

struct scrape {
	pthread_mutex_t lock;
	struct segdir dir;              /* the instance's segment directory */
	char dir_error[PATH_MAX + 200]; /* why it could not be opened */
	char segments_dir[PATH_MAX], instance[SEGMENT_INSTANCE_MAX + 1];
	struct seg_read_limits limits;
	uint32_t staleness;
	uint64_t cache_ns;
	uint64_t probe_ns;
	uint64_t probed_ns; /* monotonic time of the last refresh; 0 never */
	size_t n;
	struct collector_state *col;
	struct render_source *sources;            /* n + 2 */
	struct render_collector_status *statuses; /* n */
	struct batch *health;                     /* the collectors' health metrics: in heads */
	struct batch *own;                        /* the exporter's own counters: in tails */
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
	double boot_time;       /* for process_start_time_seconds; 0 when unknown */
	bool proc_failed;       /* reading /proc/self failed last time (logged once) */
	struct proc_stats proc; /* the process_* figures, read at proc_read_ns */
	uint64_t proc_read_ns;  /* monotonic; 0 never */
	_Atomic uint64_t requests[N_REQUEST_CODES];
	_Atomic uint64_t scrapes[SCRAPE_FORMATS][2]; /* [format][gzip] */
	_Atomic uint64_t refused[2][2];              /* [scrape_refusal][answer] */
	/* the history of recent values (scrape_history.c); NULL when disabled */
	struct history *history;
	int64_t health_ms; /* when health was last recorded, Unix ms */
};

extern const unsigned scrape_request_codes[N_REQUEST_CODES];

static inline bool selection_has(const struct scrape_selection *sel, size_t i)
{
	return (sel->bits[i / 64] >> (i % 64)) & 1u;
}

uint64_t scrape_monotonic_ns(void);

/* Opens nothing yet: the segment is opened at the first refresh. */
void collector_init(struct collector_state *c, struct segdir *dir, const char *dir_error,
		    const struct seg_read_limits *limits);

void collector_close(struct collector_state *c);

/*
 * Brings c up to date for a request at wall time now: a pread of the header when
 * nothing moved, a full snapshot otherwise.  Returns true when what a render
 * would show of c changed since the previous call.
 */
bool collector_refresh(struct collector_state *c, uint64_t now, uint64_t mono_now,
		       uint32_t staleness);

/* Builds the health metrics of the selected collectors (shmetrics_collector_up,
 * ...) into s->health and gives a view of it.  0 or a negative errno (logged). */
int self_health_build(struct scrape *s, const struct scrape_selection *sel, struct metrics_view *v);

/* Builds the exporter's own counters as they are now into s->own and gives a
 * view of it.  0 or a negative errno (logged). */
int self_own_build(struct scrape *s, struct metrics_view *v);

/* Probes and refreshes every collector now (feeding the history). */
void scrape_refresh_locked(struct scrape *s);

/* Records what the refresh just read into s->history (scrape_history.c). */
void scrape_history_feed(struct scrape *s, uint64_t now_ns);

/* Adds the history's own metrics to s->self; 0 when there is no history. */
int scrape_history_self(struct scrape *s, char *err, size_t errlen);

/* Records one render's duration in the histogram. */
void self_observe_render(struct scrape *s, double seconds);

/* Limits for the health batch with n collectors, and for the own batch. */
void self_health_limits(struct batch_limits *lim, size_t n);
void self_own_limits(struct batch_limits *lim);

#endif
