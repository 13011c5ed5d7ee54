/*
 * Validation of a blob read from shared memory.  The writer is another process
 * that may be buggy or hostile, so every count, range, string and shape is
 * checked before anything is indexed; a view that passes can be used without
 * further checks.  A refusal names the family or series by its index and says
 * which rule failed; it never quotes a name, string or number read from the
 * blob (metrics.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

#define FAIL(...)                                   \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		return -EPROTO;                     \
	} while (0)

static int check_header(struct metrics_view *v, size_t len, const struct batch_limits *lim,
			char *err, size_t errlen)
{
	const struct blob_header *h = &v->hdr;

	if (h->n_families > lim->max_families || h->n_series > lim->max_series ||
	    h->n_labels > lim->max_labels || h->n_values > lim->max_values ||
	    h->n_bounds > lim->max_bounds || h->strings_len > lim->string_bytes)
		FAIL("batch counts exceed the segment's limits");
	if (h->error_len > 4096)
		FAIL("the error message's length is out of range");
	view_compute_offsets(v);
	size_t total = v->error_off + (((size_t)h->error_len + 7) & ~(size_t)7);
	if (h->used_bytes != total || total > len)
		FAIL("the batch's size does not match its counts or the copy");
	size_t elen;
	const char *e = view_error(v, &elen);
	if (!utf8_valid(e, elen))
		FAIL("error message is not UTF-8");
	return 0;
}

static bool string_in_range(const struct metrics_view *v, uint32_t off, uint32_t len)
{
	return off <= v->hdr.strings_len && len <= v->hdr.strings_len - off;
}

static int check_family_names(const struct metrics_view *v, uint32_t i, const struct blob_family *f,
			      char *err, size_t errlen)
{
	char why[256];

	if (!string_in_range(v, f->name_off, f->name_len) ||
	    !string_in_range(v, f->help_off, f->help_len))
		FAIL("family %u: name or help points outside the string area", i);
	if (metric_name_check(view_string(v, f->name_off), f->name_len, why, sizeof why) < 0)
		FAIL("family %u: %s", i, why);
	if (f->help_len > METRIC_HELP_MAX || !utf8_valid(view_string(v, f->help_off), f->help_len))
		FAIL("family %u: help is not UTF-8 of at most %d bytes", i, METRIC_HELP_MAX);
	return 0;
}

static int check_family_bounds(const struct metrics_view *v, uint32_t i,
			       const struct blob_family *f, char *err, size_t errlen)
{
	bool summary = f->type == METRIC_SUMMARY;

	if (f->type != METRIC_HISTOGRAM && !summary) {
		if (f->n_bounds != 0)
			FAIL("family %u: only histograms and summaries have bounds", i);
		return 0;
	}
	if (f->n_bounds > HISTOGRAM_BUCKETS_MAX || f->first_bound > v->hdr.n_bounds ||
	    f->n_bounds > v->hdr.n_bounds - f->first_bound)
		FAIL("family %u: bucket bounds or quantiles out of range", i);
	for (uint32_t k = 0; k < f->n_bounds; k++) {
		double b = view_bound(v, f->first_bound + k);
		if (!isfinite(b) || (k > 0 && !(b > view_bound(v, f->first_bound + k - 1))))
			FAIL("family %u: %s are not finite and increasing", i,
			     summary ? "quantiles" : "bucket bounds");
		if (summary && (b < 0 || b > 1))
			FAIL("family %u: a quantile is outside [0,1]", i);
	}
	return 0;
}

static int check_labels(const struct metrics_view *v, uint32_t si, const struct blob_series *s,
			const struct blob_family *f, char *err, size_t errlen)
{
	char why[256];

	if (s->n_labels > METRIC_LABELS_MAX || s->first_label > v->hdr.n_labels ||
	    s->n_labels > v->hdr.n_labels - s->first_label)
		FAIL("series %u: labels out of range", si);
	for (uint32_t k = 0; k < s->n_labels; k++) {
		struct blob_label l, prev;
		view_label(v, s->first_label + k, &l);
		if (!string_in_range(v, l.name_off, l.name_len) ||
		    !string_in_range(v, l.value_off, l.value_len))
			FAIL("series %u: a label points outside the string area", si);
		const char *name = view_string(v, l.name_off);
		if (label_name_check(name, l.name_len, why, sizeof why) < 0)
			FAIL("series %u: %s", si, why);
		const char *reserved = family_reserved_label(f->type);
		if (reserved && l.name_len == strlen(reserved) &&
		    memcmp(name, reserved, l.name_len) == 0)
			FAIL("series %u: a %s label is reserved for its family's type", si,
			     reserved);
		if (l.value_len > LABEL_VALUE_MAX ||
		    !utf8_valid(view_string(v, l.value_off), l.value_len))
			FAIL("series %u: label value is not UTF-8 of at most %d bytes", si,
			     LABEL_VALUE_MAX);
		for (uint32_t j = 0; j < k; j++) {
			view_label(v, s->first_label + j, &prev);
			if (prev.name_len == l.name_len &&
			    memcmp(view_string(v, prev.name_off), name, l.name_len) == 0)
				FAIL("series %u: labels %u and %u have the same name", si, j + 1,
				     k + 1);
		}
	}
	return 0;
}

static int check_series_of(const struct metrics_view *v, uint32_t fi, const struct blob_family *f,
			   char *err, size_t errlen)
{
	uint32_t nvals = family_value_count(f);

	for (uint32_t si = f->first_series; si < f->first_series + f->n_series; si++) {
		struct blob_series s;
		view_series(v, si, &s);
		if (s.family != fi)
			FAIL("series %u: sits in family %u but says it belongs to another", si, fi);
		if (s.value_idx > v->hdr.n_values || nvals > v->hdr.n_values - s.value_idx)
			FAIL("series %u: values out of range", si);
		int rc = check_labels(v, si, &s, f, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int check_families(const struct metrics_view *v, char *err, size_t errlen)
{
	uint32_t next_series = 0;

	for (uint32_t i = 0; i < v->hdr.n_families; i++) {
		struct blob_family f;
		view_family(v, i, &f);
		if (f.type > METRIC_SUMMARY)
			FAIL("family %u: unknown type", i);
		/* Families own consecutive, non-overlapping runs of series, in order. */
		if (f.first_series != next_series || f.n_series > v->hdr.n_series - next_series)
			FAIL("family %u: series range out of order or out of range", i);
		next_series += f.n_series;
		int rc = check_family_names(v, i, &f, err, errlen);
		if (rc == 0)
			rc = check_family_bounds(v, i, &f, err, errlen);
		if (rc == 0)
			rc = check_series_of(v, i, &f, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (next_series != v->hdr.n_series)
		FAIL("some series belong to no family");
	return 0;
}

int metrics_view_open(struct metrics_view *v, const void *buf, size_t len,
		      const struct batch_limits *lim, char *err, size_t errlen)
{
	struct metrics_view tmp = { .blob = buf };

	if (len < sizeof(struct blob_header))
		FAIL("the batch is shorter than its header");
	memcpy(&tmp.hdr, buf, sizeof tmp.hdr);
	int rc = check_header(&tmp, len, lim, err, errlen);
	if (rc == 0)
		rc = check_families(&tmp, err, errlen);
	if (rc == 0)
		*v = tmp;
	return rc;
}
