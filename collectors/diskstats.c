/*
 * diskstats - block device I/O counters from PROCFS/diskstats, named and scaled
 * as node_exporter 1.5 does (sectors of 512 bytes into bytes, milliseconds into
 * seconds), plus node_disk_info and the udev-derived info families from
 * UDEV_DATA/b<major>:<minor>, with node_exporter's additions since 1.5: the
 * rotational label of node_disk_info (SYSFS/block/<device>/queue/rotational), the
 * serial taken from SCSI_IDENT_SERIAL, else ID_SERIAL_SHORT, else ID_SERIAL, and
 * node_disk_device_mapper_backing_device_info from SYSFS/block/<device>/slaves/.
 *
 * A line has 11, 15 or 17 counters depending on the kernel (discards came in
 * 4.18, flushes in 5.5); a device gets the families its line has.  Devices come
 * and go with the file: each cycle reports exactly the devices listed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "dirents.h"
#include "filter.h"
#include "procfile.h"
#include "scan.h"

#define DISK_NAME_MAX   64
#define DISK_FIELDS_MIN 11
#define DISK_FIELDS_MAX 17
#define SECTOR_BYTES    512.0
#define UDEV_BUF        16384
#define UDEV_VALUE_MAX  256

enum udev_prop {
	U_MODEL,
	U_PATH,
	U_REVISION,
	U_SERIAL_SHORT,
	U_SERIAL,
	U_SCSI_SERIAL,
	U_WWN,
	U_FS_TYPE,
	U_FS_USAGE,
	U_FS_UUID,
	U_FS_VERSION,
	U_DM_NAME,
	U_DM_UUID,
	U_DM_VG,
	U_DM_LV,
	U_DM_LAYER,
	U_ATA,
	U_ATA_WC,
	U_ATA_WCE,
	U_ATA_RPM,
	N_UDEV
};

static const char *const udev_keys[N_UDEV] = {
	"ID_MODEL",
	"ID_PATH",
	"ID_REVISION",
	"ID_SERIAL_SHORT",
	"ID_SERIAL",
	"SCSI_IDENT_SERIAL",
	"ID_WWN",
	"ID_FS_TYPE",
	"ID_FS_USAGE",
	"ID_FS_UUID",
	"ID_FS_VERSION",
	"DM_NAME",
	"DM_UUID",
	"DM_VG_NAME",
	"DM_LV_NAME",
	"DM_LV_LAYER",
	"ID_ATA",
	"ID_ATA_WRITE_CACHE",
	"ID_ATA_WRITE_CACHE_ENABLED",
	"ID_ATA_ROTATION_RATE_RPM",
};

struct disk_row {
	char name[DISK_NAME_MAX];
	char major[12], minor[12];
	size_t n_fields;
	uint64_t f[DISK_FIELDS_MAX];
	char rotational[2]; /* "0" or "1" */
	char udev[N_UDEV][UDEV_VALUE_MAX];
};

struct diskstats_state {
	struct procfile file;
	struct devfilter filter;
	const char *udev_dir; /* NULL: no udev database */
	const char *sysfs;
	struct dirents slaves;
	struct disk_row *rows;
	size_t n_rows, cap;
	char udevbuf[UDEV_BUF];
};

/* One counter family: the column it comes from and the factor to its unit. */
struct disk_family {
	const char *name, *help;
	enum metric_type type;
	int col;
	double scale;
};

static const struct disk_family stat_families[] = {
	{ "node_disk_reads_completed_total", "The total number of reads completed successfully.",
	  METRIC_COUNTER, 0, 1 },
	{ "node_disk_reads_merged_total", "The total number of reads merged.", METRIC_COUNTER, 1,
	  1 },
	{ "node_disk_read_bytes_total", "The total number of bytes read successfully.",
	  METRIC_COUNTER, 2, SECTOR_BYTES },
	{ "node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.",
	  METRIC_COUNTER, 3, 0.001 },
	{ "node_disk_writes_completed_total", "The total number of writes completed successfully.",
	  METRIC_COUNTER, 4, 1 },
	{ "node_disk_writes_merged_total", "The number of writes merged.", METRIC_COUNTER, 5, 1 },
	{ "node_disk_written_bytes_total", "The total number of bytes written successfully.",
	  METRIC_COUNTER, 6, SECTOR_BYTES },
	{ "node_disk_write_time_seconds_total",
	  "This is the total number of seconds spent by all writes.", METRIC_COUNTER, 7, 0.001 },
	{ "node_disk_io_now", "The number of I/Os currently in progress.", METRIC_GAUGE, 8, 1 },
	{ "node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", METRIC_COUNTER, 9,
	  0.001 },
	{ "node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.",
	  METRIC_COUNTER, 10, 0.001 },
	{ "node_disk_discards_completed_total",
	  "The total number of discards completed successfully.", METRIC_COUNTER, 11, 1 },
	{ "node_disk_discards_merged_total", "The total number of discards merged.", METRIC_COUNTER,
	  12, 1 },
	{ "node_disk_discarded_sectors_total",
	  "The total number of sectors discarded successfully.", METRIC_COUNTER, 13, 1 },
	{ "node_disk_discard_time_seconds_total",
	  "This is the total number of seconds spent by all discards.", METRIC_COUNTER, 14, 0.001 },
	{ "node_disk_flush_requests_total",
	  "The total number of flush requests completed successfully", METRIC_COUNTER, 15, 1 },
	{ "node_disk_flush_requests_time_seconds_total",
	  "This is the total number of seconds spent by all flush requests.", METRIC_COUNTER, 16,
	  0.001 },
};

#define N_STAT_FAMILIES (sizeof stat_families / sizeof stat_families[0])

/* ---- init / fini ---- */

static void diskstats_fini(void *state)
{
	struct diskstats_state *s = state;
	if (!s)
		return;
	procfile_close(&s->file);
	devfilter_fini(&s->filter);
	dirents_free(&s->slaves);
	free(s->rows);
	free(s);
}

static int diskstats_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct diskstats_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = procfile_init(&s->file, env->procfs, "diskstats", err, errlen);
	if (rc == 0)
		rc = devfilter_init(&s->filter, env, err, errlen);
	if (rc) {
		procfile_close(&s->file);
		free(s);
		return rc;
	}
	s->udev_dir = env->udev_data && env->udev_data[0] ? env->udev_data : NULL;
	s->sysfs = env->sysfs;
	*state = s;
	return 0;
}

/* ---- udev ---- */

static void udev_store(struct disk_row *row, const char *line, size_t n)
{
	const char *eq = memchr(line, '=', n);
	if (n < 2 || line[0] != 'E' || line[1] != ':' || !eq)
		return;
	const char *key = line + 2;
	size_t klen = (size_t)(eq - key), vlen = (size_t)(line + n - eq - 1);
	for (int i = 0; i < N_UDEV; i++) {
		if (!word_is(key, klen, udev_keys[i]))
			continue;
		if (vlen < UDEV_VALUE_MAX) {
			memcpy(row->udev[i], eq + 1, vlen);
			row->udev[i][vlen] = '\0';
		}
		return;
	}
}

/* Fills row->udev from the device's udev database entry; absent, all stay "". */
static void udev_read(struct diskstats_state *s, struct disk_row *row)
{
	char path[PATH_MAX];

	memset(row->udev, 0, sizeof row->udev);
	if (!s->udev_dir)
		return;
	int n = snprintf(path, sizeof path, "%s/b%s:%s", s->udev_dir, row->major, row->minor);
	if (n < 0 || (size_t)n >= sizeof path)
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t len = pread(fd, s->udevbuf, sizeof s->udevbuf, 0);
	close(fd);
	if (len <= 0)
		return;
	struct scan text = scan_text(s->udevbuf, (size_t)len), line;
	while (scan_line(&text, &line))
		udev_store(row, line.p, (size_t)(line.end - line.p));
}

/* "1" for a spinning disk; "0" also when the device has no queue (partitions). */
static void read_rotational(const struct diskstats_state *s, struct disk_row *row)
{
	char path[PATH_MAX], text[8];
	row->rotational[0] = '0';
	row->rotational[1] = '\0';
	if (path_fmt(path, sizeof path, "%s/block/%s/queue/rotational", s->sysfs, row->name) == 0 &&
	    sysfile_text(path, text, sizeof text) == 1 && text[0] == '1')
		row->rotational[0] = '1';
}

/* node_exporter's serial: the one printed on the disk label when udev has it. */
static const char *disk_serial(const struct disk_row *row)
{
	if (row->udev[U_SCSI_SERIAL][0])
		return row->udev[U_SCSI_SERIAL];
	if (row->udev[U_SERIAL_SHORT][0])
		return row->udev[U_SERIAL_SHORT];
	return row->udev[U_SERIAL]; /* virtio disks have only this one */
}

/* ---- /proc/diskstats ---- */

static int rows_grow(struct diskstats_state *s, char *err, size_t errlen)
{
	size_t cap = s->cap ? s->cap * 2 : 8;
	struct disk_row *rows = realloc(s->rows, cap * sizeof *rows);
	if (!rows) {
		snprintf(err, errlen, "out of memory for %zu block devices", cap);
		return -ENOMEM;
	}
	s->rows = rows;
	s->cap = cap;
	return 0;
}

static bool copy_word(char *dst, size_t cap, const char *w, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, w, n);
	dst[n] = '\0';
	return true;
}

/* "   8  0 sda 1 2 3 ..." into row; false for anything else. */
static bool disk_parse_line(struct scan line, struct disk_row *row)
{
	const char *w;
	size_t n;
	uint64_t num;

	if (!scan_word(&line, &w, &n) || !parse_u64(w, n, &num) ||
	    !copy_word(row->major, sizeof row->major, w, n))
		return false;
	if (!scan_word(&line, &w, &n) || !parse_u64(w, n, &num) ||
	    !copy_word(row->minor, sizeof row->minor, w, n))
		return false;
	if (!scan_word(&line, &w, &n) || !copy_word(row->name, sizeof row->name, w, n))
		return false;
	row->n_fields = 0;
	while (row->n_fields < DISK_FIELDS_MAX && scan_word(&line, &w, &n)) {
		if (!parse_u64(w, n, &row->f[row->n_fields]))
			return false;
		row->n_fields++;
	}
	return row->n_fields >= DISK_FIELDS_MIN;
}

static int disk_parse(struct diskstats_state *s, char *err, size_t errlen)
{
	struct scan text = scan_text(s->file.buf, s->file.len), line;

	s->n_rows = 0;
	while (scan_line(&text, &line)) {
		if (s->n_rows == s->cap) {
			int rc = rows_grow(s, err, errlen);
			if (rc)
				return rc;
		}
		struct disk_row *row = &s->rows[s->n_rows];
		if (!disk_parse_line(line, row) ||
		    devfilter_ignored(&s->filter, row->name, strlen(row->name)))
			continue;
		udev_read(s, row);
		read_rotational(s, row);
		s->n_rows++;
	}
	return 0;
}

/* ---- emitting ---- */

/* Starts the family on its first series; a duplicate device line or a label
 * value that is not UTF-8 only loses that series. */
static int family_add(struct batch *b, const char *name, const char *help, enum metric_type type,
		      bool *started, const char *const *names, const char *const *values, size_t n,
		      double v, char *err, size_t errlen)
{
	if (!*started) {
		int rc = batch_family(b, name, help, type, err, errlen);
		if (rc)
			return rc;
		*started = true;
	}
	int rc = batch_add(b, names, values, n, v, err, errlen);
	return rc == -EEXIST || rc == -EINVAL ? 0 : rc;
}

static int emit_stats(const struct diskstats_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device" };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < N_STAT_FAMILIES; i++) {
		const struct disk_family *f = &stat_families[i];
		bool started = false;
		for (size_t r = 0; rc == 0 && r < s->n_rows; r++) {
			const struct disk_row *row = &s->rows[r];
			const char *values[] = { row->name };
			if ((size_t)f->col >= row->n_fields)
				continue;
			rc = family_add(b, f->name, f->help, f->type, &started, names, values, 1,
					(double)row->f[f->col] * f->scale, err, errlen);
		}
	}
	return rc;
}

static int emit_info(const struct diskstats_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device",   "major",      "minor",  "model", "path",
					     "revision", "rotational", "serial", "wwn" };
	bool started = false;
	int rc = 0;

	for (size_t r = 0; rc == 0 && r < s->n_rows; r++) {
		const struct disk_row *row = &s->rows[r];
		const char *values[] = { row->name,         row->major,
					 row->minor,        row->udev[U_MODEL],
					 row->udev[U_PATH], row->udev[U_REVISION],
					 row->rotational,   disk_serial(row),
					 row->udev[U_WWN] };
		rc = family_add(b, "node_disk_info", "Info of /sys/block/<block_device>.",
				METRIC_GAUGE, &started, names, values, 9, 1, err, errlen);
	}
	return rc;
}

static int emit_fs_info(const struct diskstats_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device", "type", "usage", "uuid", "version" };
	bool started = false;
	int rc = 0;

	for (size_t r = 0; rc == 0 && r < s->n_rows; r++) {
		const struct disk_row *row = &s->rows[r];
		const char *values[] = { row->name, row->udev[U_FS_TYPE], row->udev[U_FS_USAGE],
					 row->udev[U_FS_UUID], row->udev[U_FS_VERSION] };
		if (row->udev[U_FS_TYPE][0] == '\0')
			continue;
		rc = family_add(b, "node_disk_filesystem_info", "Info about disk filesystem.",
				METRIC_GAUGE, &started, names, values, 5, 1, err, errlen);
	}
	return rc;
}

static int emit_dm_info(const struct diskstats_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device", "lv_layer", "lv_name",
					     "name",   "uuid",     "vg_name" };
	bool started = false;
	int rc = 0;

	for (size_t r = 0; rc == 0 && r < s->n_rows; r++) {
		const struct disk_row *row = &s->rows[r];
		const char *values[] = { row->name,
					 row->udev[U_DM_LAYER],
					 row->udev[U_DM_LV],
					 row->udev[U_DM_NAME],
					 row->udev[U_DM_UUID],
					 row->udev[U_DM_VG] };
		if (row->udev[U_DM_NAME][0] == '\0')
			continue;
		rc = family_add(b, "node_disk_device_mapper_info", "Info about disk device mapper.",
				METRIC_GAUGE, &started, names, values, 6, 1, err, errlen);
	}
	return rc;
}

/* The devices a device-mapper device is built on: SYSFS/block/<device>/slaves/. */
static int emit_dm_backing(struct diskstats_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "backing_device", "device" };
	bool started = false;
	char path[PATH_MAX];
	int rc = 0;

	for (size_t r = 0; rc == 0 && r < s->n_rows; r++) {
		const struct disk_row *row = &s->rows[r];
		if (row->udev[U_DM_NAME][0] == '\0' ||
		    path_fmt(path, sizeof path, "%s/block/%s/slaves", s->sysfs, row->name) < 0 ||
		    dirents_read(&s->slaves, path, NULL) < 0)
			continue;
		for (size_t i = 0; rc == 0 && i < s->slaves.n; i++) {
			const char *values[] = { dirents_name(&s->slaves, i), row->name };
			rc =
			    family_add(b, "node_disk_device_mapper_backing_device_info",
				       "Info about the underlying block devices of a device mapper "
				       "device.",
				       METRIC_GAUGE, &started, names, values, 2, 1, err, errlen);
		}
	}
	return rc;
}

static int emit_ata(const struct diskstats_state *s, struct batch *b, char *err, size_t errlen)
{
	static const struct {
		const char *name, *help;
		enum udev_prop prop;
	} fams[] = {
		{ "node_disk_ata_write_cache", "ATA disk has a write cache.", U_ATA_WC },
		{ "node_disk_ata_write_cache_enabled", "ATA disk has its write cache enabled.",
		  U_ATA_WCE },
		{ "node_disk_ata_rotation_rate_rpm", "ATA disk rotation rate in RPMs (0 for SSDs).",
		  U_ATA_RPM },
	};
	static const char *const names[] = { "device" };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof fams / sizeof fams[0]; i++) {
		bool started = false;
		for (size_t r = 0; rc == 0 && r < s->n_rows; r++) {
			const struct disk_row *row = &s->rows[r];
			const char *str = row->udev[fams[i].prop];
			const char *values[] = { row->name };
			double v;
			if (row->udev[U_ATA][0] == '\0' || !parse_double(str, strlen(str), &v))
				continue;
			rc = family_add(b, fams[i].name, fams[i].help, METRIC_GAUGE, &started,
					names, values, 1, v, err, errlen);
		}
	}
	return rc;
}

static int diskstats_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct diskstats_state *s = state;

	int rc = procfile_read(&s->file, err, errlen);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0)
		rc = disk_parse(s, err, errlen);
	if (rc == 0)
		rc = emit_info(s, b, err, errlen);
	if (rc == 0)
		rc = emit_fs_info(s, b, err, errlen);
	if (rc == 0)
		rc = emit_dm_info(s, b, err, errlen);
	if (rc == 0)
		rc = emit_dm_backing(s, b, err, errlen);
	if (rc == 0)
		rc = emit_ata(s, b, err, errlen);
	if (rc == 0)
		rc = emit_stats(s, b, err, errlen);
	return rc;
}

const struct collector_ops collector_diskstats_ops = {
	.init = diskstats_init,
	.collect = diskstats_collect,
	.fini = diskstats_fini,
};
