/*
 * stat - the system-wide counters of PROCFS/stat (boot time, context switches,
 * forks, interrupts, runnable and blocked processes), and with
 * --collector.stat.softirq node_softirqs_total{vector} from its softirq line.
 * The per-CPU lines of the same file belong to the cpu collector.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "collector.h"
#include "emit.h"
#include "lazyfam.h"
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

/* The counts of the softirq line after its total, in the kernel's order. */
static const char *const vectors[] = { "hi",           "timer",   "net_tx", "net_rx",  "block",
				       "block_iopoll", "tasklet", "sched",  "hrtimer", "rcu" };
#define N_VECTORS (sizeof vectors / sizeof vectors[0])

struct stat_state {
	struct procfile file;
	bool softirq;
};

static void stat_fini(void *state)
{
	struct stat_state *s = state;
	if (!s)
		return;
	procfile_close(&s->file);
	free(s);
}

static int stat_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct stat_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = procfile_init(&s->file, env->procfs, "stat", err, errlen);
	if (rc) {
		free(s);
		return rc;
	}
	s->softirq = collector_option_bool(env, "softirq");
	*state = s;
	return 0;
}

/* "softirq <total> <hi> <timer> ...": one series per vector the line has. */
static int stat_softirqs(const struct procfile *f, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "vector" };
	struct lazyfam fam = { "node_softirqs_total", "Number of softirq calls.", METRIC_COUNTER,
			       false };
	struct scan text = scan_text(f->buf, f->len), line;
	const char *w;
	size_t n;
	uint64_t v;

	while (scan_line(&text, &line)) {
		if (!scan_word(&line, &w, &n) || !word_is(w, n, "softirq") ||
		    !scan_word(&line, &w, &n))
			continue;
		int rc = 0;
		for (size_t i = 0; rc == 0 && i < N_VECTORS && scan_word(&line, &w, &n); i++) {
			const char *values[] = { vectors[i] };
			if (parse_u64(w, n, &v))
				rc = lazyfam_add(b, &fam, names, values, 1, (double)v, err, errlen);
		}
		return rc;
	}
	return 0;
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
	struct stat_state *s = state;
	struct procfile *file = &s->file;
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
	return s->softirq ? stat_softirqs(file, b, err, errlen) : 0;
}

const struct collector_ops collector_stat_ops = {
	.init = stat_init,
	.collect = stat_collect,
	.fini = stat_fini,
};
