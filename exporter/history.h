/*
 * history.h - the last minutes of every series, per publish, in bounded memory.
 *
 * Model
 * -----
 * A *source* is one collector (and one more for the exporter's own health
 * series).  Every batch a source publishes becomes one *slot*: its publish
 * time, and one value per series of the batch.  The slots of a source form a
 * ring of cap = ceil(retention / interval) + 1 entries; each series of the
 * source owns a value ring of the same length, slot-aligned with the source's
 * time ring, so a publish costs one store per series and no timestamp per
 * value.
 *
 * A series that is not in a publish (it left, or the source went down) gets
 * HISTORY_ABSENT in that slot: a staleness marker, as Prometheus writes one
 * when a series disappears from a scrape.  A series appearing later starts
 * with absent values in its older slots.  A series absent from every slot of
 * the ring is forgotten and its memory freed.
 *
 * Series are keyed by their canonical key (format/series_key.h): the sample
 * name, a NUL, then label name NUL value NUL pairs sorted by name.  Histograms and
 * summaries are stored as their samples, the way Prometheus stores them:
 * NAME_bucket{le="..."}, NAME{quantile="..."}, NAME_sum, NAME_count.
 *
 * Memory: every byte the history allocates is counted (history_stats).  A new
 * series that would take the total over max_bytes is not created; its samples
 * are counted as dropped until room is made (series leaving free theirs).
 *
 * Thread safety: every function may be called from any thread; one mutex
 * guards the store.  Writers (history_record_*) hold it for one publish;
 * readers (history_select) for the copy of what they matched, never while
 * rendering.  Nothing here logs; errors are negative errno values.
 */
#ifndef SHMETRICS_EXPORTER_HISTORY_H
#define SHMETRICS_EXPORTER_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

#define HISTORY_DEFAULT_RETENTION_MS (15u * 60u * 1000u)
#define HISTORY_DEFAULT_MAX_BYTES    (16u * 1024u * 1024u)
#define HISTORY_MIN_INTERVAL_MS      100u /* slots for faster sources are sized as this */
#define HISTORY_KEY_MAX              8192 /* longer keys are refused (dropped) */

/* The staleness marker's bits (a NaN no collector value can carry: real NaNs
 * are stored as the canonical quiet NaN). */
#define HISTORY_ABSENT_BITS 0x7ff0000000000002ull

struct history_options {
	uint32_t retention_ms; /* how far back; 0: HISTORY_DEFAULT_RETENTION_MS */
	size_t max_bytes;      /* budget; 0: HISTORY_DEFAULT_MAX_BYTES */
};

struct history_stats {
	size_t bytes;             /* allocated by the history now */
	size_t max_bytes;         /* the budget */
	uint64_t series;          /* series held */
	uint64_t samples_dropped; /* values not recorded because of the budget, ever */
	uint32_t retention_ms;
};

struct history;

/* n_sources sources, named names[i] (copied).  -EINVAL or -ENOMEM with err. */
int history_new(struct history **out, const struct history_options *opt, size_t n_sources,
		const char *const *names, char *err, size_t errlen);
void history_free(struct history *h);

/* ---- writing ---- */

/*
 * Records batch v of source src, published at t_ms (Unix ms), collected every
 * interval_ms.  meta_key names the writer (see render_source.meta_key): while
 * it and the view's generation stay the same, the series are matched to the
 * previous publish by position instead of by key.  A publish not newer than
 * the previous one of src is ignored.  0, or -ENOMEM (what fitted is kept).
 */
int history_record_view(struct history *h, size_t src, const struct metrics_view *v,
			uint64_t meta_key, int64_t t_ms, uint32_t interval_ms);

/* The same, one series at a time: begin, put each series, end.  put returns
 * -ENOSPC when the budget refused a new series, -EINVAL for a bad key. */
int history_begin(struct history *h, size_t src, int64_t t_ms, uint32_t interval_ms);
int history_put(struct history *h, const char *key, size_t key_len, double value);
void history_end(struct history *h);

/* Source src went down at t_ms: a slot in which every series is absent, so
 * that queries stop showing its last values.  Only the first call after a
 * publish writes a slot. */
void history_mark_down(struct history *h, size_t src, int64_t t_ms);

/* ---- reading ---- */

/* One series as copied out by history_select. */
struct history_series {
	char *key; /* canonical key, key_len bytes (not NUL-terminated) */
	size_t key_len;
	uint32_t src;
	size_t n;       /* samples, oldest first */
	int64_t *t_ms;  /* n timestamps */
	double *values; /* n values; HISTORY_ABSENT_BITS marks staleness */
};

struct history_selection {
	size_t n;
	struct history_series *series;
};

/* Decides, under the history's lock, whether a series is wanted. */
typedef bool (*history_match_fn)(void *ctx, const char *key, size_t key_len);

/*
 * Copies every series that match() accepts, with its slots whose time is in
 * [from_ms, to_ms] (absent ones included), into sel; series without any
 * present value in that range are left out.  0 or -ENOMEM (sel is then empty).
 */
int history_select(struct history *h, int64_t from_ms, int64_t to_ms, history_match_fn match,
		   void *ctx, struct history_selection *sel);
/* The same without the samples (every n is 0): for label and series lists. */
int history_select_keys(struct history *h, int64_t from_ms, int64_t to_ms, history_match_fn match,
			void *ctx, struct history_selection *sel);
void history_selection_free(struct history_selection *sel);

void history_stats(struct history *h, struct history_stats *st);

/* ---- keys ---- */

static inline bool history_is_absent(double v)
{
	union {
		double d;
		uint64_t u;
	} x = { .d = v };
	return x.u == HISTORY_ABSENT_BITS;
}

/*
 * Writes the canonical key of name{labels} into out (outlen bytes): name, NUL,
 * then each pair name NUL value NUL in label-name order.  Returns the length,
 * or 0 when it does not fit.
 */
size_t history_key(char *out, size_t outlen, const char *name, size_t name_len,
		   const char *const *label_names, const size_t *name_lens,
		   const char *const *label_values, const size_t *value_lens, size_t n);

#endif
