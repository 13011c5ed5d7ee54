/*
 * seg_merge.h - one batch from the batches of a collector's workers.
 *
 * Contract
 * --------
 * A segment with workers (segment.h) holds one batch per worker slot and the
 * retained totals of ended workers.  Readers (the exporter, the CLI, anything
 * built on seg_reader) and attaching workers (folding an ended worker into the
 * retained totals) both merge with this module, so the rules live in one place:
 *
 *  - families merge by name, series by their label set;
 *  - counters and histograms are summed over every input, live or ended, so a
 *    counter never goes backwards when a worker ends;
 *  - gauges merge by the aggregate they were registered with
 *    (enum metric_aggregate): sum, max and min over live workers; last: the
 *    value set most recently by any worker, live or ended; per worker: one
 *    series per live worker, with a "worker" label naming its slot;
 *  - an input family whose type, aggregate or buckets differ from those of the
 *    first input that had it is skipped for that input, and counted as a
 *    conflict (the first one is named in the merged batch's error message);
 *    summaries cannot be merged and are skipped the same way.
 *
 * Inputs are views that passed metrics_view_open: their counts are within the
 * limits the merge was created with, and nothing else about them is trusted
 * (values are summed as they are, NaN included).
 *
 * Memory is allocated once, at creation, from the limits: the merged batch
 * holds at most max_series series (max_families families, ...); what does not
 * fit is dropped and counted.  Work is linear in the inputs' series.  Not
 * thread-safe: one merge per thread.  Nothing here logs.
 */
#ifndef SHMETRICS_SEG_MERGE_H
#define SHMETRICS_SEG_MERGE_H

#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"

enum merge_mode {
	MERGE_SERVE,  /* what readers show: aggregates resolved, "worker" labels added */
	MERGE_RETAIN, /* the retained totals: counters, histograms, last gauges (kept timed) */
};

enum merge_input {
	MERGE_LIVE,  /* a worker that is running: all of it */
	MERGE_ENDED, /* an ended worker, or the retained totals: what outlives a worker */
};

#define MERGE_NO_WORKER UINT32_MAX

struct seg_merge;

/* A merge whose output fits lim.  0 or -ENOMEM. */
int seg_merge_new(struct seg_merge **out, const struct batch_limits *lim, enum merge_mode mode);
void seg_merge_free(struct seg_merge *m);

/* The limits a batch needs to take the merged output (those given at creation,
 * plus room for "worker" labels when serving). */
const struct batch_limits *seg_merge_limits(const struct seg_merge *m);

/* Starts over: no input merged yet. */
void seg_merge_reset(struct seg_merge *m);

/* Merges a validated view; worker is its slot (MERGE_NO_WORKER for the
 * retained totals).  Publish times and durations are kept for the output. */
void seg_merge_add(struct seg_merge *m, const struct metrics_view *v, uint32_t worker,
		   enum merge_input kind);

/*
 * Inputs that repeat the previous input's metadata (its counts, families,
 * series, labels and strings, byte for byte) are merged without looking at
 * their labels again.  seg_merge_add finds that out itself; a reader that keeps
 * track of its inputs' metadata can say it instead, and give only the values:
 *
 * seg_merge_add_tagged is seg_merge_add for an input whose metadata the caller
 * names by tag (nonzero; the same tag for the same bytes, always).
 * seg_merge_add_values merges an input whose metadata is the one tagged tag by
 * its header (times, counts) and its values section alone (hdr->n_values
 * doubles, in the batch's layout); false, and nothing merged, when the previous
 * input was not tagged tag (or of another kind): give the whole view then.
 */
void seg_merge_add_tagged(struct seg_merge *m, const struct metrics_view *v, uint32_t worker,
			  enum merge_input kind, uint64_t tag);
bool seg_merge_add_values(struct seg_merge *m, uint64_t tag, const struct blob_header *hdr,
			  const unsigned char *values, uint32_t worker, enum merge_input kind);

/* Counts since the last reset: merged series that did not fit, and input
 * families skipped for a conflict. */
uint64_t seg_merge_dropped(const struct seg_merge *m);
uint64_t seg_merge_conflicts(const struct seg_merge *m);

/*
 * Writes the merged batch into out (reset first; created with at least the
 * merge's limits): families in the order they were first seen, series in the
 * order they were first seen in their family.  Its status: success, the latest
 * publish time and longest duration of the inputs, and the first conflict as
 * its error message.  Returns the publish time for seg_merge_stamp.
 */
uint64_t seg_merge_build(struct seg_merge *m, struct batch *out);

#endif
