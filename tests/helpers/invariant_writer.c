/*
 * invariant_writer - a test collector whose batches can be checked from /metrics.
 *
 *   invariant_writer --segments.directory=DIR --instance=I --collector=NAME [--create]
 *                    [--pause-us=N]
 *
 * Publishes batch 1, 2, 3 ... (see tests/hammer.h: batch v has 1 + v % 13 series
 * of hammer_value, each with the value v) as fast as --pause-us allows, until
 * SIGTERM.  It starts counting after whatever the segment last held, so that a
 * restarted writer keeps the numbers increasing.  --create makes the segment
 * (and its directory) first, removing the segment again at exit, as the agent
 * would.
 *
 * The fault tests SIGKILL it at random moments while an exporter serves the
 * segment; any scrape where the hammer_value series disagree is a torn batch.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../hammer.h"
#include "segment.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

struct options {
	const char *dir, *instance, *collector;
	int create;
	long pause_us;
};

static int parse(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof *o);
	o->pause_us = 100;
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--segments.directory=", 21) == 0)
			o->dir = argv[i] + 21;
		else if (strncmp(argv[i], "--instance=", 11) == 0)
			o->instance = argv[i] + 11;
		else if (strncmp(argv[i], "--collector=", 12) == 0)
			o->collector = argv[i] + 12;
		else if (strcmp(argv[i], "--create") == 0)
			o->create = 1;
		else if (strncmp(argv[i], "--pause-us=", 11) == 0)
			o->pause_us = atol(argv[i] + 11);
		else
			return -1;
	}
	return o->dir && o->instance && o->collector ? 0 : -1;
}

static struct segdir dir = { .fd = -1 };

static int open_dir(const struct options *o)
{
	char err[PATH_MAX + 400];
	int rc = o->create
		     ? segdir_create(&dir, o->dir, o->instance, 0751, (gid_t)-1, err, sizeof err)
		     : segdir_open(&dir, o->dir, o->instance, geteuid(), err, sizeof err);

	if (rc < 0)
		fprintf(stderr, "invariant_writer: %s\n", err);
	return rc;
}

static int create(const struct options *o)
{
	char err[PATH_MAX + 400];
	struct segment_options opt = { .interval_ms = 1000, .mode = 0640, .gid = (gid_t)-1 };

	segment_limits(0, &opt.limits);
	if (segment_create(&dir, o->collector, &opt, err, sizeof err) < 0) {
		fprintf(stderr, "invariant_writer: %s\n", err);
		return -1;
	}
	return 0;
}

/* The number of the batch the segment holds now, so a restart continues it. */
static uint64_t last_published(const char *collector)
{
	char err[PATH_MAX + 400];
	struct seg_read_limits lim;
	struct seg_reader *r;
	struct metrics_view v;
	uint64_t n = 0;

	seg_read_limits_for(0, &lim);
	if (seg_reader_open(&r, &dir, collector, &lim, err, sizeof err) < 0)
		return 0;
	if (seg_reader_snapshot(r, &v, NULL, err, sizeof err) == 0 && hammer_check(&v, &n) < 0)
		n = 0;
	seg_reader_close(r);
	return n;
}

static int run(const struct options *o)
{
	char err[PATH_MAX + 400];
	struct seg_writer *w;
	struct timespec pause = { 0, o->pause_us * 1000 };

	if (seg_writer_attach(&w, &dir, o->collector, err, sizeof err) < 0) {
		fprintf(stderr, "invariant_writer: %s\n", err);
		return 1;
	}
	seg_writer_set_interval(w, 1000);
	struct batch *b = batch_new(seg_writer_limits(w));
	int rc = b ? 0 : -ENOMEM;
	for (uint64_t v = last_published(o->collector) + 1; rc == 0 && !stop; v++) {
		rc = hammer_fill(b, v, err, sizeof err);
		if (rc == 0)
			rc = seg_writer_publish(w, b, err, sizeof err);
		if (o->pause_us > 0)
			nanosleep(&pause, NULL);
	}
	if (rc < 0)
		fprintf(stderr, "invariant_writer: %s\n", b ? err : "out of memory");
	batch_free(b);
	seg_writer_detach(w);
	return rc < 0;
}

int main(int argc, char **argv)
{
	struct options o;
	char err[PATH_MAX + 400];

	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: invariant_writer --segments.directory=DIR --instance=I "
				"--collector=NAME [--create] [--pause-us=N]\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	if (open_dir(&o) < 0 || (o.create && create(&o) < 0))
		return 1;
	int rc = run(&o);
	if (o.create)
		segment_remove(&dir, o.collector, err, sizeof err);
	segdir_close(&dir);
	return rc;
}
