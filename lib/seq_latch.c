/*
 * seq_latch.c - the two-copy latch that publishes a batch (the contract and the
 * reader loop are at the top of segment.h).  This is the only code that touches
 * the seq word.
 *
 * Memory ordering, in C11 terms.  The payload is read and written with relaxed
 * atomic word accesses (a data race on plain accesses would be undefined
 * behaviour, and the reader does race with the writer by design).  Ordering:
 *
 *   writer                                   reader
 *   [A] stores into the inactive copy        [R1] s0 = load(seq, acquire)
 *   [W1] store(seq, s+1, release)            [R2] relaxed loads of copy[s0 & 1]
 *   [F1] fence(release)                      [R3] fence(acquire)
 *   [B] stores into the other copy           [R4] s1 = load(seq, relaxed)
 *   [W2] store(seq, s+2, release)
 *   [F2] fence(release)
 *
 * - W1 (release) pairs with R1 (acquire): a reader that sees s+1 sees all of A.
 * - F1 pairs with R3: if any load in R2 saw a store from B, then W1 happens
 *   before R4, so s1 >= s+1 != s0 and the read is retried.  F2 does the same for
 *   the next publish's stores into the copy the reader picked at s+2.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "seq_latch.h"

void words_load(void *dst, const _Atomic uint64_t *src, size_t nwords)
{
	unsigned char *out = dst;
	for (size_t i = 0; i < nwords; i++) {
		uint64_t w = atomic_load_explicit(&src[i], memory_order_relaxed);
		memcpy(out + i * 8, &w, 8);
	}
}

void words_store(_Atomic uint64_t *dst, const void *src, size_t nwords)
{
	const unsigned char *in = src;
	for (size_t i = 0; i < nwords; i++) {
		uint64_t w;
		memcpy(&w, in + i * 8, 8);
		atomic_store_explicit(&dst[i], w, memory_order_relaxed);
	}
}

static void write_copy(const struct latch *l, unsigned idx, const void *blob, size_t len,
		       size_t skip_from, size_t skip_to)
{
	/* [skip_from, skip_to) already holds these bytes in this copy: leave it. */
	words_store(l->copy[idx], blob, skip_from / 8);
	words_store(l->copy[idx] + skip_to / 8, (const unsigned char *)blob + skip_to,
		    (len - skip_to) / 8);
}

void latch_publish(const struct latch *l, const void *blob, size_t len, const size_t skip_from[2],
		   const size_t skip_to[2])
{
	/* Only this process writes seq, so its own last store is what it reads. */
	uint64_t s = atomic_load_explicit(l->seq, memory_order_relaxed);
	unsigned active = (unsigned)(s & 1), inactive = active ^ 1;

	write_copy(l, inactive, blob, len, skip_from[inactive], skip_to[inactive]);
	/* [W1] pairs with the reader's acquire load of seq. */
	atomic_store_explicit(l->seq, s + 1, memory_order_release);
	/* [F1] orders W1 before the stores into the copy readers used until now;
	 * pairs with the reader's acquire fence before its recheck. */
	atomic_thread_fence(memory_order_release);
	write_copy(l, active, blob, len, skip_from[active], skip_to[active]);
	/* [W2]/[F2]: as W1/F1, for the copy readers switch back to. */
	atomic_store_explicit(l->seq, s + 2, memory_order_release);
	atomic_thread_fence(memory_order_release);
}

int latch_read(const struct latch *l, void *dst, size_t capacity, unsigned max_tries, size_t *len)
{
	for (unsigned attempt = 0; attempt < max_tries; attempt++) {
		/* [R1] pairs with the writer's release stores of seq. */
		uint64_t s0 = atomic_load_explicit(l->seq, memory_order_acquire);
		const _Atomic uint64_t *src = l->copy[s0 & 1];
		uint64_t used = atomic_load_explicit(&src[0], memory_order_relaxed);
		/* A bad length is judged after the recheck: it may be a torn read. */
		size_t n = used <= capacity && used % 8 == 0 ? (size_t)used : 0;

		words_load(dst, src, n / 8);
		/* [R3] pairs with the writer's release fences [F1]/[F2]. */
		atomic_thread_fence(memory_order_acquire);
		uint64_t s1 = atomic_load_explicit(l->seq, memory_order_relaxed);
		if (s0 != s1)
			continue;
		if (n == 0)
			return -EPROTO;
		*len = n;
		return 0;
	}
	return -EAGAIN;
}

uint64_t latch_seq(const struct latch *l)
{
	/* [R1] pairs with the writer's release stores of seq. */
	return atomic_load_explicit(l->seq, memory_order_acquire);
}

uint64_t latch_seq_recheck(const struct latch *l)
{
	/* [R3] pairs with the writer's release fences [F1]/[F2]: if the caller's
	 * reads saw anything the writer stored after one, this sees seq moved. */
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(l->seq, memory_order_relaxed);
}

int latch_read_known(const struct latch *l, void *dst, size_t capacity, unsigned max_tries,
		     size_t prefix, size_t (*known)(const void *dst, void *arg), void *arg,
		     size_t *len, size_t *skipped_to)
{
	unsigned char *out = dst;

	for (unsigned attempt = 0; attempt < max_tries; attempt++) {
		/* [R1] pairs with the writer's release stores of seq. */
		uint64_t s0 = atomic_load_explicit(l->seq, memory_order_acquire);
		const _Atomic uint64_t *src = l->copy[s0 & 1];
		uint64_t used = atomic_load_explicit(&src[0], memory_order_relaxed);
		size_t n = used <= capacity && used % 8 == 0 ? (size_t)used : 0, to = 0;

		if (n >= prefix) {
			words_load(out, src, prefix / 8);
			to = known(out, arg);
			if (to <= prefix || to > n || to % 8 != 0)
				to = 0;
		}
		size_t from = to ? to : n >= prefix ? prefix : 0;
		words_load(out + from, src + from / 8, (n - from) / 8);
		/* [R3] pairs with the writer's release fences [F1]/[F2]. */
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(l->seq, memory_order_relaxed) != s0)
			continue;
		if (n == 0)
			return -EPROTO;
		*len = n;
		*skipped_to = to;
		return 0;
	}
	return -EAGAIN;
}
