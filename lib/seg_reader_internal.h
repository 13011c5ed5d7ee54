/*
 * seg_reader_internal.h - what seg_reader.c (segments of one writer) and
 * seg_reader_workers.c (segments with workers) share.  Private to lib/.
 */
#ifndef SHMETRICS_SEG_READER_INTERNAL_H
#define SHMETRICS_SEG_READER_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "segment.h"
#include "segment_layout.h"
#include "seq_latch.h"

#define READ_TRIES 64

struct reader_workers;

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
	struct reader_workers *workers; /* segments with workers: NULL until one is read */
};

/* Copies and checks the header (magic, sizes, the reader's limits). */
int reader_copy_header(struct seg_reader *r, struct seg_header *h, char *err, size_t errlen);

/* Grows r->buf to capacity bytes. */
int reader_ensure_buffer(struct seg_reader *r, size_t capacity, char *err, size_t errlen);

/* latch_read over the mapping, SIGBUS caught: 0, -EAGAIN, -EPROTO, or -EFAULT
 * when the file was truncated under the mapping. */
int reader_latch_read(const struct latch *l, void *dst, size_t cap, size_t *len);

/* latch_read_known the same way. */
int reader_latch_read_known(const struct latch *l, void *dst, size_t cap, size_t prefix,
			    size_t (*known)(const void *dst, void *arg), void *arg, size_t *len,
			    size_t *skipped_to);

/* latch_seq, or latch_seq_recheck, SIGBUS caught: 0 or -EFAULT. */
int reader_latch_seq(const struct latch *l, bool recheck, uint64_t *seq);

/* Relaxed loads of nwords words at byte offset off of the mapping (checked to
 * be inside it by the caller), SIGBUS caught: 0 or -EFAULT. */
int reader_words(struct seg_reader *r, void *dst, uint64_t off, size_t nwords);

/* seg_reader_workers.c: the snapshot and the probe of a segment with workers
 * (header h checked), and the reader's state for them. */
int reader_workers_snapshot(struct seg_reader *r, const struct seg_header *h,
			    struct metrics_view *view, struct seg_info *info, char *err,
			    size_t errlen);
bool reader_workers_unchanged(struct seg_reader *r, const struct seg_header *h);
void reader_workers_free(struct seg_reader *r);

#endif
