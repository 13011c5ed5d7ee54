/*
 * fuzz_segment - libFuzzer harness: the whole reader path on a hostile segment.
 *
 * The input becomes the complete contents of a shared-memory object (header,
 * latch copies and all), which is then opened and snapshotted the way the
 * exporter does.  A refusal is fine; a crash, a hang, an out-of-bounds read or a
 * leak is a bug.  Inputs shorter than a header are padded with zeroes so that
 * the header checks see every size.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char name[64];

static int write_object(const uint8_t *data, size_t size)
{
	int fd = shm_open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int rc = 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		rc = -1;
	close(fd);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seg_reader *r;
	struct metrics_view v;
	struct seg_info info;
	char err[512];

	if (name[0] == '\0')
		snprintf(name, sizeof name, "/shmetrics.fuzz%d.segment", (int)getpid());
	if (size > 64 * 1024 * 1024 || write_object(data, size) < 0)
		return 0;
	if (seg_reader_open(&r, name, err, sizeof err) == 0) {
		seg_reader_snapshot(r, &v, &info, err, sizeof err);
		seg_reader_snapshot(r, &v, &info, err, sizeof err);
		seg_reader_close(r);
	}
	shm_unlink(name);
	return 0;
}
