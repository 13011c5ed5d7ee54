/*
 * set, inc, add, observe: read the collector's current batch, change one
 * series, publish the whole batch again as a writer that leaves (writer pid 0).
 * observe adds one observation to a histogram series: its bucket, the count and
 * the sum change together, in one publish, so readers never see them disagree.
 *
 * Concurrent invocations serialise on an flock of the segment's object, so two
 * scripts incrementing the same counter never lose an update.  A segment with a
 * live resident writer (a collector process or an attached application) is
 * refused: its writer would overwrite the change on its next publish anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "promtext.h"
#include "segment.h"

#define ERR_MAX      600
#define DEFAULT_HELP "Written with the shmetrics command-line tool."
#define LABEL_BUF    (METRIC_LABELS_MAX * (LABEL_NAME_MAX + LABEL_VALUE_MAX + 2))

/* The series to change, parsed with the strict parser from "SPEC VALUE\n". */
struct target {
	struct batch *parsed;
	struct metrics_view v;
	struct blob_family fam;
	struct blob_series ser;
	char name[METRIC_NAME_MAX + 1];
	double value;
	enum metric_type type;
	const char *help;
	bool type_given;
	enum cli_op op;
	double bounds[HISTOGRAM_BUCKETS_MAX]; /* observe: a new histogram's buckets */
	uint32_t n_bounds;
	bool bounds_given;
};

static const double default_bounds[] = { .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10 };

/* Labels of one series, NUL-terminated. */
struct labels {
	char buf[LABEL_BUF];
	const char *names[METRIC_LABELS_MAX];
	const char *values[METRIC_LABELS_MAX];
	size_t n;
};

static void read_labels(const struct metrics_view *v, const struct blob_series *s, struct labels *l)
{
	char *w = l->buf;
	l->n = 0;
	for (uint32_t i = 0; i < s->n_labels && i < METRIC_LABELS_MAX; i++) {
		struct blob_label bl;
		view_label(v, s->first_label + i, &bl);
		memcpy(w, view_string(v, bl.name_off), bl.name_len);
		w[bl.name_len] = '\0';
		l->names[i] = w;
		w += bl.name_len + 1;
		memcpy(w, view_string(v, bl.value_off), bl.value_len);
		w[bl.value_len] = '\0';
		l->values[i] = w;
		w += bl.value_len + 1;
		l->n++;
	}
}

/* Same label set, in any order. */
static bool same_labels(const struct labels *a, const struct labels *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		size_t k = 0;
		while (k < b->n && strcmp(a->names[i], b->names[k]) != 0)
			k++;
		if (k == b->n || strcmp(a->values[i], b->values[k]) != 0)
			return false;
	}
	return true;
}

static int parse_target(struct target *t, const struct cli_write *w)
{
	char err[ERR_MAX], *text = NULL;
	struct batch_limits lim = { 2, 2, METRIC_LABELS_MAX, 2, 0, 64 * 1024 };
	const char *value = w->value ? w->value : "1";

	if (asprintf(&text, "%s %s\n", w->metric, value) < 0)
		return CLI_FAILED;
	t->parsed = batch_new(&lim);
	int rc = t->parsed ? promtext_parse(t->parsed, text, strlen(text), err, sizeof err)
			   : -ENOMEM;
	free(text);
	if (rc == 0) {
		batch_view(t->parsed, &t->v);
		if (t->v.hdr.n_series != 1 || t->v.hdr.n_families != 1) {
			snprintf(err, sizeof err, "expected NAME or NAME{label=\"value\",...}");
			rc = -EINVAL;
		}
	}
	if (rc < 0) {
		/* One line of the user's own words: "line 1, column C" becomes "column C". */
		const char *why = strncmp(err, "line 1: ", 8) == 0   ? err + 8
				  : strncmp(err, "line 1, ", 8) == 0 ? err + 8
								     : err;
		cli_error("invalid metric or value \"%s %s\": %s", w->metric, value, why);
		return CLI_BAD_INPUT;
	}
	view_family(&t->v, 0, &t->fam);
	view_series(&t->v, 0, &t->ser);
	snprintf(t->name, sizeof t->name, "%.*s", (int)t->fam.name_len,
		 view_string(&t->v, t->fam.name_off));
	t->value = view_value(&t->v, 0);
	return CLI_OK;
}

/* "0.1,0.5,1" into t->bounds: finite and strictly increasing, as histograms need. */
static int parse_buckets(struct target *t, const char *text)
{
	const char *p = text;
	t->n_bounds = 0;
	while (*p != '\0') {
		char *end;
		double b = strtod(p, &end);
		bool bad = end == p || (*end != ',' && *end != '\0') || !isfinite(b) ||
			   t->n_bounds == HISTOGRAM_BUCKETS_MAX ||
			   (t->n_bounds > 0 && !(b > t->bounds[t->n_bounds - 1]));
		if (bad) {
			cli_error("--buckets=%s: expected up to %d finite, increasing numbers "
				  "separated by commas",
				  text, HISTOGRAM_BUCKETS_MAX);
			return CLI_USAGE;
		}
		t->bounds[t->n_bounds++] = b;
		p = *end == ',' ? end + 1 : end;
	}
	return CLI_OK;
}

static int observe_options(struct target *t, const struct cli_write *w)
{
	if (w->type != NULL) {
		cli_error("observe writes histograms; --type does not apply");
		return CLI_USAGE;
	}
	t->type = METRIC_HISTOGRAM;
	t->bounds_given = w->buckets != NULL;
	if (w->buckets != NULL)
		return parse_buckets(t, w->buckets);
	memcpy(t->bounds, default_bounds, sizeof default_bounds);
	t->n_bounds = sizeof default_bounds / sizeof default_bounds[0];
	return CLI_OK;
}

static int check_options(struct target *t, const struct cli_write *w)
{
	t->op = w->op;
	t->help = w->help;
	t->type_given = w->type != NULL;
	t->type = w->op == CLI_SET ? METRIC_GAUGE : METRIC_COUNTER;
	if (w->type && strcmp(w->type, "gauge") == 0)
		t->type = METRIC_GAUGE;
	else if (w->type && strcmp(w->type, "counter") == 0)
		t->type = METRIC_COUNTER;
	else if (w->type) {
		cli_error("--type=%s: expected gauge or counter", w->type);
		return CLI_USAGE;
	}
	if (w->op != CLI_SET && !isfinite(t->value)) {
		static const char *const ops[] = { "set", "inc", "add", "observe" };
		cli_error("%s needs a finite number", ops[w->op]);
		return CLI_BAD_INPUT;
	}
	if (w->op == CLI_OBSERVE)
		return observe_options(t, w);
	return CLI_OK;
}

/* ---- rebuilding the batch with the change ---- */

struct rebuild {
	struct batch *out;
	const struct target *t;
	struct labels want;
	bool done;
	const double *bounds; /* observe: the buckets of the target's family */
	uint32_t n_bounds;
	char err[ERR_MAX];
};

/* The bucket an observation falls in: the first bound it does not exceed. */
static uint32_t bucket_of(const struct rebuild *rb, double v)
{
	uint32_t i = 0;
	while (i < rb->n_bounds && v > rb->bounds[i])
		i++;
	return i;
}

/* A histogram series with the observation added (counts: n_bounds + 1 buckets). */
static int add_observed(struct rebuild *rb, const struct labels *l, uint64_t *counts, double sum)
{
	counts[bucket_of(rb, rb->t->value)]++;
	rb->done = true;
	return batch_add_histogram(rb->out, l->names, l->values, l->n, counts, sum + rb->t->value,
				   rb->err, sizeof rb->err);
}

static int new_value(struct rebuild *rb, enum metric_type type, double old, bool have_old,
		     double *out)
{
	const struct target *t = rb->t;
	double v = t->op == CLI_SET ? t->value : (have_old ? old : 0) + t->value;

	if (type == METRIC_COUNTER && t->op != CLI_SET && t->value < 0) {
		snprintf(rb->err, sizeof rb->err, "counter %s only goes up; use set to reset it",
			 t->name);
		return -EINVAL;
	}
	if (type == METRIC_COUNTER && !(v >= 0)) {
		snprintf(rb->err, sizeof rb->err, "counter %s cannot be %g", t->name, v);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int copy_series(struct rebuild *rb, const struct metrics_view *v,
		       const struct blob_family *f, const struct blob_series *s, bool target)
{
	struct labels l;
	double value = view_value(v, s->value_idx);

	read_labels(v, s, &l);
	if (f->type == METRIC_SUMMARY) {
		double q[HISTOGRAM_BUCKETS_MAX];
		for (uint32_t i = 0; i < f->n_bounds; i++)
			q[i] = view_value(v, s->value_idx + i);
		return batch_add_summary(rb->out, l.names, l.values, l.n, q,
					 view_value(v, s->value_idx + f->n_bounds),
					 view_value(v, s->value_idx + f->n_bounds + 1), rb->err,
					 sizeof rb->err);
	}
	if (f->type == METRIC_HISTOGRAM) {
		uint64_t counts[HISTOGRAM_BUCKETS_MAX + 1];
		double sum = view_value(v, s->value_idx + f->n_bounds + 1);
		for (uint32_t i = 0; i <= f->n_bounds; i++)
			counts[i] = (uint64_t)view_value(v, s->value_idx + i) -
				    (i ? (uint64_t)view_value(v, s->value_idx + i - 1) : 0);
		if (target && same_labels(&l, &rb->want))
			return add_observed(rb, &l, counts, sum);
		return batch_add_histogram(rb->out, l.names, l.values, l.n, counts, sum, rb->err,
					   sizeof rb->err);
	}
	if (target && same_labels(&l, &rb->want)) {
		int rc = new_value(rb, f->type, value, true, &value);
		if (rc < 0)
			return rc;
		rb->done = true;
	}
	return batch_add(rb->out, l.names, l.values, l.n, value, rb->err, sizeof rb->err);
}

static int add_target_series(struct rebuild *rb, enum metric_type type)
{
	if (type == METRIC_HISTOGRAM) {
		uint64_t counts[HISTOGRAM_BUCKETS_MAX + 1] = { 0 };
		return add_observed(rb, &rb->want, counts, 0);
	}
	double value;
	int rc = new_value(rb, type, 0, false, &value);
	if (rc == 0)
		rc = batch_add(rb->out, rb->want.names, rb->want.values, rb->want.n, value, rb->err,
			       sizeof rb->err);
	rb->done = true;
	return rc;
}

/* observe on an existing family: it must be a histogram, with the same buckets
 * when --buckets is given. */
static int check_observed_family(struct rebuild *rb, const struct blob_family *f)
{
	const struct target *t = rb->t;
	if (f->type != METRIC_HISTOGRAM) {
		snprintf(rb->err, sizeof rb->err,
			 "%s is not a histogram; observe adds to histograms", t->name);
		return -EINVAL;
	}
	bool same = f->n_bounds == t->n_bounds;
	for (uint32_t k = 0; same && k < f->n_bounds; k++)
		same = rb->bounds[k] == t->bounds[k];
	if (t->bounds_given && !same) {
		snprintf(rb->err, sizeof rb->err,
			 "histogram %s has other buckets than --buckets; leave --buckets out to "
			 "use its own",
			 t->name);
		return -EINVAL;
	}
	return 0;
}

static int check_target_family(struct rebuild *rb, const struct blob_family *f)
{
	const struct target *t = rb->t;

	if (t->op == CLI_OBSERVE)
		return check_observed_family(rb, f);
	if (f->type == METRIC_SUMMARY) {
		snprintf(rb->err, sizeof rb->err,
			 "%s is a summary; the CLI changes counters, gauges "
			 "and histograms only",
			 t->name);
		return -EINVAL;
	}
	if (f->type == METRIC_HISTOGRAM) {
		snprintf(rb->err, sizeof rb->err,
			 "%s is a histogram; set, inc and add change "
			 "counters and gauges (observe adds to histograms)",
			 t->name);
		return -EINVAL;
	}
	if (t->type_given && f->type != t->type) {
		snprintf(rb->err, sizeof rb->err, "%s is a %s, not a %s", t->name,
			 metric_type_name(f->type), metric_type_name(t->type));
		return -EINVAL;
	}
	return 0;
}

static int copy_family(struct rebuild *rb, const struct metrics_view *v, uint32_t i)
{
	struct blob_family f;
	char name[METRIC_NAME_MAX + 1], help[METRIC_HELP_MAX + 1];
	double bounds[HISTOGRAM_BUCKETS_MAX];
	int rc;

	view_family(v, i, &f);
	snprintf(name, sizeof name, "%.*s", (int)f.name_len, view_string(v, f.name_off));
	snprintf(help, sizeof help, "%.*s", (int)f.help_len, view_string(v, f.help_off));
	bool target = strcmp(name, rb->t->name) == 0;
	for (uint32_t k = 0; k < f.n_bounds; k++)
		bounds[k] = view_bound(v, f.first_bound + k);
	if (target) {
		rb->bounds = bounds;
		rb->n_bounds = f.n_bounds;
	}
	if (target && (rc = check_target_family(rb, &f)) < 0)
		return rc;
	if (target && rb->t->help)
		snprintf(help, sizeof help, "%s", rb->t->help);
	if (f.type == METRIC_SUMMARY)
		rc = batch_summary_family(rb->out, name, help, bounds, f.n_bounds, rb->err,
					  sizeof rb->err);
	else if (f.type == METRIC_HISTOGRAM)
		rc = batch_histogram_family(rb->out, name, help, bounds, f.n_bounds, rb->err,
					    sizeof rb->err);
	else
		rc = batch_family(rb->out, name, help, f.type, rb->err, sizeof rb->err);
	for (uint32_t k = 0; rc == 0 && k < f.n_series; k++) {
		struct blob_series s;
		view_series(v, f.first_series + k, &s);
		rc = copy_series(rb, v, &f, &s, target);
	}
	if (rc == 0 && target && !rb->done)
		rc = add_target_series(rb, f.type);
	return rc;
}

/* The target's family did not exist: a new one, with the target series. */
static int add_target_family(struct rebuild *rb)
{
	const struct target *t = rb->t;
	const char *help = t->help ? t->help : DEFAULT_HELP;
	int rc;

	if (t->type == METRIC_HISTOGRAM) {
		rb->bounds = t->bounds;
		rb->n_bounds = t->n_bounds;
		rc = batch_histogram_family(rb->out, t->name, help, t->bounds, t->n_bounds, rb->err,
					    sizeof rb->err);
	} else {
		rc = batch_family(rb->out, t->name, help, t->type, rb->err, sizeof rb->err);
	}
	return rc ? rc : add_target_series(rb, t->type);
}

static int rebuild(struct rebuild *rb, const struct metrics_view *old)
{
	int rc = 0;

	read_labels(&rb->t->v, &rb->t->ser, &rb->want);
	for (uint32_t i = 0; old && rc == 0 && i < old->hdr.n_families; i++)
		rc = copy_family(rb, old, i);
	if (rc == 0 && !rb->done)
		rc = add_target_family(rb);
	return rc;
}

/* ---- the locked read-modify-publish ---- */

static int refuse_resident(const struct seg_info *info, const char *collector)
{
	if (info->writer_pid == 0 || !info->writer_alive || info->writer_pid == getpid())
		return CLI_OK;
	cli_error(
	    "collector %s has a resident writer (pid %ld) that publishes it; only "
	    "\"external\" collectors without an attached application take writes from the CLI",
	    collector, (long)info->writer_pid);
	return CLI_BUSY;
}

static int publish(const struct cli_where *where, const struct target *t,
		   const struct metrics_view *old)
{
	struct seg_writer *wr = NULL;
	struct rebuild rb = { .t = t };
	char err[ERR_MAX];
	int rc = where->fd >= 0
		     ? seg_writer_attach_fd(&wr, where->fd, where->what, err, sizeof err)
		     : seg_writer_attach(&wr, &where->dir, where->collector, err, sizeof err);

	if (rc < 0) {
		cli_error("%s", err);
		return CLI_FAILED;
	}
	rb.out = batch_new(seg_writer_limits(wr));
	rc = rb.out ? rebuild(&rb, old) : -ENOMEM;
	if (rc == 0) {
		batch_set_status(rb.out, true, 0, NULL);
		rc = seg_writer_publish(wr, rb.out, rb.err, sizeof rb.err);
	}
	seg_writer_detach_resident(wr);
	batch_free(rb.out);
	if (rc < 0) {
		cli_error("%s", rc == -ENOMEM ? "out of memory" : rb.err);
		return rc == -EINVAL ? CLI_BAD_INPUT : CLI_FAILED;
	}
	return CLI_OK;
}

static int locked_update(const struct cli_where *where, const struct target *t,
			 struct seg_reader *r)
{
	struct metrics_view view;
	struct seg_info info;
	char err[ERR_MAX];
	int rc = seg_reader_snapshot(r, &view, &info, err, sizeof err);

	if (rc < 0) {
		cli_error("%s", err);
		return rc == -EAGAIN ? CLI_BUSY : CLI_FAILED;
	}
	rc = refuse_resident(&info, where->collector);
	if (rc != CLI_OK)
		return rc;
	return publish(where, t, view.hdr.publish_time_ns ? &view : NULL);
}

int cli_write_run(const struct cli_write *w)
{
	struct target t = { 0 };
	struct seg_reader *r = NULL;
	struct cli_where where;
	int status = parse_target(&t, w);

	if (status == CLI_OK)
		status = check_options(&t, w);
	if (status == CLI_OK)
		status = cli_where_find(&where, w->instance, w->collector, w->segments_dir);
	else
		where.dir.fd = -1;
	if (status == CLI_OK)
		status = cli_open_reader(&r, &where);
	if (status == CLI_OK) {
		int fd = cli_lock_segment(&where);
		if (fd < 0) {
			cli_error("cannot open %s for writing: %s%s", where.what, strerror(-fd),
				  fd == -EACCES ? " (see the group and mode of the collector in "
						  "custom_collectors; docs/cli.md)"
						: "");
			status = fd == -EACCES ? CLI_NO_PERMISSION : CLI_FAILED;
		} else {
			status = locked_update(&where, &t, r);
			close(fd); /* releases the lock */
		}
	}
	seg_reader_close(r);
	cli_where_close(&where);
	batch_free(t.parsed);
	return status;
}
