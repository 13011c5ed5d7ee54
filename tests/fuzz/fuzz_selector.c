/*
 * fuzz_selector - libFuzzer harness: the history's query API with a hostile
 * query string (it comes from any HTTP client).  The input, as text, is given
 * to /api/v1/query, /api/v1/query_range and /api/v1/series over a small
 * history; each must answer without crashing, with a JSON body, and with
 * status 200 only when it parsed.  The time and duration parsers get it too.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "history.h"
#include "metrics.h"
#include "query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct history *hist;

static void record(size_t src, const char *fam, const char *id, double v, int64_t t)
{
	struct batch_limits lim;
	struct metrics_view view;
	char err[128];
	const char *ln[] = { "id", "mode" }, *lv[] = { id, "idle\nx\"y" };

	batch_limits_default(&lim);
	struct batch *b = batch_new(&lim);
	if (!b || batch_family(b, fam, "h", METRIC_GAUGE, err, sizeof err) ||
	    batch_add(b, ln, lv, 2, v, err, sizeof err))
		abort();
	batch_view(b, &view);
	history_record_view(hist, src, &view, 1, t, 1000);
	batch_free(b);
}

static void setup(void)
{
	static const char *const names[] = { "exporter", "a", "b" };
	struct history_options opt = { 60000, 0 };
	char err[128];

	if (history_new(&hist, &opt, 3, names, err, sizeof err))
		abort();
	for (int i = 1; i <= 20; i++) {
		record(1, "node_cpu_seconds_total", "0", i, i * 1000);
		record(2, "node_cpu_seconds_total", "0", -i, i * 1000);
	}
	history_mark_down(hist, 1, 21000);
}

static void must_be_json(const struct buf *out, unsigned status)
{
	json_error_t je;
	json_t *j = json_loadb(out->data, out->len, 0, &je);

	if (!j) {
		fprintf(stderr, "status %u, not JSON: %s\n", status, je.text);
		abort();
	}
	const char *st = json_string_value(json_object_get(j, "status"));
	if (!st || (status == 200) != (strcmp(st, "success") == 0))
		abort();
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *q = malloc(size + 1);
	struct buf out;
	int64_t ms;

	if (!hist)
		setup();
	if (!q)
		return 0;
	memcpy(q, data, size);
	q[size] = '\0';
	query_parse_time(q, &ms);
	query_parse_duration(q, &ms);
	struct query_args a = { .query = q,
				.time = "15",
				.start = "0",
				.end = "30",
				.step = "1",
				.match = { q },
				.n_match = 1,
				.now_ms = 30000 };
	buf_init(&out);
	must_be_json(&out, query_instant(hist, &a, &out));
	buf_reset(&out);
	must_be_json(&out, query_range(hist, &a, &out));
	buf_reset(&out);
	must_be_json(&out, query_series(hist, &a, &out));
	buf_free(&out);
	free(q);
	return 0;
}
