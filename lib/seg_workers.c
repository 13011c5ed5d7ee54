/*
 * seg_workers.c - slots and retained totals of a segment with workers: the
 * payload format both sides share, claiming a slot (folding what its ended
 * worker counted), and resetting a collector.  The protocol is in
 * seg_workers.h.
 */
#include "seg_workers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "seg_merge.h"
#include "segment.h"

#define READ_TRIES 64

/* ---- geometry ---- */

_Atomic uint64_t *seg_slot_words(void *base, const struct seg_header *h, uint32_t slot)
{
	return seg_words(base, seg_slot_offset(h, slot));
}

struct latch seg_slot_latch(void *base, const struct seg_header *h, uint32_t slot)
{
	uint64_t off = seg_slot_offset(h, slot);
	struct latch l = {
		.seq = seg_words(base, off),
		.copy = { seg_words(base, off + SEG_SLOT_HEADER_SIZE),
			  seg_words(base, off + SEG_SLOT_HEADER_SIZE + h->slot_capacity) },
	};
	return l;
}

struct latch seg_retained_latch(void *base, const struct seg_header *h)
{
	struct latch l = {
		.seq = seg_words(base, offsetof(struct seg_header, seq)),
		.copy = { seg_words(base, h->copy_offset[0]), seg_words(base, h->copy_offset[1]) },
	};
	return l;
}

/* ---- the retained payload ---- */

size_t seg_retained_pack(void *dst, size_t cap, uint64_t reset_epoch, uint32_t workers,
			 const uint64_t *folded, const void *blob, size_t blob_len)
{
	size_t prefix = (size_t)seg_retained_prefix(workers), len = prefix + blob_len;
	struct seg_retained r = { .used_bytes = len,
				  .reset_epoch = reset_epoch,
				  .workers = workers };

	if (blob_len % 8 != 0 || len > cap)
		return 0;
	memcpy(dst, &r, sizeof r);
	memcpy((unsigned char *)dst + sizeof r, folded, (size_t)workers * 8);
	memcpy((unsigned char *)dst + prefix, blob, blob_len);
	return len;
}

int seg_retained_parse(struct retained *out, const void *buf, size_t len,
		       const struct seg_header *h, const struct batch_limits *lim, char *err,
		       size_t errlen)
{
	struct seg_retained r;
	char why[256];

	if (len < sizeof r) {
		snprintf(err, errlen, "the retained totals are shorter than their header");
		return -EPROTO;
	}
	memcpy(&r, buf, sizeof r);
	uint64_t prefix = seg_retained_prefix(h->workers);
	if (r.workers != h->workers || r.used_bytes != len || len < prefix) {
		snprintf(err, errlen, "the retained totals do not match the segment's workers");
		return -EPROTO;
	}
	const unsigned char *blob = (const unsigned char *)buf + prefix;
	if (metrics_view_open(&out->batch, blob, len - prefix, lim, why, sizeof why) < 0) {
		snprintf(err, errlen, "the retained totals hold a corrupt batch: %s", why);
		return -EPROTO;
	}
	out->reset_epoch = r.reset_epoch;
	out->workers = (uint32_t)r.workers;
	out->folded = (const unsigned char *)buf + sizeof r;
	return 0;
}

uint64_t retained_folded(const struct retained *r, uint32_t slot)
{
	uint64_t v;

	memcpy(&v, r->folded + (size_t)slot * 8, 8);
	return v;
}

/* ---- claiming a slot ---- */

/* What a claim works with: the segment, and private copies of what it reads. */
struct claim {
	void *base;
	const struct seg_header *h;
	int fd;
	const char *what;
	struct batch_limits lim;
	unsigned char *retained_buf; /* copy_capacity bytes */
	struct retained retained;
	unsigned char *slot_buf;  /* slot_capacity bytes */
	struct metrics_view last; /* the slot's last batch, when valid */
	bool have_last;
};

static int find_free_slot(struct claim *c, uint32_t *slot, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < c->h->workers; i++) {
		int rc = seg_slot_trylock(c->fd, i);
		if (rc == 0) {
			*slot = i;
			return 0;
		}
		if (rc != -EBUSY) {
			snprintf(err, errlen, "locking slot %u of %s failed: %s", i, c->what,
				 strerror(-rc));
			return rc;
		}
	}
	atomic_fetch_add_explicit(seg_words(c->base, offsetof(struct seg_header, workers_refused)),
				  1, memory_order_relaxed);
	snprintf(err, errlen,
		 "%s: all %llu worker slots are held by running processes; raise \"workers\" of "
		 "the collector in the agent's configuration",
		 c->what, (unsigned long long)c->h->workers);
	return -EBUSY;
}

static int read_retained(struct claim *c, char *err, size_t errlen)
{
	struct latch l = seg_retained_latch(c->base, c->h);
	size_t len;
	char why[300];

	c->retained_buf = malloc(c->h->copy_capacity);
	if (c->retained_buf == NULL) {
		snprintf(err, errlen, "out of memory attaching to %s", c->what);
		return -ENOMEM;
	}
	int rc = latch_read(&l, c->retained_buf, c->h->copy_capacity, READ_TRIES, &len);
	if (rc == 0)
		rc = seg_retained_parse(&c->retained, c->retained_buf, len, c->h, &c->lim, why,
					sizeof why);
	else
		snprintf(why, sizeof why, "they could not be read");
	if (rc < 0)
		snprintf(err, errlen, "%s: the retained totals of ended workers: %s", c->what, why);
	return rc < 0 ? -EPROTO : 0;
}

/* The slot's last batch, if it has a valid one (a worker that died mid-way
 * through its first publish may have left none). */
static int read_last(struct claim *c, uint32_t slot, char *err, size_t errlen)
{
	struct latch l = seg_slot_latch(c->base, c->h, slot);
	size_t len;
	char why[8];

	c->slot_buf = malloc(c->h->slot_capacity);
	if (c->slot_buf == NULL) {
		snprintf(err, errlen, "out of memory attaching to %s", c->what);
		return -ENOMEM;
	}
	c->have_last = atomic_load_explicit(l.seq, memory_order_acquire) != 0 &&
		       latch_read(&l, c->slot_buf, c->h->slot_capacity, READ_TRIES, &len) == 0 &&
		       metrics_view_open(&c->last, c->slot_buf, len, &c->lim, why, sizeof why) == 0;
	return 0;
}

/* Publishes the retained totals: the merge of the old ones with the slot's
 * last batch, and folded[slot] set to that batch's epoch. */
static int publish_retained(struct claim *c, uint64_t reset_epoch, const uint64_t *folded,
			    const void *blob, size_t blob_len)
{
	size_t cap = c->h->copy_capacity;
	unsigned char *payload = malloc(cap);
	int rc = payload ? 0 : -ENOMEM;
	size_t len = payload ? seg_retained_pack(payload, cap, reset_epoch, (uint32_t)c->h->workers,
						 folded, blob, blob_len)
			     : 0;

	if (rc == 0 && len == 0)
		rc = -E2BIG;
	for (int i = 0; i < 2 && rc == 0; i++)
		rc = segment_reserve(c->fd, c->h->copy_offset[i], len);
	if (rc == 0) {
		struct latch l = seg_retained_latch(c->base, c->h);
		const size_t none[2] = { 0, 0 };
		latch_publish(&l, payload, len, none, none);
	}
	free(payload);
	return rc;
}

static int publish_fold(struct claim *c, uint32_t slot, struct batch *merged, char *err,
			size_t errlen)
{
	size_t blob_len;
	const void *blob = batch_blob(merged, &blob_len);
	uint64_t *folded = malloc(c->h->workers * 8);
	int rc = -ENOMEM;

	if (folded != NULL) {
		memcpy(folded, c->retained.folded, c->h->workers * 8);
		folded[slot] = c->last.hdr.worker_epoch;
		rc = publish_retained(c, c->retained.reset_epoch, folded, blob, blob_len);
	}
	if (rc < 0)
		snprintf(err, errlen, "%s: folding an ended worker's totals failed: %s", c->what,
			 strerror(-rc));
	free(folded);
	return rc;
}

static int fold(struct claim *c, uint32_t slot, uint64_t *dropped, char *err, size_t errlen)
{
	struct seg_merge *m = NULL;
	struct batch *out = NULL;
	int rc = seg_merge_new(&m, &c->lim, MERGE_RETAIN);

	if (rc == 0 && (out = batch_new(seg_merge_limits(m))) == NULL)
		rc = -ENOMEM;
	if (rc < 0) {
		snprintf(err, errlen, "out of memory attaching to %s", c->what);
	} else {
		seg_merge_add(m, &c->retained.batch, MERGE_NO_WORKER, MERGE_ENDED);
		seg_merge_add(m, &c->last, slot, MERGE_ENDED);
		seg_merge_build(m, out);
		*dropped = seg_merge_dropped(m);
		rc = publish_fold(c, slot, out, err, errlen);
	}
	batch_free(out);
	seg_merge_free(m);
	return rc;
}

/* An ended worker's batch still to fold: newer than what was folded for its
 * slot, and counted since the latest reset. */
static bool needs_fold(const struct claim *c, uint32_t slot)
{
	return c->have_last && c->last.hdr.worker_epoch > retained_folded(&c->retained, slot) &&
	       c->last.hdr.reset_epoch == (uint32_t)c->retained.reset_epoch &&
	       c->last.hdr.n_series > 0;
}

/* A claim number above every one this slot had. */
static uint32_t next_epoch(const struct claim *c, uint32_t slot)
{
	uint64_t e = retained_folded(&c->retained, slot);
	uint64_t word = atomic_load_explicit(seg_slot_words(c->base, c->h, slot) + SLOT_WORD(epoch),
					     memory_order_relaxed);

	if (c->have_last && c->last.hdr.worker_epoch > e)
		e = c->last.hdr.worker_epoch;
	if (word > e && word < UINT32_MAX)
		e = word;
	return e >= UINT32_MAX - 1 ? 1 : (uint32_t)e + 1;
}

/* The slot starts afresh: an empty batch of the new claim, both copies. */
static int init_slot(struct claim *c, uint32_t slot, uint32_t epoch, char *err, size_t errlen)
{
	uint64_t off = seg_slot_offset(c->h, slot);
	struct blob_header empty = { .used_bytes = sizeof empty,
				     .worker_epoch = epoch,
				     .reset_epoch = (uint32_t)c->retained.reset_epoch };
	struct latch l = seg_slot_latch(c->base, c->h, slot);
	const size_t none[2] = { 0, 0 };
	int rc = segment_reserve(c->fd, off, SEG_SLOT_HEADER_SIZE);

	for (int i = 0; i < 2 && rc == 0; i++)
		rc = segment_reserve(c->fd, off + SEG_SLOT_HEADER_SIZE + i * c->h->slot_capacity,
				     SEGMENT_COPY_ALIGN * 2);
	if (rc < 0) {
		snprintf(err, errlen, "fallocate(%s, slot %u) failed: %s", c->what, slot,
			 strerror(-rc));
		return rc;
	}
	atomic_store_explicit(seg_slot_words(c->base, c->h, slot) + SLOT_WORD(epoch), epoch,
			      memory_order_relaxed);
	latch_publish(&l, &empty, sizeof empty, none, none);
	return 0;
}

static int claim_locked(struct claim *c, struct slot_claim *out, char *err, size_t errlen)
{
	uint32_t slot;
	int rc = find_free_slot(c, &slot, err, errlen);

	if (rc == 0)
		rc = read_retained(c, err, errlen);
	if (rc == 0)
		rc = read_last(c, slot, err, errlen);
	out->dropped = 0;
	if (rc == 0 && needs_fold(c, slot))
		rc = fold(c, slot, &out->dropped, err, errlen);
	if (out->dropped > 0)
		atomic_fetch_add_explicit(seg_words(c->base,
						    offsetof(struct seg_header, series_dropped)),
					  out->dropped, memory_order_relaxed);
	if (rc == 0) {
		out->slot = slot;
		out->epoch = next_epoch(c, slot);
		out->reset_epoch = (uint32_t)c->retained.reset_epoch;
		rc = init_slot(c, slot, out->epoch, err, errlen);
	}
	return rc;
}

int seg_slot_claim(struct slot_claim *out, void *base, const struct seg_header *h, int fd,
		   const char *what, char *err, size_t errlen)
{
	struct claim c = { .base = base, .h = h, .fd = fd, .what = what };
	int rc = seg_claim_lock(fd, SEG_CLAIM_TIMEOUT_MS);

	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", what,
			 rc == -EBUSY ? "another process held its claim lock for too long"
				      : strerror(-rc));
		return rc;
	}
	seg_header_limits(h, &c.lim);
	rc = claim_locked(&c, out, err, errlen);
	seg_claim_unlock(fd);
	free(c.retained_buf);
	free(c.slot_buf);
	return rc;
}

/* ---- reset ---- */

/* Empty retained totals under the next reset epoch; writers learn of it from
 * the header's word, stored after (release: a writer that sees the new epoch
 * also sees the totals it was published with). */
static int reset_workers(struct claim *c, char *err, size_t errlen)
{
	struct blob_header empty = { .used_bytes = sizeof empty };
	int rc = read_retained(c, err, errlen);
	uint64_t next = c->retained.reset_epoch + 1;
	uint64_t *folded = rc == 0 ? malloc(c->h->workers * 8) : NULL;

	if (rc == 0 && folded == NULL)
		rc = -ENOMEM;
	if (rc == 0) {
		memcpy(folded, c->retained.folded, c->h->workers * 8);
		rc = publish_retained(c, next, folded, &empty, sizeof empty);
		if (rc < 0)
			snprintf(err, errlen, "%s: publishing the reset failed: %s", c->what,
				 strerror(-rc));
	}
	if (rc == 0)
		atomic_store_explicit(seg_words(c->base, offsetof(struct seg_header, reset_epoch)),
				      next, memory_order_release);
	free(folded);
	return rc;
}

static int reset_mapped(struct claim *c, char *err, size_t errlen)
{
	_Atomic uint64_t *epoch = seg_words(c->base, offsetof(struct seg_header, reset_epoch));

	if (c->h->workers == 0) {
		/* One writer: it rebases at its next publish; readers need nothing. */
		atomic_fetch_add_explicit(epoch, 1, memory_order_release);
		return 0;
	}
	int rc = seg_claim_lock(c->fd, SEG_CLAIM_TIMEOUT_MS);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", c->what,
			 rc == -EBUSY ? "a worker held its claim lock for too long; try again"
				      : strerror(-rc));
		return rc;
	}
	rc = reset_workers(c, err, errlen);
	seg_claim_unlock(c->fd);
	return rc;
}

int segment_reset(int fd, const char *what, char *err, size_t errlen)
{
	struct seg_header h;
	struct stat st;
	char why[256];

	if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof h || seg_header_pread(fd, &h) < 0 ||
	    seg_header_check(&h, (size_t)st.st_size, why, sizeof why) < 0) {
		snprintf(err, errlen, "%s is not a segment this program can reset", what);
		return -EPROTO;
	}
	void *base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		int e = errno;
		snprintf(err, errlen, "mmap(%s) failed: %s", what, strerror(e));
		return -e;
	}
	struct claim c = { .base = base, .h = &h, .fd = fd, .what = what };
	seg_header_limits(&h, &c.lim);
	int rc = reset_mapped(&c, err, errlen);
	munmap(base, (size_t)st.st_size);
	free(c.retained_buf);
	return rc;
}
