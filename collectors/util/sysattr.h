/*
 * sysattr.h - sysfs attribute files kept open and re-read, for the collectors
 * that walk /sys/class/<something>/<device>/ (netclass, hwmon, thermal_zone,
 * cpufreq).
 *
 * sysfs produces an attribute's text afresh on every read from offset 0, so an
 * attribute opened once costs one pread per cycle.  A host with hundreds of
 * network devices would hold thousands of descriptors that way, so an fd_budget
 * bounds how many stay open; past it an attribute is opened, read and closed each
 * time (slower, never wrong).
 *
 * Directories are held as O_PATH descriptors and attributes opened relative to
 * them, so a path is never rebuilt per cycle.  Nothing here allocates or logs.
 */
#ifndef SHMETRICS_SYSATTR_H
#define SHMETRICS_SYSATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* sysfs attributes are at most a page; one more byte for the NUL. */
#define SYSATTR_MAX 4096

struct fd_budget {
	size_t open; /* attribute descriptors held open */
	size_t max;
};

/* Sets the budget to half the soft RLIMIT_NOFILE, keeping room for the rest of
 * the process (at least 16, at most 65536). */
void fd_budget_init(struct fd_budget *b);

struct sysattr {
	int fd;      /* >= 0 open; -1 closed */
	bool absent; /* not there when first looked for: not looked for again */
};

/* A closed attribute that will be opened on first read. */
void sysattr_init(struct sysattr *a);

/*
 * Reads attribute name (relative to dirfd, may contain '/') into buf of cap bytes,
 * NUL-terminated, with trailing newlines removed; *len gets the length.  Returns
 * 0; -ENOENT when the attribute does not exist (then remembered as absent, until
 * sysattr_init); -EMSGSIZE when it does not fit; or the -errno of open or pread
 * (sysfs answers EINVAL, ENODATA or EOPNOTSUPP for a value it cannot give now,
 * such as the carrier of a device that is down).  Callers skip the attribute on
 * any error.
 */
int sysattr_read(struct sysattr *a, int dirfd, const char *name, char *buf, size_t cap, size_t *len,
		 struct fd_budget *b);

/* Closes a's descriptor if open (idempotent). */
void sysattr_close(struct sysattr *a, struct fd_budget *b);

/* Opens dir (relative to atfd, or absolute) as an O_PATH directory descriptor;
 * -errno on failure. */
int sysdir_open(int atfd, const char *dir);

/* The text parsed as a signed decimal integer, or hexadecimal with a 0x prefix
 * (sysfs writes flags that way); false on anything else. */
bool sysattr_parse_i64(const char *s, size_t n, int64_t *out);

#endif
