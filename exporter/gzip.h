/*
 * gzip.h - one-shot gzip compression of a response body (zlib).
 */
#ifndef SHMETRICS_EXPORTER_GZIP_H
#define SHMETRICS_EXPORTER_GZIP_H

#include <stddef.h>

/*
 * Compresses in[0..len) into a malloc'd gzip stream (the caller frees it) and
 * sets *outlen.  Large bodies use a faster, lighter level: they are re-compressed
 * on every change and speed matters more there than the last few percent.
 * Returns NULL on out of memory or when len does not fit zlib's 32-bit counters.
 */
char *gzip_compress(const char *in, size_t len, size_t *outlen);

#endif
