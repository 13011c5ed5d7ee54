#include "procfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan.h"

#define PROCFILE_FIRST_CAP 4096
#define PROCFILE_MAX_CAP   (64u << 20) /* no kernel file we read comes near this */

int procfile_init(struct procfile *f, const char *root, const char *rel, char *err, size_t errlen)
{
	memset(f, 0, sizeof *f);
	f->fd = -1;
	int n = snprintf(f->path, sizeof f->path, "%s/%s", root, rel);
	if (n < 0 || (size_t)n >= sizeof f->path) {
		snprintf(err, errlen, "path %s/%s is too long", root, rel);
		return -ENAMETOOLONG;
	}
	return 0;
}

static bool is_missing(int e)
{
	return e == ENOENT || e == ENOTDIR;
}

static int procfile_fail(struct procfile *f, const char *call, int e, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s(\"%s\") failed: %s", call, f->path, strerror(e));
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	return -e;
}

static int procfile_grow(struct procfile *f, char *err, size_t errlen)
{
	size_t cap = f->cap ? f->cap * 2 : PROCFILE_FIRST_CAP;
	if (cap > PROCFILE_MAX_CAP)
		return procfile_fail(f, "read", EFBIG, err, errlen);
	char *nb = realloc(f->buf, cap);
	if (!nb)
		return procfile_fail(f, "realloc", ENOMEM, err, errlen);
	f->buf = nb;
	f->cap = cap;
	return 0;
}

int procfile_read(struct procfile *f, char *err, size_t errlen)
{
	if (f->fd < 0) {
		f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
		if (f->fd < 0) {
			int e = errno;
			if (is_missing(e))
				return -ENOENT;
			return procfile_fail(f, "open", e, err, errlen);
		}
	}
	size_t off = 0;
	for (;;) {
		/* Keep one byte for the terminating NUL. */
		if (f->cap == 0 || off + 1 >= f->cap) {
			int rc = procfile_grow(f, err, errlen);
			if (rc)
				return rc;
		}
		ssize_t n = pread(f->fd, f->buf + off, f->cap - 1 - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return procfile_fail(f, "pread", errno, err, errlen);
		if (n == 0)
			break;
		off += (size_t)n;
	}
	f->buf[off] = '\0';
	f->len = off;
	return 0;
}

void procfile_close(struct procfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->buf);
	f->buf = NULL;
	f->len = f->cap = 0;
}

int procfile_new(void **state, const char *root, const char *rel, char *err, size_t errlen)
{
	struct procfile *f = malloc(sizeof *f);
	if (!f)
		return -ENOMEM;
	int rc = procfile_init(f, root, rel, err, errlen);
	if (rc) {
		free(f);
		return rc;
	}
	*state = f;
	return 0;
}

void procfile_free(void *state)
{
	if (!state)
		return;
	procfile_close(state);
	free(state);
}

int read_u64_file(const char *path, unsigned long long *out)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return is_missing(errno) ? -ENOENT : -errno;
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	size_t len = (size_t)n;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	uint64_t v;
	if (!parse_u64(buf, len, &v))
		return -EPROTO;
	*out = v;
	return 0;
}
