/*
 * btrfs - space usage of each mounted btrfs filesystem from
 * SYSFS/fs/btrfs/<uuid>/, as node_exporter 1.5's btrfs collector reports it:
 *
 *   label, metadata_uuid            node_btrfs_info{label, uuid}
 *   allocation/global_rsv_size      node_btrfs_global_rsv_size_bytes{uuid}
 *   allocation/<type>/bytes_reserved  node_btrfs_reserved_bytes{block_group_type, uuid}
 *   allocation/<type>/<profile>/total_bytes, used_bytes
 *                                   node_btrfs_size_bytes, node_btrfs_used_bytes and
 *                                   node_btrfs_allocation_ratio{block_group_type, mode,
 *                                   uuid} (raw space used per byte stored)
 *   devices/<dev>/size (sectors)    node_btrfs_device_size_bytes{device, uuid}
 *
 * <type> is data, metadata or system.  The uuid is metadata_uuid when the kernel
 * has it, else the directory's name.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "lazyfam.h"
#include "scan.h"
#include "valtable.h"

#define SECTOR_BYTES 512.0

static const char *const btrfs_types[] = { "data", "metadata", "system" };
#define N_TYPES (sizeof btrfs_types / sizeof btrfs_types[0])

enum { LAYOUT_SIZE, LAYOUT_USED, LAYOUT_RATIO, N_LAYOUT_COLS };

static const struct valtable_col fs_cols[] = {
	{ "node_btrfs_global_rsv_size_bytes", "Size of global reserve.", METRIC_GAUGE, 0 },
};
static const struct valtable_col type_cols[] = {
	{ "node_btrfs_reserved_bytes", "Amount of space reserved for a data type", METRIC_GAUGE,
	  0 },
};
static const struct valtable_col layout_cols[N_LAYOUT_COLS] = {
	{ "node_btrfs_size_bytes", "Amount of space allocated for a layout/data type", METRIC_GAUGE,
	  0 },
	{ "node_btrfs_used_bytes", "Amount of used space by a layout/data type", METRIC_GAUGE, 0 },
	{ "node_btrfs_allocation_ratio", "Data allocation ratio for a layout/data type",
	  METRIC_GAUGE, 0 },
};
static const struct valtable_col device_cols[] = {
	{ "node_btrfs_device_size_bytes", "Size of a device that is part of the filesystem.",
	  METRIC_GAUGE, 0 },
};

struct btrfs_state {
	char root[PATH_MAX];
	struct dirents fss, entries;
	struct valtable fs, types, layouts, devices;
};

static int btrfs_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct btrfs_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->root, sizeof s->root, "%s/fs/btrfs", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/fs/btrfs is too long", env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	valtable_init(&s->fs, 1);
	valtable_init(&s->types, 1);
	valtable_init(&s->layouts, N_LAYOUT_COLS);
	valtable_init(&s->devices, 1);
	*state = s;
	return 0;
}

static void btrfs_fini(void *state)
{
	struct btrfs_state *s = state;
	if (!s)
		return;
	dirents_free(&s->fss);
	dirents_free(&s->entries);
	valtable_free(&s->fs);
	valtable_free(&s->types);
	valtable_free(&s->layouts);
	valtable_free(&s->devices);
	free(s);
}

/* Filesystems are named by their UUID: "0abb23a9-579b-...". */
static bool is_uuid_dir(const char *name)
{
	return strchr(name, '-') != NULL;
}

static bool btrfs_u64(const char *dir, const char *rel, double *v)
{
	char path[PATH_MAX];
	uint64_t u;
	if (path_fmt(path, sizeof path, "%s/%s", dir, rel) != 0 || sysfile_u64(path, &u) != 0)
		return false;
	*v = (double)u;
	return true;
}

/* Raw bytes written per byte stored, for n devices; 0 for a profile not known. */
static double btrfs_ratio(const char *profile, size_t n)
{
	static const struct {
		const char *name;
		double ratio;
	} fixed[] = {
		{ "single", 1 }, { "raid0", 1 },   { "dup", 2 },     { "raid1", 2 },
		{ "raid10", 2 }, { "raid1c3", 3 }, { "raid1c4", 4 },
	};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (strcmp(profile, fixed[i].name) == 0)
			return fixed[i].ratio;
	if (strcmp(profile, "raid5") == 0 && n > 1)
		return (double)n / (double)(n - 1);
	if (strcmp(profile, "raid6") == 0 && n > 2)
		return (double)n / (double)(n - 2);
	return 0;
}

static int btrfs_set(struct valtable *t, const char *const *labels, size_t n, size_t col,
		     const char *dir, const char *rel, double scale)
{
	double v;
	if (!btrfs_u64(dir, rel, &v))
		return 0;
	int row = valtable_row(t, labels, n);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	valtable_set(t, (size_t)row, col, v * scale);
	return 0;
}

/* devices/: one row per member device; returns how many, or -ENOMEM. */
static int btrfs_read_devices(struct btrfs_state *s, const char *dir, const char *uuid)
{
	char devdir[PATH_MAX], rel[PATH_MAX];
	if (path_fmt(devdir, sizeof devdir, "%s/devices", dir) != 0 ||
	    dirents_read(&s->entries, devdir, NULL) != 0)
		return 0;
	for (size_t i = 0; i < s->entries.n; i++) {
		const char *dev = dirents_name(&s->entries, i);
		const char *labels[] = { dev, uuid };
		if (path_fmt(rel, sizeof rel, "%s/size", dev) == 0 &&
		    btrfs_set(&s->devices, labels, 2, 0, devdir, rel, SECTOR_BYTES) != 0)
			return -ENOMEM;
	}
	return (int)s->entries.n;
}

static int btrfs_read_layouts(struct btrfs_state *s, const char *typedir, const char *type,
			      const char *uuid, size_t n_devices)
{
	char rel[PATH_MAX];
	if (dirents_read(&s->entries, typedir, NULL) != 0)
		return 0;
	for (size_t i = 0; i < s->entries.n; i++) {
		const char *profile = dirents_name(&s->entries, i);
		double total, used;
		if (path_fmt(rel, sizeof rel, "%s/total_bytes", profile) != 0 ||
		    !btrfs_u64(typedir, rel, &total))
			continue; /* a file of the type directory, not a profile */
		if (path_fmt(rel, sizeof rel, "%s/used_bytes", profile) != 0 ||
		    !btrfs_u64(typedir, rel, &used))
			continue;
		const char *labels[] = { type, profile, uuid };
		int row = valtable_row(&s->layouts, labels, 3);
		if (row < 0)
			return row == -ENOMEM ? row : 0;
		valtable_set(&s->layouts, (size_t)row, LAYOUT_SIZE, total);
		valtable_set(&s->layouts, (size_t)row, LAYOUT_USED, used);
		valtable_set(&s->layouts, (size_t)row, LAYOUT_RATIO,
			     btrfs_ratio(profile, n_devices));
	}
	return 0;
}

static int btrfs_read_fs(struct btrfs_state *s, const char *name)
{
	char dir[PATH_MAX], path[PATH_MAX], uuid[VALTABLE_LABEL_MAX], label[VALTABLE_LABEL_MAX];
	if (path_fmt(dir, sizeof dir, "%s/%s", s->root, name) != 0)
		return 0;
	if (path_fmt(path, sizeof path, "%s/metadata_uuid", dir) != 0 ||
	    sysfile_text(path, uuid, sizeof uuid) <= 0)
		snprintf(uuid, sizeof uuid, "%.*s", (int)sizeof uuid - 1, name);
	if (path_fmt(path, sizeof path, "%s/label", dir) != 0 ||
	    sysfile_text(path, label, sizeof label) < 0)
		label[0] = '\0';
	const char *fs_labels[] = { label, uuid };
	int row = valtable_row(&s->fs, fs_labels, 2);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	double rsv;
	if (btrfs_u64(dir, "allocation/global_rsv_size", &rsv))
		valtable_set(&s->fs, (size_t)row, 0, rsv);
	int n_devices = btrfs_read_devices(s, dir, uuid);
	for (size_t t = 0; n_devices >= 0 && t < N_TYPES; t++) {
		char typedir[PATH_MAX];
		const char *labels[] = { btrfs_types[t], uuid };
		if (path_fmt(typedir, sizeof typedir, "%s/allocation/%s", dir, btrfs_types[t]) != 0)
			continue;
		if (btrfs_set(&s->types, labels, 2, 0, typedir, "bytes_reserved", 1) != 0 ||
		    btrfs_read_layouts(s, typedir, btrfs_types[t], uuid, (size_t)n_devices) != 0)
			return -ENOMEM;
	}
	return n_devices < 0 ? n_devices : 0;
}

static int btrfs_emit_info(const struct btrfs_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "label", "uuid" };
	struct lazyfam f = { "node_btrfs_info", "Filesystem information", METRIC_GAUGE, false };
	for (size_t r = 0; r < s->fs.n_rows; r++) {
		const char *values[] = { s->fs.labels[r][0], s->fs.labels[r][1] };
		int rc = lazyfam_add(b, &f, names, values, 2, 1.0, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int btrfs_emit(struct btrfs_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const uuid_names[] = { "uuid" };
	static const char *const type_names[] = { "block_group_type", "uuid" };
	static const char *const layout_names[] = { "block_group_type", "mode", "uuid" };
	static const char *const device_names[] = { "device", "uuid" };

	int rc = btrfs_emit_info(s, b, err, errlen);
	if (rc == 0) {
		/* The global reserve is labelled by uuid only: drop the label column. */
		for (size_t r = 0; r < s->fs.n_rows; r++)
			memcpy(s->fs.labels[r][0], s->fs.labels[r][1], VALTABLE_LABEL_MAX);
		rc = valtable_emit(&s->fs, fs_cols, uuid_names, 1, b, err, errlen);
	}
	if (rc == 0)
		rc = valtable_emit(&s->types, type_cols, type_names, 2, b, err, errlen);
	if (rc == 0)
		rc = valtable_emit(&s->layouts, layout_cols, layout_names, 3, b, err, errlen);
	if (rc == 0)
		rc = valtable_emit(&s->devices, device_cols, device_names, 2, b, err, errlen);
	return rc;
}

static int btrfs_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct btrfs_state *s = state;

	valtable_reset(&s->fs);
	valtable_reset(&s->types);
	valtable_reset(&s->layouts);
	valtable_reset(&s->devices);
	int rc = dirents_read(&s->fss, s->root, is_uuid_dir);
	if (rc == -ENOENT)
		return 0;
	for (size_t i = 0; rc == 0 && i < s->fss.n; i++)
		rc = btrfs_read_fs(s, dirents_name(&s->fss, i));
	if (rc) {
		snprintf(err, errlen, "reading %s: %s", s->root, strerror(-rc));
		return rc;
	}
	return btrfs_emit(s, b, err, errlen);
}

const struct collector_ops collector_btrfs_ops = {
	.init = btrfs_init,
	.collect = btrfs_collect,
	.fini = btrfs_fini,
};
