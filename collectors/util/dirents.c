#include "dirents.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan.h"

/* The layout getdents64 fills (struct linux_dirent64 in getdents(2)). */
struct dent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static bool is_missing(int e)
{
	return e == ENOENT || e == ENOTDIR;
}

static int dirents_keep(struct dirents *d, const char *name)
{
	size_t n = strlen(name) + 1;
	if (d->len + n > d->cap) {
		size_t cap = d->cap ? d->cap : 1024;
		while (cap < d->len + n)
			cap *= 2;
		char *p = realloc(d->names, cap);
		if (!p)
			return -ENOMEM;
		d->names = p;
		d->cap = cap;
	}
	if (d->n == d->offcap) {
		size_t cap = d->offcap ? d->offcap * 2 : 32;
		size_t *p = realloc(d->offs, cap * sizeof *p);
		if (!p)
			return -ENOMEM;
		d->offs = p;
		d->offcap = cap;
	}
	memcpy(d->names + d->len, name, n);
	d->offs[d->n++] = d->len;
	d->len += n;
	return 0;
}

/* Shell sort of the offsets by name: in place, as qsort may allocate for large
 * arrays, and directories here are listed every cycle. */
static void dirents_sort(struct dirents *d)
{
	static const size_t gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
	for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
		size_t gap = gaps[g];
		for (size_t i = gap; i < d->n; i++) {
			size_t off = d->offs[i], j = i;
			for (; j >= gap && strcmp(d->names + d->offs[j - gap], d->names + off) > 0;
			     j -= gap)
				d->offs[j] = d->offs[j - gap];
			d->offs[j] = off;
		}
	}
}

/* Keeps the wanted names of one getdents64 result of n bytes. */
static int dirents_take(struct dirents *d, const char *buf, size_t n,
			bool (*keep)(const char *name))
{
	for (size_t pos = 0; pos + sizeof(struct dent64) <= n;) {
		const struct dent64 *e = (const struct dent64 *)(const void *)(buf + pos);
		if (e->reclen == 0)
			break;
		pos += e->reclen;
		if (strcmp(e->name, ".") == 0 || strcmp(e->name, "..") == 0)
			continue;
		if (keep && !keep(e->name))
			continue;
		int rc = dirents_keep(d, e->name);
		if (rc)
			return rc;
	}
	return 0;
}

int dirents_read(struct dirents *d, const char *dir, bool (*keep)(const char *name))
{
	_Alignas(struct dent64) char buf[8192];
	int rc = 0;

	d->n = d->len = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return is_missing(errno) ? -ENOENT : -errno;
	for (;;) {
		ssize_t got = getdents64(fd, buf, sizeof buf);
		if (got < 0)
			rc = -errno;
		if (got <= 0)
			break;
		rc = dirents_take(d, buf, (size_t)got, keep);
		if (rc)
			break;
	}
	close(fd);
	if (rc) {
		d->n = d->len = 0;
		return rc;
	}
	dirents_sort(d);
	return 0;
}

const char *dirents_name(const struct dirents *d, size_t i)
{
	return d->names + d->offs[i];
}

void dirents_free(struct dirents *d)
{
	free(d->names);
	free(d->offs);
	memset(d, 0, sizeof *d);
}

long sysfile_text(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return is_missing(errno) ? -ENOENT : -errno;
	ssize_t n = pread(fd, buf, cap - 1, 0);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	if ((size_t)n == cap - 1)
		return -EMSGSIZE;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	return (long)n;
}

static long slurp_fd(int fd, char **buf, size_t *cap)
{
	size_t len = 0;
	for (;;) {
		if (*cap < len + 2) {
			size_t ncap = *cap ? *cap * 2 : 4096;
			char *p = realloc(*buf, ncap);
			if (!p)
				return -ENOMEM;
			*buf = p;
			*cap = ncap;
		}
		ssize_t n = pread(fd, *buf + len, *cap - len - 1, (off_t)len);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	(*buf)[len] = '\0';
	return (long)len;
}

long sysfile_slurp(const char *path, char **buf, size_t *cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return is_missing(errno) ? -ENOENT : -errno;
	long n = slurp_fd(fd, buf, cap);
	close(fd);
	return n;
}

int sysfile_u64(const char *path, uint64_t *out)
{
	char buf[64];
	long n = sysfile_text(path, buf, sizeof buf);
	if (n < 0)
		return (int)n;
	return parse_u64(buf, (size_t)n, out) ? 0 : -EPROTO;
}

int path_fmt(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
