/*
 * numfmt.h - exact, fast formatting of sample values for the text formats.
 *
 * Every finite value is written so that strtod() reads back exactly the same
 * double.  Integers below 2^63 in magnitude are written without exponent or
 * decimal point; other values in the fewest fractional digits that round-trip
 * when that form is short, otherwise in the shortest of %.15g/%.16g/%.17g that
 * round-trips (the slow, rare path).  NaN, +Inf and -Inf are spelled that way.
 * Nothing here allocates or locks; all functions are safe from any thread.
 */
#ifndef SHMETRICS_EXPORTER_NUMFMT_H
#define SHMETRICS_EXPORTER_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

/* Bytes any formatted value needs, including a terminating NUL. */
#define NUMFMT_MAX 32

/* Writes v into out (NUMFMT_MAX bytes), NUL-terminated; returns the length. */
size_t numfmt_value(char *out, double v);

/* Like numfmt_value, but integral values get a ".0" suffix ("1.0", "+Inf"):
 * OpenMetrics' canonical spelling for "le" label values. */
size_t numfmt_canonical(char *out, double v);

/* Writes the decimal digits of u (no sign); returns the length (1 to 20). */
size_t numfmt_u64(char *out, uint64_t u);

#endif
