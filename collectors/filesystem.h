/*
 * filesystem.h - the one seam of the filesystem collector: the call that asks a
 * mount for its sizes.  The collector runs it on a worker thread under a deadline
 * (--collector.filesystem.mount-timeout); a test replaces it to simulate a mount
 * that hangs, as a dead NFS server makes statfs(2) do.
 */
#ifndef SHMETRICS_FILESYSTEM_H
#define SHMETRICS_FILESYSTEM_H

#include <sys/vfs.h>

/* Fills out for the mount at path; 0 or a negative errno.  May block. */
typedef int (*filesystem_statfs_fn)(const char *path, struct statfs *out);

/* Replaces statfs(2) for the state made by the filesystem collector's init().
 * Call before the first collect. */
void filesystem_set_statfs(void *state, filesystem_statfs_fn fn);

#endif
