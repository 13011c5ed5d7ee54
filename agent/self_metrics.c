/* The agent's own metrics. */
#include "self_metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"

struct self_metrics {
	struct seg_writer *writer;
	struct batch *batch;
};

int self_metrics_open(struct self_metrics **out, const char *shm_name, char *err, size_t errlen)
{
	struct self_metrics *m = calloc(1, sizeof *m);
	int rc;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = seg_writer_attach(&m->writer, shm_name, err, errlen);
	if (rc < 0) {
		free(m);
		return rc;
	}
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
			    enum metric_type type, const struct child *table, size_t n,
			    bool running_gauge, char *err, size_t errlen)
{
	int rc = batch_family(b, name, help, type, err, errlen);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct child *c = &table[i];
		if (!c->in_use)
			continue;
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

int self_metrics_publish(struct self_metrics *m, const struct child *table, size_t n,
			 const struct agent_status *st, char *err, size_t errlen)
{
	struct batch *b = m->batch;
	int rc;

	batch_reset(b);
	rc = per_child_family(
	    b, "shmetrics_collector_restarts_total",
	    "Times the agent restarted the collector's process after it exited on its own.",
	    METRIC_COUNTER, table, n, false, err, errlen);
	if (rc == 0)
		rc = per_child_family(b, "shmetrics_collector_running",
				      "Whether the collector's process is running (1) or not (0).",
				      METRIC_GAUGE, table, n, true, err, errlen);
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
	if (rc < 0)
		return rc;
	batch_set_status(b, true, 0, NULL);
	return seg_writer_publish(m->writer, b, err, errlen);
}
