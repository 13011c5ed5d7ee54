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
#include <unistd.h>

#include "gzip.h"
#include "history.h"
#include "log.h"
#include "scrape_internal.h"

#define SELF_COLLECTOR              "exporter"
#define DEFAULT_STALENESS_INTERVALS 3

/* ---- bodies and replies ---- */

static struct scrape_body *body_new(char *data, size_t len)
{
	struct scrape_body *b = calloc(1, sizeof *b);

	if (!b) {
		free(data);
		return NULL;
	}
	atomic_init(&b->refs, 1);
	b->len = len;
	b->data = data;
	return b;
}

static struct scrape_body *body_ref(struct scrape_body *b)
{
	atomic_fetch_add(&b->refs, 1);
	return b;
}

static void body_release(struct scrape_body *b)
{
	if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
		free(b->data);
		free(b);
	}
}

void scrape_reply_free(struct scrape_reply *r)
{
	if (r) {
		body_release(r->head);
		free(r->tail);
		free(r);
	}
}

char *scrape_reply_join(const struct scrape_reply *r)
{
	size_t len = scrape_reply_len(r);
	char *out = malloc(len + 1);

	if (out) {
		memcpy(out, r->head->data, r->head->len);
		memcpy(out + r->head->len, r->tail, r->tail_len);
		out[len] = '\0';
	}
	return out;
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

/* The head's sources: the exporter's own families (reserved: they come in the
 * tail), the collectors' health, then every selected collector that is up. */
static size_t gather_sources(struct scrape *s, const struct scrape_selection *sel,
			     const struct metrics_view *own, const struct metrics_view *health)
{
	size_t n = 0;

	s->sources[n++] = (struct render_source){ .collector = SELF_COLLECTOR,
						  .view = own,
						  .reserve = true };
	s->sources[n++] = (struct render_source){ .collector = SELF_COLLECTOR, .view = health };
	for (size_t i = 0; i < s->n; i++) {
		struct collector_state *c = &s->col[i];
		if (!c->up || !selection_has(sel, i))
			continue;
		if (!c->tmpl)
			c->tmpl = render_tmpl_new(); /* NULL only costs speed */
		s->sources[n++] = (struct render_source){ .collector = c->name,
							  .view = &c->view,
							  .tmpl = c->tmpl,
							  .meta_key = meta_key(c) };
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

static enum render_dialect dialect_of(enum scrape_format f)
{
	return f == SCRAPE_FORMAT_OPENMETRICS ? RENDER_OPENMETRICS : RENDER_PROMETHEUS_TEXT;
}

static int render_head(struct scrape *s, enum scrape_format f, const struct scrape_selection *sel,
		       struct buf *out, struct render_result *res)
{
	struct metrics_view own, health;
	int rc = self_own_build(s, &own);

	if (rc == 0)
		rc = self_health_build(s, sel, &health);
	if (rc < 0)
		return rc;
	size_t n = gather_sources(s, sel, &own, &health);
	if (f == SCRAPE_FORMAT_JSON)
		rc = render_json_head(out, s->statuses, gather_statuses(s, sel), s->sources, n,
				      res);
	else
		rc = render_text_head(out, dialect_of(f), s->sources, n, res);
	if (rc == 0) {
		s->dup_total += res->duplicate_families;
		log_duplicates(s, res);
	}
	return rc;
}

/* Renders the head of e's request into e->plain. */
static void rerender(struct scrape *s, struct cache_entry *e)
{
	uint64_t t0 = scrape_monotonic_ns();
	struct render_result res = { 0 };
	struct buf out;
	size_t len;

	body_release(e->plain);
	body_release(e->gz);
	e->plain = e->gz = NULL;
	buf_init(&out);
	int rc = render_head(s, e->format, &e->sel, &out, &res);
	char *data = rc == 0 ? buf_steal(&out, &len) : NULL;
	buf_free(&out);
	self_observe_render(s, (double)(scrape_monotonic_ns() - t0) / 1e9);
	e->plain = data ? body_new(data, len) : NULL;
	e->head_families = res.families;
}

static struct scrape_body *compress_head(const struct scrape_body *plain)
{
	struct gzip_head_info info;
	size_t zlen;
	char *z = gzip_head(plain->data, plain->len, &zlen, &info);
	struct scrape_body *b = z ? body_new(z, zlen) : NULL;

	if (b)
		b->gz = info;
	return b;
}

/* The exporter's own counters as they are now, after e's head; compressed when
 * gz is the compressed head.  0 or -ENOMEM. */
static int render_tail(struct scrape *s, const struct cache_entry *e, const struct scrape_body *gz,
		       struct scrape_reply *r)
{
	struct metrics_view own;
	struct buf out;
	int rc = self_own_build(s, &own);
	struct render_source src = { .collector = SELF_COLLECTOR, .view = &own };

	buf_init(&out);
	if (rc == 0 && e->format == SCRAPE_FORMAT_JSON)
		rc = render_json_tail(&out, &src, 1, e->head_families > 0, NULL);
	else if (rc == 0)
		rc = render_text(&out, dialect_of(e->format), &src, 1, NULL);
	if (rc == 0 && gz)
		r->tail = gzip_tail(&gz->gz, out.data ? out.data : "", out.len, &r->tail_len);
	else if (rc == 0)
		r->tail = buf_steal(&out, &r->tail_len);
	buf_free(&out);
	return r->tail ? 0 : -ENOMEM;
}

/* ---- the cache ---- */

static bool same_request(const struct cache_entry *e, enum scrape_format f,
			 const struct scrape_selection *sel)
{
	return e->used && e->format == f && memcmp(&e->sel, sel, sizeof *sel) == 0;
}

static void entry_clear(struct cache_entry *e)
{
	body_release(e->plain);
	body_release(e->gz);
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

static struct scrape_reply *get_locked(struct scrape *s, const struct scrape_request *req,
				       uint64_t mono)
{
	struct cache_entry *e = cache_slot(s, req->format, &req->sel);
	struct scrape_reply *r = calloc(1, sizeof *r);

	e->last_use = ++s->use_tick;
	if (!entry_fresh(s, e, mono)) {
		rerender(s, e);
		e->version = s->version;
		e->rendered_ns = mono;
	}
	if (req->gzip && e->plain && !e->gz)
		e->gz = compress_head(e->plain);
	struct scrape_body *head = req->gzip && e->gz ? e->gz : e->plain;
	if (!r || !head || render_tail(s, e, head == e->gz ? head : NULL, r) < 0) {
		free(r);
		return NULL;
	}
	r->head = body_ref(head);
	r->gzip = head == e->gz;
	return r;
}

static void refresh_collectors(struct scrape *s, uint64_t mono)
{
	uint64_t now = segment_now_ns();
	bool changed = false;

	if (s->probed_ns && mono - s->probed_ns < s->probe_ns)
		return;
	s->probed_ns = mono;
	if (s->dir.fd < 0) /* the agent makes it; until then every collector is down */
		segdir_open(&s->dir, s->segments_dir, s->instance, geteuid(), s->dir_error,
			    sizeof s->dir_error);

	for (size_t i = 0; i < s->n; i++)
		changed |= collector_refresh(&s->col[i], now, mono, s->staleness);
	if (changed)
		s->version++;
	if (s->history)
		scrape_history_feed(s, now);
}

void scrape_refresh_locked(struct scrape *s)
{
	refresh_collectors(s, scrape_monotonic_ns());
}

int scrape_get(struct scrape *s, const struct scrape_request *req, struct scrape_reply **out)
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
		if (!segment_part_valid(opt->collectors[i])) {
			snprintf(err, errlen, "invalid collector name \"%.64s\"",
				 opt->collectors[i]);
			return -EINVAL;
		}
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
	struct batch_limits health, own;
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
	s->dir.fd = -1;
	snprintf(s->segments_dir, sizeof s->segments_dir, "%s", opt->segments_dir);
	snprintf(s->instance, sizeof s->instance, "%s", opt->instance);
	if (opt->limits)
		s->limits = *opt->limits;
	else
		seg_read_limits_for(0, &s->limits);
	self_health_limits(&health, s->n);
	self_own_limits(&own);
	s->col = calloc(s->n + 1, sizeof *s->col);
	s->sources = calloc(s->n + 2, sizeof *s->sources);
	s->statuses = calloc(s->n + 1, sizeof *s->statuses);
	s->health = batch_new(&health);
	s->own = batch_new(&own);
	if (!s->col || !s->sources || !s->statuses || !s->health || !s->own)
		goto out;
	for (size_t i = 0; i < s->n; i++)
		collector_init(&s->col[i], &s->dir, s->dir_error, &s->limits);

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
	batch_free(s->health);
	batch_free(s->own);
	history_free(s->history);
	segdir_close(&s->dir);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
