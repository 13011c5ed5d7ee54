/*
 * One scrape of every configured collector, plus the exporter's self-metrics.
 * Self-metrics are built into an ordinary batch and rendered as the first source,
 * so the one renderer handles them and no collector can shadow their names.
 */
#include "scrape.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "render.h"
#include "segment.h"

#define DEFAULT_STALENESS_INTERVALS 3
#define FALLBACK_INTERVAL_MS 5000 /* a segment that states no interval */
#define SELF_COLLECTOR "exporter"
#define ERROR_TEXT_MAX 600

static const double render_bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
					0.025,  0.05,    0.1,    0.25,  0.5,    1.0 };
#define N_RENDER_BOUNDS (sizeof render_bounds / sizeof render_bounds[0])

static const unsigned request_codes[] = { 200, 400, 404, 405, 500, 503 };
#define N_CODES (sizeof request_codes / sizeof request_codes[0])

/* Why a collector is down; a change is logged once instead of every scrape. */
enum down_reason {
	REASON_NONE,
	REASON_MISSING,
	REASON_UNREADABLE,
	REASON_BUSY,
	REASON_NO_WRITER,
	REASON_NEVER_PUBLISHED,
	REASON_STALE,
};

struct collector_state {
	char name[SEGMENT_COLLECTOR_MAX + 1];
	char shm_name[SEGMENT_NAME_MAX + 1];
	struct seg_reader *reader; /* NULL until opened; closed again on failure */
	/* this scrape */
	struct metrics_view view;
	struct seg_info info;
	bool up, success;
	enum down_reason reason;
	char error[ERROR_TEXT_MAX];
	uint64_t series;
	/* kept across scrapes */
	enum down_reason logged_reason;
	bool known; /* a batch was ever read: the two fields below are meaningful */
	uint64_t publish_ns, duration_ns;
};

struct scrape {
	pthread_mutex_t lock;
	uint32_t staleness;
	size_t n;
	struct collector_state *col;
	struct render_source *sources;             /* n + 1 */
	struct render_collector_status *statuses; /* n */
	struct batch *self;
	uint64_t dup_total;
	uint64_t last_dups;
	uint64_t render_counts[N_RENDER_BOUNDS + 1];
	double render_sum;
	_Atomic uint64_t requests[N_CODES];
};

/* Keeps messages printable: they reach logs and JSON, and a corrupt segment's
 * bytes may have found their way into them. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

/* ---- reading one collector ---- */

static int open_and_snapshot(struct collector_state *c, char *err, size_t errlen)
{
	int rc;

	if (!c->reader) {
		rc = seg_reader_open(&c->reader, c->shm_name, err, errlen);
		if (rc < 0) {
			c->reader = NULL;
			return rc;
		}
	}
	rc = seg_reader_snapshot(c->reader, &c->view, &c->info, err, errlen);
	if (rc < 0 && rc != -EAGAIN) {
		seg_reader_close(c->reader);
		c->reader = NULL;
	}
	return rc;
}

static void set_down(struct collector_state *c, enum down_reason r, const char *fmt,
		     const char *arg)
{
	c->reason = r;
	snprintf(c->error, sizeof c->error, fmt, arg);
	sanitize(c->error);
}

/* Returns true when a snapshot was taken into c->view / c->info. */
static bool collector_read(struct collector_state *c)
{
	char err[400] = "";
	int rc = open_and_snapshot(c, err, sizeof err);

	if (rc == -ESTALE) /* replaced by a new segment of the same name */
		rc = open_and_snapshot(c, err, sizeof err);
	if (rc == 0)
		return true;
	if (rc == -EAGAIN)
		set_down(c, REASON_BUSY, "busy: the writer kept publishing through every read%s",
			 "");
	else if (rc == -ENOENT)
		set_down(c, REASON_MISSING, "segment missing: %s", err);
	else
		set_down(c, REASON_UNREADABLE, "segment unreadable: %s", err);
	return false;
}

static void collector_copy_error(struct collector_state *c)
{
	size_t len;
	const char *e = view_error(&c->view, &len);

	if (len == 0)
		return;
	snprintf(c->error, sizeof c->error, "%.*s", (int)len, e);
	sanitize(c->error);
}

static void collector_judge(struct collector_state *c, uint64_t now, uint32_t staleness)
{
	const struct blob_header *h = &c->view.hdr;
	uint64_t interval_ms = c->info.interval_ms ? c->info.interval_ms : FALLBACK_INTERVAL_MS;
	uint64_t window_ns = staleness * interval_ms * 1000000u;
	char msg[160];

	if (h->publish_time_ns) {
		c->known = true;
		c->publish_ns = h->publish_time_ns;
		c->duration_ns = h->duration_ns;
	}
	if (!c->info.writer_alive) {
		snprintf(msg, sizeof msg, "writer (pid %ld) is not running", (long)c->info.writer_pid);
		set_down(c, REASON_NO_WRITER, "%s", c->info.writer_pid ? msg : "no writer attached");
	} else if (h->publish_time_ns == 0) {
		set_down(c, REASON_NEVER_PUBLISHED, "no batch published yet%s", "");
	} else if (now > h->publish_time_ns && now - h->publish_time_ns > window_ns) {
		snprintf(msg, sizeof msg, "stale: last publish %.3fs ago, staleness window %.3fs",
			 (double)(now - h->publish_time_ns) / 1e9, (double)window_ns / 1e9);
		set_down(c, REASON_STALE, "%s", msg);
	} else {
		c->up = true;
		c->success = (h->flags & BLOB_FLAG_SUCCESS) != 0;
		c->series = h->n_series;
		collector_copy_error(c);
	}
}

static void collector_log_change(struct collector_state *c)
{
	if (c->reason == c->logged_reason)
		return;
	if (c->reason == REASON_NONE)
		log_info("collector %s is up", c->name);
	else
		log_warnx("collector %s is down: %s", c->name, c->error);
	c->logged_reason = c->reason;
}

static void collector_scrape(struct collector_state *c, uint64_t now, uint32_t staleness)
{
	c->up = c->success = false;
	c->reason = REASON_NONE;
	c->error[0] = '\0';
	c->series = 0;
	if (collector_read(c))
		collector_judge(c, now, staleness);
	collector_log_change(c);
}

/* ---- self-metrics ---- */

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

struct collector_family {
	const char *name;
	const char *help;
	collector_value_fn value;
};

static const struct collector_family collector_families[] = {
	{ "shmetrics_collector_up",
	  "1 if the collector's segment is readable, its writer alive and its data fresh.",
	  value_up },
	{ "node_scrape_collector_success",
	  "1 if the collector is up and its last collection succeeded.", value_success },
	{ "node_scrape_collector_duration_seconds",
	  "How long the collector's last published collection took.", value_duration },
	{ "shmetrics_collector_last_publish_timestamp_seconds",
	  "When the collector last published a batch (Unix time).", value_publish },
	{ "shmetrics_collector_series", "Series of the collector exposed by this scrape.",
	  value_series },
};

static int self_collector_family(struct scrape *s, const struct collector_family *f, char *err,
				 size_t errlen)
{
	static const char *const label[] = { "collector" };
	int rc = batch_family(s->self, f->name, f->help, METRIC_GAUGE, err, errlen);

	for (size_t i = 0; rc == 0 && i < s->n; i++) {
		const char *value[] = { s->col[i].name };
		double v;
		if (f->value(&s->col[i], &v))
			rc = batch_add(s->self, label, value, 1, v, err, errlen);
	}
	return rc;
}

static int self_requests(struct scrape *s, char *err, size_t errlen)
{
	static const char *const label[] = { "code" };
	int rc = batch_family(s->self, "shmetrics_exporter_requests_total",
			      "HTTP requests answered, by status code.", METRIC_COUNTER, err,
			      errlen);

	for (size_t i = 0; rc == 0 && i < N_CODES; i++) {
		char code[8];
		const char *value[] = { code };
		snprintf(code, sizeof code, "%u", request_codes[i]);
		rc = batch_add(s->self, label, value, 1, (double)atomic_load(&s->requests[i]), err,
			       errlen);
	}
	return rc;
}

static int self_exporter(struct scrape *s, char *err, size_t errlen)
{
	int rc = self_requests(s, err, errlen);

	if (rc == 0)
		rc = batch_histogram_family(s->self, "shmetrics_exporter_render_duration_seconds",
					    "Time to scrape all segments and render a response.",
					    render_bounds, N_RENDER_BOUNDS, err, errlen);
	if (rc == 0)
		rc = batch_add_histogram(s->self, NULL, NULL, 0, s->render_counts, s->render_sum,
					 err, errlen);
	if (rc == 0)
		rc = batch_family(s->self, "shmetrics_exporter_duplicate_families_total",
				  "Families skipped because an earlier collector had the same name.",
				  METRIC_COUNTER, err, errlen);
	if (rc == 0)
		rc = batch_add(s->self, NULL, NULL, 0, (double)s->dup_total, err, errlen);
	return rc;
}

static int self_build(struct scrape *s, struct metrics_view *v)
{
	char err[256];
	int rc = 0;

	batch_reset(s->self);
	for (size_t i = 0; rc == 0 && i < sizeof collector_families / sizeof *collector_families;
	     i++)
		rc = self_collector_family(s, &collector_families[i], err, sizeof err);
	if (rc == 0)
		rc = self_exporter(s, err, sizeof err);
	if (rc < 0) {
		log_error("building the exporter's own metrics failed: %s", err);
		return rc;
	}
	batch_set_status(s->self, true, 0, NULL);
	batch_view(s->self, v);
	return 0;
}

static void self_limits(struct batch_limits *lim, size_t n)
{
	uint32_t per = (uint32_t)n * 5; /* one series per collector in each of 5 families */

	lim->max_families = 16;
	lim->max_series = per + N_CODES + 2;
	lim->max_labels = per + N_CODES;
	lim->max_values = per + N_CODES + N_RENDER_BOUNDS + 3;
	lim->max_bounds = N_RENDER_BOUNDS;
	lim->string_bytes = 8192 + per * (SEGMENT_COLLECTOR_MAX + 16) + N_CODES * 16;
}

/* ---- the scrape ---- */

static void observe_render(struct scrape *s, double seconds)
{
	size_t i = 0;

	while (i < N_RENDER_BOUNDS && seconds > render_bounds[i])
		i++;
	s->render_counts[i]++; /* batch_add_histogram takes per-bucket counts */
	s->render_sum += seconds;
}

static void log_duplicates(struct scrape *s, const struct render_result *res)
{
	if (res->duplicate_families && res->duplicate_families != s->last_dups)
		log_warnx("%llu duplicate famil%s skipped, e.g. %s from collector %s "
			  "(an earlier collector has that name)",
			  (unsigned long long)res->duplicate_families,
			  res->duplicate_families == 1 ? "y" : "ies", res->dup_family,
			  res->dup_collector);
	s->last_dups = res->duplicate_families;
}

/* sources: the self-metrics first, then every collector that is up. */
static size_t gather_sources(struct scrape *s, const struct metrics_view *self)
{
	size_t n = 0;

	s->sources[n++] = (struct render_source){ SELF_COLLECTOR, self };
	for (size_t i = 0; i < s->n; i++)
		if (s->col[i].up)
			s->sources[n++] = (struct render_source){ s->col[i].name, &s->col[i].view };
	return n;
}

static void gather_statuses(struct scrape *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct collector_state *c = &s->col[i];
		s->statuses[i] = (struct render_collector_status){
			.name = c->name,
			.up = c->up,
			.success = c->success,
			.have_batch = c->known,
			.last_publish_seconds = (double)c->publish_ns / 1e9,
			.duration_seconds = (double)c->duration_ns / 1e9,
			.error = c->error[0] ? c->error : NULL,
			.series = c->series,
		};
	}
}

static int render_locked(struct scrape *s, enum scrape_format f, struct buf *out)
{
	struct metrics_view self;
	struct render_result res;
	uint64_t dups = 0;
	int rc = self_build(s, &self);
	size_t n = gather_sources(s, &self);

	if (rc == 0)
		rc = render_count_duplicates(s->sources, n, &dups);
	if (rc == 0 && dups) {
		s->dup_total += dups;
		rc = self_build(s, &self);
	}
	if (rc < 0)
		return rc;
	if (f == SCRAPE_FORMAT_JSON) {
		gather_statuses(s);
		rc = render_json(out, s->statuses, s->n, s->sources, n, &res);
	} else {
		rc = render_text(out, RENDER_PROMETHEUS_TEXT, s->sources, n, &res);
	}
	if (rc == 0)
		log_duplicates(s, &res);
	return rc;
}

static double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int scrape_render(struct scrape *s, enum scrape_format f, struct buf *out)
{
	double t0 = monotonic_seconds();

	pthread_mutex_lock(&s->lock);
	uint64_t now = segment_now_ns();
	for (size_t i = 0; i < s->n; i++)
		collector_scrape(&s->col[i], now, s->staleness);
	int rc = render_locked(s, f, out);
	observe_render(s, monotonic_seconds() - t0);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void scrape_count_request(struct scrape *s, unsigned status)
{
	for (size_t i = 0; i < N_CODES; i++)
		if (request_codes[i] == status)
			atomic_fetch_add(&s->requests[i], 1);
}

/* ---- setup ---- */

static int init_collectors(struct scrape *s, const struct scrape_options *opt, char *err,
			   size_t errlen)
{
	for (size_t i = 0; i < opt->n_collectors; i++) {
		struct collector_state *c = &s->col[i];
		int rc = segment_name(c->shm_name, sizeof c->shm_name, opt->instance,
				      opt->collectors[i], err, errlen);
		if (rc < 0)
			return rc;
		snprintf(c->name, sizeof c->name, "%s", opt->collectors[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->col[j].name, c->name) == 0) {
				snprintf(err, errlen, "collector %s is named twice", c->name);
				return -EINVAL;
			}
	}
	return 0;
}

int scrape_new(struct scrape **out, const struct scrape_options *opt, char *err, size_t errlen)
{
	struct batch_limits lim;
	struct scrape *s = calloc(1, sizeof *s);
	int rc = -ENOMEM;

	*out = NULL;
	snprintf(err, errlen, "out of memory");
	if (!s)
		return rc;
	pthread_mutex_init(&s->lock, NULL);
	s->n = opt->n_collectors;
	s->staleness = opt->staleness_intervals ? opt->staleness_intervals
						 : DEFAULT_STALENESS_INTERVALS;
	self_limits(&lim, s->n);
	s->col = calloc(s->n + 1, sizeof *s->col);
	s->sources = calloc(s->n + 1, sizeof *s->sources);
	s->statuses = calloc(s->n + 1, sizeof *s->statuses);
	s->self = batch_new(&lim);
	if (!s->col || !s->sources || !s->statuses || !s->self)
		goto out;
	rc = init_collectors(s, opt, err, errlen);
out:
	if (rc < 0) {
		scrape_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void scrape_free(struct scrape *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->col && i < s->n; i++)
		seg_reader_close(s->col[i].reader);
	free(s->col);
	free(s->sources);
	free(s->statuses);
	batch_free(s->self);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
