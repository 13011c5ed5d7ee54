/*
 * emit.h - small helpers shared by the collectors for adding to a batch.
 */
#ifndef SHMETRICS_EMIT_H
#define SHMETRICS_EMIT_H

#include <stddef.h>

#include "metrics.h"

/* Adds family name with one unlabelled series of value v.  0 or -errno (the
 * batch's error, with its message in err). */
int emit_single(struct batch *b, const char *name, const char *help, enum metric_type type,
		double v, char *err, size_t errlen);

/* Formats n in decimal into buf (at least 21 bytes) and returns buf. */
const char *fmt_uint(char *buf, size_t len, unsigned long long n);

#endif
