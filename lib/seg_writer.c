/* The writer side of a segment: one collector process publishing its batches. */
#include <errno.h>
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

static int map_segment(struct seg_writer *w, const char *shm_name, char *err, size_t errlen)
{
	struct stat st;
	int fd = shm_open(shm_name, O_RDWR | O_CLOEXEC, 0);

	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "shm_open(\"%s\") failed: %s%s", shm_name, strerror(e),
			 e == ENOENT ? " (the agent creates collector segments)" : "");
		return -e;
	}
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < SEGMENT_HEADER_SIZE) {
		close(fd);
		snprintf(err, errlen, "segment %s is too small to be a segment", shm_name);
		return -EPROTO;
	}
	w->size = (size_t)st.st_size;
	w->base = mmap(NULL, w->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int e = errno;
	w->fd = fd;
	if (w->base == MAP_FAILED) {
		w->base = NULL;
		snprintf(err, errlen, "mmap(\"%s\") failed: %s", shm_name, strerror(e));
		return -e;
	}
	return 0;
}

int seg_writer_attach(struct seg_writer **out, const char *shm_name, char *err, size_t errlen)
{
	struct seg_writer *w = calloc(1, sizeof *w);
	char why[256];
	int rc;

	if (w == NULL)
		return -ENOMEM;
	w->fd = -1;
	rc = map_segment(w, shm_name, err, errlen);
	if (rc < 0)
		goto fail;
	if (atomic_load_explicit(header_word(w, 0), memory_order_acquire) != SEGMENT_MAGIC) {
		rc = -EPROTO;
		snprintf(err, errlen, "segment %s is not initialised (bad magic)", shm_name);
		goto fail;
	}
	words_load(&w->hdr, w->base, sizeof w->hdr / 8);
	rc = seg_header_check(&w->hdr, w->size, why, sizeof why);
	if (rc < 0) {
		snprintf(err, errlen, "segment %s: %s", shm_name, why);
		goto fail;
	}
	seg_header_limits(&w->hdr, &w->limits);
	w->last_meta = malloc(w->hdr.copy_capacity);
	if (w->last_meta == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory attaching to %s", shm_name);
		goto fail;
	}
	w->latch.seq = header_word(w, SEG_WORD(seq));
	w->latch.copy[0] = seg_words(w->base, w->hdr.copy_offset[0]);
	w->latch.copy[1] = seg_words(w->base, w->hdr.copy_offset[1]);
	w->generation = atomic_load_explicit(header_word(w, SEG_WORD(generation)),
					     memory_order_relaxed);
	atomic_store_explicit(header_word(w, SEG_WORD(writer_pid)), (uint64_t)getpid(),
			      memory_order_relaxed);
	atomic_store_explicit(header_word(w, SEG_WORD(writer_start)), process_start_token(getpid()),
			      memory_order_relaxed);
	*out = w;
	return 0;
fail:
	seg_writer_detach(w);
	return rc;
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
	if (w != NULL && w->base != NULL) {
		atomic_store_explicit(header_word(w, SEG_WORD(writer_start)), 0,
				      memory_order_relaxed);
		atomic_store_explicit(header_word(w, SEG_WORD(writer_pid)), 0,
				      memory_order_relaxed);
	}
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
				 rc == -ENOSPC ? " (is /dev/shm full?)" : "");
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
