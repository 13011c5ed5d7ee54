/*
 * collect_cycle - the CPU cost of one full collection cycle, in-process.
 *
 *   collect_cycle [--cycles=N] [--warmup=N] [--path.procfs=/proc] [--path.sysfs=/sys]
 *                 [--path.rootfs=/] [--path.udev.data=/run/udev/data] [NAME ...]
 *
 * Runs init() of every collector enabled by default (or of the NAMEs given) once,
 * a few warm-up cycles (so buffers reach their steady size), then N cycles of
 * batch_reset + collect + packing the batch into its blob (what the collector
 * process does before copying it into its segment).  Prints, per collector, the
 * series collected and the CPU time per cycle (CLOCK_PROCESS_CPUTIME_ID, so
 * helper threads count), then one summary line:
 *
 *   cycle cpu_us=... wall_us=... series=... collectors=... cycles=...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector.h"
#include "metrics.h"

#define MAX_RUN 128

struct bench_collector {
	const struct collector_def *def;
	void *state;
	struct batch *b;
	double cpu_ns; /* summed over the measured cycles */
	size_t series; /* in the last cycle */
	int failures;
	char err[512];
};

struct bench_opts {
	long cycles, warmup;
	struct collector_env env;
	const char *names[MAX_RUN];
	size_t n_names;
};

static double now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static bool flag_value(const char *arg, const char *flag, const char **out)
{
	size_t n = strlen(flag);
	if (strncmp(arg, flag, n) != 0 || arg[n] != '=')
		return false;
	*out = arg + n + 1;
	return true;
}

static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *v;
		if (flag_value(argv[i], "--cycles", &v))
			o->cycles = strtol(v, NULL, 10);
		else if (flag_value(argv[i], "--warmup", &v))
			o->warmup = strtol(v, NULL, 10);
		else if (flag_value(argv[i], "--path.procfs", &v))
			o->env.procfs = v;
		else if (flag_value(argv[i], "--path.sysfs", &v))
			o->env.sysfs = v;
		else if (flag_value(argv[i], "--path.rootfs", &v))
			o->env.rootfs = v;
		else if (flag_value(argv[i], "--path.udev.data", &v))
			o->env.udev_data = v;
		else if (argv[i][0] != '-' && o->n_names < MAX_RUN)
			o->names[o->n_names++] = argv[i];
		else {
			fprintf(stderr, "collect_cycle: unknown argument %s\n", argv[i]);
			return -EINVAL;
		}
	}
	if (o->cycles < 1 || o->warmup < 0) {
		fprintf(stderr, "collect_cycle: --cycles must be at least 1\n");
		return -EINVAL;
	}
	return 0;
}

/* The collectors to run: the names given, else every one enabled by default. */
static size_t pick(const struct bench_opts *o, struct bench_collector *run)
{
	size_t n = 0, all;
	const struct collector_def *list = collector_list(&all);

	if (o->n_names == 0) {
		for (size_t i = 0; i < all && n < MAX_RUN; i++)
			if (list[i].enabled_by_default)
				run[n++].def = &list[i];
		return n;
	}
	for (size_t i = 0; i < o->n_names; i++) {
		const struct collector_def *d = collector_find(o->names[i]);
		if (!d) {
			fprintf(stderr, "collect_cycle: no collector %s\n", o->names[i]);
			return 0;
		}
		run[n++].def = d;
	}
	return n;
}

static int start(struct bench_collector *c, const struct collector_env *base)
{
	struct collector_env env = *base;
	struct batch_limits lim;

	env.name = c->def->name;
	batch_limits_default(&lim);
	c->b = batch_new(&lim);
	if (!c->b)
		return -ENOMEM;
	int rc = c->def->ops->init(&c->state, &env, c->err, sizeof c->err);
	if (rc)
		fprintf(stderr, "collect_cycle: %s: init: %s\n", c->def->name, c->err);
	return rc;
}

static void cycle(struct bench_collector *c, bool measure)
{
	size_t len;
	struct metrics_view v;
	double t0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);

	batch_reset(c->b);
	if (c->def->ops->collect(c->state, c->b, c->err, sizeof c->err) != 0)
		c->failures++;
	(void)batch_blob(c->b, &len);
	if (!measure)
		return;
	c->cpu_ns += now_ns(CLOCK_PROCESS_CPUTIME_ID) - t0;
	batch_view(c->b, &v);
	c->series = v.hdr.n_series;
}

int main(int argc, char **argv)
{
	static struct bench_collector run[MAX_RUN];
	struct bench_opts o = { .cycles = 1000,
				.warmup = 5,
				.env = { .procfs = "/proc",
					 .sysfs = "/sys",
					 .rootfs = "/",
					 .udev_data = "/run/udev/data" } };

	if (parse_args(argc, argv, &o) != 0)
		return 2;
	size_t n = pick(&o, run);
	if (n == 0)
		return 2;
	for (size_t i = 0; i < n; i++)
		if (start(&run[i], &o.env) != 0)
			return 1;
	for (long k = 0; k < o.warmup; k++)
		for (size_t i = 0; i < n; i++)
			cycle(&run[i], false);
	double cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), wall0 = now_ns(CLOCK_MONOTONIC);
	for (long k = 0; k < o.cycles; k++)
		for (size_t i = 0; i < n; i++)
			cycle(&run[i], true);
	double cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0,
	       wall = now_ns(CLOCK_MONOTONIC) - wall0;

	size_t series = 0;
	printf("%-16s %8s %12s %s\n", "collector", "series", "cpu_us/cycle", "failed cycles");
	for (size_t i = 0; i < n; i++) {
		struct bench_collector *c = &run[i];
		series += c->series;
		printf("%-16s %8zu %12.1f %d%s%s\n", c->def->name, c->series,
		       c->cpu_ns / (double)o.cycles / 1e3, c->failures, c->failures ? "  " : "",
		       c->failures ? c->err : "");
		c->def->ops->fini(c->state);
		batch_free(c->b);
	}
	printf("cycle cpu_us=%.1f wall_us=%.1f series=%zu collectors=%zu cycles=%ld\n",
	       cpu / (double)o.cycles / 1e3, wall / (double)o.cycles / 1e3, series, n, o.cycles);
	return 0;
}
