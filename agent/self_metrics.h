/*
 * self_metrics.h - the agent's own metrics, published through its "agent"
 * segment like any collector's:
 *
 *   shmetrics_collector_restarts_total{collector}   counter (exporter included)
 *   shmetrics_collector_running{collector}          gauge, 1 or 0
 *   shmetrics_agent_config_last_reload_successful   gauge, 1 or 0
 *   shmetrics_agent_config_last_reload_success_timestamp_seconds   gauge
 *   shmetrics_agent_start_time_seconds              gauge
 *   shmetrics_process_cpu_seconds_total{role,name}  counter, and the other
 *     process_* figures of client libraries (lib/procstat.h), for the agent
 *     (role "agent") and each running child (role "collector" or "exporter",
 *     name as in the process table: "host", "cpu", "exporter")
 */
#ifndef SHMETRICS_AGENT_SELF_METRICS_H
#define SHMETRICS_AGENT_SELF_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "table.h"

/* How often the agent publishes even when nothing happened (also the segment's
 * interval, which readers use for staleness). */
#define SELF_METRICS_INTERVAL_MS 5000u

struct agent_status {
	double start_time_s; /* CLOCK_REALTIME */
	bool last_reload_ok;
	double last_reload_success_s;
};

struct self_metrics;

/* Attaches as the writer of the agent's (already created) segment. */
int self_metrics_open(struct self_metrics **out, const struct segdir *d, const char *collector,
		      char *err, size_t errlen);
void self_metrics_close(struct self_metrics *m);

/* Publishes one batch for the children in the table. */
int self_metrics_publish(struct self_metrics *m, const struct process_table *t,
			 const struct agent_status *st, char *err, size_t errlen);

#endif
