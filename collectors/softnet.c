/*
 * softnet - per-CPU packet processing counters from PROCFS/net/softnet_stat: one
 * line per online CPU, columns in hexadecimal.  As in node_exporter 1.5 the cpu
 * label is the line's position in the file (the kernel leaves offline CPUs out,
 * so it is not always the CPU number).
 */
#include <errno.h>

#include "collector.h"
#include "emit.h"
#include "lazyfam.h"
#include "procfile.h"
#include "scan.h"

#define SOFTNET_MIN_COLUMNS 9 /* Linux 2.6.23 already had nine */

struct softnet_column {
	unsigned index;
	const char *name, *help;
};

static const struct softnet_column columns[] = {
	{ 0, "node_softnet_processed_total", "Number of processed packets" },
	{ 1, "node_softnet_dropped_total", "Number of dropped packets" },
	{ 2, "node_softnet_times_squeezed_total",
	  "Number of times processing packets ran out of quota" },
};

static int softnet_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	return procfile_new(state, env->procfs, "net/softnet_stat", err, errlen);
}

/* Column col of a line, or false for a line too short or not hexadecimal. */
static bool softnet_column(struct scan line, unsigned col, uint64_t *out)
{
	const char *w;
	size_t n;
	unsigned count = 0;
	uint64_t v = 0;

	while (scan_word(&line, &w, &n)) {
		uint64_t x;
		if (n > 8 || !parse_hex_u64(w, n, &x))
			return false;
		if (count++ == col)
			v = x;
	}
	if (count < SOFTNET_MIN_COLUMNS)
		return false;
	*out = v;
	return true;
}

static int softnet_emit(const struct procfile *file, const struct softnet_column *c,
			struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "cpu" };
	struct lazyfam fam = { c->name, c->help, METRIC_COUNTER, false };
	struct scan text = scan_text(file->buf, file->len), line;
	unsigned long long cpu = 0;
	int rc = 0;

	for (; rc == 0 && scan_line(&text, &line); cpu++) {
		uint64_t v;
		char buf[24];
		const char *values[] = { fmt_uint(buf, sizeof buf, cpu) };
		if (softnet_column(line, c->index, &v))
			rc = lazyfam_add(b, &fam, names, values, 1, (double)v, err, errlen);
	}
	return rc;
}

static int softnet_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct procfile *file = state;
	int rc = procfile_read(file, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	for (size_t i = 0; rc == 0 && i < sizeof columns / sizeof columns[0]; i++)
		rc = softnet_emit(file, &columns[i], b, err, errlen);
	return rc;
}

const struct collector_ops collector_softnet_ops = {
	.init = softnet_init,
	.collect = softnet_collect,
	.fini = procfile_free,
};
