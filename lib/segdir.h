/*
 * segdir.h - where segments live: one private directory per agent instance.
 *
 * Contract
 * --------
 * Segments are regular files in BASE/INSTANCE/, named COLLECTOR.seg.  BASE is
 * the agent's "segments.directory" (docs/security.md): by default
 * $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=), else /run/shmetrics when
 * the agent runs as root, else $XDG_RUNTIME_DIR/shmetrics, else
 * /tmp/shmetrics-UID.
 *
 * Nothing here trusts a name in a directory that someone else could write.
 * The instance directory is *trusted* when no one but its owner (or root)
 * could have created or replaced anything on the way to it: each directory of
 * its real path is owned by root or by that owner and is not writable by group
 * or others -- except a sticky directory such as /tmp, whose entry on the path
 * must then belong to root or to the calling process's user.  The instance
 * directory itself is mode 0751 at most: group and others may reach a file by
 * name (the file's own mode decides), never add one.
 *
 * Every file is opened relative to the directory's descriptor with
 * O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC and then checked with fstat: a regular file
 * owned by the directory's owner, or a clear error at once -- never a hang on
 * a FIFO, never a symbolic link followed.
 *
 * Errors: 0 or a negative errno, with a message in the caller's buffer that
 * names the path and what is wrong.  Nothing here logs.
 */
#ifndef SHMETRICS_SEGDIR_H
#define SHMETRICS_SEGDIR_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define SEGDIR_SUFFIX ".seg"
/* Readers that are not given a directory look here first (tools, libraries). */
#define SEGDIR_ENV    "SHMETRICS_SEGMENTS_DIR"

struct segdir {
	int fd;              /* the instance directory, O_PATH-free: usable with openat */
	uid_t owner;         /* its owner: every segment must belong to this user */
	char path[PATH_MAX]; /* BASE/INSTANCE, for messages */
};

/* The base directory an agent uses when none is configured (see above). */
int segdir_default_base(char *out, size_t outlen, char *err, size_t errlen);

/*
 * The base directory a reader or an attaching library uses when none is given:
 * $SHMETRICS_SEGMENTS_DIR, else the first of /run/shmetrics,
 * $XDG_RUNTIME_DIR/shmetrics and /tmp/shmetrics-UID that holds INSTANCE.
 */
int segdir_find_base(const char *instance, char *out, size_t outlen, char *err, size_t errlen);

/*
 * For the agent: creates BASE (0755) and BASE/INSTANCE (mode, at most 0751,
 * group gid unless (gid_t)-1) when missing, checks that both are trusted and
 * owned by this process's user, and opens the instance directory.
 */
int segdir_create(struct segdir *d, const char *base, const char *instance, mode_t mode, gid_t gid,
		  char *err, size_t errlen);

/*
 * For readers and writers: opens BASE/INSTANCE after checking that its path is
 * trusted.  expected_owner: the user the directory must belong to, or
 * (uid_t)-1 to accept any owner that the path check trusts.
 */
int segdir_open(struct segdir *d, const char *base, const char *instance, uid_t expected_owner,
		char *err, size_t errlen);

/* Closes d (a closed or zeroed-then-failed d is fine). */
void segdir_close(struct segdir *d);

/* Removes the instance directory if it is empty (the agent, at exit). */
void segdir_remove_if_empty(const struct segdir *d, const char *base, const char *instance);

/* "COLLECTOR.seg"; -EINVAL when collector is not a valid collector name. */
int segdir_file_name(char *out, size_t outlen, const char *collector, char *err, size_t errlen);

/*
 * Opens the segment of collector in d: openat with flags plus
 * O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC, then checks that it is a regular file owned
 * by d->owner.  Returns the descriptor (st filled when not NULL), -ENOENT when
 * there is none, or another negative errno with the reason.
 */
int segdir_open_segment(const struct segdir *d, const char *collector, int flags, struct stat *st,
			char *err, size_t errlen);

/*
 * Checks an open descriptor the same way (regular file, owner when owner is
 * not (uid_t)-1): for descriptors received rather than opened.
 */
int segdir_check_fd(int fd, uid_t owner, const char *what, struct stat *st, char *err,
		    size_t errlen);

#endif
