/*
 * fuzz_promtext - libFuzzer harness: the Prometheus text parser of the textfile
 * and exec collectors (lib/promtext.c), which reads files and program output
 * nobody vouches for.
 *
 * Besides "no crash, no hang, no leak" it checks two properties of every input
 * the parser accepts: the batch it built passes the segment validator (what the
 * exporter will check after publishing), and the text the exporter renders from
 * it parses again to the same number of series (the textfile format and our
 * output agree).
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

/* Renders the accepted batch and parses the text again. */
static void round_trip(const struct metrics_view *v)
{
	struct render_source src = { .collector = "fuzz", .view = v };
	struct render_result res;
	struct metrics_view again;
	struct buf out;
	char err[256];

	buf_init(&out);
	if (render_text(&out, RENDER_PROMETHEUS_TEXT, &src, 1, &res) == 0 && !buf_failed(&out)) {
		size_t len;
		char *text = buf_steal(&out, &len);
		batch_reset(batch_b);
		if (promtext_parse(batch_b, text, len, err, sizeof err) < 0)
			fail("our own rendering does not parse", err);
		batch_view(batch_b, &again);
		if (again.hdr.n_series != v->hdr.n_series)
			fail("the round trip changed the number of series", "");
		free(text);
	}
	buf_free(&out);
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
