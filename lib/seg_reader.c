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

#include "seg_reader_internal.h"
#include "segment_layout.h"

/* ---- SIGBUS guard ---- */

/* Every access to the mapping goes through one of the guarded functions below:
 * a writer may truncate the file under us at any time. */

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

	if (h->workers > r->lim.max_workers)
		return r->lim.max_workers ? "declares more workers than this reader accepts"
					  : "has workers, and this reader accepts none";
	seg_header_limits(h, &l);
	if (l.max_series > m->max_series || l.max_values > m->max_values)
		return "declares more series or values than this reader accepts";
	if (l.max_families > m->max_families || l.max_labels > m->max_labels ||
	    l.max_bounds > m->max_bounds || l.string_bytes > m->string_bytes)
		return "declares larger sections than this reader accepts";
	return NULL;
}

int reader_copy_header(struct seg_reader *r, struct seg_header *h, char *err, size_t errlen)
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
		struct seg_header h;
		/* Worth saying when the reason is the workers (a pread: nothing mapped). */
		if (seg_header_pread(r->fd, &h) == 0 && h.magic == SEGMENT_MAGIC &&
		    h.workers > r->lim.max_workers) {
			snprintf(err, errlen, "%s refused: it %s", r->what,
				 r->lim.max_workers
				     ? "declares more workers than this reader accepts"
				     : "has workers, and this reader accepts none");
			return -EPROTO;
		}
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

int reader_ensure_buffer(struct seg_reader *r, size_t capacity, char *err, size_t errlen)
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
		rc = reader_copy_header(r, &h, err, errlen);
	if (rc == 0)
		rc = reader_ensure_buffer(r, h.copy_capacity, err, errlen);
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
	reader_workers_free(r);
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

int reader_latch_read(const struct latch *l, void *dst, size_t cap, size_t *len)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 0) != 0) {
		bus_guard = NULL;
		return -EFAULT;
	}
	bus_guard = &jb;
	int rc = latch_read(l, dst, cap, READ_TRIES, len);
	bus_guard = NULL;
	return rc;
}

int reader_latch_read_known(const struct latch *l, void *dst, size_t cap, size_t prefix,
			    size_t (*known)(const void *dst, void *arg), void *arg, size_t *len,
			    size_t *skipped_to)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 0) != 0) {
		bus_guard = NULL;
		return -EFAULT;
	}
	bus_guard = &jb;
	int rc = latch_read_known(l, dst, cap, READ_TRIES, prefix, known, arg, len, skipped_to);
	bus_guard = NULL;
	return rc;
}

int reader_latch_seq(const struct latch *l, bool recheck, uint64_t *seq)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 0) != 0) {
		bus_guard = NULL;
		return -EFAULT;
	}
	bus_guard = &jb;
	*seq = recheck ? latch_seq_recheck(l) : latch_seq(l);
	bus_guard = NULL;
	return 0;
}

int reader_words(struct seg_reader *r, void *dst, uint64_t off, size_t nwords)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 0) != 0) {
		bus_guard = NULL;
		return -EFAULT;
	}
	bus_guard = &jb;
	words_load(dst, seg_words(r->base, off), nwords);
	bus_guard = NULL;
	return 0;
}

static int guarded_latch_read(struct seg_reader *r, const struct seg_header *h, size_t *len,
			      char *err, size_t errlen)
{
	struct latch l = {
		.seq = seg_words(r->base, offsetof(struct seg_header, seq)),
		.copy = { seg_words(r->base, h->copy_offset[0]),
			  seg_words(r->base, h->copy_offset[1]) },
	};
	int rc = reader_latch_read(&l, r->buf, h->copy_capacity, len);

	if (rc == -EFAULT)
		snprintf(err, errlen, "%s was truncated under its readers", r->what);
	else if (rc == -EAGAIN)
		snprintf(err, errlen, "the writer of %s kept publishing through %d read attempts",
			 r->what, READ_TRIES);
	else if (rc < 0)
		snprintf(err, errlen, "%s holds a batch with an impossible length", r->what);
	return rc == -EFAULT ? -EPROTO : rc;
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
	info->workers = info->workers_alive = 0;
	info->workers_refused = 0;
}

bool seg_reader_unchanged(struct seg_reader *r)
{
	struct seg_header h;

	if (!r->seen || r->fd < 0 || seg_header_pread(r->fd, &h) < 0)
		return false;
	if (h.workers != 0)
		return h.seq == r->seen_seq && reader_workers_unchanged(r, &h);
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
		rc = reader_copy_header(r, &h, err, errlen);
	if (rc == 0 && h.workers != 0)
		return reader_workers_snapshot(r, &h, view, info, err, errlen);
	if (rc == 0)
		rc = reader_ensure_buffer(r, h.copy_capacity, err, errlen);
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
