/*
 * shmetrics-collector - runs one built-in collector and publishes its batches into
 * the segment the agent created for it.  Command line: docs/processes.md.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "collector.h"
#include "config.h"
#include "duration.h"
#include "exec.h"
#include "log.h"
#include "metrics.h"
#include "segment.h"

#define ERR_MAX 512
#define MAX_OPTIONS 32

struct options {
	const char *collector;
	const char *segment;
	const char *interval;
	const char *procfs, *sysfs, *rootfs, *udev_data;
	const char *level;
	size_t n_options; /* --collector.NAME.KEY=VALUE, checked in check_options */
	const char *option_keys[MAX_OPTIONS];
	const char *option_values[MAX_OPTIONS];
	/* exec collectors (docs/processes.md): --exec.command, --exec.arg..., --exec.timeout */
	const char *exec_command;
	const char *exec_timeout;
	size_t n_exec_args;
	const char *exec_args[EXEC_ARGS_MAX];
};

struct runner {
	const struct collector_def *def;
	void *state;
	struct seg_writer *w;
	struct batch *b;
	uint64_t interval_ms;
	uint64_t exec_timeout_ms; /* 0 unless this is an exec collector */
	struct collector_def exec_def;
	char last_collect_err[ERR_MAX]; /* "" while collections succeed */
	char last_publish_err[ERR_MAX];
};

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static const char usage_text[] =
	"usage: shmetrics-collector --collector=NAME --segment=/shmetrics.INSTANCE.NAME "
	"--interval=DURATION [--path.procfs=/proc] [--path.sysfs=/sys] [--path.rootfs=/] "
	"[--path.udev.data=/run/udev/data] [--collector.NAME.OPTION=VALUE ...] [--log.level=info]\n"
	"       shmetrics-collector --collector=NAME --segment=/shmetrics.INSTANCE.NAME "
	"--interval=DURATION --exec.command=PATH [--exec.arg=ARG ...] [--exec.timeout=DURATION] "
	"[--log.level=info]\n";

/* ---- command line ---- */

static const char **option_slot(struct options *o, const char *key, size_t keylen)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "collector", offsetof(struct options, collector) },
		{ "segment", offsetof(struct options, segment) },
		{ "interval", offsetof(struct options, interval) },
		{ "path.procfs", offsetof(struct options, procfs) },
		{ "path.sysfs", offsetof(struct options, sysfs) },
		{ "path.rootfs", offsetof(struct options, rootfs) },
		{ "path.udev.data", offsetof(struct options, udev_data) },
		{ "log.level", offsetof(struct options, level) },
		{ "exec.command", offsetof(struct options, exec_command) },
		{ "exec.timeout", offsetof(struct options, exec_timeout) },
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strlen(keys[i].key) == keylen && memcmp(keys[i].key, key, keylen) == 0)
			return (const char **)(void *)((char *)o + keys[i].off);
	return NULL;
}

/* Accepts "--key=value" and "--key value".  0, or -EINVAL with the reason. */
static int parse_args(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "--", 2) != 0) {
			snprintf(err, errlen, "unexpected argument \"%s\"", arg);
			return -EINVAL;
		}
		const char *key = arg + 2, *eq = strchr(key, '=');
		size_t keylen = eq ? (size_t)(eq - key) : strlen(key);
		const char **slot = option_slot(o, key, keylen);
		if (!slot && keylen == 8 && memcmp(key, "exec.arg", 8) == 0) {
			if (o->n_exec_args == EXEC_ARGS_MAX) {
				snprintf(err, errlen, "more than %d --exec.arg flags", EXEC_ARGS_MAX);
				return -EINVAL;
			}
			slot = &o->exec_args[o->n_exec_args++];
		}
		if (!slot && strncmp(key, "collector.", 10) == 0 && o->n_options < MAX_OPTIONS) {
			/* key is "collector.NAME.KEY"; check_options validates it. */
			o->option_keys[o->n_options] = key;
			slot = &o->option_values[o->n_options++];
		}
		if (!slot) {
			snprintf(err, errlen, "unknown flag \"--%.*s\"", (int)keylen, key);
			return -EINVAL;
		}
		if (!eq && i + 1 >= argc) {
			snprintf(err, errlen, "flag \"%s\" needs a value", arg);
			return -EINVAL;
		}
		*slot = eq ? eq + 1 : argv[++i];
	}
	return 0;
}

/* Turns each "collector.NAME.KEY=VALUE" into KEY after checking NAME, KEY and VALUE. */
static int check_collector_options(struct options *o, char *err, size_t errlen)
{
	size_t prefix = strlen("collector.") + strlen(o->collector);
	for (size_t i = 0; i < o->n_options; i++) {
		const char *flag = o->option_keys[i];
		const struct collector_option_def *d = NULL;
		char name[64], why[256];
		if (strncmp(flag + 10, o->collector, strlen(o->collector)) == 0 &&
		    flag[prefix] == '.') {
			const char *key = flag + prefix + 1;
			snprintf(name, sizeof name, "%.*s", (int)strcspn(key, "="), key);
			d = config_option_def(o->collector, name);
		}
		if (d == NULL) {
			snprintf(err, errlen, "unknown flag \"--%.*s\"", (int)strcspn(flag, "="),
				 flag);
			return -EINVAL;
		}
		if (config_check_option_value(d, o->option_values[i], why, sizeof why) < 0) {
			snprintf(err, errlen, "--collector.%s.%s: %s", o->collector, d->key, why);
			return -EINVAL;
		}
		o->option_keys[i] = d->key;
	}
	return 0;
}

/* An exec collector: a custom name, a command, no built-in collector options. */
static int check_exec_options(const struct options *o, char *err, size_t errlen)
{
	if (!o->exec_command) {
		snprintf(err, errlen, "--exec.arg and --exec.timeout need --exec.command");
		return -EINVAL;
	}
	if (o->n_options > 0) {
		snprintf(err, errlen, "an exec collector takes no --collector.NAME.OPTION flags");
		return -EINVAL;
	}
	if (o->exec_timeout == NULL)
		return 0; /* the interval, set by the caller */
	uint64_t ms;
	if (duration_parse_ms(o->exec_timeout, &ms) != 0 || ms == 0) {
		snprintf(err, errlen, "--exec.timeout=%s: expected a duration such as 500ms, 5s, "
				      "1m or 1m30s", o->exec_timeout);
		return -EINVAL;
	}
	return 0;
}

static int check_options(struct options *o, uint64_t *interval_ms, char *err,
			 size_t errlen)
{
	if (!o->collector || !o->segment || !o->interval) {
		snprintf(err, errlen, "--collector, --segment and --interval are required");
		return -EINVAL;
	}
	if (duration_parse_ms(o->interval, interval_ms) != 0 || *interval_ms == 0 ||
	    *interval_ms > UINT32_MAX) {
		snprintf(err, errlen, "--interval=%s: expected a duration such as 500ms, 5s, "
				      "1m or 1m30s", o->interval);
		return -EINVAL;
	}
	if (log_level_parse(o->level) < 0) {
		snprintf(err, errlen, "--log.level=%s: expected error, warn, info or debug",
			 o->level);
		return -EINVAL;
	}
	if (o->exec_command || o->exec_timeout || o->n_exec_args)
		return check_exec_options(o, err, errlen);
	if (!collector_find(o->collector)) {
		snprintf(err, errlen, "--collector=%s: no such collector", o->collector);
		return -EINVAL;
	}
	return check_collector_options(o, err, errlen);
}

/* ---- the collection cycle ---- */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

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

static void cycle(struct runner *r)
{
	char err[ERR_MAX] = "";

	batch_reset(r->b);
	uint64_t t0 = mono_ns();
	int rc = r->def->ops->collect(r->state, r->b, err, sizeof err);
	uint64_t took = mono_ns() - t0;
	if (rc && !err[0])
		snprintf(err, sizeof err, "%s", strerror(-rc));
	batch_set_status(r->b, rc == 0, took, rc ? err : NULL);
	report_change(r->last_collect_err, "collection", rc, err);

	err[0] = '\0';
	rc = seg_writer_publish(r->w, r->b, err, sizeof err);
	if (rc && !err[0])
		snprintf(err, sizeof err, "%s", strerror(-rc));
	report_change(r->last_publish_err, "publish", rc, err);
}

/* Moves the deadline one interval on; after an overrun (a collection longer than
 * the interval, a suspended host) skips the missed ticks instead of bursting. */
static void next_deadline(struct timespec *next, uint64_t interval_ms)
{
	uint64_t step = interval_ms * 1000000u;
	uint64_t at = (uint64_t)next->tv_sec * 1000000000u + (uint64_t)next->tv_nsec + step;
	uint64_t now = mono_ns();
	if (at <= now)
		at += ((now - at) / step + 1) * step;
	next->tv_sec = (time_t)(at / 1000000000u);
	next->tv_nsec = (long)(at % 1000000000u);
}

/*
 * Sleeps until the deadline; false when a stop signal arrived.  The stop signals
 * stay blocked and are taken here with sigtimedwait, so one that arrives during
 * a collection is seen at once rather than after the next full interval.
 */
static bool sleep_until(const struct timespec *next)
{
	sigset_t stop_signals;
	uint64_t at = (uint64_t)next->tv_sec * 1000000000u + (uint64_t)next->tv_nsec;

	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	for (;;) {
		uint64_t now = mono_ns();
		if (now >= at)
			return true;
		struct timespec rel = { (time_t)((at - now) / 1000000000u),
					(long)((at - now) % 1000000000u) };
		if (sigtimedwait(&stop_signals, NULL, &rel) > 0)
			return false;
		if (errno == EAGAIN)
			return true;
	}
}

static void run(struct runner *r)
{
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	do {
		cycle(r);
		next_deadline(&next, r->interval_ms);
	} while (!stop_requested && sleep_until(&next));
}

/* ---- setup ---- */

static int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
		return -errno;
	/* Blocked from here on: sleep_until takes them synchronously. */
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	return sigprocmask(SIG_BLOCK, &stop_signals, NULL) == 0 ? 0 : -errno;
}

static int start(struct runner *r, const struct options *o)
{
	char err[ERR_MAX] = "";
	struct collector_env env = {
		.procfs = o->procfs,
		.sysfs = o->sysfs,
		.rootfs = o->rootfs,
		.udev_data = o->udev_data,
		.name = o->collector,
		.n_options = o->n_options,
		.option_keys = o->option_keys,
		.option_values = o->option_values,
	};

	int rc = seg_writer_attach(&r->w, o->segment, err, sizeof err);
	if (rc) {
		log_error("%s", err[0] ? err : strerror(-rc));
		/* A segment the agent never created is a configuration problem. */
		return rc == -ENOENT ? EX_CONFIG : 1;
	}
	seg_writer_set_interval(r->w, (uint32_t)r->interval_ms);
	r->b = batch_new(seg_writer_limits(r->w));
	if (!r->b) {
		log_error("batch_new: out of memory");
		return 1;
	}
	if (r->exec_timeout_ms) {
		struct exec_options eo = { o->exec_command, o->exec_args, o->n_exec_args,
					   r->exec_timeout_ms };
		rc = exec_init(&r->state, &eo, err, sizeof err);
		if (rc) {
			log_error("%s", err[0] ? err : strerror(-rc));
			return EX_CONFIG;
		}
	} else {
		rc = r->def->ops->init(&r->state, &env, err, sizeof err);
	}
	if (rc) {
		log_error("init: %s", err[0] ? err : strerror(-rc));
		/* An option the collector refuses will not improve with a restart. */
		return rc == -EINVAL ? EX_CONFIG : 1;
	}
	if (install_signals() != 0) {
		log_warn("sigaction");
		return 1;
	}
	return 0;
}

static void stop(struct runner *r)
{
	if (r->state)
		r->def->ops->fini(r->state);
	batch_free(r->b);
	if (r->w)
		seg_writer_detach(r->w);
}

int main(int argc, char **argv)
{
	struct options o = { .procfs = "/proc", .sysfs = "/sys", .rootfs = "/",
			     .udev_data = "/run/udev/data", .level = "info" };
	struct runner r = { 0 };
	char err[ERR_MAX];
	char tag[80];

	log_init("collector", LOG_LEVEL_INFO);
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
	if (parse_args(argc, argv, &o, err, sizeof err) != 0 ||
	    check_options(&o, &r.interval_ms, err, sizeof err) != 0) {
		log_error("%s (try --help)", err);
		return EX_CONFIG;
	}
	snprintf(tag, sizeof tag, "collector/%s", o.collector);
	log_init(tag, (enum log_level)log_level_parse(o.level));
	if (o.exec_command) {
		/* Validated in check_exec_options; without --exec.timeout, the interval. */
		r.exec_timeout_ms = r.interval_ms;
		if (o.exec_timeout)
			duration_parse_ms(o.exec_timeout, &r.exec_timeout_ms);
		r.exec_def = (struct collector_def){ o.collector, false, &exec_collector_ops };
		r.def = &r.exec_def;
	} else {
		r.def = collector_find(o.collector);
	}
	int status = start(&r, &o);
	if (status == 0) {
		log_debug("publishing to %s every %llu ms", o.segment,
			  (unsigned long long)r.interval_ms);
		run(&r);
	}
	stop(&r);
	return status;
}
