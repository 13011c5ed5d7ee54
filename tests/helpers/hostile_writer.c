/*
 * hostile_writer - what a writer with access to a segment file (an application
 * in an external collector's group, a plugin with its own descriptor) can do to
 * it, for tests/e2e_security.sh:
 *
 *   hostile_writer grow FILE N        declare limits for N series, size the file
 *                                     to match and publish N valid series
 *   hostile_writer junk FILE SECONDS  random bytes over the whole file, again
 *                                     and again, the sequence word moving
 *   hostile_writer shrink FILE SIZE   ftruncate it
 *
 * Every attack is "valid" from the writer's side: the point is that readers set
 * their own limits and survive whatever the file holds.  Exit 0 when the attack
 * was carried out (not when it did harm).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "segment.h"
#include "segment_layout.h"

static int die(const char *what, const char *why)
{
	fprintf(stderr, "hostile_writer: %s: %s\n", what, why);
	return 1;
}

/* Rewrites the header for n series, consistently, and sizes the file. */
static int declare(int fd, uint32_t n)
{
	struct batch_limits lim;
	struct seg_header h, big;

	segment_limits(n, &lim);
	lim.max_labels = n;              /* one label per series */
	lim.string_bytes = n * 8 + 4096; /* its values, "0" to "999999" */
	size_t size = seg_layout(&big, &lim);

	if (size == 0 || seg_header_pread(fd, &h) < 0)
		return -1;
	memcpy(h.limits, big.limits, sizeof h.limits);
	h.copy_offset[0] = big.copy_offset[0];
	h.copy_offset[1] = big.copy_offset[1];
	h.copy_capacity = big.copy_capacity;
	h.segment_size = size;
	h.writer = 0;
	if (ftruncate(fd, (off_t)size) < 0 || pwrite(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
		return -1;
	return 0;
}

static int grow(const char *path, uint32_t n)
{
	static const char *const names[] = { "i" };
	char err[PATH_MAX + 400], idx[16];
	struct seg_writer *w;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return die(path, strerror(errno));
	if (declare(fd, n) < 0)
		return die(path, "cannot rewrite the header");
	if (seg_writer_attach_fd(&w, fd, path, err, sizeof err) < 0)
		return die("attach", err);
	struct batch *b = batch_new(seg_writer_limits(w));
	if (!b || batch_family(b, "hostile_series", "Many.", METRIC_GAUGE, err, sizeof err) < 0)
		return die("batch", b ? err : "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		snprintf(idx, sizeof idx, "%u", i);
		const char *values[] = { idx };
		if (batch_add(b, names, values, 1, i, err, sizeof err) < 0)
			return die("batch_add", err);
	}
	batch_set_status(b, true, 1, NULL);
	if (seg_writer_publish(w, b, err, sizeof err) < 0)
		return die("publish", err);
	printf("published %u series into %s\n", n, path);
	fflush(stdout);
	pause(); /* stays the writer until killed */
	return 0;
}

static int junk(const char *path, double seconds)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	struct timespec t0, now;

	if (fd < 0 || fstat(fd, &st) < 0)
		return die(path, strerror(errno));
	unsigned char *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
				0);
	if (p == MAP_FAILED)
		return die("mmap", strerror(errno));
	srand((unsigned)getpid());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (size_t i = 0; i < 4096; i++)
			p[(size_t)rand() % (size_t)st.st_size] = (unsigned char)rand();
		p[offsetof(struct seg_header, seq)] += 2;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9 <
		 seconds);
	munmap(p, (size_t)st.st_size);
	close(fd);
	return 0;
}

static int shrink(const char *path, long size)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0 || ftruncate(fd, size) < 0)
		return die(path, strerror(errno));
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "grow") == 0)
		return grow(argv[2], (uint32_t)strtoul(argv[3], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "junk") == 0)
		return junk(argv[2], atof(argv[3]));
	if (argc == 4 && strcmp(argv[1], "shrink") == 0)
		return shrink(argv[2], atol(argv[3]));
	fprintf(stderr,
		"usage: hostile_writer grow FILE N | junk FILE SECONDS | shrink FILE SIZE\n");
	return 2;
}
