/*
 * gzip.h - gzip response bodies in two parts (zlib).
 *
 * A body is a cached head and a small tail rendered for each request.  The head
 * is compressed once into raw deflate blocks that end on a byte boundary
 * (Z_SYNC_FLUSH) and carry no final block; each request compresses only its
 * tail, as blocks of a stream of its own with the final block, and ends the
 * member with the CRC-32 and length of head and tail together.  A deflate
 * decoder reads the concatenation as one stream: blocks are independent of how
 * they were produced, and the tail's back-references never reach into the head.
 * The result is one ordinary gzip member (RFC 1952), which every client reads.
 */
#ifndef SHMETRICS_EXPORTER_GZIP_H
#define SHMETRICS_EXPORTER_GZIP_H

#include <stddef.h>
#include <stdint.h>

/* What a tail needs to know of its head. */
struct gzip_head_info {
	uint32_t crc;       /* CRC-32 of the plain head */
	uint64_t plain_len; /* its length before compression */
};

/*
 * Compresses the head in[0..len) into a malloc'd buffer (the caller frees it):
 * the gzip header, then the deflate blocks.  Large heads use a faster, lighter
 * level: they are re-compressed on every change and speed matters more there
 * than the last few percent.  NULL on out of memory or when len does not fit
 * zlib's 32-bit counters.
 */
char *gzip_head(const char *in, size_t len, size_t *outlen, struct gzip_head_info *info);

/*
 * Compresses the tail in[0..len) that follows a head described by info into a
 * malloc'd buffer: the final deflate blocks and the gzip trailer.  NULL on out of
 * memory.
 */
char *gzip_tail(const struct gzip_head_info *info, const char *in, size_t len, size_t *outlen);

/* A whole body in one gzip member (a head with an empty tail); as gzip_head. */
char *gzip_compress(const char *in, size_t len, size_t *outlen);


#endif
