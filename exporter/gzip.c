#include "gzip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define RAW_WINDOW  (-15) /* raw deflate: the gzip header and trailer are ours */
#define TAIL_WINDOW (-12) /* tails are a few KiB: a small window, a small state */
#define TAIL_MEMLVL 4
#define LARGE_BODY  (1u << 20)
#define HEADER_LEN  10
#define TRAILER_LEN 8

/* ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=unix */
static const unsigned char gzip_header[HEADER_LEN] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };

/* Deflates in[0..len) into out + skip, ending with flush; returns the bytes
 * written after skip, or 0 on failure (every flush writes at least one byte). */
static size_t deflate_into(z_stream *zs, const char *in, size_t len, char *out, size_t cap,
			   int flush)
{
	zs->next_in = (Bytef *)in;
	zs->avail_in = (uInt)len;
	zs->next_out = (Bytef *)out;
	zs->avail_out = (uInt)cap;
	int rc = deflate(zs, flush);
	if (flush == Z_FINISH ? rc != Z_STREAM_END : rc != Z_OK || zs->avail_in != 0)
		return 0;
	return cap - zs->avail_out;
}

char *gzip_head(const char *in, size_t len, size_t *outlen, struct gzip_head_info *info)
{
	z_stream zs;
	char *out = NULL;
	int level = len > LARGE_BODY ? Z_BEST_SPEED : Z_DEFAULT_COMPRESSION;

	if (len >= UINT32_MAX)
		return NULL;
	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, level, Z_DEFLATED, RAW_WINDOW, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	/* the bound of a finished stream, plus room for the sync flush's empty block */
	size_t cap = deflateBound(&zs, (uLong)len) + 16;
	out = malloc(HEADER_LEN + cap);
	size_t n = out ? deflate_into(&zs, in, len, out + HEADER_LEN, cap, Z_SYNC_FLUSH) : 0;
	deflateEnd(&zs);
	if (n == 0) {
		free(out);
		return NULL;
	}
	memcpy(out, gzip_header, HEADER_LEN);
	*outlen = HEADER_LEN + n;
	info->crc = (uint32_t)crc32(crc32(0, NULL, 0), (const Bytef *)in, (uInt)len);
	info->plain_len = len;
	return out;
}

static void put_le32(char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (char)(v >> (8 * i));
}

char *gzip_tail(const struct gzip_head_info *info, const char *in, size_t len, size_t *outlen)
{
	z_stream zs;

	if (len >= UINT32_MAX)
		return NULL;
	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, TAIL_WINDOW, TAIL_MEMLVL,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t cap = deflateBound(&zs, (uLong)len);
	char *out = malloc(cap + TRAILER_LEN);
	size_t n = out ? deflate_into(&zs, in, len, out, cap, Z_FINISH) : 0;
	deflateEnd(&zs);
	if (n == 0) {
		free(out);
		return NULL;
	}
	uLong crc = crc32(crc32(0, NULL, 0), (const Bytef *)in, (uInt)len);
	crc = crc32_combine((uLong)info->crc, crc, (z_off_t)len);
	put_le32(out + n, (uint32_t)crc);
	put_le32(out + n + 4, (uint32_t)(info->plain_len + len)); /* ISIZE is modulo 2^32 */
	*outlen = n + TRAILER_LEN;
	return out;
}

char *gzip_compress(const char *in, size_t len, size_t *outlen)
{
	struct gzip_head_info info;
	size_t head_len, tail_len;
	char *head = gzip_head(in, len, &head_len, &info);
	char *tail = head ? gzip_tail(&info, "", 0, &tail_len) : NULL;
	char *whole = tail ? realloc(head, head_len + tail_len) : NULL;

	if (!whole) {
		free(head);
		free(tail);
		return NULL;
	}
	memcpy(whole + head_len, tail, tail_len);
	free(tail);
	*outlen = head_len + tail_len;
	return whole;
}
