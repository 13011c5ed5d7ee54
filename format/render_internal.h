/*
 * render_internal.h - what the two renderers share (not for other modules).
 */
#ifndef SHMETRICS_EXPORTER_RENDER_INTERNAL_H
#define SHMETRICS_EXPORTER_RENDER_INTERNAL_H

#include "render.h"

/* Called once per family that survives the duplicate rule, in output order. */
typedef int (*render_family_fn)(void *ctx, const struct render_source *src, uint32_t index,
				const struct blob_family *fam);

/*
 * Walks the families of src[0..n), skipping (and counting in res, which may be
 * NULL) every family whose name an earlier one already had.  Stops at the first
 * nonzero return of fn and returns it; -ENOMEM if the name set cannot grow.
 */
int render_each_family(const struct render_source *src, size_t n, struct render_result *res,
		       render_family_fn fn, void *ctx);

#endif
