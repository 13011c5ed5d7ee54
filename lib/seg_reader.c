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
	char name[SEGMENT_NAME_MAX + 1];
	int fd;
	void *base;
	size_t size;
	unsigned char *buf; /* private copy of one latch copy */
	size_t buf_size;
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
}

static int copy_header(struct seg_reader *r, struct seg_header *h, char *err, size_t errlen)
{
	char why[200];
	sigjmp_buf jb;

	if (sigsetjmp(jb, 0) != 0) {
		bus_guard = NULL;
		snprintf(err, errlen, "segment %s was truncated under its readers", r->name);
		return -EPROTO;
	}
	bus_guard = &jb;
	uint64_t magic = atomic_load_explicit((const _Atomic uint64_t *)r->base,
					      memory_order_acquire);
	words_load(h, r->base, sizeof *h / 8);
	bus_guard = NULL;
	h->magic = magic;
	if (seg_header_check(h, r->size, why, sizeof why) < 0) {
		snprintf(err, errlen, "segment %s refused: %s", r->name, why);
		return -EPROTO;
	}
	return 0;
}

static int map(struct seg_reader *r, char *err, size_t errlen)
{
	struct stat st;

	r->fd = shm_open(r->name, O_RDONLY | O_CLOEXEC, 0);
	if (r->fd < 0) {
		int e = errno;
		snprintf(err, errlen, "shm_open(\"%s\") failed: %s", r->name, strerror(e));
		return -e;
	}
	if (fstat(r->fd, &st) < 0 || (size_t)st.st_size < SEGMENT_HEADER_SIZE) {
		snprintf(err, errlen, "segment %s is too small to be a segment", r->name);
		unmap(r);
		return -EPROTO;
	}
	r->size = (size_t)st.st_size;
	r->base = mmap(NULL, r->size, PROT_READ, MAP_SHARED, r->fd, 0);
	if (r->base == MAP_FAILED) {
		int e = errno;
		r->base = NULL;
		snprintf(err, errlen, "mmap(\"%s\") failed: %s", r->name, strerror(e));
		unmap(r);
		return -e;
	}
	return 0;
}

static int ensure_buffer(struct seg_reader *r, size_t capacity, char *err, size_t errlen)
{
	if (r->buf_size >= capacity)
		return 0;
	unsigned char *nb = realloc(r->buf, capacity);
	if (nb == NULL) {
		snprintf(err, errlen, "out of memory reading segment %s", r->name);
		return -ENOMEM;
	}
	r->buf = nb;
	r->buf_size = capacity;
	return 0;
}

int seg_reader_open(struct seg_reader **out, const char *shm_name, char *err, size_t errlen)
{
	struct seg_reader *r = calloc(1, sizeof *r);
	struct seg_header h;
	int rc;

	pthread_once(&bus_once, install_bus_guard);
	if (r == NULL)
		return -ENOMEM;
	r->fd = -1;
	snprintf(r->name, sizeof r->name, "%s", shm_name);
	rc = map(r, err, errlen);
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

void seg_reader_close(struct seg_reader *r)
{
	if (r == NULL)
		return;
	unmap(r);
	free(r->buf);
	free(r);
}

/* Follows a segment that was removed or replaced (the agent re-created it). */
static int follow_replacement(struct seg_reader *r, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(r->fd, &st) == 0 && st.st_nlink > 0 && (size_t)st.st_size == r->size)
		return 0;
	unmap(r);
	int rc = map(r, err, errlen);
	return rc == -ENOENT ? -ENOENT : rc;
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
		snprintf(err, errlen, "segment %s was truncated under its readers", r->name);
		return -EPROTO;
	}
	bus_guard = &jb;
	int rc = latch_read(&l, r->buf, h->copy_capacity, READ_TRIES, len);
	bus_guard = NULL;
	if (rc == -EAGAIN)
		snprintf(err, errlen, "collector %s kept publishing through %d read attempts",
			 h->collector, READ_TRIES);
	else if (rc < 0)
		snprintf(err, errlen, "segment %s holds a batch with an impossible length",
			 r->name);
	return rc;
}

static void fill_info(struct seg_info *info, const struct seg_header *h)
{
	snprintf(info->collector, sizeof info->collector, "%s", h->collector);
	info->writer_pid = h->writer_pid <= (uint64_t)INT32_MAX ? (pid_t)h->writer_pid : 0;
	info->writer_start = h->writer_start;
	info->writer_alive = process_alive(h->writer_pid, h->writer_start);
	info->interval_ms = h->interval_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)h->interval_ms;
	info->generation = h->generation;
	info->publishes = h->publishes;
	info->series_dropped = h->series_dropped;
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
		fill_info(info, &h);
	if (rc == 0)
		rc = guarded_latch_read(r, &h, &len, err, errlen);
	if (rc < 0)
		return rc;
	seg_header_limits(&h, &lim);
	rc = metrics_view_open(view, r->buf, len, &lim, why, sizeof why);
	if (rc < 0)
		snprintf(err, errlen, "segment %s holds a corrupt batch: %s", r->name, why);
	return rc;
}
