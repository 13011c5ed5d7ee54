/*
 * source.h - one collector's segment as the shipper reads it.  The only file of
 * shipper/ that knows how a segment is named and opened: everything goes
 * through lib/'s validating reader (segment.h), with the same checks the
 * exporter makes.
 */
#ifndef SHMETRICS_SHIPPER_SOURCE_H
#define SHMETRICS_SHIPPER_SOURCE_H

#include <stdint.h>

#include "segment.h"

struct source;

/* Names the segment of collector in instance; opens nothing yet.  -EINVAL for
 * an invalid name, with the reason. */
int source_new(struct source **out, const char *instance, const char *collector, char *err,
	       size_t errlen);
void source_free(struct source *s);

/*
 * A validated snapshot of the latest batch (view valid until the next call).
 * Opens the segment when needed and closes it again after a failure, so a
 * missing or replaced segment is picked up on a later call.  Returns 0,
 * -EAGAIN (the writer kept publishing), -ENOENT (no segment), or another
 * negative errno for an unreadable or corrupt one; err says why.
 */
int source_snapshot(struct source *s, struct metrics_view *view, struct seg_info *info, char *err,
		    size_t errlen);

/* How many times the segment was (re)opened: a new opening may be a new
 * segment whose generations start over. */
uint64_t source_opens(const struct source *s);

#endif
