/*
 * workers_merge - what a reader pays to merge a collector's workers.
 *
 *   build/bench/workers_merge [WORKERS [SERIES [SNAPSHOTS]]]     (64 1000 500)
 *
 * One segment with WORKERS slots; WORKERS collectors opened on it in this
 * process (each a worker of its own: a slot, no publisher thread), each with
 * the same SERIES counter series.  Then SNAPSHOTS snapshots by a reader, each
 * after every worker published again (what a scrape sees in production, where
 * workers publish more often than Prometheus scrapes), and as many with
 * nothing published in between.  Prints CPU time per snapshot
 * (CLOCK_PROCESS_CPUTIME_ID; the publishes are not counted).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "segdir.h"
#include "segment.h"
#include "shmetrics.h"

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct shmetrics *open_worker(int i, int series)
{
	struct shmetrics_options o = { .instance = "b", .flags = SHMETRICS_NO_PUBLISHER };
	struct shmetrics *m = shmetrics_open("merge", &o);
	const char *names[] = { "series" };
	char value[32];

	if (m == NULL) {
		fprintf(stderr, "workers_merge: %s\n", shmetrics_last_error());
		exit(1);
	}
	struct shmetrics_family *f = shmetrics_counter(m, "bench_total", "", names, 1);
	for (int k = 0; k < series; k++) {
		const char *values[] = { value };
		snprintf(value, sizeof value, "s%d", k);
		shmetrics_add(shmetrics_series(f, values, 1), (double)((i + k) % 7 + 1));
	}
	return m;
}

/* CPU seconds per snapshot; publish: every worker publishes before each. */
static double measure(struct seg_reader *r, struct shmetrics **w, int workers, int n, int publish)
{
	struct metrics_view v;
	struct seg_info info;
	char err[512];
	double spent = 0;

	for (int i = 0; i < n; i++) {
		for (int k = 0; publish && k < workers; k++)
			shmetrics_publish(w[k]);
		double t0 = cpu_now();
		if (seg_reader_snapshot(r, &v, &info, err, sizeof err) < 0) {
			fprintf(stderr, "workers_merge: %s\n", err);
			exit(1);
		}
		spent += cpu_now() - t0;
	}
	return spent / n;
}

int main(int argc, char **argv)
{
	int workers = argc > 1 ? atoi(argv[1]) : 64, series = argc > 2 ? atoi(argv[2]) : 1000;
	int n = argc > 3 ? atoi(argv[3]) : 500;
	char base[64], err[PATH_MAX + 400];
	struct segment_options so = {
		.interval_ms = 1000, .mode = 0600, .gid = (gid_t)-1, .workers = (uint32_t)workers
	};
	struct seg_read_limits lim;
	struct seg_reader *r;
	struct segdir dir;

	snprintf(base, sizeof base, "/tmp/shmetrics-bench%d", (int)getpid());
	segment_limits((uint32_t)series + 10, &so.limits);
	if (workers < 1 || workers > (int)SEGMENT_WORKERS_MAX || series < 1 ||
	    segdir_create(&dir, base, "b", 0751, (gid_t)-1, err, sizeof err) < 0 ||
	    segment_create(&dir, "merge", &so, err, sizeof err) < 0) {
		fprintf(stderr, "workers_merge: %s\n", workers < 1 || series < 1 ? "usage" : err);
		return 1;
	}
	setenv(SEGDIR_ENV, base, 1);
	struct shmetrics **w = calloc((size_t)workers, sizeof *w);
	for (int i = 0; i < workers; i++)
		w[i] = open_worker(i, series);
	seg_read_limits_for((uint32_t)series + 10, &lim);
	seg_read_limits_workers(&lim, (uint32_t)workers);
	if (seg_reader_open(&r, &dir, "merge", &lim, err, sizeof err) < 0) {
		fprintf(stderr, "workers_merge: %s\n", err);
		return 1;
	}
	double fresh = measure(r, w, workers, n, 1), same = measure(r, w, workers, n, 0);
	printf("%d workers x %d series, %d snapshots each\n", workers, series, n);
	printf("snapshot after every worker published: %8.1f us\n", fresh * 1e6);
	printf("snapshot with nothing new:             %8.1f us\n", same * 1e6);
	printf("per merged input series:               %8.1f ns\n",
	       fresh * 1e9 / ((double)workers * series));
	seg_reader_close(r);
	for (int i = 0; i < workers; i++)
		shmetrics_close(w[i]);
	free(w);
	segment_remove(&dir, "merge", err, sizeof err);
	segdir_remove_if_empty(&dir, base, "b");
	rmdir(base);
	return 0;
}
