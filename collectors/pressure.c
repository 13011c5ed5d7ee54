/*
 * pressure - pressure stall information (PSI, Linux 4.20+) from
 * PROCFS/pressure/{cpu,io,memory,irq}: the "total=" microseconds of the "some"
 * line as *_waiting_seconds_total and of the "full" line as
 * *_stalled_seconds_total.  As in node_exporter, the cpu resource reports only
 * its "some" line and irq (Linux 6.1+, CONFIG_IRQ_TIME_ACCOUNTING) only its
 * "full" line, the only one the kernel writes for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "emit.h"
#include "procfile.h"
#include "psi.h"
#include "scan.h"

struct psi_metric {
	const char *name, *help; /* NULL: this resource's line is not reported */
};

static const struct {
	const char *file;
	struct psi_metric m[N_PSI_LINES];
} resources[] = {
	{ "pressure/cpu",
	  { { "node_pressure_cpu_waiting_seconds_total",
	      "Total time in seconds that processes have waited for CPU time" },
	    { NULL, NULL } } },
	{ "pressure/io",
	  { { "node_pressure_io_waiting_seconds_total",
	      "Total time in seconds that processes have waited due to IO congestion" },
	    { "node_pressure_io_stalled_seconds_total",
	      "Total time in seconds no process could make progress due to IO congestion" } } },
	{ "pressure/memory",
	  { { "node_pressure_memory_waiting_seconds_total",
	      "Total time in seconds that processes have waited for memory" },
	    { "node_pressure_memory_stalled_seconds_total",
	      "Total time in seconds no process could make progress due to memory congestion" } } },
	{ "pressure/irq",
	  { { NULL, NULL },
	    { "node_pressure_irq_stalled_seconds_total",
	      "Total time in seconds no process could make progress due to IRQ congestion" } } },
};

#define N_RESOURCES (sizeof resources / sizeof resources[0])

struct pressure_state {
	struct procfile files[N_RESOURCES];
};

static void pressure_fini(void *state)
{
	struct pressure_state *s = state;
	if (!s)
		return;
	for (size_t i = 0; i < N_RESOURCES; i++)
		procfile_close(&s->files[i]);
	free(s);
}

static int pressure_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct pressure_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < N_RESOURCES; i++) {
		int rc = procfile_init(&s->files[i], env->procfs, resources[i].file, err, errlen);
		if (rc) {
			pressure_fini(s);
			return rc;
		}
	}
	*state = s;
	return 0;
}

static int pressure_resource(struct pressure_state *s, size_t r, struct batch *b, char *err,
			     size_t errlen)
{
	uint64_t totals[N_PSI_LINES];
	bool found[N_PSI_LINES];

	int rc = procfile_read(&s->files[r], err, errlen);
	/* No PSI in this kernel (or disabled with psi=0): nothing to report. */
	if (rc == -ENOENT || rc == -EOPNOTSUPP)
		return 0;
	if (rc)
		return rc;
	psi_parse_text(s->files[r].buf, s->files[r].len, found, totals);
	for (int l = 0; rc == 0 && l < N_PSI_LINES; l++) {
		const struct psi_metric *m = &resources[r].m[l];
		/* Two divisions, as node_exporter does them, for bit-identical values. */
		if (found[l] && m->name)
			rc = emit_single(b, m->name, m->help, METRIC_COUNTER,
					 (double)totals[l] / 1000.0 / 1000.0, err, errlen);
	}
	return rc;
}

static int pressure_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct pressure_state *s = state;
	int rc = 0;

	for (size_t r = 0; rc == 0 && r < N_RESOURCES; r++)
		rc = pressure_resource(s, r, b, err, errlen);
	return rc;
}

const struct collector_ops collector_pressure_ops = {
	.init = pressure_init,
	.collect = pressure_collect,
	.fini = pressure_fini,
};
