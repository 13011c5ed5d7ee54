/*
 * Requests for a body: refresh the collectors, then answer from the cache or
 * render.  Everything here runs under s->lock; bodies leave it with a
 * reference of their own.
 */
#include "scrape.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gzip.h"
#include "log.h"
#include "scrape_internal.h"

#define SELF_COLLECTOR              "exporter"
#define DEFAULT_STALENESS_INTERVALS 3

/* ---- bodies ---- */

static struct scrape_body *body_new(char *data, size_t len, bool gzip)
{
	struct scrape_body *b = malloc(sizeof *b);

	if (!b) {
		free(data);
		return NULL;
	}
	atomic_init(&b->refs, 1);
	b->gzip = gzip;
	b->len = len;
	b->data = data;
	return b;
}

static struct scrape_body *body_ref(struct scrape_body *b)
{
	atomic_fetch_add(&b->refs, 1);
	return b;
}

void scrape_body_release(struct scrape_body *b)
{
	if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
		free(b->data);
		free(b);
	}
}

/* ---- selection ---- */

void scrape_select_all(const struct scrape *s, struct scrape_selection *sel)
{
	memset(sel, 0, sizeof *sel);
	for (size_t i = 0; i < s->n; i++)
		sel->bits[i / 64] |= 1ull << (i % 64);
}

static int find_collector(const struct scrape *s, const char *name, char *err, size_t errlen)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->col[i].name, name) == 0)
			return (int)i;
	snprintf(err, errlen, "unknown collector \"%.64s\" (not configured in this exporter)",
		 name);
	for (char *p = err; *p; p++) /* the name comes from the request */
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return -ENOENT;
}

int scrape_select(const struct scrape *s, const char *const *collect, size_t ncollect,
		  const char *const *exclude, size_t nexclude, struct scrape_selection *sel,
		  char *err, size_t errlen)
{
	if (ncollect == 0)
		scrape_select_all(s, sel);
	else
		memset(sel, 0, sizeof *sel);
	for (size_t i = 0; i < ncollect; i++) {
		int idx = find_collector(s, collect[i], err, errlen);
		if (idx < 0)
			return idx;
		sel->bits[idx / 64] |= 1ull << (idx % 64);
	}
	for (size_t i = 0; i < nexclude; i++) {
		int idx = find_collector(s, exclude[i], err, errlen);
		if (idx < 0)
			return idx;
		sel->bits[idx / 64] &= ~(1ull << (idx % 64));
	}
	return 0;
}

/* ---- rendering ---- */

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

/* The writer's identity and our reader's incarnation: a template built for one
 * must never be replayed over another's view. */
static uint64_t meta_key(const struct collector_state *c)
{
	return ((uint64_t)(uint32_t)c->info.writer_pid << 32) ^ c->info.writer_start ^
	       (c->opens * 0x9e3779b97f4a7c15ull);
}

/* sources: the self-metrics first, then every selected collector that is up. */
static size_t gather_sources(struct scrape *s, const struct scrape_selection *sel,
			     const struct metrics_view *self)
{
	size_t n = 0;

	s->sources[n++] = (struct render_source){ .collector = SELF_COLLECTOR, .view = self };
	for (size_t i = 0; i < s->n; i++) {
		struct collector_state *c = &s->col[i];
		if (!c->up || !selection_has(sel, i))
			continue;
		if (!c->tmpl)
			c->tmpl = render_tmpl_new(); /* NULL only costs speed */
		s->sources[n++] = (struct render_source){ c->name, &c->view, c->tmpl, meta_key(c) };
	}
	return n;
}

static size_t gather_statuses(struct scrape *s, const struct scrape_selection *sel)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct collector_state *c = &s->col[i];
		if (!selection_has(sel, i))
			continue;
		s->statuses[n++] = (struct render_collector_status){
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
	return n;
}

static int render_body(struct scrape *s, enum scrape_format f, const struct scrape_selection *sel,
		       struct buf *out)
{
	struct metrics_view self;
	struct render_result res;
	uint64_t dups = 0;
	int rc = self_build(s, sel, &self);
	size_t n = gather_sources(s, sel, &self);

	if (rc == 0)
		rc = render_count_duplicates(s->sources, n, &dups);
	if (rc == 0 && dups) {
		s->dup_total += dups;
		rc = self_build(s, sel, &self);
	}
	if (rc < 0)
		return rc;
	if (f == SCRAPE_FORMAT_JSON)
		rc = render_json(out, s->statuses, gather_statuses(s, sel), s->sources, n, &res);
	else
		rc = render_text(out,
				 f == SCRAPE_FORMAT_OPENMETRICS ? RENDER_OPENMETRICS
								: RENDER_PROMETHEUS_TEXT,
				 s->sources, n, &res);
	if (rc == 0)
		log_duplicates(s, &res);
	return rc;
}

static struct scrape_body *render_plain(struct scrape *s, enum scrape_format f,
					const struct scrape_selection *sel)
{
	uint64_t t0 = scrape_monotonic_ns();
	struct buf out;
	size_t len;

	buf_init(&out);
	int rc = render_body(s, f, sel, &out);
	char *data = rc == 0 ? buf_steal(&out, &len) : NULL;
	buf_free(&out);
	self_observe_render(s, (double)(scrape_monotonic_ns() - t0) / 1e9);
	return data ? body_new(data, len, false) : NULL;
}

static struct scrape_body *compress(const struct scrape_body *plain)
{
	size_t zlen;
	char *z = gzip_compress(plain->data, plain->len, &zlen);

	return z ? body_new(z, zlen, true) : NULL;
}

/* ---- the cache ---- */

static bool same_request(const struct cache_entry *e, enum scrape_format f,
			 const struct scrape_selection *sel)
{
	return e->used && e->format == f && memcmp(&e->sel, sel, sizeof *sel) == 0;
}

static void entry_clear(struct cache_entry *e)
{
	scrape_body_release(e->plain);
	scrape_body_release(e->gz);
	memset(e, 0, sizeof *e);
}

/* The entry for this request: its own, or the least recently used one. */
static struct cache_entry *cache_slot(struct scrape *s, enum scrape_format f,
				      const struct scrape_selection *sel)
{
	struct cache_entry *victim = &s->cache[0];

	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		struct cache_entry *e = &s->cache[i];
		if (same_request(e, f, sel))
			return e;
		if (!e->used || (victim->used && e->last_use < victim->last_use))
			victim = e;
	}
	entry_clear(victim);
	victim->used = true;
	victim->format = f;
	victim->sel = *sel;
	return victim;
}

static bool entry_fresh(const struct scrape *s, const struct cache_entry *e, uint64_t mono)
{
	return e->plain && e->version == s->version && mono - e->rendered_ns < s->cache_ns;
}

static struct scrape_body *get_locked(struct scrape *s, const struct scrape_request *req,
				      uint64_t mono)
{
	struct cache_entry *e = cache_slot(s, req->format, &req->sel);

	e->last_use = ++s->use_tick;
	if (!entry_fresh(s, e, mono)) {
		scrape_body_release(e->plain);
		scrape_body_release(e->gz);
		e->gz = NULL;
		e->plain = render_plain(s, req->format, &req->sel);
		e->version = s->version;
		e->rendered_ns = mono;
	}
	if (req->gzip && e->plain && !e->gz && e->plain->len > 0)
		e->gz = compress(e->plain);
	struct scrape_body *b = req->gzip && e->gz ? e->gz : e->plain;
	return b ? body_ref(b) : NULL;
}

static void refresh_collectors(struct scrape *s, uint64_t mono)
{
	uint64_t now = segment_now_ns();
	bool changed = false;

	if (s->probed_ns && mono - s->probed_ns < s->probe_ns)
		return;
	s->probed_ns = mono;
	for (size_t i = 0; i < s->n; i++)
		changed |= collector_refresh(&s->col[i], now, mono, s->staleness);
	if (changed)
		s->version++;
}

int scrape_get(struct scrape *s, const struct scrape_request *req, struct scrape_body **out)
{
	pthread_mutex_lock(&s->lock);
	uint64_t mono = scrape_monotonic_ns();
	refresh_collectors(s, mono);
	*out = get_locked(s, req, mono);
	pthread_mutex_unlock(&s->lock);
	if (!*out)
		return -ENOMEM;
	atomic_fetch_add(&s->scrapes[req->format][(*out)->gzip], 1);
	return 0;
}

void scrape_count_request(struct scrape *s, unsigned status)
{
	for (size_t i = 0; i < N_REQUEST_CODES; i++)
		if (scrape_request_codes[i] == status)
			atomic_fetch_add(&s->requests[i], 1);
}

void scrape_count_refused(struct scrape *s, enum scrape_refusal why, enum scrape_refusal_answer how)
{
	/* a statistic: no other memory depends on it */
	atomic_fetch_add_explicit(&s->refused[why][how], 1, memory_order_relaxed);
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

static int check_options(const struct scrape_options *opt, char *err, size_t errlen)
{
	if (opt->n_collectors <= SCRAPE_MAX_COLLECTORS)
		return 0;
	snprintf(err, errlen, "%zu collectors; at most %d are supported", opt->n_collectors,
		 SCRAPE_MAX_COLLECTORS);
	return -EINVAL;
}

int scrape_new(struct scrape **out, const struct scrape_options *opt, char *err, size_t errlen)
{
	struct batch_limits lim;
	int rc = check_options(opt, err, errlen);
	struct scrape *s = rc == 0 ? calloc(1, sizeof *s) : NULL;

	*out = NULL;
	if (rc < 0)
		return rc;
	rc = -ENOMEM;
	snprintf(err, errlen, "out of memory");
	if (!s)
		return rc;
	pthread_mutex_init(&s->lock, NULL);
	s->n = opt->n_collectors;
	s->staleness = opt->staleness_intervals ? opt->staleness_intervals
						: DEFAULT_STALENESS_INTERVALS;
	s->cache_ns = (uint64_t)(opt->cache_ms ? opt->cache_ms : SCRAPE_DEFAULT_CACHE_MS) *
		      1000000u;
	s->probe_ns = (uint64_t)opt->probe_ms * 1000000u;
	self_limits(&lim, s->n);
	s->col = calloc(s->n + 1, sizeof *s->col);
	s->sources = calloc(s->n + 1, sizeof *s->sources);
	s->statuses = calloc(s->n + 1, sizeof *s->statuses);
	s->self = batch_new(&lim);
	if (!s->col || !s->sources || !s->statuses || !s->self)
		goto out;
	for (size_t i = 0; i < s->n; i++)
		collector_init(&s->col[i]);
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
		collector_close(&s->col[i]);
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		entry_clear(&s->cache[i]);
	free(s->col);
	free(s->sources);
	free(s->statuses);
	batch_free(s->self);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
