/*
 * segment_layout.h - the bytes of a segment (private to lib/: no other
 * directory includes it; documented in docs/segment-layout.md).  Every field of the header is a 64-bit word so that
 * each can be read and written as one atomic word.
 */
#ifndef SHMETRICS_SEGMENT_LAYOUT_H
#define SHMETRICS_SEGMENT_LAYOUT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "metrics.h"
#include "seq_latch.h"

#if ATOMIC_LLONG_LOCK_FREE != 2
#error "shmetrics needs lock-free 64-bit atomics: shared-memory atomics must not use locks"
#endif

#define SEGMENT_MAGIC       0x53434952544d4853ull /* "SHMTRICS" read as little-endian bytes */
#define SEGMENT_HEADER_SIZE 256u
#define SEGMENT_COPY_ALIGN  64u

struct seg_header {
	uint64_t magic;          /* SEGMENT_MAGIC, stored last at creation (release) */
	uint64_t layout_version; /* SEGMENT_LAYOUT_VERSION */
	uint64_t header_size;    /* SEGMENT_HEADER_SIZE */
	uint64_t segment_size;   /* bytes of the whole object */
	uint64_t copy_offset[2]; /* the two latch copies */
	uint64_t copy_capacity;  /* bytes of each copy */
	uint64_t limits[3];      /* struct batch_limits, packed */
	char collector[64];      /* NUL-terminated collector name */
	uint64_t creator_uid;    /* owner check when replacing a leftover segment */
	uint64_t creator_pid;    /* the agent that created it, and its start token: */
	uint64_t creator_start;  /* a leftover has a dead creator and a dead writer */
	uint64_t reserved0[3];
	/* Written by the writer while readers read: */
	uint64_t seq;        /* latch sequence; see segment.h */
	uint64_t generation; /* bumped when the set of series changes */
	uint64_t writer;     /* SEG_WRITER(pid, start token): one word, never read torn */
	uint64_t reserved2;
	uint64_t interval_ms;
	uint64_t publishes;
	uint64_t series_dropped; /* series refused for limits, summed over publishes */
	uint64_t reserved1;
};

_Static_assert(sizeof(struct batch_limits) == 24, "limits pack into three words");
_Static_assert(sizeof(struct seg_header) == SEGMENT_HEADER_SIZE, "segment header size changed");
_Static_assert(offsetof(struct seg_header, collector) == 80, "segment header layout changed");
_Static_assert(offsetof(struct seg_header, seq) == 192, "segment header layout changed");
_Static_assert(offsetof(struct seg_header, publishes) == 232, "segment header layout changed");
_Static_assert(offsetof(struct seg_header, series_dropped) == 240, "segment header layout changed");

_Static_assert(offsetof(struct seg_header, writer) == 208, "segment header layout changed");

#define SEG_WORD(field) (offsetof(struct seg_header, field) / 8)

/* The writer word: its pid above, the low 32 bits of its start-time token below
 * (pids fit in 22 bits; a token's low 32 bits tell a reused pid apart unless it
 * was started a multiple of 2^32 clock ticks later, over a year at 100 Hz). */
#define SEG_WRITER(pid, token) (((uint64_t)(uint32_t)(pid) << 32) | (uint32_t)(token))
#define SEG_WRITER_PID(word)   ((pid_t)((word) >> 32))
#define SEG_WRITER_TOKEN(word) ((uint32_t)(word))

/* The words of the segment at byte offset off. */
static inline _Atomic uint64_t *seg_words(void *base, size_t off)
{
	return (_Atomic uint64_t *)((unsigned char *)base + off);
}

/* Checks a private copy of a header against the file's real size. */
int seg_header_check(const struct seg_header *h, size_t object_size, char *err, size_t errlen);

/* Copies the header of the file fd with pread (no mapping, so no SIGBUS):
 * 0, or -EPROTO when the file is shorter than a header. */
int seg_header_pread(int fd, struct seg_header *h);

/*
 * The writer lock: a resident writer holds an open-file-description write lock
 * on the segment's first byte for as long as it lives, and the kernel drops it
 * when the writer dies, however it dies.  Whether a writer is alive is asked of
 * the lock, never of a pid: a writer in its own PID namespace (a sandboxed
 * plugin) knows its pid only as it sees it.
 */
/* Takes the lock on fd (open for writing): 0, or -EBUSY when another holds it. */
int seg_writer_lock(int fd);
/* True when some writer holds the lock (fd may be read-only). */
bool seg_writer_locked(int fd);

/* The batch limits stored in a header. */
void seg_header_limits(const struct seg_header *h, struct batch_limits *lim);

/* Allocates backing memory for bytes [off, off+len) of the object fd: 0, or
 * -ENOSPC (or another -errno) instead of a later SIGBUS on a full file system. */
int segment_reserve(int fd, uint64_t off, uint64_t len);

/* Layout of a new segment for the given limits; 0 if the limits are absurd. */
size_t seg_layout(struct seg_header *h, const struct batch_limits *lim);

#endif
