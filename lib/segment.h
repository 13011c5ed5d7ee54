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
 *    and publishes batches.  There is no writer lock: one writer per segment is
 *    the rule, and a second writer would only corrupt its own collector's output.
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

/* 2: the writer's identity is one word (pid and start token), never read torn. */
#define SEGMENT_LAYOUT_VERSION 2
#define SEGMENT_COLLECTOR_MAX  63 /* collector names: [a-zA-Z0-9_-]{1,63} */
#define SEGMENT_INSTANCE_MAX   63

/* True when s is a valid collector (or instance) name. */
bool segment_part_valid(const char *s);

/* The limits of a segment for a collector of at most max_series series (0: the
 * default): what the agent creates it with and what readers accept. */
void segment_limits(uint32_t max_series, struct batch_limits *out);

/* Bytes of a segment created with lim; 0 if lim is absurd. */
size_t segment_size_for(const struct batch_limits *lim);

struct segment_options {
	struct batch_limits limits;
	uint32_t interval_ms; /* the collector's interval, for staleness */
	mode_t mode;          /* e.g. 0640 */
	gid_t gid;            /* (gid_t)-1 to keep the creator's group */
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

/* ---- writer ---- */

struct seg_writer;

/* Maps collector's segment in d read-write and records this process as its writer. */
int seg_writer_attach(struct seg_writer **out, const struct segdir *d, const char *collector,
		      char *err, size_t errlen);

/* The same through an open descriptor (a plugin's inherited one); fd is
 * duplicated, the caller keeps its own.  what names it in messages. */
int seg_writer_attach_fd(struct seg_writer **out, int fd, const char *what, char *err,
			 size_t errlen);
void seg_writer_detach(struct seg_writer *w);

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
	uint64_t max_bytes;      /* nor the file's size this */
};

/* Limits that accept every segment the agent creates for collectors of at
 * most max_series series (see segment_limits). */
void seg_read_limits_for(uint32_t max_series, struct seg_read_limits *out);

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
