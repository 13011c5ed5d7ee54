/* The agent's own metrics. */
#include "self_metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"
#include "procstat.h"

struct self_metrics {
	struct seg_writer *writer;
	struct batch *batch;
	double boot_time; /* for process start times; 0 when unknown */
};

int self_metrics_open(struct self_metrics **out, const struct segdir *d, const char *collector,
		      char *err, size_t errlen)
{
	struct self_metrics *m = calloc(1, sizeof *m);
	int rc;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = seg_writer_attach(&m->writer, d, collector, err, errlen);
	if (rc < 0) {
		free(m);
		return rc;
	}
	char why[256];
	if (proc_boot_time("/proc", &m->boot_time, why, sizeof why) < 0)
		m->boot_time = 0;
	m->batch = batch_new(seg_writer_limits(m->writer));
	if (!m->batch) {
		seg_writer_detach(m->writer);
		free(m);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

void self_metrics_close(struct self_metrics *m)
{
	if (!m)
		return;
	batch_free(m->batch);
	seg_writer_detach(m->writer);
	free(m);
}

static int add_series(struct batch *b, const char *collector, double v, char *err, size_t errlen)
{
	static const char *const label[] = { "collector" };
	const char *value[] = { collector };

	return batch_add(b, label, value, 1, v, err, errlen);
}

/* One series per collector: a group's process stands for each of its members. */
static int per_child_family(struct batch *b, const char *name, const char *help,
			    enum metric_type type, const struct process_table *t,
			    bool running_gauge, char *err, size_t errlen)
{
	int rc = batch_family(b, name, help, type, err, errlen);
	size_t i = 0;

	for (const struct child *c; rc == 0 && (c = table_next(t, &i)) != NULL;) {
		double v = running_gauge ? (c->state == CHILD_RUNNING || c->state == CHILD_STOPPING)
					 : (double)c->restarts;
		if (c->kind != CHILD_GROUP) {
			rc = add_series(b, c->name, v, err, errlen);
			continue;
		}
		for (size_t k = 0; rc == 0 && config_builtin_collectors[k]; k++)
			if (member_set_has(&c->members, k))
				rc = add_series(b, config_builtin_collectors[k], v, err, errlen);
	}
	return rc;
}

static int single_gauge(struct batch *b, const char *name, const char *help, double v, char *err,
			size_t errlen)
{
	int rc = batch_family(b, name, help, METRIC_GAUGE, err, errlen);

	return rc < 0 ? rc : batch_add(b, NULL, NULL, 0, v, err, errlen);
}

static const char *child_role(const struct child *c)
{
	return c->kind == CHILD_EXPORTER ? "exporter" : "collector";
}

/*
 * shmetrics_process_*{role, name}: the agent's own process and every child's that
 * runs.  A child that exited since the table last saw it is simply left out.
 */
static int process_families(struct self_metrics *m, const struct process_table *t, char *err,
			    size_t errlen)
{
	size_t n = t->n, i = 0;
	static const char *const names[] = { "role", "name" };
	struct proc_stats *st = calloc(n + 1, sizeof *st);
	const char **lab = calloc(2 * (n + 1), sizeof *lab); /* role, name per process */
	size_t k = 0;
	char why[256];
	int rc = -ENOMEM;

	if (!st || !lab)
		goto out;
	if (proc_stats_read("/proc", 0, m->boot_time, &st[k], why, sizeof why) == 0) {
		lab[2 * k] = lab[2 * k + 1] = "agent";
		k++;
	}
	for (const struct child *c; (c = table_next(t, &i)) != NULL;) {
		if (c->pid <= 0 ||
		    proc_stats_read("/proc", c->pid, m->boot_time, &st[k], why, sizeof why) < 0)
			continue;
		lab[2 * k] = child_role(c);
		lab[2 * k + 1] = c->name;
		k++;
	}
	rc = proc_stats_add(m->batch, "shmetrics_", names, 2, lab, st, k, err, errlen);
out:
	if (rc == -ENOMEM && (!st || !lab))
		snprintf(err, errlen, "out of memory");
	free(st);
	free(lab);
	return rc;
}

int self_metrics_publish(struct self_metrics *m, const struct process_table *t,
			 const struct agent_status *st, char *err, size_t errlen)
{
	struct batch *b = m->batch;
	int rc;

	batch_reset(b);
	rc = per_child_family(
	    b, "shmetrics_collector_restarts_total",
	    "Times the agent restarted the collector's process after it exited on its own.",
	    METRIC_COUNTER, t, false, err, errlen);
	if (rc == 0)
		rc = per_child_family(b, "shmetrics_collector_running",
				      "Whether the collector's process is running (1) or not (0).",
				      METRIC_GAUGE, t, true, err, errlen);
	if (rc == 0)
		rc = single_gauge(b, "shmetrics_agent_config_last_reload_successful",
				  "Whether the last configuration reload succeeded.",
				  st->last_reload_ok, err, errlen);
	if (rc == 0)
		rc = single_gauge(b, "shmetrics_agent_config_last_reload_success_timestamp_seconds",
				  "Time of the last successful configuration load, in seconds "
				  "since the epoch.",
				  st->last_reload_success_s, err, errlen);
	if (rc == 0)
		rc = single_gauge(b, "shmetrics_agent_start_time_seconds",
				  "Time the agent started, in seconds since the epoch.",
				  st->start_time_s, err, errlen);
	if (rc == 0)
		rc = process_families(m, t, err, errlen);
	if (rc < 0)
		return rc;
	batch_set_status(b, true, 0, NULL);
	return seg_writer_publish(m->writer, b, err, errlen);
}
