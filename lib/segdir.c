/* The private directory of an instance's segments (contract in segdir.h). */
#include "segdir.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "segment.h"

#define INSTANCE_DIR_MODE 0751
#define BASE_DIR_MODE     0711

__attribute__((format(printf, 4, 5))) static int fail(int rc, char *err, size_t errlen,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- default places ---- */

__attribute__((format(printf, 5, 6))) static int path_printf(char *out, size_t outlen, char *err,
							     size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < outlen)
		return 0;
	return fail(-ENAMETOOLONG, err, errlen, "segment directory path is too long");
}

/* The value of environment variable var when it is an absolute path, else NULL. */
static const char *abs_env(const char *var)
{
	const char *v = getenv(var);
	return v && v[0] == '/' ? v : NULL;
}

int segdir_default_base(char *out, size_t outlen, char *err, size_t errlen)
{
	const char *systemd = abs_env("RUNTIME_DIRECTORY"), *xdg = abs_env("XDG_RUNTIME_DIR");

	if (systemd)
		return path_printf(out, outlen, err, errlen, "%s", systemd);
	if (geteuid() == 0)
		return path_printf(out, outlen, err, errlen, "/run/shmetrics");
	if (xdg)
		return path_printf(out, outlen, err, errlen, "%s/shmetrics", xdg);
	return path_printf(out, outlen, err, errlen, "/tmp/shmetrics-%lu",
			   (unsigned long)geteuid());
}

static bool holds_instance(const char *base, const char *instance)
{
	char p[PATH_MAX];
	struct stat st;

	return snprintf(p, sizeof p, "%s/%s", base, instance) < (int)sizeof p &&
	       stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int segdir_find_base(const char *instance, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *given = abs_env(SEGDIR_ENV), *xdg = abs_env("XDG_RUNTIME_DIR");
	char cand[3][PATH_MAX];
	int n = 0;

	if (given)
		return path_printf(out, outlen, err, errlen, "%s", given);
	snprintf(cand[n++], PATH_MAX, "/run/shmetrics");
	if (xdg && snprintf(cand[n], PATH_MAX, "%s/shmetrics", xdg) < PATH_MAX)
		n++;
	snprintf(cand[n++], PATH_MAX, "/tmp/shmetrics-%lu", (unsigned long)geteuid());
	for (int i = 0; i < n; i++)
		if (holds_instance(cand[i], instance))
			return path_printf(out, outlen, err, errlen, "%s", cand[i]);
	return fail(-ENOENT, err, errlen,
		    "no segment directory of instance \"%s\" in /run/shmetrics, "
		    "$XDG_RUNTIME_DIR/shmetrics or /tmp/shmetrics-%lu; is the agent running?  Set "
		    "%s or --segments.directory to the agent's segments.directory",
		    instance, (unsigned long)geteuid(), SEGDIR_ENV);
}

/* ---- the trusted-path check ---- */

/* Why directory st (on the path at prefix) cannot be trusted, or NULL. */
static const char *untrusted_component(const struct stat *st, uid_t owner)
{
	if (!S_ISDIR(st->st_mode))
		return "is not a directory";
	if (st->st_uid != 0 && st->st_uid != owner)
		return "belongs to another user";
	return NULL;
}

/*
 * Walks the components of the real path from "/": each must be trusted; one
 * writable by group or others must be sticky, and its entry on the path must
 * then belong to root or to the caller.  Fills *last with the final stat.
 */
static int walk_trusted(const char *real, uid_t owner, struct stat *last, char *err, size_t errlen)
{
	char prefix[PATH_MAX];
	size_t len = strlen(real), end = 1;
	bool parent_shared = false;

	for (;;) {
		memcpy(prefix, real, end);
		prefix[end] = '\0';
		if (lstat(prefix, last) < 0)
			return fail(-errno, err, errlen, "cannot check %s: %s", prefix,
				    strerror(errno));
		const char *why = untrusted_component(last, owner);
		if (!why && parent_shared && last->st_uid != 0 && last->st_uid != geteuid())
			why = "sits in a shared directory and belongs to another user";
		if (why)
			return fail(-EPERM, err, errlen,
				    "%s %s, so others could replace what it holds", prefix, why);
		parent_shared = (last->st_mode & (S_IWGRP | S_IWOTH)) != 0;
		if (parent_shared && !(last->st_mode & S_ISVTX))
			return fail(-EPERM, err, errlen,
				    "%s is writable by group or others, so others could replace "
				    "what it holds",
				    prefix);
		if (end >= len)
			return 0;
		size_t start = end == 1 ? 1 : end + 1;
		end = start + strcspn(real + start, "/");
	}
}

/* The real path of base/instance, checked; its owner must be expected_owner
 * unless that is (uid_t)-1.  Fills st with the instance directory's stat. */
static int check_instance_path(const char *base, const char *instance, uid_t expected_owner,
			       struct stat *st, char *real, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof path, "%s/%s", base, instance) >= (int)sizeof path)
		return fail(-ENAMETOOLONG, err, errlen, "segment directory %s/%s: path too long",
			    base, instance);
	if (realpath(path, real) == NULL)
		return fail(-errno, err, errlen, "segment directory %s: %s", path, strerror(errno));
	if (stat(real, st) < 0)
		return fail(-errno, err, errlen, "segment directory %s: %s", real, strerror(errno));
	if (expected_owner != (uid_t)-1 && st->st_uid != expected_owner)
		return fail(-EPERM, err, errlen,
			    "segment directory %s belongs to another user; is another agent "
			    "running with this instance name?",
			    real);
	int rc = walk_trusted(real, st->st_uid, st, err, errlen);
	if (rc == 0 && (st->st_mode & (S_IWGRP | S_IWOTH)))
		return fail(
		    -EPERM, err, errlen,
		    "segment directory %s is writable by group or others; remove it or make "
		    "it 0751",
		    real);
	return rc;
}

/* ---- opening ---- */

static int open_checked_dir(struct segdir *d, const char *real, const struct stat *want, char *err,
			    size_t errlen)
{
	struct stat st;
	int fd = open(real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return fail(-errno, err, errlen, "open(\"%s\") failed: %s", real, strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_dev != want->st_dev || st.st_ino != want->st_ino) {
		close(fd);
		return fail(-EAGAIN, err, errlen,
			    "segment directory %s changed while it was checked", real);
	}
	d->fd = fd;
	d->owner = st.st_uid;
	snprintf(d->path, sizeof d->path, "%s", real);
	return 0;
}

int segdir_open(struct segdir *d, const char *base, const char *instance, uid_t expected_owner,
		char *err, size_t errlen)
{
	char real[PATH_MAX];
	struct stat st;

	d->fd = -1;
	if (!segment_part_valid(instance))
		return fail(-EINVAL, err, errlen, "invalid instance name \"%s\"", instance);
	int rc = check_instance_path(base, instance, expected_owner, &st, real, err, errlen);
	return rc < 0 ? rc : open_checked_dir(d, real, &st, err, errlen);
}

static int make_dir(const char *path, mode_t mode, char *err, size_t errlen)
{
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	return fail(-errno, err, errlen, "mkdir(\"%s\") failed: %s", path, strerror(errno));
}

/* A directory we just made gets exactly our mode and group (mkdir applied the umask). */
static int set_mode_and_group(struct segdir *d, mode_t mode, gid_t gid, char *err, size_t errlen)
{
	if (gid != (gid_t)-1 && fchown(d->fd, (uid_t)-1, gid) < 0)
		return fail(-errno, err, errlen, "fchown(\"%s\") failed: %s", d->path,
			    strerror(errno));
	if (fchmod(d->fd, mode) < 0)
		return fail(-errno, err, errlen, "fchmod(\"%s\") failed: %s", d->path,
			    strerror(errno));
	return 0;
}

/* The base must be trusted and ours (or root's) before anything is made in it:
 * a /tmp/shmetrics-UID that another user made first is refused, with why. */
static int check_base(const char *base, char *err, size_t errlen)
{
	char real[PATH_MAX];
	struct stat st;

	if (realpath(base, real) == NULL)
		return fail(-errno, err, errlen, "segment directory %s: %s", base, strerror(errno));
	if (stat(real, &st) < 0)
		return fail(-errno, err, errlen, "segment directory %s: %s", real, strerror(errno));
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return fail(-EPERM, err, errlen,
			    "segment directory %s belongs to another user; remove it, or give the "
			    "agent another segments.directory",
			    real);
	return walk_trusted(real, st.st_uid, &st, err, errlen);
}

int segdir_create(struct segdir *d, const char *base, const char *instance, mode_t mode, gid_t gid,
		  char *err, size_t errlen)
{
	char path[PATH_MAX];

	d->fd = -1;
	if (!segment_part_valid(instance))
		return fail(-EINVAL, err, errlen, "invalid instance name \"%s\"", instance);
	if (snprintf(path, sizeof path, "%s/%s", base, instance) >= (int)sizeof path)
		return fail(-ENAMETOOLONG, err, errlen, "segment directory %s/%s: path too long",
			    base, instance);
	int rc = make_dir(base, BASE_DIR_MODE, err, errlen);
	if (rc == 0)
		rc = check_base(base, err, errlen);
	if (rc == 0)
		rc = make_dir(path, mode & INSTANCE_DIR_MODE, err, errlen);
	if (rc == 0)
		rc = segdir_open(d, base, instance, geteuid(), err, errlen);
	if (rc == 0)
		rc = set_mode_and_group(d, mode & INSTANCE_DIR_MODE, gid, err, errlen);
	if (rc < 0)
		segdir_close(d);
	return rc;
}

void segdir_close(struct segdir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

void segdir_remove_if_empty(const struct segdir *d, const char *base, const char *instance)
{
	char path[PATH_MAX];

	(void)d;
	if (snprintf(path, sizeof path, "%s/%s", base, instance) < (int)sizeof path)
		rmdir(path); /* fails harmlessly when something is left in it */
}

int segdir_file_name(char *out, size_t outlen, const char *collector, char *err, size_t errlen)
{
	if (!segment_part_valid(collector))
		return fail(-EINVAL, err, errlen,
			    "invalid collector name \"%s\": 1 to 63 characters of [a-zA-Z0-9_-]",
			    collector);
	if (snprintf(out, outlen, "%s" SEGDIR_SUFFIX, collector) >= (int)outlen)
		return fail(-ENAMETOOLONG, err, errlen, "segment name of %s is too long",
			    collector);
	return 0;
}

int segdir_check_fd(int fd, uid_t owner, const char *what, struct stat *st, char *err,
		    size_t errlen)
{
	struct stat own;

	if (st == NULL)
		st = &own;
	if (fstat(fd, st) < 0)
		return fail(-errno, err, errlen, "fstat(%s) failed: %s", what, strerror(errno));
	if (!S_ISREG(st->st_mode))
		return fail(-EPROTO, err, errlen, "%s is not a regular file", what);
	if (owner != (uid_t)-1 && st->st_uid != owner)
		return fail(-EPERM, err, errlen,
			    "%s belongs to another user than its directory; refusing it", what);
	return 0;
}

int segdir_open_segment(const struct segdir *d, const char *collector, int flags, struct stat *st,
			char *err, size_t errlen)
{
	char name[SEGMENT_COLLECTOR_MAX + sizeof SEGDIR_SUFFIX], what[PATH_MAX + 80];
	int rc = segdir_file_name(name, sizeof name, collector, err, errlen);

	if (rc < 0)
		return rc;
	snprintf(what, sizeof what, "segment %s/%s", d->path, name);
	int fd = openat(d->fd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		return fail(-e, err, errlen, "%s: %s", what,
			    e == ELOOP ? "is a symbolic link; refusing it" : strerror(e));
	}
	rc = segdir_check_fd(fd, d->owner, what, st, err, errlen);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}
