/*
 * scan.h - splitting kernel text files into lines and words, and parsing numbers,
 * over a bounded [p, end) range.  Nothing here reads past end, allocates or
 * depends on the locale.  Malformed input makes a parse function return false.
 */
#ifndef SHMETRICS_SCAN_H
#define SHMETRICS_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scan {
	const char *p;
	const char *end;
};

/* Whole text buffer of len bytes. */
struct scan scan_text(const char *buf, size_t len);

/* Takes the next line (without its '\n') from s into line; false at the end. */
bool scan_line(struct scan *s, struct scan *line);

/* Takes the next blank-separated word from s; false when none is left. */
bool scan_word(struct scan *s, const char **w, size_t *n);

/* True when the word w[0..n) is exactly lit. */
bool word_is(const char *w, size_t n, const char *lit);

/* Decimal digits only, no sign, no overflow. */
bool parse_u64(const char *w, size_t n, uint64_t *out);

/* Hexadecimal digits only (either case), no "0x" prefix, no overflow. */
bool parse_hex_u64(const char *w, size_t n, uint64_t *out);

/* A finite decimal number ("0.71", "12", "-3.5e2"); no hex, inf or nan. */
bool parse_double(const char *w, size_t n, double *out);

#endif
