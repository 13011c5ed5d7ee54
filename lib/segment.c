/* Segment layout, limits, creation and removal (the agent's side). */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "segment.h"
#include "segment_layout.h"

bool segment_part_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > SEGMENT_COLLECTOR_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

uint64_t segment_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reads the state (field 3) and start time (field 22) of /proc/PID/stat. */
static int read_proc_stat(pid_t pid, char *state, uint64_t *start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name (field 2) may contain spaces and ')': skip to the last ')'. */
	char *p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return -1;
	*state = p[2];
	for (int field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return -1;
	*start = strtoull(p + 1, NULL, 10);
	return 0;
}

uint64_t process_start_token(pid_t pid)
{
	char state;
	uint64_t start;
	return read_proc_stat(pid, &state, &start) == 0 ? start : 0;
}

bool process_alive(uint64_t pid, uint64_t token)
{
	char state;
	uint64_t start;

	if (pid == 0 || pid > (uint64_t)INT32_MAX)
		return false;
	if (kill((pid_t)pid, 0) < 0 && errno != EPERM)
		return false;
	/* Without a readable /proc (hidepid) the pid check is all we have. */
	if (read_proc_stat((pid_t)pid, &state, &start) < 0)
		return true;
	/* A zombie is dead for our purposes: it will never write again. */
	if (state == 'Z' || state == 'X')
		return false;
	return token == 0 || (uint32_t)start == (uint32_t)token;
}

static void limits_pack(uint64_t words[3], const struct batch_limits *lim)
{
	memcpy(words, lim, sizeof *lim);
}

void seg_header_limits(const struct seg_header *h, struct batch_limits *lim)
{
	memcpy(lim, h->limits, sizeof *lim);
}

void segment_limits(uint32_t max_series, struct batch_limits *out)
{
	batch_limits_default(out);
	if (max_series == 0)
		return;
	out->max_series = max_series;
	if (out->max_values < max_series)
		out->max_values = max_series;
}

size_t segment_size_for(const struct batch_limits *lim)
{
	struct seg_header h;
	return seg_layout(&h, lim);
}

void seg_read_limits_for(uint32_t max_series, struct seg_read_limits *out)
{
	segment_limits(max_series, &out->max);
	out->max_bytes = segment_size_for(&out->max);
}

int seg_header_pread(int fd, struct seg_header *h)
{
	ssize_t n;

	do
		n = pread(fd, h, sizeof *h, 0);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof *h ? 0 : -EPROTO;
}

static void writer_lock_range(struct flock *fl, short type)
{
	memset(fl, 0, sizeof *fl);
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
	fl->l_start = 0;
	fl->l_len = 1;
}

int seg_writer_lock(int fd)
{
	struct flock fl;

	writer_lock_range(&fl, F_WRLCK);
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	return errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
}

bool seg_writer_locked(int fd)
{
	struct flock fl;

	writer_lock_range(&fl, F_WRLCK);
	return fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

size_t seg_layout(struct seg_header *h, const struct batch_limits *lim)
{
	size_t cap = batch_blob_capacity(lim);
	if (cap == 0)
		return 0;
	cap = (cap + SEGMENT_COPY_ALIGN - 1) & ~(size_t)(SEGMENT_COPY_ALIGN - 1);
	memset(h, 0, sizeof *h);
	h->magic = SEGMENT_MAGIC;
	h->layout_version = SEGMENT_LAYOUT_VERSION;
	h->header_size = SEGMENT_HEADER_SIZE;
	h->copy_offset[0] = SEGMENT_HEADER_SIZE;
	h->copy_offset[1] = SEGMENT_HEADER_SIZE + cap;
	h->copy_capacity = cap;
	h->segment_size = SEGMENT_HEADER_SIZE + 2 * cap;
	limits_pack(h->limits, lim);
	return h->segment_size;
}

static bool copy_in_range(uint64_t off, uint64_t cap, uint64_t size)
{
	return off >= SEGMENT_HEADER_SIZE && off % 8 == 0 && off <= size && cap <= size - off;
}

/* Both copies are in range, so neither sum can wrap. */
static bool copies_overlap(uint64_t a, uint64_t b, uint64_t cap)
{
	return a < b + cap && b < a + cap;
}

int seg_header_check(const struct seg_header *h, size_t object_size, char *err, size_t errlen)
{
	struct batch_limits lim;

	if (h->magic != SEGMENT_MAGIC) {
		snprintf(err, errlen, "not a shmetrics segment (bad magic)");
		return -EPROTO;
	}
	if (h->layout_version != SEGMENT_LAYOUT_VERSION) {
		snprintf(err, errlen,
			 "segment has layout version %llu; this program reads version %d only",
			 (unsigned long long)h->layout_version, SEGMENT_LAYOUT_VERSION);
		return -EPROTO;
	}
	seg_header_limits(h, &lim);
	uint64_t cap = batch_blob_capacity(&lim);
	if (h->header_size != SEGMENT_HEADER_SIZE || h->segment_size != object_size || cap == 0 ||
	    h->copy_capacity < cap || h->copy_capacity % 8 != 0 ||
	    !copy_in_range(h->copy_offset[0], h->copy_capacity, object_size) ||
	    !copy_in_range(h->copy_offset[1], h->copy_capacity, object_size) ||
	    copies_overlap(h->copy_offset[0], h->copy_offset[1], h->copy_capacity)) {
		snprintf(err, errlen, "segment header sizes or offsets are inconsistent");
		return -EPROTO;
	}
	if (memchr(h->collector, '\0', sizeof h->collector) == NULL ||
	    !segment_part_valid(h->collector)) {
		snprintf(err, errlen, "segment header has an invalid collector name");
		return -EPROTO;
	}
	return 0;
}

/* An empty batch saying the collector has not published yet. */
static size_t initial_blob(uint64_t *words, size_t nwords)
{
	static const char msg[] = "no collection has been published yet";
	struct blob_header h = { .error_len = sizeof msg - 1 };
	size_t len = sizeof h + ((sizeof msg - 1 + 7) & ~(size_t)7);

	memset(words, 0, nwords * 8);
	h.used_bytes = len;
	memcpy(words, &h, sizeof h);
	memcpy((char *)words + sizeof h, msg, sizeof msg - 1);
	return len;
}

static void init_segment(void *base, struct seg_header *h)
{
	uint64_t blob[16];
	size_t len = initial_blob(blob, 16);
	struct latch l = {
		.seq = seg_words(base, offsetof(struct seg_header, seq)),
		.copy = { seg_words(base, h->copy_offset[0]), seg_words(base, h->copy_offset[1]) },
	};
	const size_t none[2] = { 0, 0 };

	uint64_t magic = h->magic;
	h->magic = 0;
	words_store(base, h, sizeof *h / 8);
	latch_publish(&l, blob, len, none, none);
	/* Readers check the magic first (acquire): everything above is visible then. */
	atomic_store_explicit(seg_words(base, 0), magic, memory_order_release);
}

/* Why the existing segment file fd may not be replaced, or NULL if it may. */
static const char *why_not_leftover(int fd, const struct stat *st, char *why, size_t whylen)
{
	struct seg_header h;

	if (st->st_uid != geteuid())
		return "it belongs to another user";
	if ((size_t)st->st_size < sizeof h)
		return NULL; /* a creation that died before sizing it */
	if (seg_header_pread(fd, &h) < 0)
		return "it cannot be read";
	if (h.magic != SEGMENT_MAGIC && h.magic != 0)
		return "it is not a shmetrics segment";
	if (process_alive(h.creator_pid, h.creator_start)) {
		snprintf(why, whylen, "it belongs to a running agent (pid %llu)",
			 (unsigned long long)h.creator_pid);
		return why;
	}
	if (seg_writer_locked(fd))
		return "its collector is still running";

	return NULL;
}

/* Removes a leftover of a crashed run at name; anything else stays. */
static int remove_leftover(const struct segdir *d, const char *collector, const char *name,
			   char *err, size_t errlen)
{
	char why[128], what[200];
	struct stat st;
	int fd = segdir_open_segment(d, collector, O_RDONLY, &st, what, sizeof what);

	if (fd == -ENOENT)
		return 0;
	const char *reason = fd < 0 ? what : why_not_leftover(fd, &st, why, sizeof why);
	if (fd >= 0)
		close(fd);
	if (reason != NULL) {
		snprintf(err, errlen,
			 "segment %s/%s already exists and %s; is another agent running with the "
			 "same instance name?",
			 d->path, name, reason);
		return -EEXIST;
	}
	unlinkat(d->fd, name, 0);
	return 0;
}

static int open_exclusive(const struct segdir *d, const char *collector, const char *name,
			  mode_t mode, char *err, size_t errlen)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = openat(d->fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST || attempt > 0)
			break;
		int rc = remove_leftover(d, collector, name, err, errlen);
		if (rc < 0)
			return rc;
	}
	int e = errno;
	snprintf(err, errlen, "creating %s/%s failed: %s", d->path, name, strerror(e));
	return -e;
}

/*
 * Backs [off, off+len) of a shared-memory object with memory now.  Pages of a
 * tmpfs object are allocated on first touch, and a touch that finds the file system full
 * kills the toucher with SIGBUS; reserving first turns that into ENOSPC.  A file
 * system without fallocate keeps the old behaviour (nothing reserved).
 */
int segment_reserve(int fd, uint64_t off, uint64_t len)
{
	if (len == 0 || fallocate(fd, 0, (off_t)off, (off_t)len) == 0)
		return 0;
	return errno == EOPNOTSUPP ? 0 : -errno;
}

/* The header and the start of each copy: what init_segment writes. */
static int reserve_initial(int fd, const struct seg_header *h)
{
	int rc = segment_reserve(fd, 0, SEGMENT_HEADER_SIZE);
	for (int i = 0; i < 2 && rc == 0; i++)
		rc = segment_reserve(fd, h->copy_offset[i], SEGMENT_COPY_ALIGN * 2);
	return rc;
}

static int size_and_own(int fd, const char *path, const struct seg_header *h,
			const struct segment_options *opt, char *err, size_t errlen)
{
	const char *call = "ftruncate";
	if (ftruncate(fd, (off_t)h->segment_size) < 0)
		goto fail;
	call = "fallocate";
	int rc = reserve_initial(fd, h);
	if (rc < 0) {
		errno = -rc;
		goto fail;
	}
	call = "fchown";
	if (opt->gid != (gid_t)-1 && fchown(fd, (uid_t)-1, opt->gid) < 0)
		goto fail;
	call = "fchmod"; /* openat's mode was filtered by the umask */
	if (fchmod(fd, opt->mode) < 0)
		goto fail;
	return 0;
fail:;
	int e = errno;
	snprintf(err, errlen, "%s(\"%s\") failed: %s%s", call, path, strerror(e),
		 e == ENOSPC ? " (is the segment directory's file system full?)" : "");
	return -e;
}

static int init_file(int fd, const char *path, struct seg_header *h, size_t size, char *err,
		     size_t errlen)
{
	void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (base == MAP_FAILED) {
		int e = errno;
		snprintf(err, errlen, "mmap(\"%s\", %zu bytes) failed: %s", path, size,
			 strerror(e));
		return -e;
	}
	init_segment(base, h);
	munmap(base, size);
	return 0;
}

int segment_create(const struct segdir *d, const char *collector, const struct segment_options *opt,
		   char *err, size_t errlen)
{
	char name[SEGMENT_COLLECTOR_MAX + sizeof SEGDIR_SUFFIX], path[PATH_MAX + 80];
	struct seg_header h;
	size_t size = seg_layout(&h, &opt->limits);

	if (size == 0 || segdir_file_name(name, sizeof name, collector, err, errlen) < 0) {
		if (size == 0)
			snprintf(err, errlen, "segment of %s: the limits are not usable",
				 collector);
		return -EINVAL;
	}
	snprintf(path, sizeof path, "%s/%s", d->path, name);
	snprintf(h.collector, sizeof h.collector, "%s", collector);
	h.creator_uid = geteuid();
	h.creator_pid = (uint64_t)getpid();
	h.creator_start = process_start_token(getpid());
	h.interval_ms = opt->interval_ms;

	int fd = open_exclusive(d, collector, name, opt->mode, err, errlen);
	if (fd < 0)
		return fd;
	int rc = size_and_own(fd, path, &h, opt, err, errlen);
	if (rc == 0)
		rc = init_file(fd, path, &h, size, err, errlen);
	close(fd);
	if (rc < 0)
		unlinkat(d->fd, name, 0);
	return rc;
}

int segment_remove(const struct segdir *d, const char *collector, char *err, size_t errlen)
{
	char name[SEGMENT_COLLECTOR_MAX + sizeof SEGDIR_SUFFIX];
	int rc = segdir_file_name(name, sizeof name, collector, err, errlen);

	if (rc < 0)
		return rc;
	if (unlinkat(d->fd, name, 0) < 0 && errno != ENOENT) {
		int e = errno;
		snprintf(err, errlen, "removing %s/%s failed: %s", d->path, name, strerror(e));
		return -e;
	}
	return 0;
}
