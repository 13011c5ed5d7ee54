/*
 * xfs - per-filesystem XFS statistics from SYSFS/fs/xfs/<device>/stats/stats
 * (kernel 4.4 and later), as node_exporter's xfs collector reports them, labelled
 * device=<device>.  The file has the format of /proc/fs/xfs/stat: a keyword, then
 * counters ("extent_alloc 23770 28997 20368 89369"), in the order of the kernel's
 * struct xfsstats (so "rw" is writes, then reads).  Keywords not listed below,
 * and counters beyond those known, are ignored.
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

struct xfs_counter {
	const char *key; /* the line's keyword */
	size_t field;    /* 0-based position after it */
	const char *name, *help;
};

#define XC(key, field, name, help)                          \
	{                                                   \
		key, field, "node_xfs_" name "_total", help \
	}
static const struct xfs_counter xfs_counters[] = {
	XC("extent_alloc", 0, "extent_allocation_extents_allocated",
	   "Number of extents allocated for a filesystem."),
	XC("extent_alloc", 1, "extent_allocation_blocks_allocated",
	   "Number of blocks allocated for a filesystem."),
	XC("extent_alloc", 2, "extent_allocation_extents_freed",
	   "Number of extents freed for a filesystem."),
	XC("extent_alloc", 3, "extent_allocation_blocks_freed",
	   "Number of blocks freed for a filesystem."),
	XC("abt", 0, "allocation_btree_lookups",
	   "Number of allocation B-tree lookups for a filesystem."),
	XC("abt", 1, "allocation_btree_compares",
	   "Number of allocation B-tree compares for a filesystem."),
	XC("abt", 2, "allocation_btree_records_inserted",
	   "Number of allocation B-tree records inserted for a filesystem."),
	XC("abt", 3, "allocation_btree_records_deleted",
	   "Number of allocation B-tree records deleted for a filesystem."),
	XC("blk_map", 0, "block_mapping_reads",
	   "Number of block map for read operations for a filesystem."),
	XC("blk_map", 1, "block_mapping_writes",
	   "Number of block map for write operations for a filesystem."),
	XC("blk_map", 2, "block_mapping_unmaps",
	   "Number of block unmaps (deletes) for a filesystem."),
	XC("blk_map", 3, "block_mapping_extent_list_insertions",
	   "Number of extent list insertions for a filesystem."),
	XC("blk_map", 4, "block_mapping_extent_list_deletions",
	   "Number of extent list deletions for a filesystem."),
	XC("blk_map", 5, "block_mapping_extent_list_lookups",
	   "Number of extent list lookups for a filesystem."),
	XC("blk_map", 6, "block_mapping_extent_list_compares",
	   "Number of extent list compares for a filesystem."),
	XC("bmbt", 0, "block_map_btree_lookups",
	   "Number of block map B-tree lookups for a filesystem."),
	XC("bmbt", 1, "block_map_btree_compares",
	   "Number of block map B-tree compares for a filesystem."),
	XC("bmbt", 2, "block_map_btree_records_inserted",
	   "Number of block map B-tree records inserted for a filesystem."),
	XC("bmbt", 3, "block_map_btree_records_deleted",
	   "Number of block map B-tree records deleted for a filesystem."),
	XC("dir", 0, "directory_operation_lookup",
	   "Number of file name directory lookups which miss the operating systems directory "
	   "name lookup cache."),
	XC("dir", 1, "directory_operation_create",
	   "Number of times a new directory entry was created for a filesystem."),
	XC("dir", 2, "directory_operation_remove",
	   "Number of times an existing directory entry was removed for a filesystem."),
	XC("dir", 3, "directory_operation_getdents",
	   "Number of times the directory getdents operation was performed for a filesystem."),
	XC("ig", 0, "inode_operation_attempts",
	   "Number of times the OS looked for an XFS inode in the inode cache."),
	XC("ig", 1, "inode_operation_found",
	   "Number of times the OS looked for and found an XFS inode in the inode cache."),
	XC("ig", 2, "inode_operation_recycled",
	   "Number of times the OS found an XFS inode in the cache, but could not use it as it "
	   "was being recycled."),
	XC("ig", 3, "inode_operation_missed",
	   "Number of times the OS looked for an XFS inode in the cache, but did not find it."),
	XC("ig", 4, "inode_operation_duplicates",
	   "Number of times the OS tried to add a missing XFS inode to the inode cache, but "
	   "found it had already been added by another process."),
	XC("ig", 5, "inode_operation_reclaims",
	   "Number of times the OS reclaimed an XFS inode from the inode cache to free memory "
	   "for another purpose."),
	XC("ig", 6, "inode_operation_attribute_changes",
	   "Number of times the OS explicitly changed the attributes of an XFS inode."),
	XC("rw", 1, "read_calls", "Number of read(2) system calls made to files in a filesystem."),
	XC("rw", 0, "write_calls",
	   "Number of write(2) system calls made to files in a filesystem."),
	XC("vnodes", 0, "vnode_active", "Number of vnodes not on free lists for a filesystem."),
	XC("vnodes", 1, "vnode_allocate", "Number of times vn_alloc called for a filesystem."),
	XC("vnodes", 2, "vnode_get", "Number of times vn_get called for a filesystem."),
	XC("vnodes", 3, "vnode_hold", "Number of times vn_hold called for a filesystem."),
	XC("vnodes", 4, "vnode_release", "Number of times vn_rele called for a filesystem."),
	XC("vnodes", 5, "vnode_reclaim", "Number of times vn_reclaim called for a filesystem."),
	XC("vnodes", 6, "vnode_remove", "Number of times vn_remove called for a filesystem."),
};
#undef XC

#define N_XFS (sizeof xfs_counters / sizeof xfs_counters[0])

struct xfs_state {
	char root[PATH_MAX];
	struct dirents dirs;
	struct valtable table;
	struct valtable_col cols[N_XFS];
	char *buf;
	size_t cap;
};

static int xfs_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct xfs_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->root, sizeof s->root, "%s/fs/xfs", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/fs/xfs is too long", env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	valtable_init(&s->table, N_XFS);
	for (size_t i = 0; i < N_XFS; i++)
		s->cols[i] = (struct valtable_col){ xfs_counters[i].name, xfs_counters[i].help,
						    METRIC_COUNTER, 0 };
	*state = s;
	return 0;
}

static void xfs_fini(void *state)
{
	struct xfs_state *s = state;
	if (!s)
		return;
	dirents_free(&s->dirs);
	valtable_free(&s->table);
	free(s->buf);
	free(s);
}

/* Sets the counters of one "keyword n n n ..." line in row. */
static void xfs_parse_line(struct valtable *t, size_t row, struct scan line)
{
	const char *key, *w;
	size_t keylen, n;
	uint64_t v;

	if (!scan_word(&line, &key, &keylen))
		return;
	for (size_t field = 0; scan_word(&line, &w, &n); field++) {
		for (size_t c = 0; c < N_XFS; c++)
			if (xfs_counters[c].field == field &&
			    word_is(key, keylen, xfs_counters[c].key) && parse_u64(w, n, &v))
				valtable_set(t, row, c, (double)v);
	}
}

static int xfs_read_device(struct xfs_state *s, const char *dev)
{
	char path[PATH_MAX];
	if (path_fmt(path, sizeof path, "%s/%s/stats/stats", s->root, dev) != 0)
		return 0;
	long len = sysfile_slurp(path, &s->buf, &s->cap);
	if (len == -ENOMEM)
		return -ENOMEM;
	if (len < 0)
		return 0; /* not a filesystem's directory, or gone meanwhile */
	const char *values[] = { dev };
	int row = valtable_row(&s->table, values, 1);
	if (row == -ENOMEM)
		return row;
	if (row < 0)
		return 0;
	struct scan text = scan_text(s->buf, (size_t)len), line;
	while (scan_line(&text, &line))
		xfs_parse_line(&s->table, (size_t)row, line);
	return 0;
}

static int xfs_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device" };
	struct xfs_state *s = state;

	valtable_reset(&s->table);
	int rc = dirents_read(&s->dirs, s->root, NULL);
	if (rc == -ENOENT)
		return 0;
	for (size_t i = 0; rc == 0 && i < s->dirs.n; i++)
		rc = xfs_read_device(s, dirents_name(&s->dirs, i));
	if (rc) {
		snprintf(err, errlen, "reading %s: %s", s->root, strerror(-rc));
		return rc;
	}
	return valtable_emit(&s->table, s->cols, names, 1, b, err, errlen);
}

const struct collector_ops collector_xfs_ops = {
	.init = xfs_init,
	.collect = xfs_collect,
	.fini = xfs_fini,
};
