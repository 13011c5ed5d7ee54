/*
 * cpucols.h - the per-CPU tables of /proc/interrupts and /proc/softirqs: a
 * header of "CPU<n>" words, then one line per source, "NAME: v0 v1 ... [text]".
 */
#ifndef SHMETRICS_CPUCOLS_H
#define SHMETRICS_CPUCOLS_H

#include <stdbool.h>
#include <stddef.h>

#include "scan.h"

/* The number of words in the header line: one per CPU column. */
size_t cpucols_count(struct scan header);

/*
 * Splits a row at its first ':' into the name (without the blanks before it)
 * and the rest.  A row without ':' or with an empty name gives false.  (On
 * arm64 no blank need follow the ':'.)
 */
bool cpucols_row(struct scan line, const char **name, size_t *namelen, struct scan *rest);

#endif
