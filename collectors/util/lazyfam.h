/*
 * lazyfam.h - a family started only when its first series arrives, so that a
 * family with no series (a sysfs attribute no device has) is left out of the
 * batch, as node_exporter leaves it out.
 */
#ifndef SHMETRICS_LAZYFAM_H
#define SHMETRICS_LAZYFAM_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"

struct lazyfam {
	const char *name, *help;
	enum metric_type type;
	bool started; /* false until the family is in the batch */
};

/*
 * Adds one series, starting the family first if needed.  A series the batch
 * refuses as a duplicate (same labels) or as invalid (a label value that is not
 * UTF-8) is dropped quietly: one odd object costs its own series, not the
 * collection.  0, or -errno from starting the family or from a full batch.
 */
int lazyfam_add(struct batch *b, struct lazyfam *f, const char *const *names,
		const char *const *values, size_t n, double v, char *err, size_t errlen);

#endif
