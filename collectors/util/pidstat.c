#include "pidstat.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "scan.h"

static bool numeric(const char *s, int32_t *out)
{
	int64_t v = 0;
	if (*s < '1' || *s > '9')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > INT32_MAX / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	if (v > INT32_MAX)
		return false;
	*out = (int32_t)v;
	return true;
}

static int pidlist_take(struct pidlist *l, const char *buf, long got)
{
	for (long off = 0; off < got;) {
		const struct dirent64 *e = (const void *)(buf + off);
		int32_t pid;
		off += e->d_reclen;
		if (!numeric(e->d_name, &pid))
			continue;
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 1024;
			int32_t *np = realloc(l->pids, cap * sizeof *np);
			if (!np)
				return -ENOMEM;
			l->pids = np;
			l->cap = cap;
		}
		l->pids[l->n++] = pid;
	}
	return 0;
}

int pidlist_read(struct pidlist *l, int dirfd)
{
	long got;

	l->n = 0;
	if (lseek(dirfd, 0, SEEK_SET) < 0)
		return -errno;
	while ((got = syscall(SYS_getdents64, dirfd, l->buf, sizeof l->buf)) > 0) {
		int rc = pidlist_take(l, l->buf, got);
		if (rc)
			return rc;
	}
	return got < 0 ? -errno : 0;
}

void pidlist_free(struct pidlist *l)
{
	free(l->pids);
	l->pids = NULL;
	l->n = l->cap = 0;
}

static bool next_i64(struct scan *s, int64_t *out)
{
	const char *w;
	size_t n;
	uint64_t v;
	if (!scan_word(s, &w, &n))
		return false;
	bool neg = n > 1 && w[0] == '-';
	if (!parse_u64(w + neg, n - neg, &v) || v > INT64_MAX)
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

/* Fields 3 onwards, after the command name. */
static bool parse_fields(struct scan s, struct pid_stat *o)
{
	int64_t f[25];
	const char *w;
	size_t n;

	if (!scan_word(&s, &w, &n) || n != 1)
		return false;
	o->state = w[0];
	for (int i = 4; i <= 24; i++)
		if (!next_i64(&s, &f[i]))
			return false;
	o->ppid = f[4];
	o->utime = (uint64_t)(f[14] < 0 ? 0 : f[14]);
	o->stime = (uint64_t)(f[15] < 0 ? 0 : f[15]);
	o->threads = f[20];
	o->start = (uint64_t)(f[22] < 0 ? 0 : f[22]);
	o->vsize = (uint64_t)(f[23] < 0 ? 0 : f[23]);
	o->rss = f[24];
	return true;
}

bool pidstat_parse(const char *text, size_t len, struct pid_stat *o)
{
	const char *open = memchr(text, '(', len), *close = NULL;

	for (const char *p = text + len; p > text; p--)
		if (p[-1] == ')') {
			close = p - 1;
			break;
		}
	if (!open || !close || close < open)
		return false;
	size_t clen = (size_t)(close - open - 1);
	if (clen >= sizeof o->comm)
		clen = sizeof o->comm - 1;
	memcpy(o->comm, open + 1, clen);
	o->comm[clen] = '\0';
	/* The kernel's text ends with a newline that scan_word would keep. */
	const char *end = text + len;
	while (end > close + 1 && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	return parse_fields((struct scan){ close + 1, end }, o);
}
