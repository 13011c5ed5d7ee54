/*
 * source.h - one collector's segment as the shipper reads it.  The only file of
 * shipper/ that knows how a segment is found and opened: everything goes
 * through lib/'s validating reader (segment.h), in the instance's private
 * directory (segdir.h), within the shipper's own limits, with the same checks
 * the exporter makes.
 */
#ifndef SHMETRICS_SHIPPER_SOURCE_H
#define SHMETRICS_SHIPPER_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "segdir.h"
#include "segment.h"

struct source;

/* Collector's segment in dir, read within lim; opens nothing yet.  dir and lim
 * must outlive the source (dir may be opened later: dir->fd < 0 until then).
 * -EINVAL for an invalid name, with the reason. */
int source_new(struct source **out, const struct segdir *dir, const struct seg_read_limits *lim,
	       const char *collector, char *err, size_t errlen);
void source_free(struct source *s);

/*
 * A validated snapshot of the latest batch (view valid until the next call).
 * Opens the segment when needed and closes it again after a failure, so a
 * missing or replaced segment is picked up on a later call.  Returns 0,
 * -EAGAIN (the writer kept publishing), -ENOENT (no segment, or no directory
 * yet), or another negative errno for an unreadable or corrupt one; err says why.
 */
int source_snapshot(struct source *s, struct metrics_view *view, struct seg_info *info, char *err,
		    size_t errlen);

/* True when the last snapshot is still the segment's latest batch and its
 * writer as alive as it was: a header read, no copy (seg_reader_unchanged). */
bool source_unchanged(struct source *s);

/* How many times the segment was (re)opened: a new opening may be a new
 * segment whose generations start over. */
uint64_t source_opens(const struct source *s);

#endif
