/*
 * seq_latch.h - the two-copy latch (contract in segment.h, ordering in seq_latch.c).
 */
#ifndef SHMETRICS_SEQ_LATCH_H
#define SHMETRICS_SEQ_LATCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct latch {
	_Atomic uint64_t *seq;
	_Atomic uint64_t *copy[2]; /* each copy_capacity bytes, 8-byte aligned */
};

/* Relaxed loads/stores of 64-bit words of shared memory. */
void words_load(void *dst, const _Atomic uint64_t *src, size_t nwords);
void words_store(_Atomic uint64_t *dst, const void *src, size_t nwords);

/*
 * Publishes blob[0..len) (len a multiple of 8, at most the copy capacity) into
 * both copies.  For copy i, bytes [skip_from[i], skip_to[i]) are known to hold
 * the same bytes already and are not rewritten (pass 0, 0 to write everything).
 * Only the single writer of the segment may call this.
 */
void latch_publish(const struct latch *l, const void *blob, size_t len, const size_t skip_from[2],
		   const size_t skip_to[2]);

/*
 * Copies the complete copy readers should use into dst (capacity bytes), retrying
 * up to max_tries times while the writer publishes.  Returns 0 and the length,
 * -EAGAIN when every try raced with the writer, -EPROTO when a stable copy has an
 * impossible length.  dst is untrusted data: validate it before use.
 */
int latch_read(const struct latch *l, void *dst, size_t capacity, unsigned max_tries, size_t *len);

/*
 * The sequence word, for a reader that reads several latches as one (a
 * segment with workers): latch_seq loads it with acquire order, before the
 * reads; latch_seq_recheck after them, behind an acquire fence, as latch_read
 * rechecks.  Equal values: nobody published in between.
 */
uint64_t latch_seq(const struct latch *l);
uint64_t latch_seq_recheck(const struct latch *l);

/*
 * latch_read that may leave a stretch out: after the first prefix bytes of the
 * copy are in dst, known(dst, arg) returns an offset `to` when the bytes
 * [prefix, to) are ones the caller holds already (0 when not); only the rest is
 * copied then, and *skipped_to is `to` (0 when everything was copied).  known
 * may see a torn prefix: it only decides what to copy, and the caller judges
 * the prefix in dst, which is consistent once this returns 0.
 */
int latch_read_known(const struct latch *l, void *dst, size_t capacity, unsigned max_tries,
		     size_t prefix, size_t (*known)(const void *dst, void *arg), void *arg,
		     size_t *len, size_t *skipped_to);

#endif
