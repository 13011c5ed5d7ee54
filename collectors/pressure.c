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
#include "scan.h"

enum psi_line { PSI_SOME, PSI_FULL, N_PSI_LINES };

static const char *const line_names[N_PSI_LINES] = { "some", "full" };

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

/* "some avg10=0.00 avg60=0.00 avg300=0.00 total=1234": which line it is and its
 * total in microseconds.  False for any other line. */
static bool psi_parse(struct scan line, enum psi_line *which, uint64_t *total)
{
	const char *w;
	size_t n;

	if (!scan_word(&line, &w, &n))
		return false;
	if (word_is(w, n, line_names[PSI_SOME]))
		*which = PSI_SOME;
	else if (word_is(w, n, line_names[PSI_FULL]))
		*which = PSI_FULL;
	else
		return false;
	while (scan_word(&line, &w, &n))
		if (n > 6 && memcmp(w, "total=", 6) == 0)
			return parse_u64(w + 6, n - 6, total);
	return false;
}

static int pressure_resource(struct pressure_state *s, size_t r, struct batch *b, char *err,
			     size_t errlen)
{
	uint64_t totals[N_PSI_LINES];
	bool found[N_PSI_LINES] = { false, false };

	int rc = procfile_read(&s->files[r], err, errlen);
	/* No PSI in this kernel (or disabled with psi=0): nothing to report. */
	if (rc == -ENOENT || rc == -EOPNOTSUPP)
		return 0;
	if (rc)
		return rc;
	struct scan text = scan_text(s->files[r].buf, s->files[r].len), line;
	while (scan_line(&text, &line)) {
		enum psi_line which;
		uint64_t total;
		if (psi_parse(line, &which, &total) && !found[which]) {
			totals[which] = total;
			found[which] = true;
		}
	}
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
