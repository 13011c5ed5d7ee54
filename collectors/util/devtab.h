/*
 * devtab.h - the devices of a sysfs class directory (/sys/class/net,
 * /sys/class/hwmon, ...), kept from one cycle to the next.
 *
 * Each cycle devtab_scan() lists the directory again (getdents64 into a buffer
 * the table owns, so no allocation) and compares it with what it had: an entry
 * that is new, or whose directory entry changed inode (the device was removed
 * and a new one took its name), is set up; one that is gone is torn down.
 * Setting up allocates the collector's per-device state once; a cycle in which
 * nothing changed allocates nothing.
 *
 * A collector's per-device struct starts with a struct dev_entry; entry_size is
 * the size of the whole struct, which is zeroed before setup.
 */
#ifndef SHMETRICS_DEVTAB_H
#define SHMETRICS_DEVTAB_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEV_NAME_MAX  64 /* longer names are skipped */
#define DEVTAB_DIRBUF 8192

struct dev_entry {
	char name[DEV_NAME_MAX];
	uint64_t ino;
	int dirfd; /* O_PATH descriptor of the device's directory (symlink followed) */
	bool seen;
};

struct devtab_ops {
	/* Whether a directory entry is one of the devices (d_type as in dirent). */
	bool (*want)(const char *name, unsigned char d_type, void *ctx);
	/* Prepares a new entry (name and dirfd set); -errno to skip it this cycle. */
	int (*setup)(struct dev_entry *e, void *ctx);
	/* Releases what setup acquired (not dirfd, not the entry itself). */
	void (*teardown)(struct dev_entry *e, void *ctx);
};

struct devtab {
	char path[PATH_MAX];
	int fd; /* the class directory, -1 while it does not exist */
	const struct devtab_ops *ops;
	void *ctx;
	size_t entry_size;
	struct dev_entry **entries; /* sorted by name */
	size_t n, cap;
	char dirbuf[DEVTAB_DIRBUF];
};

/* Sets t up for root/rel without touching the filesystem.  -ENAMETOOLONG. */
int devtab_init(struct devtab *t, const char *root, const char *rel, size_t entry_size,
		const struct devtab_ops *ops, void *ctx, char *err, size_t errlen);

/*
 * Brings the table up to date with the directory.  A directory that does not
 * exist empties the table and returns 0.  Returns -ENOMEM, or the -errno of a
 * directory that exists but cannot be listed, with a message in err.
 */
int devtab_scan(struct devtab *t, char *err, size_t errlen);

/* Tears every entry down and closes the directory. */
void devtab_fini(struct devtab *t);

#endif
