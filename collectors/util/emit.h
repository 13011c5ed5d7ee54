/*
 * emit.h - small helpers shared by the collectors for adding to a batch.
 */
#ifndef SHMETRICS_EMIT_H
#define SHMETRICS_EMIT_H

#include <stddef.h>

#include "metrics.h"
#include "procfile.h"
#include "scan.h"

/* Adds family name with one unlabelled series of value v.  0 or -errno (the
 * batch's error, with its message in err). */
int emit_single(struct batch *b, const char *name, const char *help, enum metric_type type,
		double v, char *err, size_t errlen);

/*
 * A "key value" file as one unlabelled family per line (meminfo, vmstat): reads f
 * and calls parse for each line, which gives the family's name, help and value,
 * or false to skip the line.  A name the metric rules refuse, or a key listed
 * twice, skips its line too.  A missing file gives no series and no error.
 */
typedef bool (*line_family_fn)(void *ctx, struct scan line, const char **name, const char **help,
			       double *value);
int emit_line_families(struct procfile *f, line_family_fn parse, void *ctx, enum metric_type type,
		       struct batch *b, char *err, size_t errlen);

/* Formats n in decimal into buf (at least 21 bytes) and returns buf. */
const char *fmt_uint(char *buf, size_t len, unsigned long long n);

#endif
