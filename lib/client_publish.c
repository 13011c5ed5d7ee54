/*
 * client_publish.c - turning the registry into a batch and publishing it
 * through the segment writer.  Runs under the collector's lock.
 */
#include "client_internal.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int add_series(struct batch *b, const struct shmetrics_family *f, struct shmetrics_series *s,
		      char *err, size_t errlen)
{
	const char *const *names = (const char *const *)f->label_names;
	const char *const *values = (const char *const *)s->label_values;
	uint64_t counts[HISTOGRAM_BUCKETS_MAX + 1];
	double sum;

	if (f->type != METRIC_HISTOGRAM)
		return batch_add(b, names, values, f->n_labels, client_value(s), err, errlen);
	client_hist_collect(s->hist, f->n_bounds, counts, &sum);
	return batch_add_histogram(b, names, values, f->n_labels, counts, sum, err, errlen);
}

static int add_family(struct batch *b, const struct shmetrics_family *f, char *err, size_t errlen)
{
	int rc = f->type == METRIC_HISTOGRAM
		     ? batch_histogram_family(b, f->name, f->help, f->bounds, f->n_bounds, err,
					      errlen)
		     : batch_family(b, f->name, f->help, f->type, err, errlen);

	for (size_t i = 0; rc == 0 && i < f->n_series; i++)
		rc = add_series(b, f, f->series[i], err, errlen);
	return rc;
}

static int add_self(struct shmetrics *m, char *err, size_t errlen)
{
	double dropped = (double)atomic_load_explicit(&m->dropped, memory_order_relaxed);
	int rc = batch_family(m->batch, CLIENT_DROPPED_NAME, CLIENT_DROPPED_HELP, METRIC_COUNTER,
			      err, errlen);

	return rc < 0 ? rc : batch_add(m->batch, NULL, NULL, 0, dropped, err, errlen);
}

int client_publish_locked(struct shmetrics *m)
{
	char err[512];
	uint64_t t0 = mono_ns();
	int rc = 0;

	batch_reset(m->batch);
	for (size_t i = 0; rc == 0 && i < m->n_families; i++)
		rc = add_family(m->batch, m->families[i], err, sizeof err);
	if (rc == 0)
		rc = add_self(m, err, sizeof err);
	if (rc < 0) /* registration keeps every batch within the limits: a bug if seen */
		return client_fail(rc, "collector \"%s\": building the batch failed: %s",
				   m->collector, err);
	batch_set_status(m->batch, true, mono_ns() - t0, NULL);
	rc = seg_writer_publish(m->writer, m->batch, err, sizeof err);
	if (rc < 0)
		return client_fail(rc, "collector \"%s\": publishing to %s failed: %s",
				   m->collector, m->what, err);
	return 0;
}
