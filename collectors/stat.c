/*
 * stat - the system-wide counters of PROCFS/stat (boot time, context switches,
 * forks, interrupts, runnable and blocked processes).  The per-CPU lines of the
 * same file belong to the cpu collector.
 */
#include <errno.h>
#include <stdbool.h>

#include "collector.h"
#include "emit.h"
#include "procfile.h"
#include "scan.h"

struct stat_field {
	const char *key; /* first word of the line in /proc/stat */
	const char *name;
	const char *help;
	enum metric_type type;
};

/* Emitted in this order, whatever the order of the file. */
static const struct stat_field fields[] = {
	{ "btime", "node_boot_time_seconds", "Node boot time, in unixtime.", METRIC_GAUGE },
	{ "ctxt", "node_context_switches_total", "Total number of context switches.",
	  METRIC_COUNTER },
	{ "processes", "node_forks_total", "Total number of forks.", METRIC_COUNTER },
	{ "intr", "node_intr_total", "Total number of interrupts serviced.", METRIC_COUNTER },
	{ "procs_running", "node_procs_running", "Number of processes in runnable state.",
	  METRIC_GAUGE },
	{ "procs_blocked", "node_procs_blocked",
	  "Number of processes blocked waiting for I/O to complete.", METRIC_GAUGE },
};

#define N_FIELDS (sizeof fields / sizeof fields[0])

static int stat_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	return procfile_new(state, env->procfs, "stat", err, errlen);
}

/* Looks at one line; fills values[i] when it is fields[i] with a good number.
 * Only the first number matters (intr is followed by one count per IRQ). */
static void stat_line(struct scan line, uint64_t *values, bool *found)
{
	const char *w, *num;
	size_t n, numlen;

	if (!scan_word(&line, &w, &n))
		return;
	for (size_t i = 0; i < N_FIELDS; i++) {
		if (!word_is(w, n, fields[i].key))
			continue;
		if (scan_word(&line, &num, &numlen) && parse_u64(num, numlen, &values[i]))
			found[i] = true;
		return;
	}
}

static int stat_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct procfile *file = state;
	uint64_t values[N_FIELDS];
	bool found[N_FIELDS] = { false };

	int rc = procfile_read(file, err, errlen);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	struct scan text = scan_text(file->buf, file->len), line;
	while (scan_line(&text, &line))
		stat_line(line, values, found);
	for (size_t i = 0; i < N_FIELDS; i++) {
		if (!found[i])
			continue;
		rc = emit_single(b, fields[i].name, fields[i].help, fields[i].type,
				 (double)values[i], err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

const struct collector_ops collector_stat_ops = {
	.init = stat_init,
	.collect = stat_collect,
	.fini = procfile_free,
};
