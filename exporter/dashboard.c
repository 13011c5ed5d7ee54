#include "dashboard.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gzip.h"

#define MAX_ASSETS 32

static pthread_mutex_t gz_lock = PTHREAD_MUTEX_INITIALIZER;
static char *gz_data[MAX_ASSETS];
static size_t gz_len[MAX_ASSETS];

const struct web_asset *dashboard_find(const char *path)
{
	for (size_t i = 0; i < web_assets_count; i++)
		if (strcmp(web_assets[i].path, path) == 0)
			return &web_assets[i];
	return NULL;
}

bool dashboard_gzip(const struct web_asset *a, const void **data, size_t *len)
{
	size_t i = (size_t)(a - web_assets);
	bool ok;

	if (i >= MAX_ASSETS)
		return false;
	pthread_mutex_lock(&gz_lock);
	if (!gz_data[i])
		gz_data[i] = gzip_compress((const char *)a->data, a->len, &gz_len[i]);
	ok = gz_data[i] != NULL;
	*data = gz_data[i];
	*len = gz_len[i];
	pthread_mutex_unlock(&gz_lock);
	return ok;
}

void dashboard_etag(const struct web_asset *a, char *out, size_t outlen)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < a->len; i++)
		h = (h ^ a->data[i]) * 0x100000001b3ull;
	snprintf(out, outlen, "\"%016" PRIx64 "\"", h);
}

bool dashboard_etag_matches(const char *if_none_match, const char *etag)
{
	size_t n = strlen(etag);

	if (!if_none_match)
		return false;
	for (const char *p = if_none_match; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p == '*' ||
		    (strncmp(p, etag, n) == 0 && (p[n] == ',' || p[n] == ' ' || !p[n])))
			return true;
		while (*p && *p != ',')
			p++;
	}
	return false;
}
