/*
 * Feeding the history from what the scrape reads (scrape.h): every batch a
 * collector publishes, whoever's probe saw it first (a request or the
 * sampler), and once a second the collectors' health.  Runs under s->lock,
 * right after the collectors were refreshed.
 *
 * History source 0 is the exporter's health series; collector i is source
 * i + 1, so that the order of sources is the order of /metrics (the
 * exporter's own families first) and a duplicate key resolves the same way.
 */
#include <stdio.h>
#include <string.h>

#include "history.h"
#include "scrape_internal.h"

#define HEALTH_MIN_MS 1000u

static int64_t ms_of(uint64_t ns)
{
	return (int64_t)(ns / 1000000u);
}

/* The same writer-and-reader identity the renderer's templates use. */
static uint64_t writer_key(const struct collector_state *c)
{
	return ((uint64_t)(uint32_t)c->info.writer_pid << 32) ^ c->info.writer_start ^
	       (c->opens * 0x9e3779b97f4a7c15ull);
}

static void put_health(struct history *h, const char *name, const char *collector, double v)
{
	static const char *const label = "collector";
	size_t name_len = strlen(name), ll = strlen(label), vl = strlen(collector);
	char key[512];
	size_t len = history_key(key, sizeof key, name, name_len, &label, &ll, &collector, &vl, 1);

	if (len)
		history_put(h, key, len, v);
}

static void put_plain(struct history *h, const char *name, double v)
{
	char key[128];
	size_t len = history_key(key, sizeof key, name, strlen(name), NULL, NULL, NULL, NULL, 0);

	if (len)
		history_put(h, key, len, v);
}

static void record_health(struct scrape *s, int64_t now_ms, uint32_t interval_ms)
{
	struct history_stats st;

	history_stats(s->history, &st);
	if (history_begin(s->history, 0, now_ms, interval_ms) == 0) {
		for (size_t i = 0; i < s->n; i++) {
			const struct collector_state *c = &s->col[i];
			put_health(s->history, "shmetrics_collector_up", c->name, c->up);
			put_health(s->history, "node_scrape_collector_success", c->name,
				   c->success);
			put_health(s->history, "shmetrics_collector_series", c->name,
				   (double)c->series);
			if (c->known)
				put_health(s->history, "node_scrape_collector_duration_seconds",
					   c->name, (double)c->duration_ns / 1e9);
		}
		put_plain(s->history, "shmetrics_history_bytes", (double)st.bytes);
		put_plain(s->history, "shmetrics_history_series", (double)st.series);
	}
	history_end(s->history);
}

/* The shortest interval the collectors state; 0 when none is known yet. */
static uint32_t min_interval(const struct scrape *s)
{
	uint32_t min = 0;

	for (size_t i = 0; i < s->n; i++) {
		uint32_t iv = s->col[i].info.interval_ms;
		if (s->col[i].known && iv && (min == 0 || iv < min))
			min = iv;
	}
	return min;
}

static uint32_t health_interval(const struct scrape *s)
{
	uint32_t min = min_interval(s);

	return min > HEALTH_MIN_MS ? min : HEALTH_MIN_MS;
}

void scrape_history_feed(struct scrape *s, uint64_t now_ns)
{
	int64_t now_ms = ms_of(now_ns);

	for (size_t i = 0; i < s->n; i++) {
		struct collector_state *c = &s->col[i];
		if (c->up)
			history_record_view(s->history, i + 1, &c->view, writer_key(c),
					    ms_of(c->view.hdr.publish_time_ns),
					    c->info.interval_ms);
		else
			history_mark_down(s->history, i + 1, now_ms);
	}
	uint32_t iv = health_interval(s);
	if (now_ms - s->health_ms >= (int64_t)iv) {
		s->health_ms = now_ms;
		record_health(s, now_ms, iv);
	}
}

int scrape_history_new(struct scrape *s, const struct history_options *opt, char *err,
		       size_t errlen)
{
	const char *names[SCRAPE_MAX_COLLECTORS + 1];

	names[0] = "exporter";
	for (size_t i = 0; i < s->n; i++)
		names[i + 1] = s->col[i].name;
	return history_new(&s->history, opt, s->n + 1, names, err, errlen);
}

struct history *scrape_history(struct scrape *s)
{
	return s->history;
}

void scrape_refresh(struct scrape *s)
{
	pthread_mutex_lock(&s->lock);
	scrape_refresh_locked(s);
	pthread_mutex_unlock(&s->lock);
}

uint32_t scrape_min_interval_ms(struct scrape *s)
{
	pthread_mutex_lock(&s->lock);
	uint32_t iv = min_interval(s);
	pthread_mutex_unlock(&s->lock);
	return iv;
}

/* ---- the exporter's own metrics about the history ---- */

static int gauge(struct batch *b, const char *name, const char *help, double v, char *err,
		 size_t errlen)
{
	int rc = batch_family(b, name, help, METRIC_GAUGE, err, errlen);

	return rc ? rc : batch_add(b, NULL, NULL, 0, v, err, errlen);
}

int scrape_history_self(struct scrape *s, char *err, size_t errlen)
{
	struct history_stats st;
	int rc;

	if (!s->history)
		return 0;
	history_stats(s->history, &st);
	rc = gauge(s->own, "shmetrics_history_bytes",
		   "Memory the exporter's history of recent values takes.", (double)st.bytes, err,
		   errlen);
	if (rc == 0)
		rc = gauge(s->own, "shmetrics_history_max_bytes",
			   "The history's memory limit (--history.memory-limit-mib).",
			   (double)st.max_bytes, err, errlen);
	if (rc == 0)
		rc = gauge(s->own, "shmetrics_history_series", "Series the history holds.",
			   (double)st.series, err, errlen);
	if (rc == 0)
		rc = gauge(s->own, "shmetrics_history_retention_seconds",
			   "How far back the history goes (--history.retention).",
			   (double)st.retention_ms / 1000.0, err, errlen);
	if (rc == 0) {
		rc = batch_family(s->own, "shmetrics_history_samples_dropped_total",
				  "Values not recorded because the history's memory limit was "
				  "reached.",
				  METRIC_COUNTER, err, errlen);
		if (rc == 0)
			rc = batch_add(s->own, NULL, NULL, 0, (double)st.samples_dropped, err,
				       errlen);
	}
	return rc;
}
