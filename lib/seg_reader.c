/*
 * The reader side of a segment.  The mapping is read-only and its contents are
 * untrusted: the header is copied and checked on every snapshot, the batch is
 * copied out through the latch and validated in private memory, and a segment
 * shrunk under the mapping (SIGBUS) is caught and reported, not fatal.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "segment.h"
#include "segment_layout.h"

#define READ_TRIES 64

struct seg_reader {
	const struct segdir *dir; /* NULL: opened from a descriptor, never reopened */
	char collector[SEGMENT_COLLECTOR_MAX + 1];
	char what[PATH_MAX + 80]; /* "segment DIR/NAME.seg", for messages */
	int fd;
	void *base;
	size_t size;
	struct seg_read_limits lim;
	unsigned char *buf; /* private copy of one latch copy */
	size_t buf_size;
	/* What the last good snapshot saw (seg_reader_unchanged). */
	bool seen;
	uint64_t seen_seq, seen_writer;
	bool seen_alive;
};

/* ---- SIGBUS guard ---- */

/* sigsetjmp(jb, 0): saving the signal mask costs two syscalls per read, and the
 * handler runs with SA_NODEFER, so SIGBUS is never left blocked by the jump. */
static _Thread_local sigjmp_buf *bus_guard;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;
static struct sigaction previous_bus;

static void on_sigbus(int sig, siginfo_t *info, void *ctx)
{
	if (bus_guard != NULL)
		siglongjmp(*bus_guard, 1);
	/* Not ours: behave as before we were installed. */
	if (previous_bus.sa_flags & SA_SIGINFO && previous_bus.sa_sigaction != NULL) {
		previous_bus.sa_sigaction(sig, info, ctx);
		return;
	}
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

static void install_bus_guard(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &previous_bus);
}

/* ---- open / close ---- */

static void unmap(struct seg_reader *r)
{
	if (r->base != NULL)
		munmap(r->base, r->size);
	if (r->fd >= 0)
		close(r->fd);
	r->base = NULL;
	r->fd = -1;
	r->seen = false;
}

/* Why header h (checked for consistency) is beyond the reader's limits, or NULL.
 * The header's own numbers are not repeated: they are the writer's words. */
static const char *beyond_limits(const struct seg_reader *r, const struct seg_header *h)
{
	struct batch_limits l;
	const struct batch_limits *m = &r->lim.max;

	seg_header_limits(h, &l);
	if (l.max_series > m->max_series || l.max_values > m->max_values)
		return "declares more series or values than this reader accepts";
	if (l.max_families > m->max_families || l.max_labels > m->max_labels ||
	    l.max_bounds > m->max_bounds || l.string_bytes > m->string_bytes)
		return "declares larger sections than this reader accepts";
	return NULL;
}

static int copy_header(struct seg_reader *r, struct seg_header *h, char *err, size_t errlen)
{
	char why[200];
	sigjmp_buf jb;

	if (sigsetjmp(jb, 0) != 0) {
		bus_guard = NULL;
		snprintf(err, errlen, "%s was truncated under its readers", r->what);
		return -EPROTO;
	}
	bus_guard = &jb;
	uint64_t magic = atomic_load_explicit((const _Atomic uint64_t *)r->base,
					      memory_order_acquire);
	words_load(h, r->base, sizeof *h / 8);
	bus_guard = NULL;
	h->magic = magic;
	if (seg_header_check(h, r->size, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s refused: %s", r->what, why);
		return -EPROTO;
	}
	const char *beyond = beyond_limits(r, h);
	if (beyond) {
		snprintf(err, errlen, "%s refused: it %s", r->what, beyond);
		return -EPROTO;
	}
	return 0;
}

/* Maps r->fd (already open and checked) after checking its size. */
static int map_fd(struct seg_reader *r, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(r->fd, &st) < 0 || (size_t)st.st_size < SEGMENT_HEADER_SIZE) {
		snprintf(err, errlen, "%s is too small to be a segment", r->what);
		return -EPROTO;
	}
	if ((uint64_t)st.st_size > r->lim.max_bytes) {
		snprintf(err, errlen,
			 "%s refused: it is larger than this reader accepts (%llu bytes at most)",
			 r->what, (unsigned long long)r->lim.max_bytes);
		return -EPROTO;
	}
	r->size = (size_t)st.st_size;
	r->base = mmap(NULL, r->size, PROT_READ, MAP_SHARED, r->fd, 0);
	if (r->base == MAP_FAILED) {
		int e = errno;
		r->base = NULL;
		snprintf(err, errlen, "mmap(%s) failed: %s", r->what, strerror(e));
		return -e;
	}
	return 0;
}

static int map(struct seg_reader *r, char *err, size_t errlen)
{
	r->fd = segdir_open_segment(r->dir, r->collector, O_RDONLY, NULL, err, errlen);
	if (r->fd < 0) {
		int rc = r->fd;
		r->fd = -1;
		return rc;
	}
	int rc = map_fd(r, err, errlen);
	if (rc < 0)
		unmap(r);
	return rc;
}

static int ensure_buffer(struct seg_reader *r, size_t capacity, char *err, size_t errlen)
{
	if (r->buf_size >= capacity)
		return 0;
	unsigned char *nb = realloc(r->buf, capacity);
	if (nb == NULL) {
		snprintf(err, errlen, "out of memory reading %s", r->what);
		return -ENOMEM;
	}
	r->buf = nb;
	r->buf_size = capacity;
	return 0;
}

static struct seg_reader *reader_new(const struct seg_read_limits *lim)
{
	struct seg_reader *r = calloc(1, sizeof *r);

	pthread_once(&bus_once, install_bus_guard);
	if (r == NULL)
		return NULL;
	r->fd = -1;
	r->lim = *lim;
	return r;
}

/* The header check and the buffer, for a reader whose file is mapped. */
static int finish_open(struct seg_reader **out, struct seg_reader *r, int rc, char *err,
		       size_t errlen)
{
	struct seg_header h;

	if (rc == 0)
		rc = copy_header(r, &h, err, errlen);
	if (rc == 0)
		rc = ensure_buffer(r, h.copy_capacity, err, errlen);
	if (rc < 0) {
		seg_reader_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

int seg_reader_open(struct seg_reader **out, const struct segdir *d, const char *collector,
		    const struct seg_read_limits *lim, char *err, size_t errlen)
{
	struct seg_reader *r = reader_new(lim);

	if (r == NULL) {
		snprintf(err, errlen, "out of memory opening the segment of %s", collector);
		return -ENOMEM;
	}
	r->dir = d;
	snprintf(r->collector, sizeof r->collector, "%s", collector);
	snprintf(r->what, sizeof r->what, "segment %s/%s" SEGDIR_SUFFIX, d->path, collector);
	return finish_open(out, r, map(r, err, errlen), err, errlen);
}

int seg_reader_open_fd(struct seg_reader **out, int fd, const char *what,
		       const struct seg_read_limits *lim, char *err, size_t errlen)
{
	struct seg_reader *r = reader_new(lim);
	int rc = segdir_check_fd(fd, (uid_t)-1, what, NULL, err, errlen);

	if (r == NULL || rc < 0) {
		free(r);
		if (rc == 0)
			snprintf(err, errlen, "out of memory opening %s", what);
		return rc < 0 ? rc : -ENOMEM;
	}
	snprintf(r->what, sizeof r->what, "%s", what);
	r->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (r->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "dup(%s) failed: %s", what, strerror(errno));
	} else {
		rc = map_fd(r, err, errlen);
	}
	return finish_open(out, r, rc, err, errlen);
}

void seg_reader_close(struct seg_reader *r)
{
	if (r == NULL)
		return;
	unmap(r);
	free(r->buf);
	free(r);
}

/* Follows a segment that was removed, replaced or resized (the agent re-created
 * it, or a writer changed its size: the size is checked again). */
static int follow_replacement(struct seg_reader *r, char *err, size_t errlen)
{
	struct stat st;

	if (r->fd >= 0 && fstat(r->fd, &st) == 0 && st.st_nlink > 0 &&
	    (size_t)st.st_size == r->size)
		return 0;
	if (r->dir == NULL) {
		snprintf(err, errlen, "%s was resized or removed", r->what);
		return -EPROTO;
	}
	unmap(r);
	return map(r, err, errlen);
}

/* ---- snapshot ---- */

static int guarded_latch_read(struct seg_reader *r, const struct seg_header *h, size_t *len,
			      char *err, size_t errlen)
{
	struct latch l = {
		.seq = seg_words(r->base, offsetof(struct seg_header, seq)),
		.copy = { seg_words(r->base, h->copy_offset[0]),
			  seg_words(r->base, h->copy_offset[1]) },
	};
	sigjmp_buf jb;

	if (sigsetjmp(jb, 0) != 0) {
		bus_guard = NULL;
		snprintf(err, errlen, "%s was truncated under its readers", r->what);
		return -EPROTO;
	}
	bus_guard = &jb;
	int rc = latch_read(&l, r->buf, h->copy_capacity, READ_TRIES, len);
	bus_guard = NULL;
	if (rc == -EAGAIN)
		snprintf(err, errlen, "the writer of %s kept publishing through %d read attempts",
			 r->what, READ_TRIES);
	else if (rc < 0)
		snprintf(err, errlen, "%s holds a batch with an impossible length", r->what);
	return rc;
}

/* A writer is alive while it holds the writer lock (segment_layout.h). */
static void fill_info(struct seg_info *info, const struct seg_header *h, int fd)
{
	pid_t pid = SEG_WRITER_PID(h->writer);

	snprintf(info->collector, sizeof info->collector, "%s", h->collector);
	info->writer_pid = pid > 0 ? pid : 0;
	info->writer_start = SEG_WRITER_TOKEN(h->writer);
	info->writer_alive = h->writer != 0 && seg_writer_locked(fd);
	info->interval_ms = h->interval_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)h->interval_ms;
	info->generation = h->generation;
	info->publishes = h->publishes;
	info->series_dropped = h->series_dropped;
}

bool seg_reader_unchanged(struct seg_reader *r)
{
	struct seg_header h;

	if (!r->seen || r->fd < 0 || seg_header_pread(r->fd, &h) < 0)
		return false;
	return h.seq == r->seen_seq && h.writer == r->seen_writer &&
	       (h.writer != 0 && seg_writer_locked(r->fd)) == r->seen_alive;
}

int seg_reader_snapshot(struct seg_reader *r, struct metrics_view *view, struct seg_info *info,
			char *err, size_t errlen)
{
	struct seg_header h;
	struct batch_limits lim;
	char why[256];
	size_t len;

	int rc = follow_replacement(r, err, errlen);
	if (rc == 0)
		rc = copy_header(r, &h, err, errlen);
	if (rc == 0)
		rc = ensure_buffer(r, h.copy_capacity, err, errlen);
	if (rc == 0 && info != NULL)
		fill_info(info, &h, r->fd);
	if (rc == 0)
		rc = guarded_latch_read(r, &h, &len, err, errlen);
	if (rc < 0)
		return rc;
	seg_header_limits(&h, &lim);
	rc = metrics_view_open(view, r->buf, len, &lim, why, sizeof why);
	if (rc < 0) {
		snprintf(err, errlen, "%s holds a corrupt batch: %s", r->what, why);
		return rc;
	}
	r->seen = true;
	r->seen_seq = h.seq; /* read before the batch: a publish in between costs a re-read */
	r->seen_writer = h.writer;
	r->seen_alive = h.writer != 0 && seg_writer_locked(r->fd);
	return 0;
}
