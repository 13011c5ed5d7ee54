/*
 * bcache - statistics of each bcache cache set in SYSFS/fs/bcache/<uuid>/, its
 * backing devices (bdevN/) and cache devices (cacheN/), as node_exporter's bcache
 * collector reports them.  The priority statistics of the cache devices are read
 * only with --collector.bcache.priorityStats: the kernel walks every bucket to
 * produce them.
 *
 * Sizes are printed by the kernel's bch_hprint ("3.2M"); they are read back the
 * way node_exporter reads them, so the values agree: the digit after the point
 * counts tenths of 1.024, and k, M, G... are powers of 1024.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "scan.h"
#include "valtable.h"

struct bcache_attr {
	const char *file; /* relative to its directory */
	double scale;
};

/* ---- the cache set ---- */

static const struct bcache_attr set_attrs[] = {
	{ "average_key_size", 1 },
	{ "btree_cache_size", 1 },
	{ "cache_available_percent", 1 },
	{ "congested", 1 },
	{ "root_usage_percent", 1 },
	{ "tree_depth", 1 },
	{ "internal/active_journal_entries", 1 },
	{ "internal/btree_nodes", 1 },
	{ "internal/btree_read_average_duration_us", 1e-6 },
	{ "internal/cache_read_races", 1 },
};
static const struct valtable_col set_cols[] = {
	{ "node_bcache_average_key_size_sectors", "Average data per key in the btree (sectors).",
	  METRIC_GAUGE, 0 },
	{ "node_bcache_btree_cache_size_bytes",
	  "Amount of memory currently used by the btree cache.", METRIC_GAUGE, 0 },
	{ "node_bcache_cache_available_percent",
	  "Percentage of cache device without dirty data, usable for writeback (may contain "
	  "clean cached data).",
	  METRIC_GAUGE, 0 },
	{ "node_bcache_congested", "Congestion.", METRIC_GAUGE, 0 },
	{ "node_bcache_root_usage_percent",
	  "Percentage of the root btree node in use (tree depth increases if too high).",
	  METRIC_GAUGE, 0 },
	{ "node_bcache_tree_depth", "Depth of the btree.", METRIC_GAUGE, 0 },
	{ "node_bcache_active_journal_entries",
	  "Number of journal entries that are newer than the index.", METRIC_GAUGE, 0 },
	{ "node_bcache_btree_nodes", "Total nodes in the btree.", METRIC_GAUGE, 0 },
	{ "node_bcache_btree_read_average_duration_seconds", "Average btree read duration.",
	  METRIC_GAUGE, 0 },
	{ "node_bcache_cache_read_races_total",
	  "Counts instances where while data was being read from the cache, the bucket was "
	  "reused and invalidated - i.e. where the pointer was stale after the read completed.",
	  METRIC_COUNTER, 0 },
};
#define N_SET (sizeof set_attrs / sizeof set_attrs[0])

/* ---- backing devices ---- */

static const struct bcache_attr bdev_attrs[] = {
	{ "dirty_data", 1 },
	{ "stats_total/bypassed", 1 },
	{ "stats_total/cache_bypass_hits", 1 },
	{ "stats_total/cache_bypass_misses", 1 },
	{ "stats_total/cache_hits", 1 },
	{ "stats_total/cache_miss_collisions", 1 },
	{ "stats_total/cache_misses", 1 },
	/* stats_total/cache_readaheads: node_exporter stopped reporting it in 1.6
	 * (newer kernels no longer have the file). */
};
/* The keys of writeback_rate_debug, after bdev_attrs in the table. */
static const char *const writeback_keys[] = { "rate", "target", "proportional", "integral",
					      "change" };
#define N_BDEV_FILES (sizeof bdev_attrs / sizeof bdev_attrs[0])
#define N_BDEV       (N_BDEV_FILES + sizeof writeback_keys / sizeof writeback_keys[0])

static const struct valtable_col bdev_cols[N_BDEV] = {
	{ "node_bcache_dirty_data_bytes",
	  "Amount of dirty data for this backing device in the cache.", METRIC_GAUGE, 0 },
	{ "node_bcache_bypassed_bytes_total",
	  "Amount of IO (both reads and writes) that has bypassed the cache.", METRIC_COUNTER, 0 },
	{ "node_bcache_cache_bypass_hits_total", "Hits for IO intended to skip the cache.",
	  METRIC_COUNTER, 0 },
	{ "node_bcache_cache_bypass_misses_total", "Misses for IO intended to skip the cache.",
	  METRIC_COUNTER, 0 },
	{ "node_bcache_cache_hits_total", "Hits counted per individual IO as bcache sees them.",
	  METRIC_COUNTER, 0 },
	{ "node_bcache_cache_miss_collisions_total",
	  "Instances where data insertion from cache miss raced with write (data already "
	  "present).",
	  METRIC_COUNTER, 0 },
	{ "node_bcache_cache_misses_total", "Misses counted per individual IO as bcache sees them.",
	  METRIC_COUNTER, 0 },
	{ "node_bcache_writeback_rate", "Current writeback rate for this backing device in bytes.",
	  METRIC_GAUGE, 0 },
	{ "node_bcache_dirty_target_bytes",
	  "Current dirty data target threshold for this backing device in bytes.", METRIC_GAUGE,
	  0 },
	{ "node_bcache_writeback_rate_proportional_term",
	  "Current result of proportional controller, part of writeback rate", METRIC_GAUGE, 0 },
	{ "node_bcache_writeback_rate_integral_term",
	  "Current result of integral controller, part of writeback rate", METRIC_GAUGE, 0 },
	{ "node_bcache_writeback_change",
	  "Last writeback rate change step for this backing device.", METRIC_GAUGE, 0 },
};

/* ---- cache devices ---- */

static const struct bcache_attr cache_attrs[] = {
	{ "io_errors", 1 },
	{ "metadata_written", 1 },
	{ "written", 1 },
};
enum { COL_PRIO_UNUSED = 3, COL_PRIO_METADATA, N_CACHE };
static const struct valtable_col cache_cols[N_CACHE] = {
	{ "node_bcache_io_errors",
	  "Number of errors that have occurred, decayed by io_error_halflife.", METRIC_GAUGE, 0 },
	{ "node_bcache_metadata_written_bytes_total",
	  "Sum of all non data writes (btree writes and all other metadata).", METRIC_COUNTER, 0 },
	{ "node_bcache_written_bytes_total", "Sum of all data that has been written to the cache.",
	  METRIC_COUNTER, 0 },
	{ "node_bcache_priority_stats_unused_percent",
	  "The percentage of the cache that doesn't contain any data.", METRIC_GAUGE, 0 },
	{ "node_bcache_priority_stats_metadata_percent", "Bcache's metadata overhead.",
	  METRIC_GAUGE, 0 },
};

struct bcache_state {
	char root[PATH_MAX];
	bool priority_stats;
	struct dirents sets, members;
	struct valtable set, bdev, cache;
	char *buf;
	size_t cap;
};

static int bcache_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct bcache_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->root, sizeof s->root, "%s/fs/bcache", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/fs/bcache is too long", env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	s->priority_stats = collector_option_bool(env, "priorityStats");
	valtable_init(&s->set, N_SET);
	valtable_init(&s->bdev, N_BDEV);
	valtable_init(&s->cache, N_CACHE);
	*state = s;
	return 0;
}

static void bcache_fini(void *state)
{
	struct bcache_state *s = state;
	if (!s)
		return;
	dirents_free(&s->sets);
	dirents_free(&s->members);
	valtable_free(&s->set);
	valtable_free(&s->bdev);
	valtable_free(&s->cache);
	free(s->buf);
	free(s);
}

/* ---- bch_hprint numbers ---- */

static int unit_power(char c)
{
	static const char units[] = "kMGTPEZY";
	const char *p = memchr(units, c, sizeof units - 1);
	return p ? (int)(p - units) + 1 : -1;
}

/* "3.2M", "-427.5k" (suffixed: the pseudo-decimal of bch_hprint) or a plain
 * decimal such as "546" into *v; false for anything else. */
static bool hprint_value(const char *w, size_t n, double *v)
{
	if (n == 0 || (w[n - 1] >= '0' && w[n - 1] <= '9'))
		return n > 0 && parse_double(w, n, v);
	int power = unit_power(w[n - 1]);
	bool neg = w[0] == '-';
	size_t start = neg ? 1 : 0, end = n - 1;
	if (power < 0 || end <= start)
		return false;
	const char *dot = memchr(w + start, '.', end - start);
	uint64_t whole, frac = 0;
	if (!parse_u64(w + start, (size_t)((dot ? dot : w + end) - (w + start)), &whole))
		return false;
	if (dot && !parse_u64(dot + 1, (size_t)(w + end - dot - 1), &frac))
		return false;
	double m = (double)whole + (double)frac / 10.24;
	for (int i = 0; i < power; i++)
		m *= 1024.0;
	*v = neg ? -m : m;
	return true;
}

/* Reads dir/file (one hprint value) into *v. */
static bool bcache_read(struct bcache_state *s, const char *dir, const char *file, double *v)
{
	char path[PATH_MAX];
	if (path_fmt(path, sizeof path, "%s/%s", dir, file) != 0)
		return false;
	long len = sysfile_slurp(path, &s->buf, &s->cap);
	if (len <= 0)
		return false;
	while (len > 0 && (s->buf[len - 1] == '\n' || s->buf[len - 1] == ' '))
		len--;
	return hprint_value(s->buf, (size_t)len, v);
}

/* A row labelled labels[0..n) with the attributes of dir that can be read. */
static int bcache_row(struct bcache_state *s, struct valtable *t, const char *const *labels,
		      size_t n, const char *dir, const struct bcache_attr *attrs, size_t n_attrs)
{
	int row = valtable_row(t, labels, n);
	if (row < 0)
		return row;
	for (size_t i = 0; i < n_attrs; i++) {
		double v;
		if (bcache_read(s, dir, attrs[i].file, &v))
			valtable_set(t, (size_t)row, i, v * attrs[i].scale);
	}
	return row;
}

/* "rate:\t\t1.1M/sec" lines of writeback_rate_debug into the bdev row. */
static void bcache_writeback(struct bcache_state *s, const char *dir, size_t row)
{
	char path[PATH_MAX];
	if (path_fmt(path, sizeof path, "%s/writeback_rate_debug", dir) != 0)
		return;
	long len = sysfile_slurp(path, &s->buf, &s->cap);
	if (len <= 0)
		return;
	struct scan text = scan_text(s->buf, (size_t)len), line;
	while (scan_line(&text, &line)) {
		const char *colon = memchr(line.p, ':', (size_t)(line.end - line.p));
		const char *w;
		size_t n;
		double v;
		if (!colon)
			continue;
		struct scan rest = { colon + 1, line.end };
		if (!scan_word(&rest, &w, &n))
			continue;
		if (n > 4 && memcmp(w + n - 4, "/sec", 4) == 0)
			n -= 4;
		for (size_t k = 0; k < sizeof writeback_keys / sizeof writeback_keys[0]; k++)
			if (word_is(line.p, (size_t)(colon - line.p), writeback_keys[k]) &&
			    hprint_value(w, n, &v))
				valtable_set(&s->bdev, row, N_BDEV_FILES + k, v);
	}
}

/* "Unused:\t\t99%" and "Metadata:\t0%" of priority_stats into the cache row. */
static void bcache_priority(struct bcache_state *s, const char *dir, size_t row)
{
	static const char *const keys[] = { "Unused:", "Metadata:" };
	char path[PATH_MAX];
	if (path_fmt(path, sizeof path, "%s/priority_stats", dir) != 0)
		return;
	long len = sysfile_slurp(path, &s->buf, &s->cap);
	if (len <= 0)
		return;
	struct scan text = scan_text(s->buf, (size_t)len), line;
	while (scan_line(&text, &line)) {
		const char *key, *w;
		size_t keylen, n;
		uint64_t v;
		if (!scan_word(&line, &key, &keylen) || !scan_word(&line, &w, &n) || n < 2 ||
		    w[n - 1] != '%' || !parse_u64(w, n - 1, &v))
			continue;
		for (size_t k = 0; k < 2; k++)
			if (word_is(key, keylen, keys[k]))
				valtable_set(&s->cache, row, COL_PRIO_UNUSED + k, (double)v);
	}
}

static bool is_member(const char *name)
{
	return strncmp(name, "bdev", 4) == 0 || strncmp(name, "cache", 5) == 0;
}

static int bcache_read_member(struct bcache_state *s, const char *setdir, const char *uuid,
			      const char *name)
{
	char dir[PATH_MAX];
	uint64_t id;
	bool bdev = strncmp(name, "bdev", 4) == 0;
	const char *num = name + (bdev ? 4 : 5);
	if (!parse_u64(num, strlen(num), &id) ||
	    path_fmt(dir, sizeof dir, "%s/%s", setdir, name) != 0)
		return 0;
	const char *labels[] = { name, uuid };
	int row = bdev ? bcache_row(s, &s->bdev, labels, 2, dir, bdev_attrs, N_BDEV_FILES)
		       : bcache_row(s, &s->cache, labels, 2, dir, cache_attrs,
				    sizeof cache_attrs / sizeof cache_attrs[0]);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	if (bdev)
		bcache_writeback(s, dir, (size_t)row);
	else if (s->priority_stats)
		bcache_priority(s, dir, (size_t)row);
	return 0;
}

static int bcache_read_set(struct bcache_state *s, const char *uuid)
{
	char dir[PATH_MAX];
	if (path_fmt(dir, sizeof dir, "%s/%s", s->root, uuid) != 0)
		return 0;
	const char *labels[] = { uuid };
	int rc = bcache_row(s, &s->set, labels, 1, dir, set_attrs, N_SET);
	if (rc < 0)
		return rc == -ENOMEM ? rc : 0;
	if (dirents_read(&s->members, dir, is_member) != 0)
		return 0;
	rc = 0;
	for (size_t i = 0; rc == 0 && i < s->members.n; i++)
		rc = bcache_read_member(s, dir, uuid, dirents_name(&s->members, i));
	return rc;
}

/* Cache sets are named by UUID; the directory also has register files. */
static bool is_set(const char *name)
{
	return strchr(name, '-') != NULL;
}

static int bcache_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const set_names[] = { "uuid" };
	static const char *const bdev_names[] = { "backing_device", "uuid" };
	static const char *const cache_names[] = { "cache_device", "uuid" };
	struct bcache_state *s = state;

	valtable_reset(&s->set);
	valtable_reset(&s->bdev);
	valtable_reset(&s->cache);
	int rc = dirents_read(&s->sets, s->root, is_set);
	if (rc == -ENOENT)
		return 0;
	for (size_t i = 0; rc == 0 && i < s->sets.n; i++)
		rc = bcache_read_set(s, dirents_name(&s->sets, i));
	if (rc) {
		snprintf(err, errlen, "reading %s: %s", s->root, strerror(-rc));
		return rc;
	}
	rc = valtable_emit(&s->set, set_cols, set_names, 1, b, err, errlen);
	if (rc == 0)
		rc = valtable_emit(&s->bdev, bdev_cols, bdev_names, 2, b, err, errlen);
	return rc ? rc : valtable_emit(&s->cache, cache_cols, cache_names, 2, b, err, errlen);
}

const struct collector_ops collector_bcache_ops = {
	.init = bcache_init,
	.collect = bcache_collect,
	.fini = bcache_fini,
};
