/*
 * fuzz_blob - libFuzzer harness: the batch validator and the renderers.
 *
 * The input is the bytes a reader would have copied out of a latch copy.  It must
 * either be refused by metrics_view_open or, once accepted, be renderable in both
 * text dialects and as JSON without any out-of-bounds access: the renderers index
 * an accepted view without further checks, so every gap in the validator shows up
 * here as an ASan report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"
#include "render.h"

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
	if (metrics_view_open(&v, copy, size, &lim, err, sizeof err) == 0)
		render_all(&v);
	free(copy);
	return 0;
}
