/* Per-collector health series (health.h). */
#include "health.h"

#include <string.h>

struct health_family {
	const char *name;
	const char *help;
	enum metric_type type;
	bool needs_batch; /* only once a batch was seen */
};

static const struct health_family families[] = {
	{ "shmetrics_collector_up",
	  "1 if the collector's segment is readable, its writer alive and its data fresh.",
	  METRIC_GAUGE, false },
	{ "node_scrape_collector_success",
	  "1 if the collector is up and its last collection succeeded.", METRIC_GAUGE, false },
	{ "node_scrape_collector_duration_seconds",
	  "How long the collector's last published collection took.", METRIC_GAUGE, true },
	{ "shmetrics_collector_last_publish_timestamp_seconds",
	  "When the collector last published a batch (Unix time).", METRIC_GAUGE, true },
	{ "shmetrics_collector_series", "Series of the collector sent with this publish.",
	  METRIC_GAUGE, false },
	{ "shmetrics_collector_series_dropped_total",
	  "Series the collector could not publish because a limit of its segment was reached.",
	  METRIC_COUNTER, true },
};
#define N_FAMILIES (sizeof families / sizeof families[0])

void health_limits(struct batch_limits *lim)
{
	lim->max_families = N_FAMILIES;
	lim->max_series = N_FAMILIES;
	lim->max_labels = N_FAMILIES;
	lim->max_values = N_FAMILIES;
	lim->max_bounds = 1;
	lim->string_bytes = 4096;
}

static double value_of(size_t i, const struct health *h)
{
	switch (i) {
	case 0:
		return h->up;
	case 1:
		return h->up && h->success;
	case 2:
		return h->duration_s;
	case 3:
		return h->publish_s;
	case 4:
		return h->up ? (double)h->series : 0;
	default:
		return (double)h->series_dropped;
	}
}

int health_build(struct batch *b, const char *collector, const struct health *h,
		 struct metrics_view *v, char *err, size_t errlen)
{
	static const char *const label[] = { "collector" };
	const char *value[] = { collector };
	int rc = 0;

	batch_reset(b);
	for (size_t i = 0; rc == 0 && i < N_FAMILIES; i++) {
		if (families[i].needs_batch && !h->known)
			continue;
		rc = batch_family(b, families[i].name, families[i].help, families[i].type, err,
				  errlen);
		if (rc == 0)
			rc = batch_add(b, label, value, 1, value_of(i, h), err, errlen);
	}
	if (rc < 0)
		return rc;
	batch_set_status(b, true, 0, NULL);
	batch_view(b, v);
	return 0;
}

bool health_reserved(const char *name, size_t len)
{
	for (size_t i = 0; i < N_FAMILIES; i++)
		if (strlen(families[i].name) == len && memcmp(families[i].name, name, len) == 0)
			return true;
	return false;
}
