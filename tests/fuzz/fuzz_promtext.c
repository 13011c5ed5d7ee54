/*
 * fuzz_promtext - libFuzzer harness: the Prometheus text parser of the textfile
 * and exec collectors (format/promtext.c), which reads files and program output
 * nobody vouches for.
 *
 * Besides "no crash, no hang, no leak" it checks, for every input the parser
 * accepts, exactly the promise the parser makes to the rest of shmetrics:
 *  - the batch it built passes the segment validator (what the exporter checks
 *    after publishing);
 *  - the renderers serve all of it, in both dialects: no family is skipped as a
 *    duplicate (the parser refuses families whose exposed names would meet, see
 *    metric_exposed_names) and every series is rendered;
 *  - the text the exporter renders parses again, and renders to the very same
 *    text (the textfile format and our output agree, byte for byte).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"
#include "promtext.h"
#include "render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct batch *batch_a, *batch_b;
static struct batch_limits lim;

static void fail(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_promtext: %s: %s\n", what, err);
	abort();
}

/* Renders v in dialect d; NULL when out of memory.  Every family and series
 * must be served. */
static char *render_whole(const struct metrics_view *v, enum render_dialect d, size_t *len)
{
	struct render_source src = { .collector = "fuzz", .view = v };
	struct render_result res;
	struct buf out;

	buf_init(&out);
	if (render_text(&out, d, &src, 1, &res) != 0 || buf_failed(&out)) {
		buf_free(&out);
		return NULL;
	}
	if (res.duplicate_families != 0)
		fail("an accepted text has a family the renderer skips as a duplicate",
		     res.dup_family);
	if (res.series != v->hdr.n_series)
		fail("the renderer did not serve every series", "");
	return buf_steal(&out, len);
}

/* Renders the accepted batch, parses the text again and renders that. */
static void round_trip(const struct metrics_view *v)
{
	struct metrics_view again;
	char err[256];
	size_t len, len2, om_len;
	char *om = render_whole(v, RENDER_OPENMETRICS, &om_len);
	char *text = render_whole(v, RENDER_PROMETHEUS_TEXT, &len);

	free(om);
	if (text == NULL)
		return;
	batch_reset(batch_b);
	if (promtext_parse(batch_b, text, len, err, sizeof err) < 0)
		fail("our own rendering does not parse", err);
	batch_view(batch_b, &again);
	if (again.hdr.n_series != v->hdr.n_series)
		fail("the round trip changed the number of series", "");
	char *text2 = render_whole(&again, RENDER_PROMETHEUS_TEXT, &len2);
	if (text2 != NULL && (len2 != len || memcmp(text, text2, len) != 0))
		fail("the round trip changed the rendered text", "");
	free(text2);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metrics_view v, check;
	char err[256];

	if (batch_a == NULL) {
		batch_limits_default(&lim);
		batch_a = batch_new(&lim);
		batch_b = batch_new(&lim);
		if (batch_a == NULL || batch_b == NULL)
			abort();
	}
	batch_reset(batch_a);
	if (promtext_parse(batch_a, (const char *)data, size, err, sizeof err) < 0)
		return 0;
	batch_set_status(batch_a, true, 0, NULL);
	batch_view(batch_a, &v);
	size_t len;
	void *blob = batch_blob(batch_a, &len);
	void *copy = malloc(len ? len : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, blob, len);
	if (metrics_view_open(&check, copy, len, &lim, err, sizeof err) < 0)
		fail("an accepted text gives a batch the validator refuses", err);
	free(copy);
	round_trip(&v);
	return 0;
}
