/*
 * valtable.h - values read per object (a device, a pool, an array) and published
 * family by family.
 *
 * A batch needs all series of a family together, while the kernel gives all the
 * values of one object together.  A collector therefore fills a table (a row per
 * object, a column per metric) and emits it column by column.  A cell that was
 * never set (the file or field was missing) gives no series, and a column with
 * no set cell gives no family at all.  The table's memory only grows.
 */
#ifndef SHMETRICS_VALTABLE_H
#define SHMETRICS_VALTABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"

#define VALTABLE_LABELS    8
#define VALTABLE_LABEL_MAX 256

struct valtable {
	size_t n_cols;
	size_t n_rows, cap;
	char (*labels)[VALTABLE_LABELS][VALTABLE_LABEL_MAX];
	double *v; /* n_rows * n_cols */
	bool *set; /* the same shape: whether v was set */
};

/* A column: the family it becomes.  scale multiplies every value (0 means 1). */
struct valtable_col {
	const char *name, *help;
	enum metric_type type;
	double scale;
};

void valtable_init(struct valtable *t, size_t n_cols);
void valtable_reset(struct valtable *t);
void valtable_free(struct valtable *t);

/*
 * Adds a row labelled values[0..n) and returns its index; -EMSGSIZE when a value
 * does not fit VALTABLE_LABEL_MAX (the caller skips that object), -ENOMEM.
 */
int valtable_row(struct valtable *t, const char *const *values, size_t n);

void valtable_set(struct valtable *t, size_t row, size_t col, double v);

/* Emits every column with a set cell as family cols[c], labelled names[0..n). */
int valtable_emit(const struct valtable *t, const struct valtable_col *cols,
		  const char *const *names, size_t n, struct batch *b, char *err, size_t errlen);

#endif
