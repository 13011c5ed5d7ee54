#include "devtab.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysattr.h"

int devtab_init(struct devtab *t, const char *root, const char *rel, size_t entry_size,
		const struct devtab_ops *ops, void *ctx, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	t->fd = -1;
	t->ops = ops;
	t->ctx = ctx;
	t->entry_size = entry_size;
	int n = snprintf(t->path, sizeof t->path, "%s/%s", root, rel);
	if (n < 0 || (size_t)n >= sizeof t->path) {
		snprintf(err, errlen, "path %s/%s is too long", root, rel);
		return -ENAMETOOLONG;
	}
	return 0;
}

static void devtab_drop(struct devtab *t, size_t i)
{
	struct dev_entry *e = t->entries[i];
	if (t->ops->teardown)
		t->ops->teardown(e, t->ctx);
	if (e->dirfd >= 0)
		close(e->dirfd);
	free(e);
	memmove(&t->entries[i], &t->entries[i + 1], (t->n - i - 1) * sizeof *t->entries);
	t->n--;
}

/* Index of name in the sorted table, or where it would go. */
static size_t devtab_find(const struct devtab *t, const char *name, bool *found)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->entries[mid]->name, name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static int devtab_insert(struct devtab *t, size_t at, const char *name, uint64_t ino, char *err,
			 size_t errlen)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct dev_entry **v = realloc(t->entries, cap * sizeof *v);
		if (!v)
			goto oom;
		t->entries = v;
		t->cap = cap;
	}
	struct dev_entry *e = calloc(1, t->entry_size);
	if (!e)
		goto oom;
	snprintf(e->name, sizeof e->name, "%s", name);
	e->ino = ino;
	e->seen = true;
	e->dirfd = sysdir_open(t->fd, name);
	if (e->dirfd < 0 || (t->ops->setup && t->ops->setup(e, t->ctx) != 0)) {
		if (e->dirfd >= 0)
			close(e->dirfd);
		free(e); /* not a usable device now; looked at again next cycle */
		return 0;
	}
	memmove(&t->entries[at + 1], &t->entries[at], (t->n - at) * sizeof *t->entries);
	t->entries[at] = e;
	t->n++;
	return 0;
oom:
	snprintf(err, errlen, "out of memory for %zu entries of %s", t->n + 1, t->path);
	return -ENOMEM;
}

static int devtab_visit(struct devtab *t, const struct dirent64 *d, char *err, size_t errlen)
{
	bool found;

	if (d->d_name[0] == '.' || strlen(d->d_name) >= DEV_NAME_MAX ||
	    !t->ops->want(d->d_name, d->d_type, t->ctx))
		return 0;
	size_t i = devtab_find(t, d->d_name, &found);
	if (found && t->entries[i]->ino == (uint64_t)d->d_ino) {
		t->entries[i]->seen = true;
		return 0;
	}
	if (found)
		devtab_drop(t, i); /* same name, another device */
	return devtab_insert(t, i, d->d_name, (uint64_t)d->d_ino, err, errlen);
}

static int devtab_list(struct devtab *t, char *err, size_t errlen)
{
	if (lseek(t->fd, 0, SEEK_SET) < 0)
		return -errno;
	for (;;) {
		ssize_t n = getdents64(t->fd, t->dirbuf, sizeof t->dirbuf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			snprintf(err, errlen, "getdents64(\"%s\") failed: %s", t->path,
				 strerror(e));
			return -e;
		}
		if (n == 0)
			return 0;
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *d = (const struct dirent64 *)(t->dirbuf + off);
			int rc = devtab_visit(t, d, err, errlen);
			if (rc)
				return rc;
			off += d->d_reclen;
		}
	}
}

static void devtab_clear(struct devtab *t)
{
	while (t->n > 0)
		devtab_drop(t, t->n - 1);
}

int devtab_scan(struct devtab *t, char *err, size_t errlen)
{
	if (t->fd < 0) {
		t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (t->fd < 0) {
			int e = errno;
			devtab_clear(t);
			if (e == ENOENT || e == ENOTDIR)
				return 0;
			snprintf(err, errlen, "open(\"%s\") failed: %s", t->path, strerror(e));
			return -e;
		}
	}
	for (size_t i = 0; i < t->n; i++)
		t->entries[i]->seen = false;
	int rc = devtab_list(t, err, errlen);
	if (rc) {
		/* Perhaps the directory itself went away: open it afresh next time. */
		close(t->fd);
		t->fd = -1;
	}
	for (size_t i = t->n; i-- > 0;)
		if (!t->entries[i]->seen)
			devtab_drop(t, i);
	return rc == -ENOMEM ? rc : (rc && rc != -ENOENT ? rc : 0);
}

void devtab_fini(struct devtab *t)
{
	devtab_clear(t);
	free(t->entries);
	t->entries = NULL;
	t->cap = 0;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
