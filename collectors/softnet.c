/*
 * softnet - per-CPU packet processing counters from PROCFS/net/softnet_stat: one
 * line per online CPU, columns in hexadecimal.  The cpu label is the CPU number
 * the kernel writes in the 13th column (Linux 5.10 and later), as node_exporter
 * labels it today; older kernels' lines have no such column and the line's
 * position stands in for it (which node_exporter 1.5 used on every kernel; the
 * kernel leaves offline CPUs out, so the position is not always the number).
 * A family is reported for the lines that have its column.
 */
#include <errno.h>

#include "collector.h"
#include "emit.h"
#include "lazyfam.h"
#include "procfile.h"
#include "scan.h"

#define SOFTNET_MIN_COLUMNS 9 /* Linux 2.6.23 already had nine */

#define SOFTNET_CPU_COLUMN 12 /* the CPU number, since Linux 5.10 */

struct softnet_column {
	unsigned index;
	const char *name, *help;
	enum metric_type type;
};

static const struct softnet_column columns[] = {
	{ 0, "node_softnet_processed_total", "Number of processed packets", METRIC_COUNTER },
	{ 1, "node_softnet_dropped_total", "Number of dropped packets", METRIC_COUNTER },
	{ 2, "node_softnet_times_squeezed_total",
	  "Number of times processing packets ran out of quota", METRIC_COUNTER },
	{ 8, "node_softnet_cpu_collision_total",
	  "Number of collision occur while obtaining device lock while transmitting",
	  METRIC_COUNTER },
	{ 9, "node_softnet_received_rps_total", "Number of times cpu woken up received_rps",
	  METRIC_COUNTER },
	{ 10, "node_softnet_flow_limit_count_total", "Number of times flow limit has been reached",
	  METRIC_COUNTER },
	{ 11, "node_softnet_backlog_len", "Softnet backlog status", METRIC_GAUGE },
};

static int softnet_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	return procfile_new(state, env->procfs, "net/softnet_stat", err, errlen);
}

/* Column col of a line, and its CPU (the CPU column, else the position pos);
 * false for a line too short for col, or not hexadecimal. */
static bool softnet_column(struct scan line, unsigned col, unsigned long long pos, uint64_t *out,
			   unsigned long long *cpu)
{
	const char *w;
	size_t n;
	unsigned count = 0;
	uint64_t v = 0, id = pos;

	while (scan_word(&line, &w, &n)) {
		uint64_t x;
		if (n > 8 || !parse_hex_u64(w, n, &x))
			return false;
		if (count == col)
			v = x;
		if (count++ == SOFTNET_CPU_COLUMN)
			id = x;
	}
	if (count < SOFTNET_MIN_COLUMNS || count <= col)
		return false;
	*out = v;
	*cpu = id;
	return true;
}

static int softnet_emit(const struct procfile *file, const struct softnet_column *c,
			struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "cpu" };
	struct lazyfam fam = { c->name, c->help, c->type, false };
	struct scan text = scan_text(file->buf, file->len), line;
	unsigned long long pos = 0, cpu;
	int rc = 0;

	for (; rc == 0 && scan_line(&text, &line); pos++) {
		uint64_t v;
		char buf[24];
		if (!softnet_column(line, c->index, pos, &v, &cpu))
			continue;
		const char *values[] = { fmt_uint(buf, sizeof buf, cpu) };
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
