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

struct lazy_family {
	const char *name, *help;
	enum metric_type type;
	bool started; /* reset to false before each cycle */
};

/* Adds one series, starting the family first if needed.  A series already in the
 * family (same labels) is dropped quietly.  0 or the batch's -errno. */
int lazy_family_add(struct batch *b, struct lazy_family *f, const char *const *names,
		    const char *const *values, size_t n, double v, char *err, size_t errlen);

#endif
