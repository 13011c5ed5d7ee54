/*
 * btrfs.h - the one seam of the btrfs collector: the ioctls that ask a mounted
 * btrfs filesystem for its member devices and their error counters
 * (BTRFS_IOC_FS_INFO, BTRFS_IOC_DEV_INFO, BTRFS_IOC_GET_DEV_STATS).  A test
 * replaces them, as fixture trees cannot answer ioctls.
 */
#ifndef SHMETRICS_BTRFS_H
#define SHMETRICS_BTRFS_H

#include <stddef.h>
#include <stdint.h>

#define BTRFS_DEVS_MAX   64 /* member devices read per filesystem */
#define BTRFS_ERR_TYPES  5  /* write, read, flush, corruption, generation */
#define BTRFS_PATH_BYTES 256

struct btrfs_dev_stats {
	char path[BTRFS_PATH_BYTES]; /* "/dev/sda2" */
	unsigned char uuid[16];
	uint64_t bytes_used, total_bytes;
	uint64_t errors[BTRFS_ERR_TYPES];
};

struct btrfs_fs_devices {
	unsigned char fsid[16];
	size_t n;
	struct btrfs_dev_stats dev[BTRFS_DEVS_MAX];
};

/* Asks the filesystem mounted at path; 0 or a negative errno.  May block. */
typedef int (*btrfs_devices_fn)(const char *path, struct btrfs_fs_devices *out);

/* Replaces the ioctls for the state made by the btrfs collector's init(). */
void btrfs_set_devices_fn(void *state, btrfs_devices_fn fn);

#endif
