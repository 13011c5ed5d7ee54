#include "valtable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lazyfam.h"

void valtable_init(struct valtable *t, size_t n_cols)
{
	memset(t, 0, sizeof *t);
	t->n_cols = n_cols;
}

void valtable_reset(struct valtable *t)
{
	t->n_rows = 0;
}

void valtable_free(struct valtable *t)
{
	free(t->labels);
	free(t->v);
	free(t->set);
	valtable_init(t, t->n_cols);
}

static int valtable_grow(struct valtable *t)
{
	size_t cap = t->cap ? t->cap * 2 : 8;
	void *labels = realloc(t->labels, cap * sizeof *t->labels);
	if (!labels)
		return -ENOMEM;
	t->labels = labels;
	double *v = realloc(t->v, cap * t->n_cols * sizeof *v);
	if (!v)
		return -ENOMEM;
	t->v = v;
	bool *set = realloc(t->set, cap * t->n_cols * sizeof *set);
	if (!set)
		return -ENOMEM;
	t->set = set;
	t->cap = cap;
	return 0;
}

int valtable_row(struct valtable *t, const char *const *values, size_t n)
{
	if (n > VALTABLE_LABELS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (strlen(values[i]) >= VALTABLE_LABEL_MAX)
			return -EMSGSIZE;
	if (t->n_rows == t->cap) {
		int rc = valtable_grow(t);
		if (rc)
			return rc;
	}
	size_t r = t->n_rows++;
	for (size_t i = 0; i < n; i++)
		strcpy(t->labels[r][i], values[i]);
	memset(&t->set[r * t->n_cols], 0, t->n_cols * sizeof *t->set);
	return (int)r;
}

void valtable_set(struct valtable *t, size_t row, size_t col, double v)
{
	t->v[row * t->n_cols + col] = v;
	t->set[row * t->n_cols + col] = true;
}

int valtable_emit(const struct valtable *t, const struct valtable_col *cols,
		  const char *const *names, size_t n, struct batch *b, char *err, size_t errlen)
{
	const char *values[VALTABLE_LABELS];

	for (size_t c = 0; c < t->n_cols; c++) {
		struct lazyfam f = { cols[c].name, cols[c].help, cols[c].type, false };
		double scale = cols[c].scale != 0 ? cols[c].scale : 1.0;
		for (size_t r = 0; r < t->n_rows; r++) {
			if (!t->set[r * t->n_cols + c])
				continue;
			for (size_t i = 0; i < n && i < VALTABLE_LABELS; i++)
				values[i] = t->labels[r][i];
			int rc = lazyfam_add(b, &f, names, values, n,
					     t->v[r * t->n_cols + c] * scale, err, errlen);
			if (rc)
				return rc;
		}
	}
	return 0;
}
