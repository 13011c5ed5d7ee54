/*
 * dirents.h - the sorted names of a directory, read without allocating once the
 * buffers are big enough, and small sysfs files read whole.
 *
 * The collectors that walk sysfs (one directory per device, pool or array)
 * enumerate those directories every cycle, so devices that come and go are seen.
 * opendir() would allocate a DIR each time; here the names are read with
 * getdents64 into buffers owned by the caller, which only grow, and sorted with
 * strcmp so the series come out in a stable order (node_exporter's order too).
 */
#ifndef SHMETRICS_DIRENTS_H
#define SHMETRICS_DIRENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dirents {
	char *names; /* the names, each NUL-terminated */
	size_t len, cap;
	size_t *offs; /* offset of each kept name in names, sorted by name */
	size_t n, offcap;
};

/*
 * Lists dir, keeping the names for which keep() is true (every name but "." and
 * ".." when keep is NULL).  Returns 0; -ENOENT when dir (or a directory above it)
 * does not exist or is not a directory; -ENOMEM; or another -errno of open or
 * getdents64.  After an error d holds no names.
 */
int dirents_read(struct dirents *d, const char *dir, bool (*keep)(const char *name));

/* The i-th name (i < d->n). */
const char *dirents_name(const struct dirents *d, size_t i);

void dirents_free(struct dirents *d);

/*
 * Reads the small file path (a sysfs attribute) into buf, NUL-terminated, without
 * its trailing newlines and blanks.  Returns the length; -ENOENT when it does not
 * exist; -EMSGSIZE when it does not fit in cap - 1 bytes; another -errno when it
 * cannot be read (sysfs gives EINVAL, EIO or ENODATA for values it cannot give).
 */
long sysfile_text(const char *path, char *buf, size_t cap);

/*
 * Reads the file path whole into *buf, which is grown (never shrunk) as needed and
 * owned by the caller, NUL-terminated.  Returns the length, -ENOENT, -ENOMEM or
 * another -errno.
 */
long sysfile_slurp(const char *path, char **buf, size_t *cap);

/* Reads path as one unsigned decimal number.  0, -ENOENT, -EPROTO or -errno. */
int sysfile_u64(const char *path, uint64_t *out);

/* snprintf into out, with -ENAMETOOLONG instead of a truncated path. */
int path_fmt(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
