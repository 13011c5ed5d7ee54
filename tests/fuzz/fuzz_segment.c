/*
 * fuzz_segment - libFuzzer harness: the whole reader path on a hostile segment.
 *
 * The input becomes the complete contents of a segment file (header, latch
 * copies and all) in a private segment directory, which is then opened the two
 * ways a reader opens one -- by name through the directory (O_NOFOLLOW,
 * O_NONBLOCK, fstat checks, the reader's own size and header limits) and
 * through a descriptor -- and snapshotted the way the exporter does.  A refusal
 * is fine; a crash, a hang, an out-of-bounds read or a leak is a bug.  Inputs
 * shorter than a header are padded with zeroes so that the header checks see
 * every size.
 */
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "segdir.h"
#include "segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct segdir dir = { .fd = -1 };
static struct seg_read_limits limits;

/* /tmp/shmetrics-fuzzPID/f: tests/fuzz/run.sh removes it after the run. */
static void make_dir(void)
{
	char base[64], err[PATH_MAX + 400];

	snprintf(base, sizeof base, "/tmp/shmetrics-fuzz%d", (int)getpid());
	if (segdir_create(&dir, base, "f", 0751, (gid_t)-1, err, sizeof err) < 0) {
		fprintf(stderr, "fuzz_segment: %s\n", err);
		exit(1);
	}
	seg_read_limits_for(100000, &limits);
}

static int write_segment(const uint8_t *data, size_t size)
{
	int fd = openat(dir.fd, "s.seg", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int rc = 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		rc = -1;
	close(fd);
	return rc;
}

static void read_twice(struct seg_reader *r)
{
	struct metrics_view v;
	struct seg_info info;
	char err[PATH_MAX + 400];

	seg_reader_snapshot(r, &v, &info, err, sizeof err);
	seg_reader_unchanged(r);
	seg_reader_snapshot(r, &v, &info, err, sizeof err);
	seg_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seg_reader *r;
	char err[PATH_MAX + 400];

	if (dir.fd < 0)
		make_dir();
	if (size > 64 * 1024 * 1024 || write_segment(data, size) < 0)
		return 0;
	if (seg_reader_open(&r, &dir, "s", &limits, err, sizeof err) == 0)
		read_twice(r);
	int fd = openat(dir.fd, "s.seg", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 &&
	    seg_reader_open_fd(&r, fd, "the fuzzed segment", &limits, err, sizeof err) == 0)
		read_twice(r);
	if (fd >= 0)
		close(fd);
	unlinkat(dir.fd, "s.seg", 0);
	return 0;
}
