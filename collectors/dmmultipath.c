/*
 * dmmultipath - device-mapper multipath devices, from SYSFS/block/dm-*, as
 * node_exporter's opt-in dmmultipath collector reports them.  A dm device is a
 * multipath map when its dm/uuid starts with "mpath-".  Labelled device (the
 * map's dm/name) and sysfs_name (dm-N):
 *
 *   node_dmmultipath_device_info{device, sysfs_name, uuid} 1
 *   node_dmmultipath_device_active         1 unless dm/suspended says 1
 *   node_dmmultipath_device_size_bytes     size (512-byte sectors) in bytes
 *   node_dmmultipath_device_paths, _paths_active, _paths_failed
 *                                          the slaves/, and how many of them
 *                                          have device/state "running" (SCSI)
 *                                          or "live" (NVMe)
 *   node_dmmultipath_path_state{device, path, state} 1 for each path
 *
 * A path whose state cannot be read is reported with state "unknown" (and
 * counted as failed); a map missing dm/name, dm/suspended or size is skipped.
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

enum { COL_ACTIVE, COL_SIZE, COL_PATHS, COL_ACTIVE_PATHS, COL_FAILED_PATHS, N_COLS };

#define G(n, h)                                           \
	{                                                 \
		"node_dmmultipath_" n, h, METRIC_GAUGE, 0 \
	}
static const struct valtable_col cols[N_COLS] = {
	G("device_active",
	  "Whether the multipath device-mapper device is active (1) or suspended (0)."),
	G("device_size_bytes",
	  "Size of the multipath device in bytes, read from /sys/block/<dm>/size."),
	G("device_paths", "Number of paths for a multipath device."),
	G("device_paths_active",
	  "Number of paths in active state (SCSI running or NVMe live) for a multipath device."),
	G("device_paths_failed", "Number of paths not in active state for a multipath device."),
};
static const struct valtable_col info_col =
    G("device_info", "Non-numeric information about a DM-multipath device.");
static const struct valtable_col path_col =
    G("path_state", "Reports the underlying device state for a multipath path, as read from "
		    "/sys/block/<dev>/device/state.");
#undef G

struct dm_state {
	char dir[PATH_MAX];
	struct dirents devices, slaves;
	struct valtable numbers, info, paths;
};

static void dm_fini(void *state)
{
	struct dm_state *s = state;
	if (!s)
		return;
	dirents_free(&s->devices);
	dirents_free(&s->slaves);
	valtable_free(&s->numbers);
	valtable_free(&s->info);
	valtable_free(&s->paths);
	free(s);
}

static int dm_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct dm_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->dir, sizeof s->dir, "%s/block", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/block is too long", env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	valtable_init(&s->numbers, N_COLS);
	valtable_init(&s->info, 1);
	valtable_init(&s->paths, 1);
	*state = s;
	return 0;
}

static bool is_dm(const char *name)
{
	return strncmp(name, "dm-", 3) == 0;
}

static bool read_attr(const struct dm_state *s, const char *dev, const char *file, char *buf,
		      size_t len)
{
	char path[PATH_MAX];
	return path_fmt(path, sizeof path, "%s/%s/%s", s->dir, dev, file) == 0 &&
	       sysfile_text(path, buf, len) >= 0;
}

/* The paths of map dm (its slaves/), into s->paths; counts in total/active. */
static int dm_paths(struct dm_state *s, const char *dm, const char *name, size_t *total,
		    size_t *active)
{
	char dir[PATH_MAX], state[64];
	*total = *active = 0;
	if (path_fmt(dir, sizeof dir, "%s/%s/slaves", s->dir, dm) != 0 ||
	    dirents_read(&s->slaves, dir, NULL) != 0)
		return 0;
	for (size_t i = 0; i < s->slaves.n; i++) {
		const char *path = dirents_name(&s->slaves, i);
		if (!read_attr(s, path, "device/state", state, sizeof state))
			strcpy(state, "unknown");
		bool up = strcmp(state, "running") == 0 || strcmp(state, "live") == 0;
		(*total)++;
		*active += up;
		const char *labels[] = { name, path, state };
		int row = valtable_row(&s->paths, labels, 3);
		if (row == -ENOMEM)
			return row;
		if (row >= 0)
			valtable_set(&s->paths, (size_t)row, 0, 1);
	}
	return 0;
}

static int dm_device(struct dm_state *s, const char *dm)
{
	char uuid[VALTABLE_LABEL_MAX], name[VALTABLE_LABEL_MAX], text[64];
	uint64_t suspended, sectors;
	size_t total, active;
	if (!read_attr(s, dm, "dm/uuid", uuid, sizeof uuid) || strncmp(uuid, "mpath-", 6) != 0 ||
	    !read_attr(s, dm, "dm/name", name, sizeof name) ||
	    !read_attr(s, dm, "dm/suspended", text, sizeof text) ||
	    !parse_u64(text, strlen(text), &suspended) ||
	    !read_attr(s, dm, "size", text, sizeof text) ||
	    !parse_u64(text, strlen(text), &sectors))
		return 0;
	const char *info[] = { name, dm, uuid };
	int row = valtable_row(&s->info, info, 3);
	if (row >= 0)
		valtable_set(&s->info, (size_t)row, 0, 1);
	row = row == -ENOMEM ? row : valtable_row(&s->numbers, info, 2);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	int rc = dm_paths(s, dm, name, &total, &active);
	size_t r = (size_t)row;
	valtable_set(&s->numbers, r, COL_ACTIVE, suspended != 1);
	valtable_set(&s->numbers, r, COL_SIZE, (double)sectors * 512);
	valtable_set(&s->numbers, r, COL_PATHS, (double)total);
	valtable_set(&s->numbers, r, COL_ACTIVE_PATHS, (double)active);
	valtable_set(&s->numbers, r, COL_FAILED_PATHS, (double)(total - active));
	return rc;
}

static int dm_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device", "sysfs_name", "uuid" };
	static const char *const path_names[] = { "device", "path", "state" };
	struct dm_state *s = state;
	valtable_reset(&s->numbers);
	valtable_reset(&s->info);
	valtable_reset(&s->paths);
	int rc = dirents_read(&s->devices, s->dir, is_dm);
	if (rc == -ENOENT)
		return 0;
	for (size_t i = 0; rc == 0 && i < s->devices.n; i++)
		rc = dm_device(s, dirents_name(&s->devices, i));
	if (rc) {
		snprintf(err, errlen, "reading %s: %s", s->dir, strerror(-rc));
		return rc;
	}
	rc = valtable_emit(&s->info, &info_col, names, 3, b, err, errlen);
	if (rc == 0)
		rc = valtable_emit(&s->numbers, cols, names, 2, b, err, errlen);
	return rc ? rc : valtable_emit(&s->paths, &path_col, path_names, 3, b, err, errlen);
}

const struct collector_ops collector_dmmultipath_ops = {
	.init = dm_init,
	.collect = dm_collect,
	.fini = dm_fini,
};
