/*
 * seg_workers.h - the parts of a segment with workers that its writers and its
 * readers share (private to lib/; docs/segment-layout.md, "Workers").
 *
 * Contract
 * --------
 * A worker owns its slot while it holds the slot's lock (segment_layout.h) and
 * publishes there through the slot's latch, exactly as a single writer does.
 * Everything else happens under the claim lock, which only attaching workers
 * and `shmetrics reset` take, briefly:
 *
 *	claim:
 *	    take the claim lock
 *	    take the first slot whose lock is free (its worker ended, or none was
 *	        ever there); none free: refuse, count it in workers_refused
 *	    if its last batch is newer than folded[slot] and of the current reset
 *	        epoch: fold it into the retained totals, and set folded[slot] to
 *	        its epoch, in one publish of the retained latch
 *	    publish an empty batch into the slot under a new epoch
 *	    release the claim lock (the slot's lock stays, for life)
 *
 * A reader reads the retained totals (noting the header's seq), then every
 * slot: a slot's batch counts unless folded[slot] already holds its epoch, or
 * it was published before the latest reset.  If seq moved meanwhile, a fold or
 * a reset happened under it, and it reads everything again: any fold publishes
 * the retained totals before it reinitialises a slot, so a reader that saw the
 * reinitialised slot also sees seq move (see seg_reader.c).
 *
 * Nothing here logs; errors are 0 or -errno with a message in err.
 */
#ifndef SHMETRICS_SEG_WORKERS_H
#define SHMETRICS_SEG_WORKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "segment_layout.h"
#include "seq_latch.h"

/* How long an attaching worker waits for the claim lock. */
#define SEG_CLAIM_TIMEOUT_MS 2000u

/* The latch of slot i, or of the retained totals, in a mapping of the segment. */
struct latch seg_slot_latch(void *base, const struct seg_header *h, uint32_t slot);
struct latch seg_retained_latch(void *base, const struct seg_header *h);

/* The words of slot i's header. */
_Atomic uint64_t *seg_slot_words(void *base, const struct seg_header *h, uint32_t slot);
#define SLOT_WORD(field) (offsetof(struct seg_slot, field) / 8)

/*
 * The retained payload: packs it into dst (cap bytes; the latch copy format:
 * header, folded[workers], the batch blob), returning its length, or 0 when it
 * does not fit.
 */
size_t seg_retained_pack(void *dst, size_t cap, uint64_t reset_epoch, uint32_t workers,
			 const uint64_t *folded, const void *blob, size_t blob_len);

/* A validated private copy of the retained payload. */
struct retained {
	uint64_t reset_epoch;
	uint32_t workers;
	const unsigned char *folded; /* workers 64-bit words, read with retained_folded */
	struct metrics_view batch;
};

/* Checks buf[0..len) (a copy read through the retained latch) against the
 * header h and the batch limits lim.  0 or -EPROTO with the reason. */
int seg_retained_parse(struct retained *out, const void *buf, size_t len,
		       const struct seg_header *h, const struct batch_limits *lim, char *err,
		       size_t errlen);

uint64_t retained_folded(const struct retained *r, uint32_t slot);

/* ---- the writer's side (seg_workers.c) ---- */

struct slot_claim {
	uint32_t slot;
	uint32_t epoch;       /* of the worker that now holds it */
	uint32_t reset_epoch; /* the collector's, at the claim */
	uint64_t dropped;     /* series the fold could not keep */
};

/*
 * Claims a slot for this process, as above, on the segment mapped read-write
 * at base (header h checked) through fd, this process's own open file
 * description.  Returns 0, or -EBUSY (every slot held, or the claim lock held
 * too long), -ENOMEM, -ENOSPC (no memory for the slot's pages), with err.
 */
int seg_slot_claim(struct slot_claim *out, void *base, const struct seg_header *h, int fd,
		   const char *what, char *err, size_t errlen);

#endif
