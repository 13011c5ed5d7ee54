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

/* A histogram's totals since the last reset: what it counted minus its baseline. */
static void hist_since_reset(struct shmetrics_series *s, uint64_t *counts, double *sum)
{
	client_hist_collect(s->hist, s->n_bounds, counts, sum);
	for (uint32_t i = 0; i <= s->n_bounds; i++)
		counts[i] -= s->hist->base_counts[i];
	*sum -= s->hist->base_sum;
}

static int add_series(struct batch *b, const struct shmetrics_family *f, struct shmetrics_series *s,
		      bool worker, char *err, size_t errlen)
{
	const char *const *names = (const char *const *)f->label_names;
	const char *const *values = (const char *const *)s->label_values;
	uint64_t counts[HISTOGRAM_BUCKETS_MAX + 1];
	double sum;

	if (f->type == METRIC_HISTOGRAM) {
		hist_since_reset(s, counts, &sum);
		return batch_add_histogram(b, names, values, f->n_labels, counts, sum, err, errlen);
	}
	if (f->type == METRIC_COUNTER)
		return batch_add(b, names, values, f->n_labels, client_value(s) - s->base, err,
				 errlen);
	/* A worker's gauge series that it never touched is not its to report. */
	if (worker && atomic_load_explicit(&s->bits, memory_order_relaxed) == GAUGE_UNSET)
		return 0;
	if (f->aggregate == AGG_LAST)
		return batch_add_timed(b, names, values, f->n_labels, client_value(s),
				       (double)atomic_load_explicit(&s->set_ns,
								    memory_order_relaxed),
				       err, errlen);
	return batch_add(b, names, values, f->n_labels, client_value(s), err, errlen);
}

static int add_family(struct batch *b, const struct shmetrics_family *f, bool worker, char *err,
		      size_t errlen)
{
	int rc;

	if (f->type == METRIC_HISTOGRAM)
		rc = batch_histogram_family(b, f->name, f->help, f->bounds, f->n_bounds, err,
					    errlen);
	else if (f->type == METRIC_GAUGE)
		rc = batch_gauge_family(b, f->name, f->help, f->aggregate, err, errlen);
	else
		rc = batch_family(b, f->name, f->help, f->type, err, errlen);
	for (size_t i = 0; rc == 0 && i < f->n_series; i++)
		rc = add_series(b, f, f->series[i], worker, err, errlen);
	return rc;
}

/* After `shmetrics reset`: every counter and histogram starts again from zero,
 * its current total becoming its baseline. */
static void rebase(struct shmetrics *m)
{
	for (size_t i = 0; i < m->n_families; i++) {
		struct shmetrics_family *f = m->families[i];
		for (size_t k = 0; k < f->n_series; k++) {
			struct shmetrics_series *s = f->series[k];
			if (f->type == METRIC_COUNTER)
				s->base = client_value(s);
			else if (f->type == METRIC_HISTOGRAM)
				client_hist_collect(s->hist, s->n_bounds, s->hist->base_counts,
						    &s->hist->base_sum);
		}
	}
	atomic_store_explicit(&m->dropped, 0, memory_order_relaxed);
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

	if (m->writer == NULL)
		return client_fail(-ENOTCONN,
				   "collector \"%s\": not attached (attaching after fork() "
				   "failed)",
				   m->collector);
	uint32_t reset = seg_writer_reset_epoch(m->writer);
	if (reset != m->reset_seen) {
		rebase(m);
		m->reset_seen = reset;
	}
	bool worker = seg_writer_slot(m->writer) >= 0;
	batch_reset(m->batch);
	for (size_t i = 0; rc == 0 && i < m->n_families; i++)
		rc = add_family(m->batch, m->families[i], worker, err, sizeof err);
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
