/*
 * The exporter's own metrics, built into ordinary batches so that the one
 * renderer handles them.  The collectors' health families change only with
 * what the collectors publish, so they go into the cached head, first, where
 * no collector can shadow them.  The exporter's counters change with every
 * request, so they go into every reply's tail; their names are reserved in
 * the head (render.h).
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "scrape_internal.h"

static const double render_bounds[N_RENDER_BOUNDS] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
						       0.005,  0.01,    0.025,  0.05,  0.1,
						       0.25,   0.5,     1.0 };

const unsigned scrape_request_codes[N_REQUEST_CODES] = { 200, 304, 400, 401, 403,
							 404, 405, 422, 500, 503 };

static const char *const format_names[SCRAPE_FORMATS] = { "text", "openmetrics", "json" };

#define SELF_HISTORY_FAMILIES 5 /* scrape_history_self */

typedef bool (*collector_value_fn)(const struct collector_state *c, double *v);

static bool value_up(const struct collector_state *c, double *v)
{
	*v = c->up;
	return true;
}

static bool value_success(const struct collector_state *c, double *v)
{
	*v = c->success;
	return true;
}

static bool value_duration(const struct collector_state *c, double *v)
{
	*v = (double)c->duration_ns / 1e9;
	return c->known;
}

static bool value_publish(const struct collector_state *c, double *v)
{
	*v = (double)c->publish_ns / 1e9;
	return c->known;
}

static bool value_series(const struct collector_state *c, double *v)
{
	*v = (double)c->series;
	return true;
}

static bool value_dropped(const struct collector_state *c, double *v)
{
	*v = (double)c->info.series_dropped;
	return c->known;
}

/* Collectors with workers (docs/custom-collectors.md): how many run, and how
 * many attaches were refused because every slot was held. */
static bool value_workers(const struct collector_state *c, double *v)
{
	*v = (double)c->info.workers_alive;
	return c->known && c->info.workers > 0;
}

static bool value_workers_refused(const struct collector_state *c, double *v)
{
	*v = (double)c->info.workers_refused;
	return c->known && c->info.workers > 0;
}

struct collector_family {
	const char *name;
	const char *help;
	collector_value_fn value;
	enum metric_type type;
	bool sparse; /* left out when no collector has a value for it */
};

static const struct collector_family collector_families[] = {
	{ "shmetrics_collector_up",
	  "1 if the collector's segment is readable, its writer alive and its data fresh.",
	  value_up, METRIC_GAUGE, false },
	{ "node_scrape_collector_success",
	  "1 if the collector is up and its last collection succeeded.", value_success,
	  METRIC_GAUGE, false },
	{ "node_scrape_collector_duration_seconds",
	  "How long the collector's last published collection took.", value_duration, METRIC_GAUGE,
	  false },
	{ "shmetrics_collector_last_publish_timestamp_seconds",
	  "When the collector last published a batch (Unix time).", value_publish, METRIC_GAUGE,
	  false },
	{ "shmetrics_collector_series", "Series of the collector exposed by this scrape.",
	  value_series, METRIC_GAUGE, false },
	{ "shmetrics_collector_series_dropped_total",
	  "Series the collector could not publish because a limit of its segment was reached.",
	  value_dropped, METRIC_COUNTER, false },
	{ "shmetrics_collector_workers",
	  "Worker processes attached to the collector now (collectors with workers).",
	  value_workers, METRIC_GAUGE, true },
	{ "shmetrics_collector_workers_refused_total",
	  "Processes refused a worker slot because every slot of the collector was held.",
	  value_workers_refused, METRIC_COUNTER, true },
};
#define N_COLLECTOR_FAMILIES (sizeof collector_families / sizeof collector_families[0])

static bool any_value(const struct scrape *s, const struct collector_family *f,
		      const struct scrape_selection *sel)
{
	double v;

	for (size_t i = 0; i < s->n; i++)
		if (selection_has(sel, i) && f->value(&s->col[i], &v))
			return true;
	return false;
}

static int self_collector_family(struct scrape *s, const struct collector_family *f,
				 const struct scrape_selection *sel, char *err, size_t errlen)
{
	static const char *const label[] = { "collector" };

	if (f->sparse && !any_value(s, f, sel))
		return 0;
	int rc = batch_family(s->health, f->name, f->help, f->type, err, errlen);

	for (size_t i = 0; rc == 0 && i < s->n; i++) {
		const char *value[] = { s->col[i].name };
		double v;
		if (selection_has(sel, i) && f->value(&s->col[i], &v))
			rc = batch_add(s->health, label, value, 1, v, err, errlen);
	}
	return rc;
}

static int add_counter(struct scrape *s, const char *name, const char *help, double v, char *err,
		       size_t errlen)
{
	int rc = batch_family(s->own, name, help, METRIC_COUNTER, err, errlen);

	return rc ? rc : batch_add(s->own, NULL, NULL, 0, v, err, errlen);
}

static int self_requests(struct scrape *s, char *err, size_t errlen)
{
	static const char *const label[] = { "code" };
	int rc = batch_family(s->own, "shmetrics_exporter_requests_total",
			      "HTTP requests answered, by status code.", METRIC_COUNTER, err,
			      errlen);

	for (size_t i = 0; rc == 0 && i < N_REQUEST_CODES; i++) {
		char code[8];
		const char *value[] = { code };
		snprintf(code, sizeof code, "%u", scrape_request_codes[i]);
		rc = batch_add(s->own, label, value, 1, (double)atomic_load(&s->requests[i]), err,
			       errlen);
	}
	return rc;
}

static int self_scrapes(struct scrape *s, char *err, size_t errlen)
{
	static const char *const label[] = { "format", "encoding" };
	int rc = batch_family(s->own, "shmetrics_exporter_scrapes_total",
			      "Bodies served, by format and content encoding.", METRIC_COUNTER, err,
			      errlen);

	for (size_t f = 0; rc == 0 && f < SCRAPE_FORMATS; f++)
		for (size_t z = 0; rc == 0 && z < 2; z++) {
			const char *value[] = { format_names[f], z ? "gzip" : "identity" };
			rc = batch_add(s->own, label, value, 2,
				       (double)atomic_load(&s->scrapes[f][z]), err, errlen);
		}
	return rc;
}

static int self_refused(struct scrape *s, char *err, size_t errlen)
{
	static const char *const label[] = { "reason", "answer" };
	static const char *const reason[] = { "per_ip", "total" };
	static const char *const answer[] = { "503", "closed" };
	int rc = batch_family(s->own, "shmetrics_exporter_connections_refused_total",
			      "Connections refused by --web.max-connections-per-ip (per_ip) or "
			      "--web.max-connections (total): answered 503, or closed at accept "
			      "beyond the reserve.",
			      METRIC_COUNTER, err, errlen);

	for (size_t r = 0; rc == 0 && r < 2; r++)
		for (size_t a = 0; rc == 0 && a < 2; a++) {
			const char *value[] = { reason[r], answer[a] };
			uint64_t n = atomic_load_explicit(&s->refused[r][a], memory_order_relaxed);
			rc = batch_add(s->own, label, value, 2, (double)n, err, errlen);
		}
	return rc;
}

/* The standard process_* families of every client library, for this process:
 * node_exporter dashboards chart them.  Under load they are read again at most
 * once per probe interval, like the segments' headers.  A failure to read
 * /proc/self leaves them out of the scrape (logged once); the scrape goes on. */
static int self_process(struct scrape *s, char *err, size_t errlen)
{
	uint64_t mono = scrape_monotonic_ns();
	char why[256];

	if (!s->boot_time && proc_boot_time("/proc", &s->boot_time, why, sizeof why) < 0)
		s->boot_time = 0;
	if (!s->proc_read_ns || mono - s->proc_read_ns >= s->probe_ns) {
		if (proc_stats_read("/proc", 0, s->boot_time, &s->proc, why, sizeof why) < 0) {
			if (!s->proc_failed)
				log_warnx("process_* metrics left out: %s", why);
			s->proc_failed = true;
			s->proc_read_ns = 0;
			return 0;
		}
		s->proc_failed = false;
		s->proc_read_ns = mono;
	}
	return proc_stats_add(s->own, "", NULL, 0, NULL, &s->proc, 1, err, errlen);
}

static int self_exporter(struct scrape *s, char *err, size_t errlen)
{
	int rc = self_requests(s, err, errlen);

	if (rc == 0)
		rc = self_scrapes(s, err, errlen);
	if (rc == 0)
		rc = add_counter(s, "shmetrics_exporter_renders_total",
				 "Bodies rendered; scrapes between two collections reuse one.",
				 (double)s->renders, err, errlen);
	if (rc == 0)
		rc = batch_histogram_family(s->own, "shmetrics_exporter_render_duration_seconds",
					    "Time to scrape all segments and render a body.",
					    render_bounds, N_RENDER_BOUNDS, err, errlen);
	if (rc == 0)
		rc = batch_add_histogram(s->own, NULL, NULL, 0, s->render_counts, s->render_sum,
					 err, errlen);
	if (rc == 0)
		rc = add_counter(s, "shmetrics_exporter_duplicate_families_total",
				 "Families skipped because an earlier collector had the same name.",
				 (double)s->dup_total, err, errlen);
	if (rc == 0)
		rc = scrape_history_self(s, err, errlen);
	if (rc == 0)
		rc = self_refused(s, err, errlen);
	return rc == 0 ? self_process(s, err, errlen) : rc;
}

int self_health_build(struct scrape *s, const struct scrape_selection *sel, struct metrics_view *v)
{
	char err[256];
	int rc = 0;

	batch_reset(s->health);
	for (size_t i = 0; rc == 0 && i < N_COLLECTOR_FAMILIES; i++)
		rc = self_collector_family(s, &collector_families[i], sel, err, sizeof err);
	if (rc < 0) {
		log_error("building the collectors' health metrics failed: %s", err);
		return rc;
	}
	batch_set_status(s->health, true, 0, NULL);
	batch_view(s->health, v);
	return 0;
}

int self_own_build(struct scrape *s, struct metrics_view *v)
{
	char err[256];

	batch_reset(s->own);
	int rc = self_exporter(s, err, sizeof err);
	if (rc < 0) {
		log_error("building the exporter's own metrics failed: %s", err);
		return rc;
	}
	batch_set_status(s->own, true, 0, NULL);
	batch_view(s->own, v);
	return 0;
}

void self_observe_render(struct scrape *s, double seconds)
{
	size_t i = 0;

	while (i < N_RENDER_BOUNDS && seconds > render_bounds[i])
		i++;
	s->render_counts[i]++; /* batch_add_histogram takes per-bucket counts */
	s->render_sum += seconds;
	s->renders++;
}

void self_health_limits(struct batch_limits *lim, size_t n)
{
	uint32_t per = (uint32_t)(n * N_COLLECTOR_FAMILIES);

	lim->max_families = N_COLLECTOR_FAMILIES;
	lim->max_series = per;
	lim->max_labels = per;
	lim->max_values = per;
	lim->max_bounds = 0;
	lim->string_bytes = 4096 + per * (SEGMENT_COLLECTOR_MAX + 16);
}

void self_own_limits(struct batch_limits *lim)
{
	uint32_t fixed = N_REQUEST_CODES + SCRAPE_FORMATS * 2 + 3 + PROC_STATS_FAMILIES +
			 SELF_HISTORY_FAMILIES + 4; /* 4: the refusals */

	lim->max_families = 16 + PROC_STATS_FAMILIES + SELF_HISTORY_FAMILIES;
	lim->max_series = fixed;
	lim->max_labels = N_REQUEST_CODES + SCRAPE_FORMATS * 4 + 8;
	lim->max_values = fixed + N_RENDER_BOUNDS + 3;
	lim->max_bounds = N_RENDER_BOUNDS;
	lim->string_bytes = 8192 + fixed * 32;
}
