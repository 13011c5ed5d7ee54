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
 *   commit_stats (Linux 6.1+)       node_btrfs_commits_total, _commit_seconds_total,
 *                                   _last_commit_seconds, _max_commit_seconds{uuid}
 *                                   (0 when the kernel has no such file, as
 *                                   node_exporter reports them)
 *
 * <type> is data, metadata or system.  The uuid is metadata_uuid when the kernel
 * has it, else the directory's name.
 *
 * As node_exporter does, each filesystem is also asked through its mount point
 * (found in PROCFS/1/mountinfo, opened under --path.rootfs) with the btrfs
 * ioctls: when that works, its devices are reported from there instead of sysfs,
 * as node_btrfs_device_size_bytes and node_btrfs_device_unused_bytes
 * {btrfs_dev_uuid, device, uuid} and node_btrfs_device_errors_total
 * {btrfs_dev_uuid, device, type, uuid}, device being the last component of the
 * device's path.  The seam for tests is btrfs.h.
 */
#include "btrfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/btrfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "collector.h"
#include "dirents.h"
#include "lazyfam.h"
#include "mountinfo.h"
#include "procfile.h"
#include "scan.h"
#include "valtable.h"

#define SECTOR_BYTES 512.0

static const char *const btrfs_types[] = { "data", "metadata", "system" };
#define N_TYPES (sizeof btrfs_types / sizeof btrfs_types[0])

enum { LAYOUT_SIZE, LAYOUT_USED, LAYOUT_RATIO, N_LAYOUT_COLS };

enum { FS_RSV, FS_COMMITS, FS_LAST_COMMIT, FS_MAX_COMMIT, FS_COMMIT_TOTAL, N_FS_COLS };

static const struct valtable_col fs_cols[N_FS_COLS] = {
	{ "node_btrfs_global_rsv_size_bytes", "Size of global reserve.", METRIC_GAUGE, 0 },
	{ "node_btrfs_commits_total", "The total number of commits that have occurred.",
	  METRIC_COUNTER, 0 },
	{ "node_btrfs_last_commit_seconds", "Duration of the most recent commit, in seconds.",
	  METRIC_GAUGE, 0 },
	{ "node_btrfs_max_commit_seconds", "Duration of the slowest commit, in seconds.",
	  METRIC_GAUGE, 0 },
	{ "node_btrfs_commit_seconds_total", "Sum of the duration of all commits, in seconds.",
	  METRIC_COUNTER, 0 },
};

/* The keys of commit_stats for the commit columns, and the divisor to seconds
 * (a division, as node_exporter's, for bit-identical values). */
static const struct {
	const char *key;
	int col;
	double div;
} commit_keys[] = {
	{ "commits", FS_COMMITS, 1 },
	{ "last_commit_ms", FS_LAST_COMMIT, 1000 },
	{ "max_commit_ms", FS_MAX_COMMIT, 1000 },
	{ "total_commit_ms", FS_COMMIT_TOTAL, 1000 },
};

static const char *const err_types[BTRFS_ERR_TYPES] = { "write", "read", "flush", "corruption",
							"generation" };
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

struct btrfs_state {
	char root[PATH_MAX];
	char rootfs[PATH_MAX]; /* without trailing '/'; "" for "/" */
	struct dirents fss, entries;
	struct valtable fs, types, layouts, devices;
	struct procfile init_mounts, self_mounts;
	btrfs_devices_fn devices_fn;
	struct btrfs_fs_devices *found; /* filesystems the ioctls answered for */
	size_t n_found, cap_found;
	char buf[4096];
};

void btrfs_set_devices_fn(void *state, btrfs_devices_fn fn)
{
	((struct btrfs_state *)state)->devices_fn = fn;
}

static int btrfs_real_devices(const char *path, struct btrfs_fs_devices *out);

static int btrfs_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct btrfs_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	const char *rootfs = env->rootfs ? env->rootfs : "";
	size_t n = strlen(rootfs);
	while (n > 0 && rootfs[n - 1] == '/')
		n--;
	int rc = procfile_init(&s->init_mounts, env->procfs, "1/mountinfo", err, errlen);
	if (rc == 0)
		rc = procfile_init(&s->self_mounts, env->procfs, "self/mountinfo", err, errlen);
	if (rc == 0 && (path_fmt(s->root, sizeof s->root, "%s/fs/btrfs", env->sysfs) != 0 ||
			n >= sizeof s->rootfs)) {
		snprintf(err, errlen, "path %s/fs/btrfs or --path.rootfs is too long", env->sysfs);
		rc = -ENAMETOOLONG;
	}
	if (rc) {
		procfile_close(&s->init_mounts);
		procfile_close(&s->self_mounts);
		free(s);
		return rc;
	}
	memcpy(s->rootfs, rootfs, n);
	s->rootfs[n] = '\0';
	s->devices_fn = btrfs_real_devices;
	valtable_init(&s->fs, N_FS_COLS);
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
	procfile_close(&s->init_mounts);
	procfile_close(&s->self_mounts);
	free(s->found);
	free(s);
}

/* ---- the ioctls ---- */

/* One member device: its info, then its error counters. */
static int btrfs_real_device(int fd, __u64 devid, struct btrfs_dev_stats *d)
{
	struct btrfs_ioctl_dev_info_args info;
	struct btrfs_ioctl_get_dev_stats st;

	memset(&info, 0, sizeof info);
	info.devid = devid;
	if (ioctl(fd, BTRFS_IOC_DEV_INFO, &info) != 0)
		return -errno;
	memset(&st, 0, sizeof st);
	st.devid = devid;
	st.nr_items = BTRFS_DEV_STAT_VALUES_MAX;
	if (ioctl(fd, BTRFS_IOC_GET_DEV_STATS, &st) != 0)
		return -errno;
	memset(d, 0, sizeof *d);
	/* Only the last component is reported: keep the end of a long path. */
	const char *p = (const char *)info.path;
	size_t n = strnlen(p, sizeof info.path);
	if (n >= sizeof d->path) {
		p += n - (sizeof d->path - 1);
		n = sizeof d->path - 1;
	}
	memcpy(d->path, p, n);
	d->path[n] = '\0';
	memcpy(d->uuid, info.uuid, sizeof d->uuid);
	d->bytes_used = info.bytes_used;
	d->total_bytes = info.total_bytes;
	for (int i = 0; i < BTRFS_ERR_TYPES && (__u64)i < st.nr_items; i++)
		d->errors[i] = st.values[i];
	return 0;
}

/* The devices of the filesystem mounted at path.  Device ids need not start at 1
 * nor be contiguous: ids up to max_id are tried until every device is found. */
static int btrfs_real_devices(const char *path, struct btrfs_fs_devices *out)
{
	struct btrfs_ioctl_fs_info_args fs;
	int rc = 0;

	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&fs, 0, sizeof fs);
	if (ioctl(fd, BTRFS_IOC_FS_INFO, &fs) != 0)
		rc = -errno;
	memcpy(out->fsid, fs.fsid, sizeof out->fsid);
	out->n = 0;
	for (__u64 id = 0;
	     rc == 0 && id <= fs.max_id && out->n < fs.num_devices && out->n < BTRFS_DEVS_MAX;
	     id++) {
		rc = btrfs_real_device(fd, id, &out->dev[out->n]);
		if (rc == 0)
			out->n++;
		else if (rc == -ENODEV)
			rc = 0; /* no device with that id */
	}
	close(fd);
	return rc;
}

/* ---- the mounts ---- */

/* "0abb23a9-579b-..." equals the 16 bytes of id, dashes and case aside. */
static bool uuid_matches(const char *text, const unsigned char *id)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;
	for (const char *p = text; *p; p++) {
		if (*p == '-')
			continue;
		char c = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
		if (k >= 32 || c != hex[(id[k / 2] >> (k % 2 ? 0 : 4)) & 0xf])
			return false;
		k++;
	}
	return k == 32;
}

static const struct btrfs_fs_devices *btrfs_found(const struct btrfs_state *s, const char *uuid)
{
	for (size_t i = 0; i < s->n_found; i++)
		if (uuid_matches(uuid, s->found[i].fsid))
			return &s->found[i];
	return NULL;
}

static bool fsid_seen(const struct btrfs_state *s, const unsigned char *fsid)
{
	for (size_t i = 0; i < s->n_found; i++)
		if (memcmp(s->found[i].fsid, fsid, 16) == 0)
			return true;
	return false;
}

/* Asks the filesystem mounted at mountpoint, unless it was answered already. */
static int btrfs_ask_mount(struct btrfs_state *s, const char *mountpoint)
{
	char path[PATH_MAX];
	bool root = strcmp(mountpoint, "/") == 0;
	if (path_fmt(path, sizeof path, "%s%s", s->rootfs, s->rootfs[0] && root ? "" : mountpoint))
		return 0;
	if (s->n_found == s->cap_found) {
		size_t cap = s->cap_found ? s->cap_found * 2 : 2;
		struct btrfs_fs_devices *f = realloc(s->found, cap * sizeof *f);
		if (!f)
			return -ENOMEM;
		s->found = f;
		s->cap_found = cap;
	}
	struct btrfs_fs_devices *out = &s->found[s->n_found];
	/* Not allowed, or not answering: this filesystem's devices come from sysfs. */
	if (s->devices_fn(path, out) == 0 && !fsid_seen(s, out->fsid))
		s->n_found++;
	return 0;
}

/* Every btrfs mount of the host's mount table, once per source device. */
static int btrfs_ask_mounts(struct btrfs_state *s)
{
	struct procfile *f = &s->init_mounts;
	char ebuf[256];
	int rc = procfile_read(f, ebuf, sizeof ebuf);
	if (rc == -ENOENT) {
		f = &s->self_mounts;
		rc = procfile_read(f, ebuf, sizeof ebuf);
	}
	s->n_found = 0;
	if (rc)
		return 0; /* no mount table: sysfs alone */
	/* A filesystem mounted twice (subvolumes, bind mounts) is asked once. */
	const char *asked[BTRFS_DEVS_MAX];
	size_t n_asked = 0;
	struct scan text = scan_text(f->buf, f->len), line;
	while (scan_line(&text, &line)) {
		struct mountinfo mi;
		bool seen = false;
		if (!mountinfo_parse(line, &mi) || strcmp(mi.fstype, "btrfs") != 0)
			continue;
		for (size_t i = 0; i < n_asked && !seen; i++)
			seen = strcmp(asked[i], mi.source) == 0;
		if (seen)
			continue;
		if (n_asked < BTRFS_DEVS_MAX)
			asked[n_asked++] = mi.source;
		mountinfo_unescape(mi.mountpoint);
		if ((rc = btrfs_ask_mount(s, mi.mountpoint)) != 0)
			return rc;
	}
	return 0;
}

/* ---- sysfs ---- */

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

/* devices/: one row per member device (unless the ioctls answered for this
 * filesystem); returns how many, or -ENOMEM. */
static int btrfs_read_devices(struct btrfs_state *s, const char *dir, const char *uuid)
{
	char devdir[PATH_MAX], rel[PATH_MAX];
	if (path_fmt(devdir, sizeof devdir, "%s/devices", dir) != 0 ||
	    dirents_read(&s->entries, devdir, NULL) != 0)
		return 0;
	if (btrfs_found(s, uuid))
		return (int)s->entries.n;
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

/* commit_stats: "commits 258051\nlast_commit_ms 1000\n..." (0 for what is missing). */
static void btrfs_read_commits(struct btrfs_state *s, const char *dir, size_t row)
{
	char path[PATH_MAX];
	long len = -1;

	for (size_t k = 0; k < sizeof commit_keys / sizeof commit_keys[0]; k++)
		valtable_set(&s->fs, row, (size_t)commit_keys[k].col, 0);
	if (path_fmt(path, sizeof path, "%s/commit_stats", dir) == 0)
		len = sysfile_text(path, s->buf, sizeof s->buf);
	struct scan text = scan_text(s->buf, len > 0 ? (size_t)len : 0), line;
	while (scan_line(&text, &line)) {
		const char *w, *num;
		size_t n, numlen;
		uint64_t v;
		if (!scan_word(&line, &w, &n) || !scan_word(&line, &num, &numlen) ||
		    !parse_u64(num, numlen, &v))
			continue;
		for (size_t k = 0; k < sizeof commit_keys / sizeof commit_keys[0]; k++)
			if (word_is(w, n, commit_keys[k].key))
				valtable_set(&s->fs, row, (size_t)commit_keys[k].col,
					     (double)v / commit_keys[k].div);
	}
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
		valtable_set(&s->fs, (size_t)row, FS_RSV, rsv);
	btrfs_read_commits(s, dir, (size_t)row);
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

/* The device part of a path: "/dev/mapper/vg-root" -> "vg-root". */
static const char *path_base(const char *p)
{
	const char *slash = strrchr(p, '/');
	return slash ? slash + 1 : p;
}

static void uuid_text(const unsigned char *id, char *out)
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10],
		 id[11], id[12], id[13], id[14], id[15]);
}

/* A series of each device the ioctls gave: value(dev) for family f, labelled with
 * the error type too when type >= 0. */
static int btrfs_emit_ioctl(const struct btrfs_state *s, struct lazyfam *f, int type,
			    struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "btrfs_dev_uuid", "device", "uuid" };
	static const char *const err_names[] = { "btrfs_dev_uuid", "device", "type", "uuid" };
	char dev_uuid[37];
	int rc = 0;

	for (size_t r = 0; rc == 0 && r < s->fs.n_rows; r++) {
		const char *uuid = s->fs.labels[r][1];
		const struct btrfs_fs_devices *fd = btrfs_found(s, uuid);
		for (size_t i = 0; rc == 0 && fd && i < fd->n; i++) {
			const struct btrfs_dev_stats *d = &fd->dev[i];
			uuid_text(d->uuid, dev_uuid);
			const char *device = path_base(d->path);
			if (type >= 0) {
				const char *values[] = { dev_uuid, device, err_types[type], uuid };
				rc = lazyfam_add(b, f, err_names, values, 4,
						 (double)d->errors[type], err, errlen);
				continue;
			}
			const char *values[] = { dev_uuid, device, uuid };
			double v = strcmp(f->name, "node_btrfs_device_size_bytes") == 0
				       ? (double)d->total_bytes
				       : (double)d->total_bytes - (double)d->bytes_used;
			rc = lazyfam_add(b, f, names, values, 3, v, err, errlen);
		}
	}
	return rc;
}

static int btrfs_emit_devices(const struct btrfs_state *s, struct batch *b, char *err,
			      size_t errlen)
{
	static const char *const device_names[] = { "device", "uuid" };
	struct lazyfam size = { "node_btrfs_device_size_bytes",
				"Size of a device that is part of the filesystem.", METRIC_GAUGE,
				false };
	struct lazyfam unused = { "node_btrfs_device_unused_bytes",
				  "Unused bytes unused on a device that is part of the filesystem.",
				  METRIC_GAUGE, false };
	struct lazyfam errors = { "node_btrfs_device_errors_total",
				  "Errors reported for the device", METRIC_COUNTER, false };
	int rc = 0;

	/* One family: devices from sysfs, then those the ioctls gave. */
	for (size_t r = 0; rc == 0 && r < s->devices.n_rows; r++) {
		const char *values[] = { s->devices.labels[r][0], s->devices.labels[r][1] };
		if (s->devices.set[r])
			rc = lazyfam_add(b, &size, device_names, values, 2, s->devices.v[r], err,
					 errlen);
	}
	if (rc == 0)
		rc = btrfs_emit_ioctl(s, &size, -1, b, err, errlen);
	if (rc == 0)
		rc = btrfs_emit_ioctl(s, &unused, -1, b, err, errlen);
	for (int t = 0; rc == 0 && t < BTRFS_ERR_TYPES; t++)
		rc = btrfs_emit_ioctl(s, &errors, t, b, err, errlen);
	return rc;
}

static int btrfs_emit(struct btrfs_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const uuid_names[] = { "uuid" };
	static const char *const type_names[] = { "block_group_type", "uuid" };
	static const char *const layout_names[] = { "block_group_type", "mode", "uuid" };

	int rc = btrfs_emit_info(s, b, err, errlen);
	if (rc == 0)
		rc = btrfs_emit_devices(s, b, err, errlen);
	if (rc == 0) {
		/* The filesystem's families are labelled by uuid only: drop the label
		 * column (after the device families, which look the uuid up). */
		for (size_t r = 0; r < s->fs.n_rows; r++)
			memcpy(s->fs.labels[r][0], s->fs.labels[r][1], VALTABLE_LABEL_MAX);
		rc = valtable_emit(&s->fs, fs_cols, uuid_names, 1, b, err, errlen);
	}
	if (rc == 0)
		rc = valtable_emit(&s->types, type_cols, type_names, 2, b, err, errlen);
	if (rc == 0)
		rc = valtable_emit(&s->layouts, layout_cols, layout_names, 3, b, err, errlen);
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
	/* The mount table only matters when there is a btrfs filesystem. */
	if (rc == 0 && s->fss.n > 0)
		rc = btrfs_ask_mounts(s);
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
