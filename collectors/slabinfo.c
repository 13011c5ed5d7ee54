/*
 * slabinfo - the kernel's slab caches, from PROCFS/slabinfo (version 2.1,
 * readable by root only), as node_exporter's opt-in slabinfo collector reports
 * them: node_slabinfo_active_objects, _objects, _object_size_bytes,
 * _objects_per_slab and _pages_per_slab, labelled slab.  A cache is kept when
 * it matches --collector.slabinfo.slabs-include (default ".*") and not
 * --collector.slabinfo.slabs-exclude.  Lines that are not 16 columns of a
 * name and numbers (the version and header lines) are skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "filter.h"
#include "procfile.h"
#include "scan.h"
#include "valtable.h"

enum { COL_ACTIVE, COL_OBJECTS, COL_SIZE, COL_PER_SLAB, COL_PAGES, N_COLS };

static const struct valtable_col slab_cols[N_COLS] = {
	{ "node_slabinfo_active_objects",
	  "The number of objects that are currently active (i.e., in use).", METRIC_GAUGE, 0 },
	{ "node_slabinfo_objects",
	  "The total number of allocated objects (i.e., objects that are both in use and not in "
	  "use).",
	  METRIC_GAUGE, 0 },
	{ "node_slabinfo_object_size_bytes", "The size of objects in this slab, in bytes.",
	  METRIC_GAUGE, 0 },
	{ "node_slabinfo_objects_per_slab", "The number of objects stored in each slab.",
	  METRIC_GAUGE, 0 },
	{ "node_slabinfo_pages_per_slab", "The number of pages allocated for each slab.",
	  METRIC_GAUGE, 0 },
};

#define SLAB_FIELDS 16

struct slabinfo_state {
	struct procfile file;
	struct optregex include, exclude;
	struct valtable slabs;
};

static void slabinfo_fini(void *state)
{
	struct slabinfo_state *s = state;
	if (!s)
		return;
	procfile_close(&s->file);
	optregex_fini(&s->include);
	optregex_fini(&s->exclude);
	valtable_free(&s->slabs);
	free(s);
}

static int slabinfo_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct slabinfo_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	valtable_init(&s->slabs, N_COLS);
	int rc = procfile_init(&s->file, env->procfs, "slabinfo", err, errlen);
	if (rc == 0)
		rc = optregex_init(&s->include, env, "slabs-include", err, errlen);
	if (rc == 0)
		rc = optregex_init(&s->exclude, env, "slabs-exclude", err, errlen);
	if (rc) {
		slabinfo_fini(s);
		return rc;
	}
	*state = s;
	return 0;
}

/* The 16 words of a cache line: the name, 5 numbers, ": tunables" and 3,
 * ": slabdata" and 3.  Only the first five numbers are reported. */
static bool slab_line(struct scan line, const char **name, size_t *namelen, uint64_t *num)
{
	const char *w[SLAB_FIELDS];
	size_t n[SLAB_FIELDS], count = 0;
	while (count < SLAB_FIELDS && scan_word(&line, &w[count], &n[count]))
		count++;
	const char *extra;
	size_t extralen;
	if (count != SLAB_FIELDS || scan_word(&line, &extra, &extralen) || w[0][0] == '#')
		return false;
	for (size_t i = 0; i < N_COLS; i++)
		if (!parse_u64(w[1 + i], n[1 + i], &num[i]))
			return false;
	*name = w[0];
	*namelen = n[0];
	return true;
}

static bool slab_ignored(const struct slabinfo_state *s, const char *name, size_t n)
{
	if (s->exclude.set && optregex_match(&s->exclude, name, n))
		return true;
	return s->include.set && !optregex_match(&s->include, name, n);
}

static int slab_row(struct slabinfo_state *s, const char *name, size_t n, const uint64_t *num)
{
	char label[VALTABLE_LABEL_MAX];
	if (n >= sizeof label)
		return 0;
	memcpy(label, name, n);
	label[n] = '\0';
	const char *values[] = { label };
	int row = valtable_row(&s->slabs, values, 1);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	for (size_t c = 0; c < N_COLS; c++)
		valtable_set(&s->slabs, (size_t)row, c, (double)num[c]);
	return 0;
}

static int slabinfo_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "slab" };
	struct slabinfo_state *s = state;
	int rc = procfile_read(&s->file, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	valtable_reset(&s->slabs);
	struct scan text = scan_text(s->file.buf, s->file.len), line;
	const char *name;
	size_t n;
	uint64_t num[N_COLS];
	while (rc == 0 && scan_line(&text, &line))
		if (slab_line(line, &name, &n, num) && !slab_ignored(s, name, n))
			rc = slab_row(s, name, n, num);
	if (rc) {
		snprintf(err, errlen, "out of memory reading %s", s->file.path);
		return rc;
	}
	return valtable_emit(&s->slabs, slab_cols, names, 1, b, err, errlen);
}

const struct collector_ops collector_slabinfo_ops = {
	.init = slabinfo_init,
	.collect = slabinfo_collect,
	.fini = slabinfo_fini,
};
