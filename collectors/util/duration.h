/*
 * duration.h - durations as written on the command line: "500ms", "5s", "1m",
 * "1m30s", "2h".  A sequence of whole numbers each followed by a unit (ms, s, m,
 * h); no sign, no fractions, no spaces.
 */
#ifndef SHMETRICS_DURATION_H
#define SHMETRICS_DURATION_H

#include <stdint.h>

/* Stores the duration in milliseconds.  Returns 0, or -EINVAL for anything else
 * (empty, a number without a unit, an unknown unit, overflow). */
int duration_parse_ms(const char *s, uint64_t *out_ms);

#endif
