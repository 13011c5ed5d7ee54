/*
 * health.h - the health series the shipper sends for every collector, under
 * the names the exporter serves them (docs/exporter.md):
 *
 *   shmetrics_collector_up{collector}                       1 or 0
 *   node_scrape_collector_success{collector}                1 or 0
 *   node_scrape_collector_duration_seconds{collector}       once a batch was seen
 *   shmetrics_collector_last_publish_timestamp_seconds{collector}   likewise
 *   shmetrics_collector_series{collector}
 *   shmetrics_collector_series_dropped_total{collector}     likewise
 *
 * A collector that publishes sends them with each publish; one that is down
 * sends them once per interval, so an alert on shmetrics_collector_up == 0
 * works on the receiving side too.
 */
#ifndef SHMETRICS_SHIPPER_HEALTH_H
#define SHMETRICS_SHIPPER_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"

struct health {
	bool up, success;
	bool known; /* a batch was seen: the fields below are meaningful */
	double duration_s, publish_s;
	uint64_t series, series_dropped;
};

/* Limits of a batch holding one collector's health. */
void health_limits(struct batch_limits *lim);

/* Builds collector's health into b and gives a view of it.  0 or -errno. */
int health_build(struct batch *b, const char *collector, const struct health *h,
		 struct metrics_view *v, char *err, size_t errlen);

/* True when name is one of the health families (no collector may send it). */
bool health_reserved(const char *name, size_t len);

#endif
