/*
 * exporter_synth - a synthetic collector for the exporter benchmarks.
 *
 *   exporter_synth render N [REPS]
 *       builds N series in memory, publishes them into a private segment, and
 *       times the exporter's path: snapshot (copy + validate) and text render,
 *       plain text and OpenMetrics, best of REPS (default 5).  One line per
 *       measurement: "render N=... snapshot_ms=... text_ms=... om_ms=... bytes=..."
 *
 *   exporter_synth serve SEGMENTS_DIR INSTANCE NAME N INTERVAL_MS
 *       creates NAME's segment in SEGMENTS_DIR/INSTANCE/ sized as the agent sizes
 *       one for a collector of N series, publishes N series every INTERVAL_MS
 *       until SIGTERM/SIGINT, then removes the segment.  Point a
 *       shmetrics-exporter (or shmetrics-shipper) at it with
 *       --segments.directory=SEGMENTS_DIR --instance=INSTANCE --collector=NAME
 *       and, beyond 10000 series, --segments.max-series=N.
 *
 * Series look like a host collector's: counters in families of 1000 series,
 * two labels each, values with two decimals (like CPU seconds).
 */
#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "render.h"
#include "metrics.h"
#include "segdir.h"
#include "segment.h"

#define PER_FAMILY 1000u

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void limits_for(struct batch_limits *lim, uint32_t n)
{
	lim->max_families = n / PER_FAMILY + 2;
	lim->max_series = n + 1;
	lim->max_labels = 2 * n + 2;
	lim->max_values = n + 1;
	lim->max_bounds = 1;
	lim->string_bytes = 48u * n + 65536u;
}

static void die(const char *what, const char *err)
{
	fprintf(stderr, "exporter_synth: %s: %s\n", what, err);
	exit(1);
}

static void fill(struct batch *b, uint32_t n, unsigned round)
{
	static const char *const names[] = { "device", "mode" };
	static const char *const modes[] = { "user", "system", "idle", "iowait" };
	char family[64], dev[32], err[256];

	batch_reset(b);
	for (uint32_t i = 0; i < n; i++) {
		if (i % PER_FAMILY == 0) {
			snprintf(family, sizeof family, "synth_family_%u_seconds_total",
				 i / PER_FAMILY);
			if (batch_family(b, family, "A synthetic counter.", METRIC_COUNTER, err,
					 sizeof err) < 0)
				die("batch_family", err);
		}
		snprintf(dev, sizeof dev, "dev%u", i / 4);
		const char *values[] = { dev, modes[i % 4] };
		double v = (double)(i + round) * 1.25 + 0.01 * (double)(round % 100);
		if (batch_add(b, names, values, 2, v, err, sizeof err) < 0)
			die("batch_add", err);
	}
	batch_set_status(b, true, 1000000, NULL);
}

static struct segdir dir = { .fd = -1 };

/* BASE/INSTANCE made as the agent makes it. */
static void make_dir(const char *base, const char *inst)
{
	char err[PATH_MAX + 400];

	if (segdir_create(&dir, base, inst, 0751, (gid_t)-1, err, sizeof err) < 0)
		die("segdir_create", err);
}

/* serve: the segment is read by programs with the agent's reader limits, so it
 * is sized as the agent sizes one (segment_limits); render reads its own. */
static void make_segment(const char *name, uint32_t n, uint32_t interval, bool as_agent)
{
	struct segment_options opt = { .interval_ms = interval, .mode = 0640, .gid = (gid_t)-1 };
	char err[PATH_MAX + 400];

	if (as_agent)
		segment_limits(n, &opt.limits);
	else
		limits_for(&opt.limits, n);
	if (segment_create(&dir, name, &opt, err, sizeof err) < 0)
		die("segment_create", err);
}

static struct seg_writer *attach_and_publish(const char *name, struct batch **bp, uint32_t n)
{
	struct seg_writer *w;
	char err[PATH_MAX + 400];

	if (seg_writer_attach(&w, &dir, name, err, sizeof err) < 0)
		die("seg_writer_attach", err);
	*bp = batch_new(seg_writer_limits(w));
	if (!*bp)
		die("batch_new", "out of memory");
	fill(*bp, n, 0);
	if (seg_writer_publish(w, *bp, err, sizeof err) < 0)
		die("seg_writer_publish", err);
	return w;
}

static double time_render(const struct metrics_view *v, enum render_dialect d,
			  struct render_tmpl *tmpl, size_t *bytes)
{
	struct render_source src = { .collector = "synth", .view = v, .tmpl = tmpl, .meta_key = 1 };
	struct render_result res;
	struct buf out;

	buf_init(&out);
	double t0 = now_s();
	if (render_text(&out, d, &src, 1, &res) < 0)
		die("render_text", "out of memory");
	double t = now_s() - t0;
	*bytes = out.len;
	buf_free(&out);
	return t;
}

static double min_d(double a, double b)
{
	return a < b ? a : b;
}

static int cmd_render(uint32_t n, int reps)
{
	char err[PATH_MAX + 400], base[64];
	struct seg_read_limits lim;
	struct seg_reader *r;
	struct metrics_view v;
	struct batch *b;
	double snap = 1e9, text = 1e9, om = 1e9, cold = 1e9, warm = 1e9;
	size_t bytes = 0, om_bytes = 0;
	struct render_tmpl *t = render_tmpl_new();

	snprintf(base, sizeof base, "/tmp/shmetrics-bench%ld", (long)getpid());
	make_dir(base, "b");
	make_segment("synth", n, 1000, false);
	struct seg_writer *w = attach_and_publish("synth", &b, n);
	/* Read with the limits it was made with (the default reader refuses a segment
	 * sized for 1M series). */
	limits_for(&lim.max, n);
	lim.max_workers = 0;
	lim.max_bytes = segment_size_for(&lim.max);
	if (seg_reader_open(&r, &dir, "synth", &lim, err, sizeof err) < 0)
		die("seg_reader_open", err);
	for (int i = 0; i < reps; i++) {
		double t0 = now_s();
		if (seg_reader_snapshot(r, &v, NULL, err, sizeof err) < 0)
			die("seg_reader_snapshot", err);
		snap = min_d(snap, now_s() - t0);
		text = min_d(text, time_render(&v, RENDER_PROMETHEUS_TEXT, NULL, &bytes));
		om = min_d(om, time_render(&v, RENDER_OPENMETRICS, NULL, &om_bytes));
		render_tmpl_free(t);
		t = render_tmpl_new();
		cold = min_d(cold, time_render(&v, RENDER_PROMETHEUS_TEXT, t, &bytes));
		warm = min_d(warm, time_render(&v, RENDER_PROMETHEUS_TEXT, t, &bytes));
	}
	render_tmpl_free(t);
	/* direct: no template; cold: building the template; warm: replaying it,
	 * which is what every render between two metadata changes costs */
	printf("render N=%u snapshot_ms=%.2f direct_ms=%.2f om_direct_ms=%.2f cold_ms=%.2f "
	       "warm_ms=%.2f bytes=%zu warm_series_per_s=%.0f\n",
	       n, snap * 1e3, text * 1e3, om * 1e3, cold * 1e3, warm * 1e3, bytes,
	       (double)n / warm);
	seg_reader_close(r);
	seg_writer_detach(w);
	batch_free(b);
	segment_remove(&dir, "synth", err, sizeof err);
	segdir_remove_if_empty(&dir, base, "b");
	segdir_close(&dir);
	rmdir(base);
	return 0;
}

static int cmd_serve(const char *base, const char *inst, const char *name, uint32_t n,
		     uint32_t interval)
{
	char err[PATH_MAX + 400];
	struct batch *b;
	unsigned round = 0;

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	make_dir(base, inst);
	make_segment(name, n, interval, true);
	struct seg_writer *w = attach_and_publish(name, &b, n);
	printf("serving %u series in %s/%s" SEGDIR_SUFFIX "\n", n, dir.path, name);
	fflush(stdout);
	/* One publish per interval on a fixed cadence, as the collector runner keeps
	 * it: the time to fill a batch does not stretch the interval. */
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!stop) {
		next.tv_sec += (time_t)(interval / 1000u);
		next.tv_nsec += (long)(interval % 1000u) * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		while (!stop &&
		       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		if (stop)
			break;
		fill(b, n, ++round);
		if (seg_writer_publish(w, b, err, sizeof err) < 0)
			die("seg_writer_publish", err);
	}
	seg_writer_detach(w);
	batch_free(b);
	segment_remove(&dir, name, err, sizeof err);
	segdir_remove_if_empty(&dir, base, inst);
	segdir_close(&dir);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "render") == 0)
		return cmd_render((uint32_t)strtoul(argv[2], NULL, 10),
				  argc > 3 ? atoi(argv[3]) : 5);
	if (argc == 7 && strcmp(argv[1], "serve") == 0)
		return cmd_serve(argv[2], argv[3], argv[4], (uint32_t)strtoul(argv[5], NULL, 10),
				 (uint32_t)strtoul(argv[6], NULL, 10));
	fprintf(stderr, "usage: exporter_synth render N [REPS]\n"
			"       exporter_synth serve SEGMENTS_DIR INSTANCE NAME N INTERVAL_MS\n");
	return 2;
}
