/* The writer side of a segment: one collector process publishing its batches. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "segment.h"
#include "segment_layout.h"

struct seg_writer {
	void *base;
	size_t size;
	int fd;                /* kept to reserve memory as batches grow */
	size_t reserved;       /* bytes of each copy known to be backed by memory */
	struct seg_header hdr; /* private copy, checked at attach */
	struct batch_limits limits;
	struct latch latch;
	uint64_t generation;
	/* What this process last published, to tell when the set of series changed. */
	unsigned char *last_meta;
	size_t last_meta_len;
	/* Generation whose metadata each copy holds in full (0: unknown). */
	uint64_t copy_generation[2];
};

static _Atomic uint64_t *header_word(const struct seg_writer *w, size_t word)
{
	return (_Atomic uint64_t *)w->base + word;
}

/* Maps the segment file fd (owned by w from now on) read-write. */
static int map_segment(struct seg_writer *w, int fd, const char *what, char *err, size_t errlen)
{
	struct stat st;

	w->fd = fd;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < SEGMENT_HEADER_SIZE) {
		snprintf(err, errlen, "%s is too small to be a segment", what);
		return -EPROTO;
	}
	w->size = (size_t)st.st_size;
	w->base = mmap(NULL, w->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (w->base == MAP_FAILED) {
		int e = errno;
		w->base = NULL;
		snprintf(err, errlen, "mmap(%s) failed: %s", what, strerror(e));
		return -e;
	}
	return 0;
}

static int check_header(struct seg_writer *w, const char *what, char *err, size_t errlen)
{
	char why[256];

	if (atomic_load_explicit(header_word(w, 0), memory_order_acquire) != SEGMENT_MAGIC) {
		snprintf(err, errlen, "%s is not initialised (bad magic)", what);
		return -EPROTO;
	}
	words_load(&w->hdr, w->base, sizeof w->hdr / 8);
	if (seg_header_check(&w->hdr, w->size, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s: %s", what, why);
		return -EPROTO;
	}
	return 0;
}

/* The writer lock (segment_layout.h), or -EBUSY: one writer per segment. */
static int lock_as_writer(int fd, const char *what, char *err, size_t errlen)
{
	int rc = seg_writer_lock(fd);

	if (rc == -EBUSY)
		snprintf(err, errlen,
			 "%s already has a writer; a collector has exactly one writer process",
			 what);
	else if (rc < 0)
		snprintf(err, errlen, "locking %s failed: %s", what, strerror(-rc));
	return rc;
}

/* Takes fd (closed on failure too) and makes w the segment's writer. */

static int attach(struct seg_writer **out, int fd, const char *what, char *err, size_t errlen)
{
	struct seg_writer *w = calloc(1, sizeof *w);
	int rc;

	if (w == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory attaching to %s", what);
		return -ENOMEM;
	}
	rc = map_segment(w, fd, what, err, errlen);
	if (rc == 0)
		rc = check_header(w, what, err, errlen);
	if (rc == 0)
		rc = lock_as_writer(fd, what, err, errlen);
	if (rc < 0)
		goto fail;
	seg_header_limits(&w->hdr, &w->limits);
	w->last_meta = malloc(w->hdr.copy_capacity);
	if (w->last_meta == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory attaching to %s", what);
		goto fail;
	}
	w->latch.seq = header_word(w, SEG_WORD(seq));
	w->latch.copy[0] = seg_words(w->base, w->hdr.copy_offset[0]);
	w->latch.copy[1] = seg_words(w->base, w->hdr.copy_offset[1]);
	w->generation = atomic_load_explicit(header_word(w, SEG_WORD(generation)),
					     memory_order_relaxed);
	atomic_store_explicit(header_word(w, SEG_WORD(writer)),
			      SEG_WRITER(getpid(), process_start_token(getpid())),
			      memory_order_relaxed);
	*out = w;
	return 0;
fail:
	seg_writer_detach(w);
	return rc;
}

int seg_writer_attach(struct seg_writer **out, const struct segdir *d, const char *collector,
		      char *err, size_t errlen)
{
	char what[PATH_MAX + 80];
	int fd = segdir_open_segment(d, collector, O_RDWR, NULL, err, errlen);

	if (fd < 0) {
		if (fd == -ENOENT)
			snprintf(err + strlen(err), errlen - strlen(err),
				 " (the agent creates collector segments)");
		return fd;
	}
	snprintf(what, sizeof what, "segment %s/%s" SEGDIR_SUFFIX, d->path, collector);
	return attach(out, fd, what, err, errlen);
}

/* An open file description of fd's file of our own: the writer lock belongs to
 * a description, and an inherited descriptor shares its description with every
 * process that inherited it, so that a lock taken on it would outlive us. */
static int reopen_own(int fd, char *err, size_t errlen, const char *what)
{
	char self[64];

	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	int own = open(self, O_RDWR | O_CLOEXEC);
	if (own < 0)
		snprintf(err, errlen, "reopening %s through %s failed: %s", what, self,
			 strerror(errno));
	return own;
}

int seg_writer_attach_fd(struct seg_writer **out, int fd, const char *what, char *err,
			 size_t errlen)
{
	int rc = segdir_check_fd(fd, (uid_t)-1, what, NULL, err, errlen);
	int own = rc == 0 ? reopen_own(fd, err, errlen, what) : -1;

	if (rc < 0)
		return rc;
	if (own < 0)
		return -EIO;
	return attach(out, own, what, err, errlen);
}

void seg_writer_detach(struct seg_writer *w)
{
	if (w == NULL)
		return;
	if (w->base != NULL)
		munmap(w->base, w->size);
	if (w->fd >= 0)
		close(w->fd);
	free(w->last_meta);
	free(w);
}

void seg_writer_detach_resident(struct seg_writer *w)
{
	if (w != NULL && w->base != NULL)
		atomic_store_explicit(header_word(w, SEG_WORD(writer)), 0, memory_order_relaxed);
	seg_writer_detach(w);
}

const struct batch_limits *seg_writer_limits(const struct seg_writer *w)
{
	return &w->limits;
}

void seg_writer_set_interval(struct seg_writer *w, uint32_t interval_ms)
{
	atomic_store_explicit(header_word(w, SEG_WORD(interval_ms)), interval_ms,
			      memory_order_relaxed);
}

/* The counts and the metadata sections say which series exist. */
static bool same_series_set(const struct seg_writer *w, const unsigned char *blob, size_t meta_len)
{
	const size_t counts_from = offsetof(struct blob_header, n_families);
	const size_t counts_to = offsetof(struct blob_header, flags);

	return w->last_meta_len == meta_len &&
	       memcmp(w->last_meta + counts_from, blob + counts_from, counts_to - counts_from) ==
		   0 &&
	       memcmp(w->last_meta + sizeof(struct blob_header), blob + sizeof(struct blob_header),
		      meta_len - sizeof(struct blob_header)) == 0;
}

static void note_generation(struct seg_writer *w, const unsigned char *blob, size_t meta_len)
{
	if (same_series_set(w, blob, meta_len))
		return;
	w->generation++;
	memcpy(w->last_meta, blob, meta_len);
	w->last_meta_len = meta_len;
	atomic_store_explicit(header_word(w, SEG_WORD(generation)), w->generation,
			      memory_order_relaxed);
}

/* Makes sure len bytes of both copies are backed before the latch writes them,
 * growing in steps so that a slowly growing batch costs few system calls. */
static int reserve_copies(struct seg_writer *w, size_t len, char *err, size_t errlen)
{
	const size_t step = 16 * 1024;

	if (len <= w->reserved)
		return 0;
	size_t want = len + step - len % step;
	if (want > w->hdr.copy_capacity)
		want = w->hdr.copy_capacity;
	for (int i = 0; i < 2; i++) {
		int rc = segment_reserve(w->fd, w->hdr.copy_offset[i], want);
		if (rc < 0) {
			snprintf(err, errlen, "fallocate(\"%s\" copy %d, %zu bytes) failed: %s%s",
				 w->hdr.collector, i, want, strerror(-rc),
				 rc == -ENOSPC ? " (is the file system full?)" : "");
			return rc;
		}
	}
	w->reserved = want;
	return 0;
}

int seg_writer_publish(struct seg_writer *w, struct batch *b, char *err, size_t errlen)
{
	size_t len, meta_len = batch_meta_bytes(b);
	unsigned char *blob = batch_blob(b, &len);
	struct blob_header h;
	size_t skip_from[2] = { 0, 0 }, skip_to[2] = { 0, 0 };

	if (len > w->hdr.copy_capacity) {
		snprintf(err, errlen, "batch of %zu bytes does not fit the segment (%llu bytes)",
			 len, (unsigned long long)w->hdr.copy_capacity);
		return -E2BIG;
	}
	int rc = reserve_copies(w, len, err, errlen);
	if (rc < 0)
		return rc;
	note_generation(w, blob, meta_len);
	memcpy(&h, blob, sizeof h);
	h.meta_generation = w->generation;
	h.publish_time_ns = segment_now_ns();
	memcpy(blob, &h, sizeof h);
	for (int i = 0; i < 2; i++) {
		if (w->copy_generation[i] == w->generation) {
			skip_from[i] = sizeof h;
			skip_to[i] = meta_len;
		}
	}
	latch_publish(&w->latch, blob, len, skip_from, skip_to);
	w->copy_generation[0] = w->copy_generation[1] = w->generation;
	atomic_fetch_add_explicit(header_word(w, SEG_WORD(publishes)), 1, memory_order_relaxed);
	if (batch_dropped(b) > 0)
		atomic_fetch_add_explicit(header_word(w, SEG_WORD(series_dropped)),
					  batch_dropped(b), memory_order_relaxed);
	return 0;
}
