/*
 * zfs - OpenZFS kstats from PROCFS/spl/kstat/zfs/, as node_exporter 1.5's zfs
 * collector reports them (untyped, as there):
 *
 *   arcstats, abdstats, dbufstats, ... one node_zfs_<subsystem>_<name> per 64-bit
 *                                     kstat of the file, unsigned (type 4) or
 *                                     signed (type 3: arcstats' memory_available_bytes
 *                                     goes below zero);
 *   <pool>/io                         node_zfs_zpool_<field>{zpool} (older OpenZFS);
 *   <pool>/objset-0x..                node_zfs_zpool_dataset_<field>{dataset, zpool};
 *   <pool>/state                      node_zfs_zpool_state{state, zpool}, 1 for the
 *                                     pool's state (suspended included) and 0 for
 *                                     the others.
 *
 * A kstat file is a header line, a "name type data" line, then "name type value"
 * rows; lines of another shape are skipped.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "lazyfam.h"
#include "procfile.h"
#include "scan.h"
#include "valtable.h"

#define KSTAT_INT64  "3"
#define KSTAT_UINT64 "4"
#define N_OF(a)      (sizeof(a) / sizeof((a)[0]))

struct zfs_kstat_file {
	const char *file, *subsystem;
};

static const struct zfs_kstat_file zfs_files[] = {
	{ "abdstats", "abd" },
	{ "arcstats", "arc" },
	{ "dbufstats", "dbuf" },
	{ "dmu_tx", "dmu_tx" },
	{ "dnodestats", "dnode" },
	{ "fm", "fm" },
	{ "vdev_cache_stats", "vdev_cache" },
	{ "vdev_mirror_stats", "vdev_mirror" },
	{ "xuio_stats", "xuio" },
	{ "zfetchstats", "zfetch" },
	{ "zil", "zil" },
};

static const char *const zfs_io_fields[] = {
	"nread",   "nwritten", "reads",    "writes",  "wtime", "wlentime",
	"wupdate", "rtime",    "rlentime", "rupdate", "wcnt",  "rcnt",
};

static const char *const zfs_objset_fields[] = {
	"writes", "nwritten", "reads", "nread", "nunlinks", "nunlinked",
};

static const char *const zfs_pool_states[] = {
	"online", "degraded", "faulted", "offline", "removed", "unavail", "suspended",
};

#define NAME_BUF 160

struct zfs_state {
	char root[PATH_MAX];
	struct procfile files[N_OF(zfs_files)];
	struct dirents pools, entries;
	struct valtable io, objsets, states;
	struct valtable_col io_cols[N_OF(zfs_io_fields)];
	struct valtable_col objset_cols[N_OF(zfs_objset_fields)];
	char io_names[N_OF(zfs_io_fields)][2][NAME_BUF];
	char objset_names[N_OF(zfs_objset_fields)][2][NAME_BUF];
	char *buf;
	size_t cap;
};

static void zfs_fini(void *state)
{
	struct zfs_state *s = state;
	if (!s)
		return;
	for (size_t i = 0; i < N_OF(zfs_files); i++)
		procfile_close(&s->files[i]);
	dirents_free(&s->pools);
	dirents_free(&s->entries);
	valtable_free(&s->io);
	valtable_free(&s->objsets);
	valtable_free(&s->states);
	free(s->buf);
	free(s);
}

/* Columns named node_zfs_zpool_<prefix><field>, helped kstat.zfs.misc.<kind>.<field>. */
static void zfs_cols(struct valtable_col *cols, char (*names)[2][NAME_BUF],
		     const char *const *fields, size_t n, const char *prefix, const char *kind)
{
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i][0], NAME_BUF, "node_zfs_zpool_%s%s", prefix, fields[i]);
		snprintf(names[i][1], NAME_BUF, "kstat.zfs.misc.%s.%s", kind, fields[i]);
		cols[i] = (struct valtable_col){ names[i][0], names[i][1], METRIC_UNTYPED, 0 };
	}
}

static int zfs_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct zfs_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < N_OF(zfs_files); i++) {
		char rel[64];
		snprintf(rel, sizeof rel, "spl/kstat/zfs/%s", zfs_files[i].file);
		rc = procfile_init(&s->files[i], env->procfs, rel, err, errlen);
	}
	if (rc == 0 && path_fmt(s->root, sizeof s->root, "%s/spl/kstat/zfs", env->procfs) != 0) {
		snprintf(err, errlen, "path %s/spl/kstat/zfs is too long", env->procfs);
		rc = -ENAMETOOLONG;
	}
	if (rc) {
		zfs_fini(s);
		return rc;
	}
	valtable_init(&s->io, N_OF(zfs_io_fields));
	valtable_init(&s->objsets, N_OF(zfs_objset_fields));
	valtable_init(&s->states, N_OF(zfs_pool_states));
	zfs_cols(s->io_cols, s->io_names, zfs_io_fields, N_OF(zfs_io_fields), "", "io");
	zfs_cols(s->objset_cols, s->objset_names, zfs_objset_fields, N_OF(zfs_objset_fields),
		 "dataset_", "objset");
	*state = s;
	return 0;
}

/* ---- the global kstat files ---- */

/* A "name type value" row of a uint64 kstat (or, when signed_too, of an int64
 * one); false for any other line. */
static bool kstat_row(struct scan line, bool signed_too, const char **name, size_t *namelen,
		      double *v)
{
	const char *w;
	size_t n;
	uint64_t u;
	if (!scan_word(&line, name, namelen) || !scan_word(&line, &w, &n))
		return false;
	bool is_signed = signed_too && word_is(w, n, KSTAT_INT64);
	if ((!is_signed && !word_is(w, n, KSTAT_UINT64)) || !scan_word(&line, &w, &n))
		return false;
	bool neg = is_signed && n > 1 && w[0] == '-';
	if (!parse_u64(w + neg, n - neg, &u) || (is_signed && u > (uint64_t)INT64_MAX + neg))
		return false;
	*v = neg ? -(double)u : (double)u;
	return true;
}

static int zfs_emit_kstat(const struct zfs_kstat_file *k, struct scan line, struct batch *b,
			  char *err, size_t errlen)
{
	char name[METRIC_NAME_MAX + 1], help[METRIC_HELP_MAX + 1];
	const char *key;
	size_t keylen;
	double v;

	if (!kstat_row(line, true, &key, &keylen, &v) ||
	    path_fmt(name, sizeof name, "node_zfs_%s_%.*s", k->subsystem, (int)keylen, key) ||
	    path_fmt(help, sizeof help, "kstat.zfs.misc.%s.%.*s", k->file, (int)keylen, key))
		return 0;
	for (char *p = name; *p; p++)
		if (*p == '-')
			*p = '_';
	int rc = batch_family(b, name, help, METRIC_UNTYPED, err, errlen);
	if (rc == -EINVAL)
		return 0; /* not a valid metric name, or seen twice */
	return rc ? rc : batch_add(b, NULL, NULL, 0, v, err, errlen);
}

static int zfs_emit_files(struct zfs_state *s, struct batch *b, char *err, size_t errlen)
{
	for (size_t i = 0; i < N_OF(zfs_files); i++) {
		int rc = procfile_read(&s->files[i], err, errlen);
		if (rc == -ENOENT)
			continue;
		if (rc)
			return rc;
		struct scan text = scan_text(s->files[i].buf, s->files[i].len), line;
		while (scan_line(&text, &line)) {
			rc = zfs_emit_kstat(&zfs_files[i], line, b, err, errlen);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---- pools ---- */

static long zfs_slurp(struct zfs_state *s, const char *pool, const char *file)
{
	char path[PATH_MAX];
	if (path_fmt(path, sizeof path, "%s/%s/%s", s->root, pool, file) != 0)
		return -ENAMETOOLONG;
	return sysfile_slurp(path, &s->buf, &s->cap);
}

/* <pool>/io: a header line, a line of field names, a line of values. */
static int zfs_read_io(struct zfs_state *s, const char *pool)
{
	long len = zfs_slurp(s, pool, "io");
	if (len < 0)
		return len == -ENOMEM ? -ENOMEM : 0;
	struct scan text = scan_text(s->buf, (size_t)len), head, names, values;
	if (!scan_line(&text, &head) || !scan_line(&text, &names) || !scan_line(&text, &values))
		return 0;
	const char *labels[] = { pool };
	int row = valtable_row(&s->io, labels, 1);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	const char *nw, *vw;
	size_t nn, vn;
	while (scan_word(&names, &nw, &nn) && scan_word(&values, &vw, &vn)) {
		uint64_t v;
		for (size_t c = 0; c < N_OF(zfs_io_fields); c++)
			if (word_is(nw, nn, zfs_io_fields[c]) && parse_u64(vw, vn, &v))
				valtable_set(&s->io, (size_t)row, c, (double)v);
	}
	return 0;
}

/* The value of the dataset_name row (type 7, a string) into out. */
static bool objset_name(struct scan text, char *out, size_t cap)
{
	struct scan line;
	while (scan_line(&text, &line)) {
		const char *w;
		size_t n;
		if (!scan_word(&line, &w, &n) || !word_is(w, n, "dataset_name") ||
		    !scan_word(&line, &w, &n) || !scan_word(&line, &w, &n))
			continue;
		size_t len = (size_t)(line.end - w);
		while (len > 0 && isspace((unsigned char)w[len - 1]))
			len--;
		if (len == 0 || len >= cap)
			return false;
		memcpy(out, w, len);
		out[len] = '\0';
		return true;
	}
	return false;
}

static int zfs_read_objset(struct zfs_state *s, const char *pool, const char *file)
{
	char dataset[VALTABLE_LABEL_MAX];
	long len = zfs_slurp(s, pool, file);
	if (len < 0)
		return len == -ENOMEM ? -ENOMEM : 0;
	struct scan text = scan_text(s->buf, (size_t)len), line;
	if (!objset_name(text, dataset, sizeof dataset))
		return 0;
	const char *labels[] = { dataset, pool };
	int row = valtable_row(&s->objsets, labels, 2);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	while (scan_line(&text, &line)) {
		const char *key;
		size_t keylen;
		double v;
		if (!kstat_row(line, false, &key, &keylen, &v))
			continue;
		for (size_t c = 0; c < N_OF(zfs_objset_fields); c++)
			if (word_is(key, keylen, zfs_objset_fields[c]))
				valtable_set(&s->objsets, (size_t)row, c, v);
	}
	return 0;
}

static int zfs_read_state(struct zfs_state *s, const char *pool)
{
	char text[64];
	char path[PATH_MAX];
	if (path_fmt(path, sizeof path, "%s/%s/state", s->root, pool) != 0 ||
	    sysfile_text(path, text, sizeof text) <= 0)
		return 0;
	const char *labels[] = { pool };
	int row = valtable_row(&s->states, labels, 1);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	for (size_t c = 0; c < N_OF(zfs_pool_states); c++)
		valtable_set(&s->states, (size_t)row, c,
			     strcasecmp(text, zfs_pool_states[c]) == 0 ? 1 : 0);
	return 0;
}

static bool is_objset(const char *name)
{
	return strncmp(name, "objset-", 7) == 0;
}

static int zfs_read_pool(struct zfs_state *s, const char *pool)
{
	char dir[PATH_MAX];
	if (path_fmt(dir, sizeof dir, "%s/%s", s->root, pool) != 0 ||
	    dirents_read(&s->entries, dir, is_objset) != 0)
		return 0; /* a plain file such as arcstats, or gone */
	int rc = zfs_read_io(s, pool);
	for (size_t i = 0; rc == 0 && i < s->entries.n; i++)
		rc = zfs_read_objset(s, pool, dirents_name(&s->entries, i));
	return rc ? rc : zfs_read_state(s, pool);
}

static int zfs_emit_states(const struct zfs_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "state", "zpool" };
	struct lazyfam f = { "node_zfs_zpool_state", "kstat.zfs.misc.state", METRIC_GAUGE, false };
	for (size_t r = 0; r < s->states.n_rows; r++)
		for (size_t c = 0; c < N_OF(zfs_pool_states); c++) {
			const char *values[] = { zfs_pool_states[c], s->states.labels[r][0] };
			int rc = lazyfam_add(b, &f, names, values, 2,
					     s->states.v[r * s->states.n_cols + c], err, errlen);
			if (rc)
				return rc;
		}
	return 0;
}

static int zfs_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const pool_names[] = { "zpool" };
	static const char *const objset_names[] = { "dataset", "zpool" };
	struct zfs_state *s = state;

	valtable_reset(&s->io);
	valtable_reset(&s->objsets);
	valtable_reset(&s->states);
	int rc = zfs_emit_files(s, b, err, errlen);
	if (rc)
		return rc;
	rc = dirents_read(&s->pools, s->root, NULL);
	if (rc == -ENOENT)
		return 0;
	for (size_t i = 0; rc == 0 && i < s->pools.n; i++)
		rc = zfs_read_pool(s, dirents_name(&s->pools, i));
	if (rc) {
		snprintf(err, errlen, "reading %s: %s", s->root, strerror(-rc));
		return rc;
	}
	rc = valtable_emit(&s->io, s->io_cols, pool_names, 1, b, err, errlen);
	if (rc == 0)
		rc = valtable_emit(&s->objsets, s->objset_cols, objset_names, 2, b, err, errlen);
	return rc ? rc : zfs_emit_states(s, b, err, errlen);
}

const struct collector_ops collector_zfs_ops = {
	.init = zfs_init,
	.collect = zfs_collect,
	.fini = zfs_fini,
};
