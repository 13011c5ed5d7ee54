/*
 * fuzz_blob - libFuzzer harness: the batch validator and the renderers.
 *
 * The input is the bytes a reader would have copied out of a latch copy.  It must
 * either be refused by metrics_view_open or, once accepted, be renderable in both
 * text dialects and as JSON without any out-of-bounds access: the renderers index
 * an accepted view without further checks, so every gap in the validator shows up
 * here as an ASan report.  An accepted view is also merged as a collector's
 * workers' batches are (seg_merge.h, both ways: served and retained), and the
 * merged batch rendered: the merge trusts what the validator accepted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"
#include "render.h"
#include "seg_merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void render_all(const struct metrics_view *v)
{
	struct render_source src = { .collector = "fuzz", .view = v };
	struct render_collector_status st = { .name = "fuzz", .up = true, .success = true };
	struct render_result res;
	struct buf out;

	buf_init(&out);
	render_text(&out, RENDER_PROMETHEUS_TEXT, &src, 1, &res);
	buf_reset(&out);
	render_text(&out, RENDER_OPENMETRICS, &src, 1, &res);
	buf_reset(&out);
	render_json(&out, &st, 1, &src, 1, &res);
	buf_free(&out);
}

/* The view as two live workers, an ended one and the retained totals. */
static void merge_all(const struct metrics_view *v, const struct batch_limits *lim)
{
	static struct seg_merge *m[2];
	static struct batch *out[2];

	for (int i = 0; i < 2; i++) {
		if (m[i] == NULL &&
		    (seg_merge_new(&m[i], lim, i ? MERGE_RETAIN : MERGE_SERVE) < 0 ||
		     (out[i] = batch_new(seg_merge_limits(m[i]))) == NULL))
			abort();
		seg_merge_reset(m[i]);
		seg_merge_add(m[i], v, MERGE_NO_WORKER, MERGE_ENDED);
		seg_merge_add(m[i], v, 0, MERGE_LIVE);
		seg_merge_add_tagged(m[i], v, 1, MERGE_LIVE, 7);
		seg_merge_add_values(m[i], 7, &v->hdr, v->blob + v->values_off, 2, MERGE_LIVE);
		seg_merge_add(m[i], v, 3, MERGE_ENDED);
		seg_merge_build(m[i], out[i]);
		struct metrics_view merged;
		batch_view(out[i], &merged);
		render_all(&merged);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct batch_limits lim;
	struct metrics_view v;
	char err[256];

	batch_limits_default(&lim);
	/* The reader hands the validator an 8-byte aligned private buffer. */
	void *copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (metrics_view_open(&v, copy, size, &lim, err, sizeof err) == 0) {
		struct metrics_view again;
		bool like;
		render_all(&v);
		if (metrics_view_open_like(&again, copy, size, &lim, &v, &like, err, sizeof err) !=
			0 ||
		    !like)
			abort(); /* the same bytes pass again, and are seen to be the same */
		merge_all(&v, &lim);
	}
	free(copy);
	return 0;
}
