/*
 * procfile.h - re-reading a kernel file cheaply, cycle after cycle.
 *
 * The file is opened on first use and kept open; each read is a pread from offset
 * 0 into a buffer the procfile owns, which grows only when the file got bigger.
 * In steady state a read costs one or two system calls and no allocation.
 */
#ifndef SHMETRICS_PROCFILE_H
#define SHMETRICS_PROCFILE_H

#include <limits.h>
#include <stddef.h>

struct procfile {
	int fd;     /* -1 while not open */
	char *buf;  /* the last contents read, NUL-terminated */
	size_t len; /* bytes in buf, excluding the NUL */
	size_t cap;
	char path[PATH_MAX];
};

/* Sets f up for root/rel without touching the filesystem.  -ENAMETOOLONG if the
 * path does not fit. */
int procfile_init(struct procfile *f, const char *root, const char *rel, char *err, size_t errlen);

/*
 * Reads the whole file into f->buf.  Returns 0; -ENOENT when the file (or a
 * directory above it) does not exist, which callers treat as "skip quietly";
 * another negative errno, with a message naming the call and path, when it exists
 * but cannot be read.  After an error the file is closed and reopened next time.
 */
int procfile_read(struct procfile *f, char *err, size_t errlen);

void procfile_close(struct procfile *f);

/*
 * For a collector whose whole state is one file: *state becomes a new procfile
 * for root/rel.  0, -ENOMEM, or procfile_init's error (with nothing allocated).
 * procfile_free closes and frees it (NULL is fine); both fit collector_ops.
 */
int procfile_new(void **state, const char *root, const char *rel, char *err, size_t errlen);
void procfile_free(void *state);

/* Reads a small file holding one unsigned decimal number (sysfs style) without
 * keeping it open.  Returns 0, -ENOENT, -EPROTO on garbage, or -errno. */
int read_u64_file(const char *path, unsigned long long *out);

#endif
