/*
 * softirqs - software interrupts run per CPU, from PROCFS/softirqs, as
 * node_exporter's opt-in softirqs collector reports them:
 * node_softirqs_functions_total{cpu, type} for the ten kinds the kernel lists
 * (HI ... RCU).  cpu is the column's position, as node_exporter gives it.  A
 * kind this list does not know is skipped.
 */
#include <errno.h>

#include "collector.h"
#include "cpucols.h"
#include "emit.h"
#include "lazyfam.h"
#include "procfile.h"
#include "scan.h"

static const char *const softirq_kinds[] = { "HI",       "TIMER",   "NET_TX", "NET_RX",  "BLOCK",
					     "IRQ_POLL", "TASKLET", "SCHED",  "HRTIMER", "RCU" };
#define N_KINDS (sizeof softirq_kinds / sizeof softirq_kinds[0])

static int softirqs_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	return procfile_new(state, env->procfs, "softirqs", err, errlen);
}

/* The row of kind k, or false when the file has none. */
static bool softirqs_row(const struct procfile *f, size_t k, struct scan *rest)
{
	struct scan text = scan_text(f->buf, f->len), line;
	const char *name;
	size_t n;
	scan_line(&text, &line); /* the header */
	while (scan_line(&text, &line))
		if (cpucols_row(line, &name, &n, rest) && word_is(name, n, softirq_kinds[k]))
			return true;
	return false;
}

static int softirqs_kind(const struct procfile *f, size_t k, size_t cpus, struct lazyfam *fam,
			 struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "cpu", "type" };
	char cpu[24];
	const char *values[] = { cpu, softirq_kinds[k] }, *w;
	struct scan rest;
	size_t n;
	uint64_t v;
	if (!softirqs_row(f, k, &rest))
		return 0;
	for (size_t c = 0; c < cpus && scan_word(&rest, &w, &n); c++) {
		if (!parse_u64(w, n, &v))
			return 0;
		fmt_uint(cpu, sizeof cpu, c);
		int rc = lazyfam_add(b, fam, names, values, 2, (double)v, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int softirqs_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct procfile *f = state;
	struct lazyfam fam = { "node_softirqs_functions_total", "Softirq counts per CPU.",
			       METRIC_COUNTER, false };
	int rc = procfile_read(f, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	struct scan text = scan_text(f->buf, f->len), header;
	if (!scan_line(&text, &header))
		return 0;
	size_t cpus = cpucols_count(header);
	for (size_t k = 0; rc == 0 && k < N_KINDS; k++)
		rc = softirqs_kind(f, k, cpus, &fam, b, err, errlen);
	return rc;
}

const struct collector_ops collector_softirqs_ops = {
	.init = softirqs_init,
	.collect = softirqs_collect,
	.fini = procfile_free,
};
