/* Running the collectors of one process: starting each, the schedule, stopping. */
#include "runner.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"

#define ERR_MAX 512

enum run_state {
	RUN_STARTING, /* not started yet, or its last start failed for a passing reason */
	RUN_OK,
	RUN_FAILED, /* a configuration failure: reported on every interval, never retried */
};

struct runner {
	const struct run_spec *spec;
	const struct collector_def *def; /* NULL: no such collector */
	struct collector_def exec_def;
	enum run_state state;
	void *state_data;
	struct seg_writer *w;
	struct batch *b; /* may be shared with other runners */
	bool owns_batch;
	uint64_t next_ns;               /* its next deadline, CLOCK_MONOTONIC */
	char tag[CONFIG_NAME_MAX + 16]; /* "collector/cpu": its log lines' tag */
	char last_collect_err[ERR_MAX]; /* "" while collections succeed */
	char last_publish_err[ERR_MAX];
};

struct group {
	struct runner *r;
	size_t n;
	const struct run_context *ctx;
	struct segdir dir; /* where the segments are; fd -1 until opened */
};

/* ---- time and signals ---- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

/*
 * The stop signals stay blocked for the life of the process, before any collector
 * can start a thread (threads inherit the mask), and are taken with sigtimedwait
 * in sleep_until or seen pending between two collections: a SIGTERM is noticed
 * without waiting for the next deadline.
 */
static int block_stop_signals(void)
{
	sigset_t set;

	stop_signals(&set);
	return sigprocmask(SIG_BLOCK, &set, NULL) == 0 ? 0 : -errno;
}

static bool stop_pending(void)
{
	sigset_t pending;

	if (sigpending(&pending) != 0)
		return false;
	return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

/* Sleeps until at (monotonic ns); false when a stop signal arrived. */
static bool sleep_until(uint64_t at)
{
	sigset_t set;

	stop_signals(&set);
	for (;;) {
		uint64_t now = mono_ns();
		if (now >= at)
			return true;
		struct timespec rel = { (time_t)((at - now) / 1000000000u),
					(long)((at - now) % 1000000000u) };
		if (sigtimedwait(&set, NULL, &rel) > 0)
			return false;
		if (errno == EAGAIN)
			return true;
	}
}

/* One interval on from at; after an overrun (a slow collection, a suspended host)
 * the missed ticks are skipped instead of run in a burst. */
static uint64_t next_deadline(uint64_t at, uint64_t interval_ms)
{
	uint64_t step = interval_ms * 1000000u, now = mono_ns();

	at += step;
	if (at <= now)
		at += ((now - at) / step + 1) * step;
	return at;
}

/* ---- reporting ---- */

/* Logs msg when it differs from the last one logged for this kind of failure,
 * and once when the failures stop: a persistent error is not repeated each cycle. */
static void report_change(char *last, const char *what, int rc, const char *msg)
{
	if (rc == 0) {
		if (last[0])
			log_info("%s succeeded again", what);
		last[0] = '\0';
		return;
	}
	if (strcmp(last, msg) != 0)
		log_error("%s failed: %s", what, msg);
	snprintf(last, ERR_MAX, "%s", msg);
}

/* A collection that succeeded with something to say: logged as report_change does. */
static void report_warning(char *last, const char *msg)
{
	if (strcmp(last, msg) != 0)
		log_warnx("collection succeeded with a warning: %s", msg);
	snprintf(last, ERR_MAX, "%s", msg);
}

/* What is logged while r works carries r's tag, as when each collector had a
 * process of its own ("collector/cpu: error: collection failed: ..."). */
static void speak_as(const struct runner *r)
{
	log_init(r->tag, log_threshold);
}

static void publish(struct runner *r)
{
	char err[ERR_MAX] = "";
	int rc = seg_writer_publish(r->w, r->b, err, sizeof err);

	if (rc && !err[0])
		snprintf(err, sizeof err, "%s", strerror(-rc));
	report_change(r->last_publish_err, "publish", rc, err);
}

/* A collector that could not start says why in its own segment, if it has one. */
static void publish_failure(struct runner *r, const char *why)
{
	if (!r->w || !r->b)
		return;
	batch_reset(r->b);
	batch_set_status(r->b, false, 0, why);
	publish(r);
}

/* ---- starting one collector ---- */

static bool limits_equal(const struct batch_limits *a, const struct batch_limits *b)
{
	return a->max_families == b->max_families && a->max_series == b->max_series &&
	       a->max_labels == b->max_labels && a->max_values == b->max_values &&
	       a->max_bounds == b->max_bounds && a->string_bytes == b->string_bytes;
}

/*
 * Collections run one after another and each resets the batch first, so runners
 * whose segments have the same limits share one batch: its touched pages are
 * paid for once, not once per collector.
 */
static int find_batch(struct group *g, struct runner *r)
{
	const struct batch_limits *lim = seg_writer_limits(r->w);

	for (size_t i = 0; i < g->n; i++) {
		struct runner *o = &g->r[i];
		if (o != r && o->owns_batch && limits_equal(seg_writer_limits(o->w), lim)) {
			r->b = o->b;
			return 0;
		}
	}
	r->b = batch_new(lim);
	r->owns_batch = r->b != NULL;
	return r->b ? 0 : -ENOMEM;
}

static int init_state(const struct group *g, struct runner *r, char *err, size_t errlen)
{
	const struct run_context *x = g->ctx;
	struct collector_env env = {
		.procfs = x->procfs,
		.sysfs = x->sysfs,
		.rootfs = x->rootfs,
		.udev_data = x->udev_data,
		.name = r->spec->name,
		.n_options = r->spec->n_options,
		.option_keys = r->spec->option_keys,
		.option_values = r->spec->option_values,
	};

	if (x->exec)
		return exec_init(&r->state_data, x->exec, err, errlen);
	return r->def->ops->init(&r->state_data, &env, err, errlen);
}

/* 0, or a negative errno with the reason; *final says whether retrying is useless. */
static int runner_start(struct group *g, struct runner *r, char *err, size_t errlen, bool *final)
{
	int rc;

	*final = true;
	if (g->dir.fd < 0 && (rc = segdir_open(&g->dir, g->ctx->segments_dir, g->ctx->instance,
					       geteuid(), err, errlen)) < 0) {
		*final = rc == -ENOENT || rc == -EPERM;
		return rc;
	}
	if (!r->w) {
		rc = seg_writer_attach(&r->w, &g->dir, r->spec->name, err, errlen);
		if (rc) {
			/* A segment the agent never created is a configuration problem. */
			*final = rc == -ENOENT;
			return rc;
		}
		seg_writer_set_interval(r->w, (uint32_t)r->spec->interval_ms);
	}
	if (!r->b && find_batch(g, r) < 0) {
		*final = false;
		snprintf(err, errlen, "batch_new: out of memory");
		return -ENOMEM;
	}
	if (r->spec->option_error[0]) {
		snprintf(err, errlen, "%s", r->spec->option_error);
		return -EINVAL;
	}
	if (!r->def) {
		snprintf(err, errlen, "no such collector \"%s\"", r->spec->name);
		return -EINVAL;
	}
	rc = init_state(g, r, err, errlen);
	/* An option the collector refuses will not improve with a retry; an exec
	 * command that cannot be run is a configuration problem too. */
	*final = g->ctx->exec != NULL || rc == -EINVAL;
	return rc;
}

/* Tries to start r (again); on failure publishes and logs why. */
static void runner_try_start(struct group *g, struct runner *r)
{
	char err[ERR_MAX] = "";
	bool final;
	int rc = runner_start(g, r, err, sizeof err, &final);

	if (rc && !err[0])
		snprintf(err, sizeof err, "%s", strerror(-rc));
	report_change(r->last_collect_err, "start", rc, err);
	if (rc == 0) {
		r->state = RUN_OK;
		log_debug("publishing to %s/%s" SEGDIR_SUFFIX " every %llu ms", g->dir.path,
			  r->spec->name, (unsigned long long)r->spec->interval_ms);
		return;
	}
	if (final)
		r->state = RUN_FAILED;
	publish_failure(r, err);
}

/* ---- the schedule ---- */

static void collect_once(struct runner *r)
{
	char err[ERR_MAX] = "";

	batch_reset(r->b);
	uint64_t t0 = mono_ns();
	int rc = r->def->ops->collect(r->state_data, r->b, err, sizeof err);
	uint64_t took = mono_ns() - t0;
	if (rc && !err[0])
		snprintf(err, sizeof err, "%s", strerror(-rc));
	batch_set_status(r->b, rc == 0, took, err[0] ? err : NULL);
	if (rc == 0 && err[0])
		report_warning(r->last_collect_err, err);
	else
		report_change(r->last_collect_err, "collection", rc, err);
	publish(r);
}

static void runner_due(struct group *g, struct runner *r)
{
	speak_as(r);
	switch (r->state) {
	case RUN_STARTING:
		runner_try_start(g, r);
		if (r->state == RUN_OK)
			collect_once(r);
		break;
	case RUN_OK:
		collect_once(r);
		break;
	case RUN_FAILED:
		publish_failure(r, r->last_collect_err);
		break;
	}
}

static uint64_t earliest_deadline(const struct group *g)
{
	uint64_t at = UINT64_MAX;

	for (size_t i = 0; i < g->n; i++)
		if (g->r[i].next_ns < at)
			at = g->r[i].next_ns;
	return at;
}

/* Runs every collector that is due, then sleeps until the earliest next deadline. */
static void schedule(struct group *g)
{
	uint64_t start = mono_ns();

	/* start_all has just tried the others: they are due again one interval on. */
	for (size_t i = 0; i < g->n; i++)
		g->r[i].next_ns = g->r[i].state == RUN_OK
				      ? start
				      : next_deadline(start, g->r[i].spec->interval_ms);
	do {
		for (size_t i = 0; i < g->n && !stop_pending(); i++) {
			struct runner *r = &g->r[i];
			if (r->next_ns > mono_ns())
				continue;
			runner_due(g, r);
			r->next_ns = next_deadline(r->next_ns, r->spec->interval_ms);
		}
	} while (!stop_pending() && sleep_until(earliest_deadline(g)));
}

/* ---- the process ---- */

static void runners_prepare(struct group *g, const struct run_spec *specs)
{
	const struct run_context *x = g->ctx;

	for (size_t i = 0; i < g->n; i++) {
		struct runner *r = &g->r[i];
		r->spec = &specs[i];
		snprintf(r->tag, sizeof r->tag, "collector/%s", specs[i].name);
		if (x->exec) {
			r->exec_def = (struct collector_def){ specs[i].name, false,
							      &exec_collector_ops };
			r->def = &r->exec_def;
		} else {
			r->def = collector_find(specs[i].name);
		}
	}
}

/* Starts every collector once; the exit status when none could start, else 0. */
static int start_all(struct group *g)
{
	size_t ok = 0, final = 0;

	for (size_t i = 0; i < g->n; i++) {
		speak_as(&g->r[i]);
		runner_try_start(g, &g->r[i]);
		ok += g->r[i].state == RUN_OK;
		final += g->r[i].state == RUN_FAILED;
	}
	if (ok > 0)
		return 0;
	return final == g->n ? EX_CONFIG : 1;
}

static void stop_all(struct group *g)
{
	for (size_t i = 0; i < g->n; i++) {
		struct runner *r = &g->r[i];
		if (r->state_data)
			r->def->ops->fini(r->state_data);
		if (r->owns_batch)
			batch_free(r->b);
		if (r->w)
			seg_writer_detach(r->w);
	}
}

int runner_run(const struct run_spec *specs, size_t n, const struct run_context *ctx)
{
	struct group g = { calloc(n, sizeof *g.r), n, ctx, { .fd = -1 } };
	int status;

	if (!g.r) {
		log_error("out of memory");
		return 1;
	}
	prctl(PR_SET_DUMPABLE, 0); /* no one of this user traces it or opens its descriptors */
	if (block_stop_signals() != 0) {
		log_warn("sigprocmask");
		free(g.r);
		return 1;
	}
	runners_prepare(&g, specs);
	status = start_all(&g);
	if (status == 0)
		schedule(&g);
	stop_all(&g);
	segdir_close(&g.dir);
	free(g.r);
	return status;
}
