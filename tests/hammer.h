/*
 * hammer.h - a batch with a checkable invariant, shared by the hammer tests.
 *
 * Batch number v has 1 + v % 13 series {i="0"}, {i="1"}, ... of family
 * hammer_value, every one with the value v.  A reader that sees any mix of two
 * batches (a torn read) finds values that differ, or a series count that does
 * not match the value.
 */
#ifndef SHMETRICS_TESTS_HAMMER_H
#define SHMETRICS_TESTS_HAMMER_H

#include <stdio.h>
#include <string.h>

#include "metrics.h"

static inline uint32_t hammer_series_for(uint64_t v)
{
	return 1 + (uint32_t)(v % 13);
}

static inline int hammer_fill(struct batch *b, uint64_t v, char *err, size_t errlen)
{
	static const char *const names[] = { "i" };
	char idx[16];
	batch_reset(b);
	int rc = batch_family(b, "hammer_value", "Batch number, equal in every series.",
			      METRIC_GAUGE, err, errlen);
	for (uint32_t i = 0; rc == 0 && i < hammer_series_for(v); i++) {
		snprintf(idx, sizeof idx, "%u", i);
		const char *values[] = { idx };
		rc = batch_add(b, names, values, 1, (double)v, err, errlen);
	}
	batch_set_status(b, true, v, NULL);
	return rc;
}

/* 0 if the view is one whole batch; its number in *v.  -1 if it is torn. An
 * empty batch (nothing published yet) counts as whole, with *v = 0. */
static inline int hammer_check(const struct metrics_view *view, uint64_t *v)
{
	if (view->hdr.n_series == 0) {
		*v = 0;
		return 0;
	}
	double first = view_value(view, 0);
	*v = (uint64_t)first;
	if (view->hdr.n_series != hammer_series_for(*v) || view->hdr.duration_ns != *v)
		return -1;
	for (uint32_t i = 0; i < view->hdr.n_series; i++) {
		struct blob_series s;
		struct blob_label l;
		char want[16];
		view_series(view, i, &s);
		view_label(view, s.first_label, &l);
		snprintf(want, sizeof want, "%u", i);
		if (view_value(view, s.value_idx) != first || l.value_len != strlen(want) ||
		    memcmp(view_string(view, l.value_off), want, l.value_len) != 0)
			return -1;
	}
	return 0;
}

#endif
