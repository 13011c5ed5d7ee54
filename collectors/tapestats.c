/*
 * tapestats - I/O statistics of SCSI tape drives from
 * SYSFS/class/scsi_tape/st<N>/stats/, as node_exporter's tapestats collector
 * reports them (nanoseconds as seconds).  Only the st<N> devices are read: the
 * nst<N>, st<N>a, st<N>l... nodes are other views of the same drive.  Drives
 * whose name matches --collector.tapestats.ignored-devices are skipped.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "dirents.h"
#include "filter.h"
#include "scan.h"
#include "valtable.h"

struct tape_attr {
	const char *file;
	double scale;
};

static const struct tape_attr tape_attrs[] = {
	{ "in_flight", 1 },  { "io_ns", 1e-9 },       { "other_cnt", 1 }, { "read_byte_cnt", 1 },
	{ "read_ns", 1e-9 }, { "read_cnt", 1 },       { "resid_cnt", 1 }, { "write_ns", 1e-9 },
	{ "write_cnt", 1 },  { "write_byte_cnt", 1 },
};
#define N_ATTRS (sizeof tape_attrs / sizeof tape_attrs[0])

static const struct valtable_col tape_cols[N_ATTRS] = {
	{ "node_tape_io_now", "The number of I/Os currently outstanding to this device.",
	  METRIC_GAUGE, 0 },
	{ "node_tape_io_time_seconds_total",
	  "The amount of time spent waiting for all I/O to complete (including read and write). "
	  "This includes tape movement commands such as seeking between file or set marks and "
	  "implicit tape movement such as when rewind on close tape devices are used.",
	  METRIC_COUNTER, 0 },
	{ "node_tape_io_others_total",
	  "The number of I/Os issued to the tape drive other than read or write commands. The "
	  "time taken to complete these commands uses the following calculation "
	  "io_time_seconds_total-read_time_seconds_total-write_time_seconds_total",
	  METRIC_COUNTER, 0 },
	{ "node_tape_read_bytes_total", "The number of bytes read from the tape drive.",
	  METRIC_COUNTER, 0 },
	{ "node_tape_read_time_seconds_total",
	  "The amount of time spent waiting for read requests to complete.", METRIC_COUNTER, 0 },
	{ "node_tape_reads_completed_total",
	  "The number of read requests issued to the tape drive.", METRIC_COUNTER, 0 },
	{ "node_tape_residual_total",
	  "The number of times during a read or write we found the residual amount to be "
	  "non-zero. This should mean that a program is issuing a read larger than the block "
	  "size on tape. For write not all data made it to tape.",
	  METRIC_COUNTER, 0 },
	{ "node_tape_write_time_seconds_total",
	  "The amount of time spent waiting for write requests to complete.", METRIC_COUNTER, 0 },
	{ "node_tape_writes_completed_total",
	  "The number of write requests issued to the tape drive.", METRIC_COUNTER, 0 },
	{ "node_tape_written_bytes_total", "The number of bytes written to the tape drive.",
	  METRIC_COUNTER, 0 },
};

struct tape_state {
	char root[PATH_MAX];
	struct optregex ignored;
	struct dirents drives;
	struct valtable table;
};

static void tape_fini(void *state)
{
	struct tape_state *s = state;
	if (!s)
		return;
	optregex_fini(&s->ignored);
	dirents_free(&s->drives);
	valtable_free(&s->table);
	free(s);
}

static int tape_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct tape_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	int rc = optregex_init(&s->ignored, env, "ignored-devices", err, errlen);
	if (rc == 0 && path_fmt(s->root, sizeof s->root, "%s/class/scsi_tape", env->sysfs)) {
		snprintf(err, errlen, "path %s/class/scsi_tape is too long", env->sysfs);
		rc = -ENAMETOOLONG;
	}
	if (rc) {
		tape_fini(s);
		return rc;
	}
	valtable_init(&s->table, N_ATTRS);
	*state = s;
	return 0;
}

/* "st0", "st12": the drives themselves. */
static bool is_drive(const char *name)
{
	uint64_t n;
	return strncmp(name, "st", 2) == 0 && parse_u64(name + 2, strlen(name + 2), &n);
}

static int tape_read_drive(struct tape_state *s, const char *drive)
{
	char path[PATH_MAX];
	if (optregex_match(&s->ignored, drive, strlen(drive)))
		return 0;
	const char *labels[] = { drive };
	int row = valtable_row(&s->table, labels, 1);
	if (row < 0)
		return row == -ENOMEM ? row : 0;
	for (size_t i = 0; i < N_ATTRS; i++) {
		uint64_t v;
		if (path_fmt(path, sizeof path, "%s/%s/stats/%s", s->root, drive,
			     tape_attrs[i].file) == 0 &&
		    sysfile_u64(path, &v) == 0)
			valtable_set(&s->table, (size_t)row, i, (double)v * tape_attrs[i].scale);
	}
	return 0;
}

static int tape_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device" };
	struct tape_state *s = state;

	valtable_reset(&s->table);
	int rc = dirents_read(&s->drives, s->root, is_drive);
	if (rc == -ENOENT)
		return 0;
	for (size_t i = 0; rc == 0 && i < s->drives.n; i++)
		rc = tape_read_drive(s, dirents_name(&s->drives, i));
	if (rc) {
		snprintf(err, errlen, "reading %s: %s", s->root, strerror(-rc));
		return rc;
	}
	return valtable_emit(&s->table, tape_cols, names, 1, b, err, errlen);
}

const struct collector_ops collector_tapestats_ops = {
	.init = tape_init,
	.collect = tape_collect,
	.fini = tape_fini,
};
