#include "seriesbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hsort.h"

struct seriesbuf_entry {
	size_t name, help; /* offsets into text */
	enum metric_type type;
	size_t n_labels;
	size_t label_names[SERIESBUF_LABELS], label_values[SERIESBUF_LABELS];
	double v;
};

struct seriesbuf_order {
	const char *name;
	size_t index;
};

void seriesbuf_init(struct seriesbuf *s)
{
	memset(s, 0, sizeof *s);
}

void seriesbuf_reset(struct seriesbuf *s)
{
	s->n = 0;
	s->len = 0;
}

void seriesbuf_free(struct seriesbuf *s)
{
	free(s->e);
	free(s->text);
	free(s->order);
	seriesbuf_init(s);
}

/* Appends str to the text area; its offset goes to *off. */
static int keep_text(struct seriesbuf *s, const char *str, size_t *off)
{
	size_t n = strlen(str) + 1;
	if (s->len + n > s->text_cap) {
		size_t cap = s->text_cap ? s->text_cap : 4096;
		while (cap < s->len + n)
			cap *= 2;
		char *p = realloc(s->text, cap);
		if (!p)
			return -ENOMEM;
		s->text = p;
		s->text_cap = cap;
	}
	memcpy(s->text + s->len, str, n);
	*off = s->len;
	s->len += n;
	return 0;
}

static int grow_entries(struct seriesbuf *s)
{
	if (s->n < s->cap)
		return 0;
	size_t cap = s->cap ? s->cap * 2 : 64;
	struct seriesbuf_entry *p = realloc(s->e, cap * sizeof *p);
	if (!p)
		return -ENOMEM;
	s->e = p;
	s->cap = cap;
	return 0;
}

int seriesbuf_add(struct seriesbuf *s, const char *name, const char *help, enum metric_type type,
		  const char *const *names, const char *const *values, size_t n, double v)
{
	if (n > SERIESBUF_LABELS)
		return -EINVAL;
	int rc = grow_entries(s);
	if (rc)
		return rc;
	struct seriesbuf_entry *e = &s->e[s->n];
	e->type = type;
	e->n_labels = n;
	e->v = v;
	rc = keep_text(s, name, &e->name);
	if (rc == 0)
		rc = keep_text(s, help, &e->help);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = keep_text(s, names[i], &e->label_names[i]);
		if (rc == 0)
			rc = keep_text(s, values[i], &e->label_values[i]);
	}
	if (rc == 0)
		s->n++;
	return rc;
}

static int order_cmp(const void *a, const void *b)
{
	const struct seriesbuf_order *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int sort_order(struct seriesbuf *s)
{
	if (s->n > s->order_cap) {
		struct seriesbuf_order *p = realloc(s->order, s->n * sizeof *p);
		if (!p)
			return -ENOMEM;
		s->order = p;
		s->order_cap = s->n;
	}
	for (size_t i = 0; i < s->n; i++)
		s->order[i] = (struct seriesbuf_order){ s->text + s->e[i].name, i };
	hsort(s->order, s->n, sizeof *s->order, order_cmp);
	return 0;
}

static int add_entry(const struct seriesbuf *s, const struct seriesbuf_entry *e, struct batch *b,
		     char *err, size_t errlen)
{
	const char *names[SERIESBUF_LABELS], *values[SERIESBUF_LABELS];
	for (size_t l = 0; l < e->n_labels; l++) {
		names[l] = s->text + e->label_names[l];
		values[l] = s->text + e->label_values[l];
	}
	int rc = batch_add(b, names, values, e->n_labels, e->v, err, errlen);
	return rc == -EEXIST || rc == -EINVAL ? 0 : rc;
}

int seriesbuf_emit(struct seriesbuf *s, struct batch *b, char *err, size_t errlen)
{
	int rc = sort_order(s);
	if (rc) {
		snprintf(err, errlen, "out of memory sorting %zu series", s->n);
		return rc;
	}
	bool open = false;
	for (size_t i = 0; rc == 0 && i < s->n; i++) {
		const struct seriesbuf_entry *e = &s->e[s->order[i].index];
		if (i == 0 || strcmp(s->order[i].name, s->order[i - 1].name) != 0) {
			rc = batch_family(b, s->order[i].name, s->text + e->help, e->type, err,
					  errlen);
			open = rc == 0;
			if (rc == -EINVAL)
				rc = 0;
		}
		if (rc == 0 && open)
			rc = add_entry(s, e, b, err, errlen);
	}
	return rc;
}

int seriesbuf_dir_new(void **state, const char *root, const char *sub, char *err, size_t errlen)
{
	struct seriesbuf_dir *s = calloc(1, sizeof *s);

	if (s == NULL)
		return -ENOMEM;
	if (path_fmt(s->dir, sizeof s->dir, "%s/%s", root, sub) != 0) {
		snprintf(err, errlen, "path %s/%s is too long", root, sub);
		free(s);
		return -ENAMETOOLONG;
	}
	seriesbuf_init(&s->series);
	*state = s;
	return 0;
}

void seriesbuf_dir_free(void *state)
{
	struct seriesbuf_dir *s = state;

	if (s == NULL)
		return;
	dirents_free(&s->entries);
	free(s->buf);
	seriesbuf_free(&s->series);
	free(s);
}

int seriesbuf_dir_collect(struct seriesbuf_dir *s, bool (*keep)(const char *name),
			  int (*read_entry)(struct seriesbuf_dir *s, const char *name),
			  struct batch *b, char *err, size_t errlen)
{
	int rc = dirents_read(&s->entries, s->dir, keep);

	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(err, errlen, "listing %s: %s", s->dir, strerror(-rc));
		return rc;
	}
	seriesbuf_reset(&s->series);
	for (size_t i = 0; rc == 0 && i < s->entries.n; i++)
		rc = read_entry(s, dirents_name(&s->entries, i));
	if (rc) {
		snprintf(err, errlen, "out of memory reading %s", s->dir);
		return rc;
	}
	return seriesbuf_emit(&s->series, b, err, errlen);
}
