#include "gzip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define GZIP_WINDOW (15 + 16) /* 32 KiB window, gzip header and trailer */
#define LARGE_BODY  (1u << 20)

char *gzip_compress(const char *in, size_t len, size_t *outlen)
{
	z_stream zs;
	char *out = NULL;
	int level = len > LARGE_BODY ? Z_BEST_SPEED : Z_DEFAULT_COMPRESSION;

	if (len >= UINT32_MAX)
		return NULL;
	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, level, Z_DEFLATED, GZIP_WINDOW, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t cap = deflateBound(&zs, (uLong)len);
	out = malloc(cap);
	if (!out)
		goto out;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = (Bytef *)out;
	zs.avail_out = (uInt)cap;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		free(out);
		out = NULL;
		goto out;
	}
	*outlen = zs.total_out;
out:
	deflateEnd(&zs);
	return out;
}
