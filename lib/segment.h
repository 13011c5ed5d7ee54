/*
 * segment.h - one collector's shared-memory segment: create, write, read.
 *
 * Contract
 * --------
 * A segment is a file, COLLECTOR.seg, in the private directory of the agent's
 * instance (segdir.h), holding a header and two copies of the collector's latest
 * batch (see metrics.h and docs/segment-layout.md).
 *
 *  - The agent creates it (segment_create) and removes it (segment_remove).
 *  - Exactly one writer, the collector process, attaches (seg_writer_attach, or
 *    seg_writer_attach_fd for a plugin that was handed its segment's descriptor)
 *    and publishes batches.  The writer lock (segment_layout.h) refuses a second.
 *  - A segment created with workers (segment_options.workers > 0) takes up to
 *    that many writers at once, each attached to a slot of its own and
 *    publishing there exactly as above; seg_writer_attach picks the slot.  A
 *    reader merges the slots and the retained totals of ended workers into one
 *    batch (seg_merge.h), so that readers see one collector either way.
 *  - Any number of readers (the exporter, the CLI) map it read-only.  A reader
 *    trusts nothing in it: its limits are its own (struct seg_read_limits), never
 *    the header's, and a segment beyond them is refused with the reason.
 *
 * Publishing uses a two-copy latch (the Linux kernel's seqcount_latch):
 *
 *	publish(batch):                       seq = s on entry
 *	    write batch into copy[!(s & 1)]   readers are using copy[s & 1]
 *	    seq = s + 1                       readers switch to the new copy
 *	    write batch into copy[s & 1]
 *	    seq = s + 2                       readers switch back; both copies new
 *
 *	read:
 *	    do {
 *	        s0 = seq (acquire)
 *	        copy copy[s0 & 1] into private memory
 *	        fence (acquire)
 *	    } while (seq != s0 && tries-- > 0)
 *	    validate the private copy (it is untrusted input)
 *
 * Writers never wait for readers.  Readers retry a bounded number of times and
 * then report the segment busy for this scrape.  Because the copy a reader picks
 * is never the one being written, a writer killed at any instruction leaves one
 * complete copy behind: readers see stale data, never torn data, and a restarted
 * writer carries on from whatever seq it finds (no repair step is needed).
 *
 * All shared words are accessed with C11 atomics: the payload with relaxed
 * loads/stores, seq with release stores paired with the readers' acquire load and
 * acquire fence.  seq_latch.c holds the only code that touches seq.
 *
 * Errors: 0 or a negative errno, and a message in the caller's err buffer that
 * names the call and the segment.  Nothing here logs.
 */
#ifndef SHMETRICS_SEGMENT_H
#define SHMETRICS_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "metrics.h"
#include "segdir.h"

/* 3: worker slots and the retained totals of ended workers (2: the writer's
 * identity in one word, never read torn). */
#define SEGMENT_LAYOUT_VERSION 3
#define SEGMENT_COLLECTOR_MAX  63    /* collector names: [a-zA-Z0-9_-]{1,63} */
#define SEGMENT_WORKERS_MAX    1024u /* worker slots of one segment */
#define SEGMENT_INSTANCE_MAX   63

/* True when s is a valid collector (or instance) name. */
bool segment_part_valid(const char *s);

/* The limits of a segment for a collector of at most max_series series (0: the
 * default): what the agent creates it with and what readers accept. */
void segment_limits(uint32_t max_series, struct batch_limits *out);

/* Bytes of a segment created with lim (and workers slots); 0 if lim is absurd. */
size_t segment_size_for(const struct batch_limits *lim);
uint64_t segment_size_for_workers(const struct batch_limits *lim, uint32_t workers);

struct segment_options {
	struct batch_limits limits; /* with workers: of each worker, and of the merge */
	uint32_t interval_ms;       /* the collector's interval, for staleness */
	mode_t mode;                /* e.g. 0640 */
	gid_t gid;                  /* (gid_t)-1 to keep the creator's group */
	uint32_t workers;           /* writer processes at once; 0: one writer */
};

/*
 * Creates COLLECTOR.seg in d with O_EXCL.  If one of that name already exists,
 * carries our magic, and both its creator and its writer are dead, it is a
 * leftover of a crashed run: it is removed and created anew.  Anything else (a
 * live writer or agent, a foreign file) is refused with -EEXIST and the reason.
 * The segment starts with an empty batch marked not yet collected.
 */
int segment_create(const struct segdir *d, const char *collector, const struct segment_options *opt,
		   char *err, size_t errlen);

/* Removes the segment; a missing one is not an error. */
int segment_remove(const struct segdir *d, const char *collector, char *err, size_t errlen);

/*
 * Resets the collector of the segment open for writing at fd: its counters and
 * histograms start again from zero.  Bumps the reset epoch (writers rebase
 * their counters at their next publish) and, with workers, forgets what ended
 * workers counted.  Serialised with attaching workers by the claim lock.
 */
int segment_reset(int fd, const char *what, char *err, size_t errlen);

/* ---- writer ---- */

struct seg_writer;

/* Maps collector's segment in d read-write and records this process as its
 * writer; with workers, claims a free slot (folding what its ended worker
 * counted into the retained totals) or fails with -EBUSY when every slot is held
 * by a live worker (counted in the header's workers_refused). */
int seg_writer_attach(struct seg_writer **out, const struct segdir *d, const char *collector,
		      char *err, size_t errlen);

/* The same through an open descriptor (a plugin's inherited one); fd is
 * duplicated, the caller keeps its own.  what names it in messages. */
int seg_writer_attach_fd(struct seg_writer **out, int fd, const char *what, char *err,
			 size_t errlen);
void seg_writer_detach(struct seg_writer *w);

/* Closes the writer's descriptor and nothing else (async-signal-safe): a child
 * after fork() lets go of the parent's open file description, and with it of
 * the parent's writer or slot lock.  Detach later as usual. */
void seg_writer_forget_fd(struct seg_writer *w);

/*
 * Detaches and stores writer 0: "no resident writer".  For writers that
 * publish and exit (the shmetrics CLI): readers then judge the segment by its
 * publish time alone (stale after the staleness window) instead of reporting
 * the writer dead.  Callers that may race with each other serialise on an flock
 * of the segment, since there is no writer lock.
 */
void seg_writer_detach_resident(struct seg_writer *w);

/* The limits the segment was created with (a batch must fit them). */
const struct batch_limits *seg_writer_limits(const struct seg_writer *w);

/* Changes the interval readers use for staleness. */
void seg_writer_set_interval(struct seg_writer *w, uint32_t interval_ms);

/* The slot this writer holds, or -1 in a segment of one writer. */
int seg_writer_slot(const struct seg_writer *w);

/*
 * The collector's reset epoch now (segment_reset bumps it).  Batches published
 * from now on are stamped with it: a writer that sees it change rebases its
 * counters first, so that they start again from zero.
 */
uint32_t seg_writer_reset_epoch(struct seg_writer *w);

/*
 * Publishes the batch: readers see all of it or all of the previous one.  Stamps
 * the publish time and bumps the generation when the set of series changed.
 * -E2BIG if the batch does not fit the segment.
 */
int seg_writer_publish(struct seg_writer *w, struct batch *b, char *err, size_t errlen);

/* ---- reader ---- */

struct seg_reader;

/* What a reader accepts, whatever a segment's header says. */
struct seg_read_limits {
	struct batch_limits max; /* no header limit may exceed these */
	uint32_t max_workers;    /* nor its worker slots this (0: one writer only) */
	uint64_t max_bytes;      /* nor the file's size this */
};

/* Limits that accept every segment of one writer the agent creates for
 * collectors of at most max_series series (see segment_limits). */
void seg_read_limits_for(uint32_t max_series, struct seg_read_limits *out);

/* Also accepts segments of up to max_workers workers (at most
 * SEGMENT_WORKERS_MAX); merging them costs at most max_workers times the work
 * of one segment of the same limits. */
void seg_read_limits_workers(struct seg_read_limits *l, uint32_t max_workers);

/* What a reader knows about a segment besides its batch. */
struct seg_info {
	char collector[SEGMENT_COLLECTOR_MAX + 1];
	pid_t writer_pid;      /* 0 if no writer ever attached */
	uint32_t writer_start; /* start-time token of the writer (low 32 bits) */
	bool writer_alive;     /* pid exists and its start time matches */
	uint32_t interval_ms;
	uint64_t generation;
	uint64_t publishes;      /* completed publishes since creation */
	uint64_t series_dropped; /* series refused for limits, over all publishes */
	/* Segments with workers (0 otherwise).  writer_pid is then a live worker's
	 * (0 when none lives) and writer_alive says whether any does. */
	uint32_t workers;         /* slots */
	uint32_t workers_alive;   /* slots whose worker lives */
	uint64_t workers_refused; /* attaches refused because every slot was held */
};

/*
 * Opens collector's segment in d (segdir_open_segment: no link followed, no
 * FIFO waited on, a regular file of d's owner), maps it read-only and checks
 * its header against lim.  d must outlive the reader: a segment that was
 * removed or replaced is reopened through it.  A segment of another layout
 * version is refused with -EPROTO and a message naming both versions.
 */
int seg_reader_open(struct seg_reader **out, const struct segdir *d, const char *collector,
		    const struct seg_read_limits *lim, char *err, size_t errlen);

/* The same through an open descriptor (duplicated); it is never reopened. */
int seg_reader_open_fd(struct seg_reader **out, int fd, const char *what,
		       const struct seg_read_limits *lim, char *err, size_t errlen);
void seg_reader_close(struct seg_reader *r);

/*
 * Takes a consistent, validated snapshot of the latest batch into the reader's
 * private buffer and gives a view of it (valid until the next call on r).
 * With workers, the view is the merge of every slot and of the retained totals
 * (seg_merge.h): counters and histograms summed, gauges by their aggregate.
 * Returns 0; -EAGAIN when the writer kept publishing through every retry;
 * -EPROTO when the segment is corrupt or beyond the reader's limits (err says
 * where); -ENOENT/-ESTALE when the segment was removed or replaced (reopen it).
 */
int seg_reader_snapshot(struct seg_reader *r, struct metrics_view *view, struct seg_info *info,
			char *err, size_t errlen);

/*
 * The cheap check before a snapshot: true when the segment's sequence word and
 * writer are what the last successful snapshot saw, and the writer is as alive
 * or dead as it was then.  Reads the header with pread, which cannot fault the
 * way a mapping of a truncated file can.  False after anything unexpected.
 */
bool seg_reader_unchanged(struct seg_reader *r);

/* Current time, CLOCK_REALTIME, in ns (the clock publish times use). */
uint64_t segment_now_ns(void);

/* Start-time token of pid (field 22 of /proc/PID/stat), 0 if it is gone. */
uint64_t process_start_token(pid_t pid);

/* True when pid runs and is the process that had start token `token` (compared
 * in its low 32 bits; a token of 0, or an unreadable /proc, falls back to the
 * pid check alone). */
bool process_alive(uint64_t pid, uint64_t token);

#endif
