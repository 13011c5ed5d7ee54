#include "render_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nameset.h"
#include "numfmt.h"

static void note_duplicate(struct render_result *res, const struct render_source *src,
			   const char *name, size_t len)
{
	if (!res)
		return;
	if (res->duplicate_families++ == 0) {
		snprintf(res->dup_family, sizeof res->dup_family, "%.*s", (int)len, name);
		snprintf(res->dup_collector, sizeof res->dup_collector, "%s", src->collector);
	}
}

static int walk_source(struct nameset *seen, const struct render_source *src,
		       struct render_result *res, render_family_fn fn, void *ctx)
{
	const struct metrics_view *v = src->view;

	for (uint32_t i = 0; i < v->hdr.n_families; i++) {
		struct blob_family fam;
		view_family(v, i, &fam);
		const char *name = view_string(v, fam.name_off);
		int added = nameset_add(seen, name, fam.name_len);
		if (added < 0)
			return added;
		if (added == 0) {
			note_duplicate(res, src, name, fam.name_len);
			continue;
		}
		if (res)
			res->series += fam.n_series;
		int rc = fn ? fn(ctx, src, i, &fam) : 0;
		if (rc)
			return rc;
	}
	return 0;
}

int render_each_family(const struct render_source *src, size_t n, struct render_result *res,
		       render_family_fn fn, void *ctx)
{
	struct nameset seen;
	int rc = 0;

	nameset_init(&seen);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = walk_source(&seen, &src[i], res, fn, ctx);
	nameset_free(&seen);
	return rc;
}

int render_count_duplicates(const struct render_source *src, size_t n, uint64_t *dups)
{
	struct render_result res;

	memset(&res, 0, sizeof res);
	int rc = render_each_family(src, n, &res, NULL, NULL);
	*dups = res.duplicate_families;
	return rc;
}

void render_format_value(char *out, double v)
{
	numfmt_value(out, v);
}
