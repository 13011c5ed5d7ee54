/*
 * client_inc - what an update through libshmetrics costs, next to the obvious
 * alternative: a counter behind a pthread mutex, measured in the same run.
 *
 *   make bench-client            (or build/bench/client_inc [ITERATIONS])
 *
 * Prints ns per operation for one thread and for two threads hammering the same
 * counter, and the ratio mutex / shmetrics.  Creates and removes its own segment.
 */
#include <pthread.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "segment.h"
#include "shmetrics.h"

struct locked_counter {
	pthread_mutex_t lock;
	double value;
};

struct job {
	struct shmetrics_series *series;
	struct locked_counter *locked;
	long iterations;
	int kind; /* 0 shmetrics_inc, 1 mutex, 2 shmetrics_observe */
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *run_job(void *arg)
{
	const struct job *j = arg;

	for (long i = 0; i < j->iterations; i++) {
		if (j->kind == 0) {
			shmetrics_inc(j->series);
		} else if (j->kind == 1) {
			pthread_mutex_lock(&j->locked->lock);
			j->locked->value += 1;
			pthread_mutex_unlock(&j->locked->lock);
		} else {
			shmetrics_observe(j->series, (double)(i & 15) * 0.001);
		}
	}
	return NULL;
}

/* ns per operation with `threads` threads doing `total` operations in all. */
static double measure(struct job proto, int threads, long total)
{
	pthread_t t[2];
	struct job jobs[2];
	double start = now_ns();

	for (int i = 0; i < threads; i++) {
		jobs[i] = proto;
		jobs[i].iterations = total / threads;
		pthread_create(&t[i], NULL, run_job, &jobs[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return (now_ns() - start) / (double)total;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000L;
	char base[64], err[PATH_MAX + 400];
	struct segment_options so = { .interval_ms = 1000, .mode = 0600, .gid = (gid_t)-1 };
	struct locked_counter lc = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct segdir dir;

	snprintf(base, sizeof base, "/tmp/shmetrics-bench%d", (int)getpid());
	segment_limits(0, &so.limits);
	if (segdir_create(&dir, base, "b", 0751, (gid_t)-1, err, sizeof err) < 0 ||
	    segment_create(&dir, "bench", &so, err, sizeof err) < 0) {
		fprintf(stderr, "client_inc: %s\n", err);
		return 1;
	}
	setenv(SEGDIR_ENV, base, 1);
	struct shmetrics_options o = { .instance = "b" };
	struct shmetrics *m = shmetrics_open("bench", &o);
	if (m == NULL) {
		fprintf(stderr, "client_inc: %s\n", shmetrics_last_error());
		segment_remove(&dir, "bench", err, sizeof err);
		return 1;
	}
	struct job c = { .series = shmetrics_series(shmetrics_counter(m, "b_total", "", NULL, 0),
						    NULL, 0) };
	struct job h = { .kind = 2,
			 .series = shmetrics_series(shmetrics_histogram(m, "b_seconds", "", NULL, 0,
									NULL, 0),
						    NULL, 0) };
	struct job mx = { .kind = 1, .locked = &lc };

	double inc1 = measure(c, 1, n), mut1 = measure(mx, 1, n);
	double inc2 = measure(c, 2, n), mut2 = measure(mx, 2, n);
	double obs1 = measure(h, 1, n / 4), obs2 = measure(h, 2, n / 4);
	printf("%-34s %10s %10s\n", "ns per operation", "1 thread", "2 threads");
	printf("%-34s %10.2f %10.2f\n", "shmetrics_inc (one counter)", inc1, inc2);
	printf("%-34s %10.2f %10.2f\n", "pthread_mutex + double (baseline)", mut1, mut2);
	printf("%-34s %10.2f %10.2f\n", "ratio mutex / shmetrics_inc", mut1 / inc1, mut2 / inc2);
	printf("%-34s %10.2f %10.2f\n", "shmetrics_observe (one histogram)", obs1, obs2);
	printf("(%ld operations per measurement, %ld per observe measurement; "
	       "the publisher thread ran throughout)\n",
	       n, n / 4);
	shmetrics_close(m);
	segment_remove(&dir, "bench", err, sizeof err);
	segdir_remove_if_empty(&dir, base, "b");
	segdir_close(&dir);
	rmdir(base);
	return 0;
}
