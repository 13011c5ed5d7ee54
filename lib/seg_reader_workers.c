/*
 * seg_reader_workers.c - reading a segment with workers: the retained totals
 * and every slot, each copied out and validated like a segment of its own, and
 * merged into one batch (seg_merge.h).  The order of the reads, and why a fold
 * under the reader makes it read again, is in seg_workers.h.
 *
 * What the reader holds is bounded by its own limits: one copy of the retained
 * totals, one slot's copy at a time, and the merge's tables and output, all
 * sized from the segment's header limits, which the reader has checked against
 * its own (seg_read_limits) -- nothing grows with what a slot claims.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seg_merge.h"
#include "seg_reader_internal.h"
#include "seg_workers.h"

/* Reads again at most this many times when folds keep happening under it. */
#define FOLD_RETRIES 8
/* Distinct metadata the reader keeps checked copies of (workers of one program
 * share one). */
#define META_CACHE   4

struct known_meta {
	uint64_t tag; /* 0: unused */
	uint64_t used;
	unsigned char *bytes; /* a checked batch's bytes up to its values */
	size_t cap;
	struct metrics_view view; /* over bytes */
};

/* What the reader knows of a slot's last batch. */
struct slot_known {
	struct known_meta *meta; /* its metadata (while meta->tag is tag); NULL: read it all */
	uint64_t tag;
	uint32_t epoch;
	uint64_t generation, used_bytes;
};

struct reader_workers {
	struct batch_limits lim; /* the header's, which the merge was made for */
	uint32_t workers;
	struct seg_header hdr; /* the last checked header: the probe's geometry */
	struct seg_merge *merge;
	struct batch *out;
	unsigned char *slot_buf; /* one slot's copy */
	/* The merged batch's metadata, to give it a generation of its own. */
	unsigned char *meta;
	size_t meta_len, meta_cap;
	uint64_t generation;
	/* What the last snapshot saw of each slot (seg_reader_unchanged). */
	uint64_t *seen_seq;
	bool *seen_alive;
	struct slot_known *slot_known; /* per slot */
	struct known_meta metas[META_CACHE];
	uint64_t next_tag, tick;
};

/* What one pass over the slots found, for seg_info. */
struct pass {
	struct retained retained;
	uint32_t alive;
	pid_t pid;
	uint32_t start;
	uint64_t publishes, dropped, interval_ms;
};

void reader_workers_free(struct seg_reader *r)
{
	struct reader_workers *w = r->workers;

	if (w == NULL)
		return;
	seg_merge_free(w->merge);
	batch_free(w->out);
	free(w->slot_buf);
	free(w->meta);
	free(w->seen_seq);
	free(w->seen_alive);
	free(w->slot_known);
	for (int i = 0; i < META_CACHE; i++)
		free(w->metas[i].bytes);
	free(w);
	r->workers = NULL;
}

/* The reader's state for header h: made again when the segment was replaced by
 * one of other limits or another number of workers. */
static int workers_state(struct seg_reader *r, const struct seg_header *h, char *err, size_t errlen)
{
	struct batch_limits lim;
	struct reader_workers *w = r->workers;

	seg_header_limits(h, &lim);
	if (w != NULL && w->workers == h->workers && memcmp(&w->lim, &lim, sizeof lim) == 0)
		return 0;
	reader_workers_free(r);
	w = r->workers = calloc(1, sizeof *w);
	if (w == NULL)
		goto oom;
	w->lim = lim;
	w->workers = (uint32_t)h->workers;
	w->slot_buf = malloc(h->slot_capacity);
	w->seen_seq = calloc(h->workers, sizeof *w->seen_seq);
	w->seen_alive = calloc(h->workers, sizeof *w->seen_alive);
	w->slot_known = calloc(h->workers, sizeof *w->slot_known);
	if (w->slot_buf == NULL || w->seen_seq == NULL || w->seen_alive == NULL ||
	    w->slot_known == NULL || seg_merge_new(&w->merge, &lim, MERGE_SERVE) < 0 ||
	    (w->out = batch_new(seg_merge_limits(w->merge))) == NULL)
		goto oom;
	return reader_ensure_buffer(r, h->copy_capacity, err, errlen);
oom:
	reader_workers_free(r);
	snprintf(err, errlen, "out of memory reading %s", r->what);
	return -ENOMEM;
}

static int read_retained(struct seg_reader *r, const struct seg_header *h, struct pass *p,
			 char *err, size_t errlen)
{
	struct latch l = seg_retained_latch(r->base, h);
	char why[300];
	size_t len;
	int rc = reader_latch_read(&l, r->buf, h->copy_capacity, &len);

	if (rc == 0)
		rc = seg_retained_parse(&p->retained, r->buf, len, h, &r->workers->lim, why,
					sizeof why);
	else if (rc == -EFAULT)
		snprintf(why, sizeof why, "the file was truncated under its readers");
	else if (rc == -EAGAIN)
		snprintf(why, sizeof why, "they kept changing through %d read attempts",
			 READ_TRIES);
	else
		snprintf(why, sizeof why, "they have an impossible length");
	if (rc < 0)
		snprintf(err, errlen, "%s: the retained totals of ended workers: %s", r->what, why);
	return rc == -EAGAIN ? rc : rc < 0 ? -EPROTO : 0;
}

static void note_slot(struct pass *p, const struct seg_slot *s, bool alive)
{
	p->publishes += s->publishes;
	p->dropped += s->series_dropped;
	if (!alive)
		return;
	if (p->alive++ == 0) {
		p->pid = SEG_WRITER_PID(s->writer) > 0 ? SEG_WRITER_PID(s->writer) : 0;
		p->start = SEG_WRITER_TOKEN(s->writer);
	}
	if (s->interval_ms > p->interval_ms && s->interval_ms <= 86400000u)
		p->interval_ms = s->interval_ms;
}

/* ---- the metadata the reader has checked ---- */

/* A checked batch's bytes up to its values, named by a tag. */
static struct known_meta *find_meta(struct reader_workers *w, uint64_t tag)
{
	for (int i = 0; tag != 0 && i < META_CACHE; i++)
		if (w->metas[i].tag == tag)
			return &w->metas[i];
	return NULL;
}

/* The tag of v's metadata (v passed the checks): one already known with the
 * same bytes, or a new entry in place of the least recently used one.  0 when
 * memory is short (the slot is then read in full each time). */
static uint64_t meta_tag(struct reader_workers *w, const struct metrics_view *v)
{
	struct known_meta *lru = &w->metas[0];

	for (int i = 0; i < META_CACHE; i++) {
		struct known_meta *k = &w->metas[i];
		if (k->tag != 0 && metrics_view_same_meta(v, &k->view)) {
			k->used = ++w->tick;
			return k->tag;
		}
		if (k->used < lru->used)
			lru = k;
	}
	if (v->values_off > lru->cap) {
		unsigned char *p = realloc(lru->bytes, v->values_off);
		if (p == NULL)
			return 0;
		lru->bytes = p;
		lru->cap = v->values_off;
	}
	memcpy(lru->bytes, v->blob, v->values_off);
	lru->view = *v;
	lru->view.blob = lru->bytes;
	lru->tag = ++w->next_tag;
	lru->used = ++w->tick;
	return lru->tag;
}

/* latch_read_known's judge: the slot's copy repeats the metadata the slot had
 * at its last read (same worker, same generation, same counts and size), so
 * the reader's checked copy stands in for those bytes. */
static size_t slot_meta_known(const void *dst, void *arg)
{
	const struct slot_known *sk = arg;
	struct blob_header h;

	memcpy(&h, dst, sizeof h);
	if (sk->meta == NULL || h.worker_epoch != sk->epoch ||
	    h.meta_generation != sk->generation || h.used_bytes != sk->used_bytes ||
	    memcmp(&h.n_families, &sk->meta->view.hdr.n_families,
		   offsetof(struct blob_header, flags) -
		       offsetof(struct blob_header, n_families)) != 0 ||
	    h.error_len != sk->meta->view.hdr.error_len)
		return 0;
	return sk->meta->view.values_off;
}

/* ---- one slot ---- */

/* A slot's batch as read: a view, or (meta known) a header and values. */
struct slot_batch {
	struct metrics_view view;
	bool values_only; /* view.hdr and the values are fresh; the rest is meta's */
	struct known_meta *meta;
};

static int check_slot_batch(struct reader_workers *w, uint32_t i, struct slot_batch *b, size_t len,
			    char *why, size_t whylen)
{
	struct slot_known *sk = &w->slot_known[i];
	bool like = false;
	int rc = metrics_view_open_like(&b->view, w->slot_buf, len, &w->lim,
					sk->meta ? &sk->meta->view : NULL, &like, why, whylen);

	if (rc < 0)
		return rc;
	uint64_t tag = like ? sk->meta->tag : meta_tag(w, &b->view);
	b->meta = find_meta(w, tag);
	sk->meta = b->meta;
	sk->tag = tag;
	sk->epoch = b->view.hdr.worker_epoch;
	sk->generation = b->view.hdr.meta_generation;
	sk->used_bytes = b->view.hdr.used_bytes;
	return 0;
}

/* Copies slot i's batch out: its values alone when its metadata is the one
 * checked at its last read, else all of it, checked. */
static int read_slot_batch(struct seg_reader *r, const struct seg_header *h, uint32_t i,
			   struct slot_batch *b, char *err, size_t errlen)
{
	struct reader_workers *w = r->workers;
	struct slot_known *sk = &w->slot_known[i];
	struct latch l = seg_slot_latch(r->base, h, i);
	char why[256] = "";
	size_t len, skipped = 0;

	if (sk->meta != NULL && sk->meta->tag != sk->tag)
		sk->meta = NULL; /* its entry now holds another metadata */
	int rc = reader_latch_read_known(&l, w->slot_buf, h->slot_capacity,
					 sizeof(struct blob_header), slot_meta_known, sk, &len,
					 &skipped);
	if (rc == -EAGAIN) {
		snprintf(err, errlen,
			 "worker %u of collector %s kept publishing through %d read attempts", i,
			 h->collector, READ_TRIES);
		return rc;
	}
	b->values_only = rc == 0 && skipped != 0;
	if (b->values_only) {
		b->meta = sk->meta;
		b->view = sk->meta->view;
		memcpy(&b->view.hdr, w->slot_buf, sizeof b->view.hdr);
		b->view.blob = w->slot_buf;
	} else if (rc == 0) {
		rc = check_slot_batch(w, i, b, len, why, sizeof why);
	} else {
		snprintf(why, sizeof why, "%s",
			 rc == -EFAULT ? "the file was truncated" : "an impossible length");
	}
	if (rc < 0) {
		sk->meta = NULL;
		snprintf(err, errlen, "%s: slot %u holds a corrupt batch: %s", r->what, i, why);
		return -EPROTO;
	}
	return 0;
}

static void merge_slot_batch(struct reader_workers *w, struct slot_batch *b, uint32_t i,
			     enum merge_input kind)
{
	uint64_t tag = b->meta ? b->meta->tag : 0;

	if (b->values_only && seg_merge_add_values(w->merge, tag, &b->view.hdr,
						   w->slot_buf + b->view.values_off, i, kind))
		return;
	if (b->values_only) /* the merge wants the whole batch: put the metadata back */
		memcpy(w->slot_buf + sizeof(struct blob_header),
		       b->meta->bytes + sizeof(struct blob_header),
		       b->view.values_off - sizeof(struct blob_header));
	seg_merge_add_tagged(w->merge, &b->view, i, kind, tag);
}

/* Slot i: merged unless unused, already folded, or from before a reset. */
static int merge_slot(struct seg_reader *r, const struct seg_header *h, uint32_t i, struct pass *p,
		      char *err, size_t errlen)
{
	struct seg_slot s;
	struct slot_batch b;

	if (reader_words(r, &s, seg_slot_offset(h, i), sizeof s / 8) < 0) {
		snprintf(err, errlen, "%s was truncated under its readers", r->what);
		return -EPROTO;
	}
	r->workers->seen_seq[i] = s.seq;
	r->workers->seen_alive[i] = false;
	if (s.seq == 0)
		return 0; /* never claimed */
	bool alive = seg_slot_locked(r->fd, i);
	r->workers->seen_alive[i] = alive;
	note_slot(p, &s, alive);
	int rc = read_slot_batch(r, h, i, &b, err, errlen);
	if (rc < 0)
		return rc;
	if (b.view.hdr.worker_epoch <= retained_folded(&p->retained, i) ||
	    b.view.hdr.reset_epoch != (uint32_t)p->retained.reset_epoch)
		return 0; /* folded already, or counted before the latest reset */
	merge_slot_batch(r->workers, &b, i, alive ? MERGE_LIVE : MERGE_ENDED);
	return 0;
}

/* One pass: the retained totals, then every slot; -ESTALE when the header's
 * seq moved under it (a fold or a reset), so that the caller reads again. */
static int one_pass(struct seg_reader *r, const struct seg_header *h, struct pass *p, char *err,
		    size_t errlen)
{
	struct latch retained = seg_retained_latch(r->base, h);
	uint64_t before, after;
	/* Acquire: pairs with a folder's release stores of seq (seq_latch.c). */
	int rc = reader_latch_seq(&retained, false, &before);

	memset(p, 0, sizeof *p);
	seg_merge_reset(r->workers->merge);
	if (rc == 0)
		rc = read_retained(r, h, p, err, errlen);
	if (rc == 0)
		seg_merge_add(r->workers->merge, &p->retained.batch, MERGE_NO_WORKER, MERGE_ENDED);
	for (uint32_t i = 0; rc == 0 && i < h->workers; i++)
		rc = merge_slot(r, h, i, p, err, errlen);
	/* A slot reinitialised by a fold was written after the fold's release of
	 * seq; having read it, the recheck (behind an acquire fence) sees seq moved. */
	if (rc == 0)
		rc = reader_latch_seq(&retained, true, &after);
	if (rc == -EFAULT)
		snprintf(err, errlen, "%s was truncated under its readers", r->what);
	if (rc < 0)
		return rc == -EFAULT ? -EPROTO : rc;
	r->seen_seq = before;
	return after == before ? 0 : -ESTALE;
}

/* The merged batch's generation: bumped whenever its metadata changes. */
static uint64_t merged_generation(struct reader_workers *w, const struct metrics_view *v)
{
	size_t len = v->values_off;

	if (w->meta_len == len && memcmp(w->meta, v->blob, len) == 0)
		return w->generation;
	if (len > w->meta_cap) {
		unsigned char *m = realloc(w->meta, len);
		if (m == NULL)
			return ++w->generation; /* not remembered: every snapshot is new */
		w->meta = m;
		w->meta_cap = len;
	}
	/* The header's counts are part of the comparison; its times are not. */
	memcpy(w->meta, v->blob, len);
	memset(w->meta + offsetof(struct blob_header, meta_generation), 0,
	       offsetof(struct blob_header, n_families) -
		   offsetof(struct blob_header, meta_generation));
	w->meta_len = len;
	return ++w->generation;
}

static void fill_info(struct seg_info *info, const struct seg_header *h, const struct pass *p,
		      uint64_t generation)
{
	memset(info, 0, sizeof *info);
	snprintf(info->collector, sizeof info->collector, "%s", h->collector);
	info->writer_pid = p->pid;
	info->writer_start = p->start;
	info->writer_alive = p->alive > 0;
	info->interval_ms = p->interval_ms                 ? (uint32_t)p->interval_ms
			    : h->interval_ms <= UINT32_MAX ? (uint32_t)h->interval_ms
							   : UINT32_MAX;
	info->generation = generation;
	info->publishes = p->publishes;
	info->series_dropped = p->dropped + h->series_dropped;
	info->workers = (uint32_t)h->workers;
	info->workers_alive = p->alive;
	info->workers_refused = h->workers_refused;
}

int reader_workers_snapshot(struct seg_reader *r, const struct seg_header *h,
			    struct metrics_view *view, struct seg_info *info, char *err,
			    size_t errlen)
{
	struct pass p;
	int rc = workers_state(r, h, err, errlen);

	for (int attempt = 0; rc == 0 || rc == -ESTALE; attempt++) {
		if (attempt == FOLD_RETRIES) {
			snprintf(err, errlen,
				 "collector %s: workers kept attaching through %d reads",
				 h->collector, FOLD_RETRIES);
			return -EAGAIN;
		}
		rc = one_pass(r, h, &p, err, errlen);
		if (rc == 0)
			break;
	}
	if (rc < 0)
		return rc;
	struct reader_workers *w = r->workers;
	seg_merge_build(w->merge, w->out);
	batch_view(w->out, view);
	view->hdr.meta_generation = merged_generation(w, view);
	if (info != NULL) {
		fill_info(info, h, &p, view->hdr.meta_generation);
		info->series_dropped += seg_merge_dropped(w->merge);
	}
	r->seen = true;
	r->seen_writer = h->writer;
	w->hdr = *h;
	return 0;
}

/* h is a fresh, unchecked pread of the header: only the slots' geometry of the
 * last snapshot's checked header is used to reach into the mapping. */
bool reader_workers_unchanged(struct seg_reader *r, const struct seg_header *h)
{
	struct reader_workers *w = r->workers;

	if (w == NULL || w->workers != h->workers || w->hdr.slots_offset != h->slots_offset ||
	    w->hdr.slot_capacity != h->slot_capacity)
		return false;
	for (uint32_t i = 0; i < w->workers; i++) {
		uint64_t seq;
		if (reader_words(r, &seq, seg_slot_offset(&w->hdr, i), 1) < 0 ||
		    seq != w->seen_seq[i])
			return false;
		if (seq != 0 && seg_slot_locked(r->fd, i) != w->seen_alive[i])
			return false;
	}
	return true;
}
