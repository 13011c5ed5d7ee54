#include "sysattr.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "scan.h"

#define BUDGET_MIN 16
#define BUDGET_MAX 65536

void fd_budget_init(struct fd_budget *b)
{
	struct rlimit rl;
	size_t max = BUDGET_MIN * 2;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		max = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 2 * BUDGET_MAX
			  ? 2 * BUDGET_MAX
			  : (size_t)rl.rlim_cur;
	b->open = 0;
	b->max = max / 2 < BUDGET_MIN ? BUDGET_MIN : max / 2;
}

void sysattr_init(struct sysattr *a)
{
	a->fd = -1;
	a->absent = false;
}

void sysattr_close(struct sysattr *a, struct fd_budget *b)
{
	if (a->fd < 0)
		return;
	close(a->fd);
	a->fd = -1;
	b->open--;
}

static ssize_t pread_retry(int fd, char *buf, size_t cap)
{
	ssize_t n;
	do
		n = pread(fd, buf, cap, 0);
	while (n < 0 && errno == EINTR);
	return n;
}

int sysattr_read(struct sysattr *a, int dirfd, const char *name, char *buf, size_t cap, size_t *len,
		 struct fd_budget *b)
{
	if (a->absent)
		return -ENOENT;
	int fd = a->fd;
	if (fd < 0) {
		fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			a->absent = e == ENOENT || e == ENOTDIR;
			return a->absent ? -ENOENT : -e;
		}
	}
	/* One byte more than fits tells a value that was cut short. */
	ssize_t n = pread_retry(fd, buf, cap - 1);
	int e = errno;
	if (a->fd < 0 && b->open < b->max && !(n < 0 && e == ENODEV)) {
		a->fd = fd;
		b->open++;
	} else if (a->fd < 0) {
		close(fd);
	} else if (n < 0 && e == ENODEV) {
		sysattr_close(a, b); /* the device behind it went away */
	}
	if (n < 0)
		return -e;
	if ((size_t)n >= cap - 1)
		return -EMSGSIZE;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	*len = (size_t)n;
	return 0;
}

int sysdir_open(int atfd, const char *dir)
{
	int fd = openat(atfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

bool sysattr_parse_i64(const char *s, size_t n, int64_t *out)
{
	bool neg = n > 0 && s[0] == '-';
	uint64_t v;
	if (neg) {
		s++;
		n--;
	}
	bool hex = n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	if (!(hex ? parse_hex_u64(s + 2, n - 2, &v) : parse_u64(s, n, &v)))
		return false;
	if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
		return false;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}
