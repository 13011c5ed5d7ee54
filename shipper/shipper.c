/*
 * The shipper's loop (shipper.h): poll the segments, queue what they publish.
 *
 * Polling: a collector publishes every interval, so after seeing a publish at
 * time P the next one is due at P + interval.  The segment is read again
 * interval/50 after that, then every interval/20 while the publish is late,
 * and every interval/4 once it is half an interval late.  That reads each
 * batch about once and still sees every publish of a collector that keeps its
 * interval.
 */
#include "shipper.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "endpoint.h"
#include "health.h"
#include "log.h"
#include "self.h"
#include "source.h"
#include "signals.h"

#define FALLBACK_INTERVAL_MS 5000u
#define MISSING_RETRY_MS     1000u
#define BUSY_RETRY_MS        20u
#define DEFAULT_STALENESS    3u
#define EXIT_CONFIG          78
#define DOWN_TEXT            300
/* A full read at least this often, whatever the cheap header check says: it
 * bounds how long a replaced segment could go unnoticed. */
#define FULL_CHECK_NS        10000000000ull

struct src {
	char name[SEGMENT_COLLECTOR_MAX + 1];
	size_t index;
	struct source *reader;
	struct encoder *data[SHIPPER_MAX_ENDPOINTS], *health[SHIPPER_MAX_ENDPOINTS];
	bool up;         /* sent as up */
	struct health h; /* what the health series say */
	uint64_t seen_publish_ns, seen_publishes;
	uint64_t missed;           /* publishes replaced before they were read */
	uint64_t missed_logged_ns; /* monotonic, of the last line about them */
	int64_t last_ts;           /* newest timestamp queued (ms) */
	uint32_t interval_ms;
	uint64_t next_poll;        /* monotonic ns */
	uint64_t full_read;        /* monotonic ns of the last snapshot */
	uint64_t next_down_health; /* monotonic ns */
	uint64_t meta_id;          /* the view's writer and generation */
	uint64_t *fam;             /* sorted hashes of its family names */
	size_t n_fam;
	char down[DOWN_TEXT]; /* the reason last logged, "" when up */
};

struct shipper {
	const struct shipper_options *o;
	struct segdir dir; /* the instance's segment directory; fd -1 until it opens */
	char dir_error[PATH_MAX + 200];
	char segments_base[PATH_MAX];
	struct seg_read_limits limits;
	size_t n_src;
	struct src *src;
	size_t n_ep;
	struct endpoint ep[SHIPPER_MAX_ENDPOINTS];
	struct batch *health_batch;
	uint64_t epoch; /* bumped when a collector's set of families changes */
	struct self_metrics *self;
	uint64_t next_self, next_sync;
	sigset_t wait_mask;
};

static volatile sig_atomic_t got_stop;

static void on_signal(int sig)
{
	got_stop = sig;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void shipper_endpoint_defaults(struct endpoint_options *e)
{
	memset(e, 0, sizeof *e);
	e->max_bytes = SHIPPER_DEFAULT_MAX_BYTES;
	e->max_age_ms = SHIPPER_DEFAULT_MAX_AGE_MS;
	e->batch_max_samples = SHIPPER_DEFAULT_BATCH_MAX_SAMPLES;
	e->batch_deadline_ms = SHIPPER_DEFAULT_BATCH_DEADLINE_MS;
	e->min_backoff_ms = SHIPPER_DEFAULT_MIN_BACKOFF_MS;
	e->max_backoff_ms = SHIPPER_DEFAULT_MAX_BACKOFF_MS;
	e->timeout_ms = SHIPPER_DEFAULT_TIMEOUT_MS;
}

/* ---- families owned by earlier collectors ---- */

struct skip_ctx {
	const struct shipper *s;
	size_t index;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Like the exporter, where two collectors publish a family of the same name the
 * earlier one in the list wins, and none may use a health family's name. */
static bool owned_elsewhere(void *ctx, const char *name, size_t len)
{
	const struct skip_ctx *k = ctx;
	uint64_t h = encode_name_hash(name, len);

	if (health_reserved(name, len))
		return true;
	for (size_t j = 0; j < k->index; j++) {
		const struct src *o = &k->s->src[j];
		if (o->n_fam && bsearch(&h, o->fam, o->n_fam, sizeof h, cmp_u64))
			return true;
	}
	return false;
}

/* Records the family names of v; a change re-keys every template. */
static void update_families(struct shipper *s, struct src *c, const struct metrics_view *v)
{
	uint64_t *fam = malloc(((size_t)v->hdr.n_families + 1) * sizeof *fam);
	struct blob_family f;

	if (!fam)
		return; /* keeps the old set: ownership may be stale, nothing breaks */
	for (uint32_t i = 0; i < v->hdr.n_families; i++) {
		view_family(v, i, &f);
		fam[i] = encode_name_hash(view_string(v, f.name_off), f.name_len);
	}
	qsort(fam, v->hdr.n_families, sizeof *fam, cmp_u64);
	if (c->n_fam != v->hdr.n_families ||
	    (c->n_fam && memcmp(fam, c->fam, c->n_fam * sizeof *fam) != 0))
		s->epoch++;
	free(c->fam);
	c->fam = fam;
	c->n_fam = v->hdr.n_families;
}

static uint64_t meta_id(const struct src *c, const struct seg_info *info)
{
	return ((uint64_t)(uint32_t)info->writer_pid << 32) ^ info->writer_start ^
	       (source_opens(c->reader) * 0x9e3779b97f4a7c15ull) ^
	       (info->generation * 0xc2b2ae3d27d4eb4full);
}

/* ---- queueing ---- */

static int encode_health(struct shipper *s, struct src *c, int64_t ts)
{
	struct metrics_view hv;
	char err[300];
	int rc = health_build(s->health_batch, c->name, &c->h, &hv, err, sizeof err);

	for (size_t e = 0; rc == 0 && e < s->n_ep; e++) {
		struct endpoint_sink sink = { &s->ep[e], c->name };
		struct encode_sink es = { endpoint_emit, &sink };
		rc = encoder_publish(c->health[e], &hv, c->h.known, ts, NULL, NULL, &es, NULL, err,
				     sizeof err);
	}
	if (rc < 0)
		log_warnx("collector %s: health series not queued: %s", c->name, err);
	return rc;
}

static void encode_publish(struct shipper *s, struct src *c, const struct metrics_view *v,
			   int64_t ts)
{
	struct skip_ctx k = { s, c->index };
	uint64_t key = c->meta_id ^ (s->epoch * 0x100000001b3ull);
	bool rebuilt = false, any = false;
	char err[300];

	for (size_t e = 0; e < s->n_ep; e++) {
		struct endpoint_sink sink = { &s->ep[e], c->name };
		struct encode_sink es = { endpoint_emit, &sink };
		if (encoder_publish(c->data[e], v, key, ts, owned_elsewhere, &k, &es, &rebuilt, err,
				    sizeof err) < 0)
			log_warnx("collector %s: publish not queued for %s: %s", c->name,
				  s->ep[e].name, err);
		any |= rebuilt;
	}
	encode_health(s, c, ts);
	/* Building a template takes much more memory than the template keeps:
	 * give the pages back rather than keep them for the next rebuild. */
	if (any)
		malloc_trim(0);
}

static void set_up(struct src *c, bool up, const char *why)
{
	if (up && c->down[0]) {
		log_info("collector %s is up", c->name);
		c->down[0] = '\0';
	} else if (!up && strcmp(c->down, why) != 0) {
		log_warnx("collector %s is down: %s", c->name, why);
		snprintf(c->down, sizeof c->down, "%s", why);
	}
	c->up = up;
}

/* A segment holds the latest batch only: publishes that came and went between
 * two reads (the shipper was not scheduled for longer than the collector's
 * interval) cannot be sent.  Counted, and logged at most once a minute. */
static void count_missed(struct src *c, const struct seg_info *info)
{
	uint64_t now = mono_ns();

	if (!c->seen_publishes || info->publishes <= c->seen_publishes + 1)
		return; /* the first read, the next publish, or a new segment */
	uint64_t n = info->publishes - c->seen_publishes - 1;
	c->missed += n;
	if (c->missed_logged_ns && now - c->missed_logged_ns < 60000000000ull)
		return;
	c->missed_logged_ns = now;
	log_warnx("collector %s published %" PRIu64 " batch%s between two reads of the shipper; "
		  "not sent (%" PRIu64 " so far)",
		  c->name, n, n == 1 ? "" : "es", c->missed);
}

/* A new publish of c: queue it, unless its time is not after the last queued
 * (a clock stepped back, or a publish older than the stale markers sent). */
static void on_publish(struct shipper *s, struct src *c, const struct metrics_view *v,
		       const struct seg_info *info)
{
	int64_t ts = (int64_t)(v->hdr.publish_time_ns / 1000000u);

	count_missed(c, info);
	c->seen_publish_ns = v->hdr.publish_time_ns;
	c->seen_publishes = info->publishes;
	c->h = (struct health){ true,
				(v->hdr.flags & BLOB_FLAG_SUCCESS) != 0,
				true,
				(double)v->hdr.duration_ns / 1e9,
				(double)v->hdr.publish_time_ns / 1e9,
				v->hdr.n_series,
				info->series_dropped };
	if (ts <= c->last_ts) {
		log_debug("collector %s: publish at %" PRId64 " ms not after %" PRId64
			  " ms; skipped",
			  c->name, ts, c->last_ts);
		return;
	}
	uint64_t id = meta_id(c, info);
	if (id != c->meta_id || !c->fam) {
		c->meta_id = id;
		update_families(s, c, v);
	}
	set_up(c, true, "");
	encode_publish(s, c, v, ts);
	c->last_ts = ts;
}

/* c is down: stale markers for its series once, health every interval. */
static void on_down(struct shipper *s, struct src *c, const char *why, uint64_t mono)
{
	int64_t ts = (int64_t)(segment_now_ns() / 1000000u);
	char err[300];

	if (ts <= c->last_ts)
		ts = c->last_ts + 1;
	if (c->up) {
		for (size_t e = 0; e < s->n_ep; e++) {
			struct endpoint_sink sink = { &s->ep[e], c->name };
			struct encode_sink es = { endpoint_emit, &sink };
			if (encoder_stale_all(c->data[e], ts, &es, err, sizeof err) < 0)
				log_warnx("collector %s: stale markers not queued: %s", c->name,
					  err);
		}
		c->next_down_health = 0;
	}
	set_up(c, false, why);
	if (mono < c->next_down_health)
		return;
	c->h.up = c->h.success = false;
	encode_health(s, c, ts);
	c->last_ts = ts;
	c->next_down_health = mono + (uint64_t)c->interval_ms * 1000000u;
}

/* ---- polling ---- */

static uint64_t clamp_ms(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* When to read c again, given its latest publish (docs at the top). */
static uint64_t next_poll_in_ns(const struct src *c, uint64_t now_real)
{
	uint64_t interval = (uint64_t)c->interval_ms * 1000000u;
	uint64_t due = c->seen_publish_ns + interval;

	/* a little after it is due: a publish comes a collection's time after the
	 * interval, and reading before it costs a whole copy and validation */
	if (c->seen_publish_ns && now_real < due)
		return due - now_real + clamp_ms(c->interval_ms / 50, 2, 200) * 1000000u;
	uint64_t late = c->seen_publish_ns ? now_real - due : interval;
	if (late < interval / 2)
		return clamp_ms(c->interval_ms / 20, 5, 250) * 1000000u;
	return clamp_ms(c->interval_ms / 4, 5, 1000) * 1000000u;
}

/* Why c is down by what its segment says, or NULL when it is up (the
 * exporter's rules, scrape_collector.c). */
static const char *judge(const struct shipper *s, const struct metrics_view *v,
			 const struct seg_info *info, uint64_t now, char *buf, size_t buflen)
{
	uint64_t window = (uint64_t)s->o->staleness_intervals * info->interval_ms * 1000000u;
	bool resident = info->writer_pid != 0 || info->publishes == 0;

	if (resident && !info->writer_alive) {
		snprintf(buf, buflen, "writer (pid %ld) is not running", (long)info->writer_pid);
		return info->writer_pid ? buf : "no writer attached";
	}
	if (v->hdr.publish_time_ns == 0)
		return "no batch published yet";
	if (now > v->hdr.publish_time_ns && now - v->hdr.publish_time_ns > window) {
		snprintf(buf, buflen, "stale: last publish %.3fs ago",
			 (double)(now - v->hdr.publish_time_ns) / 1e9);
		return buf;
	}
	return NULL;
}

/* True when c's last batch is still its latest and not yet stale: a header
 * read instead of a copy and validation. */
static bool still_same(const struct shipper *s, struct src *c, uint64_t mono, uint64_t now)
{
	uint64_t window = (uint64_t)s->o->staleness_intervals * c->interval_ms * 1000000u;

	return c->up && mono - c->full_read < FULL_CHECK_NS && now - c->seen_publish_ns <= window &&
	       source_unchanged(c->reader);
}

static void poll_one(struct shipper *s, struct src *c, uint64_t mono)
{
	struct metrics_view v;
	struct seg_info info;
	char err[400], why[DOWN_TEXT];
	uint64_t now = segment_now_ns();

	if (still_same(s, c, mono, now)) {
		c->next_poll = mono + next_poll_in_ns(c, now);
		return;
	}
	int rc = source_snapshot(c->reader, &v, &info, err, sizeof err);
	c->full_read = mono;
	if (rc == -EAGAIN) {
		c->next_poll = mono + BUSY_RETRY_MS * 1000000u;
		return;
	}
	if (rc < 0) {
		snprintf(why, sizeof why, "%s: %.270s",
			 rc == -ENOENT ? "segment missing" : "segment unreadable", err);
		on_down(s, c, why, mono);
		c->next_poll = mono + MISSING_RETRY_MS * 1000000u;
		return;
	}
	c->interval_ms = info.interval_ms ? info.interval_ms : FALLBACK_INTERVAL_MS;
	const char *down = judge(s, &v, &info, now, why, sizeof why);
	if (down)
		on_down(s, c, down, mono);
	else if (v.hdr.publish_time_ns != c->seen_publish_ns || info.publishes != c->seen_publishes)
		on_publish(s, c, &v, &info);
	c->next_poll = mono + next_poll_in_ns(c, now);
}

/* ---- the loop ---- */

static uint64_t next_wakeup(const struct shipper *s)
{
	uint64_t next = s->next_sync;

	if (s->self && s->next_self < next)
		next = s->next_self;
	for (size_t i = 0; i < s->n_src; i++)
		if (s->src[i].next_poll < next)
			next = s->src[i].next_poll;
	return next;
}

static void housekeeping(struct shipper *s, uint64_t mono)
{
	char err[300];

	if (mono >= s->next_sync) {
		for (size_t e = 0; e < s->n_ep; e++)
			if (queue_sync(s->ep[e].q, err, sizeof err) < 0)
				log_warnx("queue of %s: %s", s->ep[e].name, err);
		s->next_sync = mono + SHIPPER_SYNC_INTERVAL_MS * 1000000ull;
	}
	if (s->self && mono >= s->next_self) {
		uint64_t series[SHIPPER_MAX_ENDPOINTS] = { 0 };
		for (size_t e = 0; e < s->n_ep; e++)
			for (size_t i = 0; i < s->n_src; i++)
				series[e] += encoder_series(s->src[i].data[e]) +
					     encoder_series(s->src[i].health[e]);
		const char *names[SHIPPER_MAX_COLLECTORS];
		uint64_t missed[SHIPPER_MAX_COLLECTORS];
		for (size_t i = 0; i < s->n_src; i++) {
			names[i] = s->src[i].name;
			missed[i] = s->src[i].missed;
		}
		struct self_sources src = { names, missed, s->n_src };
		if (self_publish(s->self, s->ep, series, s->n_ep, &src, err, sizeof err) < 0)
			log_warnx("cannot publish the shipper's own metrics: %s", err);
		s->next_self = mono + SHIPPER_SELF_INTERVAL_MS * 1000000ull;
	}
}

/* The instance's segment directory, once the agent has made it. */
static void open_dir(struct shipper *s)
{
	if (s->dir.fd >= 0)
		return;
	if (segdir_open(&s->dir, s->segments_base, s->o->instance, geteuid(), s->dir_error,
			sizeof s->dir_error) < 0)
		s->dir.fd = -1;
}

static void loop(struct shipper *s)
{
	while (!got_stop) {
		open_dir(s);
		housekeeping(s, mono_ns()); /* first: our own segment has a batch at once */
		uint64_t mono = mono_ns();
		for (size_t i = 0; i < s->n_src && !got_stop; i++)
			if (s->src[i].next_poll <= mono)
				poll_one(s, &s->src[i], mono_ns());
		uint64_t next = next_wakeup(s), now = mono_ns();
		if (next > now && !got_stop) {
			uint64_t d = next - now;
			struct timespec ts = { (time_t)(d / 1000000000u), (long)(d % 1000000000u) };
			ppoll(NULL, 0, &ts, &s->wait_mask);
		}
	}
	log_info("received %s, stopping", got_stop == SIGINT ? "SIGINT" : "SIGTERM");
}

/* ---- setup and teardown ---- */

static int signals_setup(struct shipper *s)
{
	static const int handled[] = { SIGTERM, SIGINT };
	int rc = signals_for_ppoll(handled, 2, on_signal, &s->wait_mask);

	if (rc < 0)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN); /* the agent restarts us when our settings change */
	return 0;
}

/* Each collector continues after the newest timestamp any queue holds of it. */
static void restore_cursors(struct shipper *s)
{
	for (size_t e = 0; e < s->n_ep; e++) {
		size_t n;
		const struct wal_source *ws = queue_sources(s->ep[e].q, &n);
		for (size_t k = 0; k < n; k++)
			for (size_t i = 0; i < s->n_src; i++)
				if (strcmp(s->src[i].name, ws[k].name) == 0 &&
				    ws[k].max_ts > s->src[i].last_ts)
					s->src[i].last_ts = ws[k].max_ts;
	}
}

static int sources_open(struct shipper *s, char *err, size_t errlen)
{
	s->src = calloc(s->o->n_collectors ? s->o->n_collectors : 1, sizeof *s->src);
	if (!s->src)
		return -ENOMEM;
	for (size_t i = 0; i < s->o->n_collectors; i++) {
		struct src *c = &s->src[s->n_src];
		int rc = source_new(&c->reader, &s->dir, &s->limits, s->o->collectors[i], err,
				    errlen);
		if (rc < 0)
			return rc;
		s->n_src++;
		snprintf(c->name, sizeof c->name, "%s", s->o->collectors[i]);
		c->index = i;
		c->interval_ms = FALLBACK_INTERVAL_MS;
		c->down[0] = '\0';
		for (size_t e = 0; e < s->n_ep; e++)
			if (encoder_new(&c->data[e], &s->ep[e].rules) < 0 ||
			    encoder_new(&c->health[e], &s->ep[e].rules) < 0)
				return -ENOMEM;
	}
	return 0;
}

static void sources_close(struct shipper *s)
{
	for (size_t i = 0; i < s->n_src; i++) {
		struct src *c = &s->src[i];
		source_free(c->reader);
		for (size_t e = 0; e < SHIPPER_MAX_ENDPOINTS; e++) {
			encoder_free(c->data[e]);
			encoder_free(c->health[e]);
		}
		free(c->fam);
	}
	free(s->src);
}

static int endpoints_open(struct shipper *s, char *err, size_t errlen)
{
	for (size_t e = 0; e < s->o->n_endpoints; e++) {
		int rc = endpoint_open(&s->ep[e], &s->o->endpoints[e], s->o->queue_dir,
				       s->o->instance, err, errlen);
		s->n_ep++;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Where the segments are, and what the shipper accepts of one. */
static int dir_setup(struct shipper *s, char *err, size_t errlen)
{
	int rc = 0;

	s->dir.fd = -1;
	seg_read_limits_for(s->o->max_series, &s->limits);
	seg_read_limits_workers(&s->limits, s->o->max_workers);
	if (s->o->segments_dir && s->o->segments_dir[0])
		snprintf(s->segments_base, sizeof s->segments_base, "%s", s->o->segments_dir);
	else /* started by hand: where an agent of that instance keeps them */
		rc = segdir_find_base(s->o->instance, s->segments_base, sizeof s->segments_base,
				      err, errlen);
	if (rc == 0)
		open_dir(s);
	if (rc == 0 && s->dir.fd < 0 && s->o->self_segment) { /* the agent made it first */
		snprintf(err, errlen, "%.900s", s->dir_error);
		rc = -ENOENT;
	}
	return rc;
}

static int setup(struct shipper *s, char *err, size_t errlen)
{
	struct batch_limits lim;
	int rc = dir_setup(s, err, errlen);

	if (rc < 0)
		return rc;
	health_limits(&lim);
	s->health_batch = batch_new(&lim);
	if (!s->health_batch)
		return -ENOMEM;
	rc = endpoints_open(s, err, errlen);
	if (rc == 0)
		rc = sources_open(s, err, errlen);
	if (rc == 0)
		restore_cursors(s);
	if (rc == 0 && s->o->self_segment)
		rc = self_open(&s->self, &s->dir, s->o->self_segment, err, errlen);
	for (size_t e = 0; rc == 0 && e < s->n_ep; e++)
		rc = endpoint_start(&s->ep[e], err, errlen);
	if (rc == -ENOMEM && !err[0])
		snprintf(err, errlen, "out of memory");
	return rc;
}

static void teardown(struct shipper *s)
{
	char err[300];

	for (size_t e = 0; e < s->n_ep; e++) {
		if (s->ep[e].q && queue_sync(s->ep[e].q, err, sizeof err) < 0)
			log_warnx("queue of %s: %s", s->ep[e].name, err);
		endpoint_close(&s->ep[e]);
	}
	sources_close(s);
	self_close(s->self);
	batch_free(s->health_batch);
	segdir_close(&s->dir);
}

int shipper_run(const struct shipper_options *o)
{
	struct shipper *s = calloc(1, sizeof *s);
	char err[1024] = "";
	int status = 1;

	if (!s) {
		log_error("out of memory");
		return 1;
	}
	s->o = o;
	s->dir.fd = -1;
	if (signals_setup(s) < 0) {
		log_warn("cannot install signal handlers");
		goto out;
	}
	int rc = setup(s, err, sizeof err);
	if (rc < 0) {
		log_error("%s", err);
		status = rc == -EINVAL ? EXIT_CONFIG : 1;
		goto out;
	}
	log_info("instance %s: shipping %zu collector%s to %zu endpoint%s", o->instance, s->n_src,
		 s->n_src == 1 ? "" : "s", s->n_ep, s->n_ep == 1 ? "" : "s");
	loop(s);
	status = 0;
out:
	teardown(s);
	free(s);
	return status;
}
