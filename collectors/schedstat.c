/*
 * schedstat - per-CPU scheduler statistics from PROCFS/schedstat: the cpuN lines,
 * whose 7th, 8th and 9th numbers are the nanoseconds spent running tasks, the
 * nanoseconds tasks spent waiting to run, and the number of timeslices run.
 * "version", "timestamp" and "domainN" lines are skipped.
 */
#include <errno.h>
#include <string.h>

#include "collector.h"
#include "lazyfam.h"
#include "procfile.h"
#include "scan.h"

#define SCHED_FIELDS  9
#define NS_PER_SECOND 1e9

struct sched_column {
	unsigned field; /* 0-based, after the cpuN word */
	double divisor;
	const char *name, *help;
};

static const struct sched_column columns[] = {
	{ 6, NS_PER_SECOND, "node_schedstat_running_seconds_total",
	  "Number of seconds CPU spent running a process." },
	{ 7, NS_PER_SECOND, "node_schedstat_waiting_seconds_total",
	  "Number of seconds spent by processing waiting for this CPU." },
	{ 8, 1, "node_schedstat_timeslices_total", "Number of timeslices executed by CPU." },
};

static int sched_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	return procfile_new(state, env->procfs, "schedstat", err, errlen);
}

/* "cpu3 0 0 0 0 0 0 123 456 789" -> cpu ("3") and its fields; false otherwise. */
static bool sched_parse(struct scan line, char *cpu, size_t cpulen, uint64_t *f)
{
	const char *w;
	size_t n;
	uint64_t id;

	if (!scan_word(&line, &w, &n) || n < 4 || memcmp(w, "cpu", 3) != 0 ||
	    !parse_u64(w + 3, n - 3, &id) || n - 3 >= cpulen)
		return false;
	memcpy(cpu, w + 3, n - 3);
	cpu[n - 3] = '\0';
	for (int i = 0; i < SCHED_FIELDS; i++)
		if (!scan_word(&line, &w, &n) || !parse_u64(w, n, &f[i]))
			return false;
	return true;
}

static int sched_emit(const struct procfile *file, const struct sched_column *c, struct batch *b,
		      char *err, size_t errlen)
{
	static const char *const names[] = { "cpu" };
	struct lazyfam fam = { c->name, c->help, METRIC_COUNTER, false };
	struct scan text = scan_text(file->buf, file->len), line;
	int rc = 0;

	while (rc == 0 && scan_line(&text, &line)) {
		char cpu[24];
		uint64_t f[SCHED_FIELDS];
		const char *values[] = { cpu };
		if (sched_parse(line, cpu, sizeof cpu, f))
			rc = lazyfam_add(b, &fam, names, values, 1,
					 (double)f[c->field] / c->divisor, err, errlen);
	}
	return rc;
}

static int sched_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct procfile *file = state;
	int rc = procfile_read(file, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	for (size_t i = 0; rc == 0 && i < sizeof columns / sizeof columns[0]; i++)
		rc = sched_emit(file, &columns[i], b, err, errlen);
	return rc;
}

const struct collector_ops collector_schedstat_ops = {
	.init = sched_init,
	.collect = sched_collect,
	.fini = procfile_free,
};
