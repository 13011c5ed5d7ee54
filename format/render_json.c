/*
 * /metrics.json: the same families as the text format plus each collector's
 * health, as one JSON document (schema in docs/exporter.md).  Built as a jansson
 * tree and dumped into the caller's buffer.
 */
#include "render_internal.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

/* Every json_* call can fail on out of memory; the first failure sticks. */
struct json_ctx {
	json_t *families;
	bool failed;
};

static void obj_set(struct json_ctx *c, json_t *obj, const char *key, json_t *val)
{
	if (!val || json_object_set_new(obj, key, val) != 0)
		c->failed = true;
}

static void arr_add(struct json_ctx *c, json_t *arr, json_t *val)
{
	if (!val || json_array_append_new(arr, val) != 0)
		c->failed = true;
}

/* Integers up to 2^53 (exact in a double) as integers, other finite values as
 * reals, NaN/±Inf as strings (JSON has no spelling for them). */
static json_t *json_value(double v)
{
	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "+Inf" : "-Inf");
	if (v >= -9007199254740992.0 && v <= 9007199254740992.0 && v == (double)(int64_t)v)
		return json_integer((json_int_t)v);
	return json_real(v);
}

static json_t *series_labels(struct json_ctx *c, const struct metrics_view *v,
			     const struct blob_series *s)
{
	json_t *labels = json_object();

	if (!labels) {
		c->failed = true;
		return NULL;
	}
	for (uint32_t i = 0; i < s->n_labels; i++) {
		struct blob_label l;
		view_label(v, s->first_label + i, &l);
		json_t *val = json_stringn(view_string(v, l.value_off), l.value_len);
		if (!val ||
		    json_object_setn_new(labels, view_string(v, l.name_off), l.name_len, val) != 0)
			c->failed = true;
	}
	return labels;
}

static void add_buckets(struct json_ctx *c, json_t *obj, const struct metrics_view *v,
			const struct blob_family *fam, const struct blob_series *s)
{
	json_t *buckets = json_array();
	uint32_t nb = fam->n_bounds;

	obj_set(c, obj, "buckets", buckets);
	for (uint32_t i = 0; buckets && i <= nb; i++) {
		json_t *b = json_object();
		double le = i < nb ? view_bound(v, fam->first_bound + i) : INFINITY;
		arr_add(c, buckets, b);
		if (!b)
			break;
		obj_set(c, b, "le", json_value(le));
		obj_set(c, b, "count", json_value(view_value(v, s->value_idx + i)));
	}
	obj_set(c, obj, "sum", json_value(view_value(v, s->value_idx + nb + 1)));
	obj_set(c, obj, "count", json_value(view_value(v, s->value_idx + nb)));
}

static void add_quantiles(struct json_ctx *c, json_t *obj, const struct metrics_view *v,
			  const struct blob_family *fam, const struct blob_series *s)
{
	json_t *quantiles = json_array();
	uint32_t nq = fam->n_bounds;

	obj_set(c, obj, "quantiles", quantiles);
	for (uint32_t i = 0; quantiles && i < nq; i++) {
		json_t *q = json_object();
		arr_add(c, quantiles, q);
		if (!q)
			break;
		obj_set(c, q, "quantile", json_value(view_bound(v, fam->first_bound + i)));
		obj_set(c, q, "value", json_value(view_value(v, s->value_idx + i)));
	}
	obj_set(c, obj, "sum", json_value(view_value(v, s->value_idx + nq)));
	obj_set(c, obj, "count", json_value(view_value(v, s->value_idx + nq + 1)));
}

static json_t *series_json(struct json_ctx *c, const struct metrics_view *v,
			   const struct blob_family *fam, uint32_t idx)
{
	struct blob_series s;
	json_t *obj = json_object();

	if (!obj)
		return NULL;
	view_series(v, idx, &s);
	obj_set(c, obj, "labels", series_labels(c, v, &s));
	if (fam->type == METRIC_HISTOGRAM)
		add_buckets(c, obj, v, fam, &s);
	else if (fam->type == METRIC_SUMMARY)
		add_quantiles(c, obj, v, fam, &s);
	else
		obj_set(c, obj, "value", json_value(view_value(v, s.value_idx)));
	return obj;
}

static int add_family(void *ctx, const struct render_source *src, uint32_t index,
		      const struct blob_family *fam)
{
	struct json_ctx *c = ctx;
	const struct metrics_view *v = src->view;
	json_t *f = json_object();
	json_t *series = json_array();

	(void)index;
	arr_add(c, c->families, f);
	if (!f) {
		json_decref(series);
		return -ENOMEM;
	}
	obj_set(c, f, "name", json_stringn(view_string(v, fam->name_off), fam->name_len));
	obj_set(c, f, "type", json_string(metric_type_name(fam->type)));
	obj_set(c, f, "help", json_stringn(view_string(v, fam->help_off), fam->help_len));
	obj_set(c, f, "collector", json_string(src->collector));
	obj_set(c, f, "series", series);
	for (uint32_t i = 0; series && i < fam->n_series; i++)
		arr_add(c, series, series_json(c, v, fam, fam->first_series + i));
	return c->failed ? -ENOMEM : 0;
}

static json_t *collector_json(struct json_ctx *c, const struct render_collector_status *st)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	obj_set(c, o, "name", json_string(st->name));
	obj_set(c, o, "up", json_boolean(st->up));
	obj_set(c, o, "success", json_boolean(st->success));
	obj_set(c, o, "last_publish_timestamp_seconds",
		st->have_batch ? json_real(st->last_publish_seconds) : json_null());
	obj_set(c, o, "duration_seconds",
		st->have_batch ? json_real(st->duration_seconds) : json_null());
	obj_set(c, o, "error", st->error ? json_string(st->error) : json_null());
	obj_set(c, o, "series", json_integer((json_int_t)st->series));
	return o;
}

static int dump_to_buf(const char *p, size_t n, void *data)
{
	struct buf *out = data;

	buf_append(out, p, n);
	return buf_failed(out) ? -1 : 0;
}

int render_json(struct buf *out, const struct render_collector_status *col, size_t ncol,
		const struct render_source *src, size_t n, struct render_result *res)
{
	struct json_ctx c = { json_array(), false };
	json_t *root = json_object();
	json_t *collectors = json_array();
	int rc = 0;

	if (res)
		memset(res, 0, sizeof *res);
	if (!root || !collectors || !c.families) {
		json_decref(collectors);
		json_decref(c.families);
		rc = -ENOMEM;
		goto out;
	}
	obj_set(&c, root, "schema_version", json_integer(RENDER_JSON_SCHEMA_VERSION));
	obj_set(&c, root, "collectors", collectors);
	obj_set(&c, root, "families", c.families);
	for (size_t i = 0; i < ncol; i++)
		arr_add(&c, collectors, collector_json(&c, &col[i]));
	rc = render_each_family(src, n, res, add_family, &c);
	if (rc == 0 && !c.failed)
		rc = json_dump_callback(root, dump_to_buf, out, JSON_COMPACT) ? -ENOMEM : 0;
	if (rc == 0 && c.failed)
		rc = -ENOMEM;
	if (rc == 0)
		buf_putc(out, '\n');
out:
	json_decref(root);
	return rc;
}
