/*
 * web_assets.h - the dashboard's files (web/), embedded in the exporter at
 * build time by scripts/embed_web.sh into $(BUILD)/gen/web_assets.c.
 */
#ifndef SHMETRICS_EXPORTER_WEB_ASSETS_H
#define SHMETRICS_EXPORTER_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *path;         /* URL path, e.g. "/dashboard/app.js" */
	const char *content_type; /* e.g. "text/javascript; charset=utf-8" */
	const unsigned char *data;
	size_t len;
};

extern const struct web_asset web_assets[];
extern const size_t web_assets_count;

#endif
