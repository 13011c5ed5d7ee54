/*
 * mountinfo.h - the lines of /proc/<pid>/mountinfo (proc(5)), cut up in place:
 *
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   id parent major:minor root mountpoint options [optional...] - fstype source super
 *
 * Shared by the filesystem collector and the btrfs collector (which finds its
 * mount points there, as node_exporter does).
 */
#ifndef SHMETRICS_MOUNTINFO_H
#define SHMETRICS_MOUNTINFO_H

#include <stdbool.h>

#include "scan.h"

struct mountinfo {
	char *devno; /* "major:minor" */
	char *mountpoint, *options, *fstype, *source, *super_options;
};

/*
 * Splits line into m; the fields become NUL-terminated strings inside line's
 * buffer, which must be writable and is changed.  False for a line of another
 * shape (too few fields, no "-" separator).
 */
bool mountinfo_parse(struct scan line, struct mountinfo *m);

/* Undoes the kernel's octal escapes of space and tab in place, the two
 * node_exporter undoes (fstab(5)); others stay as written. */
void mountinfo_unescape(char *path);

#endif
