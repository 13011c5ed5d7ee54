/*
 * wal.h - the on-disk write-ahead queue of one remote-write endpoint.
 *
 * Every request the encoder makes is appended here before anything is sent;
 * the sender reads records from the first one not yet acknowledged and
 * acknowledges them once the receiver took them (or refused them for good).
 * docs/remote-write.md describes the files byte by byte; in short:
 *
 *   DIR/%016x.q   segment files, named by the queue position of their first
 *                 byte: a 32-byte file header, then records, append only.
 *                 A record is a 32-byte header (CRC-32 of everything after the
 *                 CRC, lengths, sample count, timestamp range), the name of the
 *                 collector it came from, and the request (snappy-compressed
 *                 protobuf).  Positions only grow, across files and restarts.
 *   DIR/ack       the position of the first record not yet acknowledged and
 *                 the end of the batch being sent, with their own CRC,
 *                 rewritten in place.
 *
 * A batch being sent may reach the receiver although the process dies before
 * it hears so.  The first batch sent after a restart is therefore that batch
 * again, exactly: a receiver that took it refuses it whole as old samples,
 * which loses nothing, where a batch mixing it with newer records would be
 * refused with the newer samples in it.
 *
 * Durability: appends and acknowledgements are written with write(2)/pwrite(2)
 * at once, so a crash of the process, SIGKILL included, loses nothing;
 * wal_sync (the shipper calls it once a second) makes them durable against a
 * crash of the machine.  Opening scans every file: a torn last record or one
 * whose CRC does not match is cut off, with everything after it in its file,
 * and reported in the repair summary; a file with a bad header is removed.
 * After a restart, appends go to a new file after the old ones, so what was
 * queued before is read first.
 *
 * The bound: an append that would take the files past max_bytes first removes
 * the oldest files, and reports the unacknowledged samples they held.
 *
 * Not thread-safe: the caller (queue.c) serialises every call.  Nothing logs;
 * errors are 0 or a negative errno with the reason in err.
 */
#ifndef SHMETRICS_SHIPPER_WAL_H
#define SHMETRICS_SHIPPER_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WAL_SOURCE_MAX     63          /* collector names: SEGMENT_COLLECTOR_MAX */
#define WAL_RECORD_MAX     (64u << 20) /* a bigger record is corrupt */
#define WAL_MIN_MAX_BYTES  (256u << 10)
#define WAL_SOURCES_MAX    256
#define WAL_FILE_HEADER    32u
#define WAL_RECORD_HEADER  32u
#define WAL_KIND_SNAPPY_PB 1u

struct wal_limits {
	uint64_t max_bytes;  /* all files together, at least WAL_MIN_MAX_BYTES */
	uint64_t file_bytes; /* a file is closed once it reaches this; 0: max_bytes/16 */
};

/* What wal_open found wrong and repaired. */
struct wal_repair {
	unsigned files;  /* files cut back or removed */
	uint64_t bytes;  /* bytes cut off */
	bool ack_reset;  /* the ack file was missing parts or corrupt */
	char first[300]; /* the first repair, in words */
};

struct wal_record_info {
	uint64_t pos, next; /* where it starts, where the next one starts */
	uint32_t n_samples;
	uint32_t payload_len;
	int64_t min_ts, max_ts; /* ms */
	char source[WAL_SOURCE_MAX + 1];
};

/* Unacknowledged samples that an append removed to stay within max_bytes. */
struct wal_drop {
	uint64_t samples;
	uint64_t records;
	uint64_t from, to; /* the removed positions; acked moved to `to` */
};

/* The newest timestamp queued per collector, found when opening. */
struct wal_source {
	char name[WAL_SOURCE_MAX + 1];
	int64_t max_ts;
};

struct wal;

/*
 * Opens (creating what is missing) the queue in directory dirfd, which the
 * caller opened and checked; dirfd stays the caller's.  Repairs what it must
 * and says what in *rep.
 */
int wal_open(struct wal **out, int dirfd, const struct wal_limits *lim, struct wal_repair *rep,
	     char *err, size_t errlen);
void wal_close(struct wal *w);

/*
 * Appends one record: the request payload[0..len) (kind WAL_KIND_SNAPPY_PB)
 * of n_samples samples from source, stamped min_ts..max_ts.  *drop says what
 * was removed to make room (zeroes if nothing).  -E2BIG for a record that
 * cannot fit the bound at all.
 */
int wal_append(struct wal *w, const char *source, int64_t min_ts, int64_t max_ts,
	       uint32_t n_samples, const void *payload, size_t len, struct wal_drop *drop,
	       char *err, size_t errlen);

/*
 * The record at pos or, when pos ends a file, the first of the next file.
 * Returns 0 with *info, 1 when there is no record at or after pos, or -EPROTO
 * when the header there is corrupt: the file is then cut back to pos (err and
 * wal_take_repairs say so) and the caller carries on from wal_acked().
 */
int wal_peek(struct wal *w, uint64_t pos, struct wal_record_info *info, char *err, size_t errlen);

/* Reads the payload of the record info describes into buf (payload_len bytes)
 * and checks the CRC; -EPROTO (cut back as for wal_peek) when it fails. */
int wal_read(struct wal *w, const struct wal_record_info *info, void *buf, char *err,
	     size_t errlen);

/* The repairs made since opening (or the last call), which are then forgotten. */
void wal_take_repairs(struct wal *w, struct wal_repair *out);

/* Everything before pos is delivered (or dropped for good): n_samples samples
 * are no longer pending; files wholly before pos are removed; the position is
 * written to the ack file. */
int wal_ack(struct wal *w, uint64_t pos, uint64_t n_samples, char *err, size_t errlen);

/* Records that the batch ending at end is about to be sent (in the ack file). */
int wal_set_sending(struct wal *w, uint64_t end, char *err, size_t errlen);

/* The end of the batch that was being sent when the queue was last closed (0
 * when none, or once it was taken): the first batch must end exactly there. */
uint64_t wal_take_resend(struct wal *w);

/* fdatasync of the file being appended to and of the ack file, and of the
 * directory after files were created or removed. */
int wal_sync(struct wal *w, char *err, size_t errlen);

uint64_t wal_acked(const struct wal *w);
uint64_t wal_end(const struct wal *w);
uint64_t wal_bytes(const struct wal *w);
uint64_t wal_pending_samples(const struct wal *w);
/* min_ts of the first unacknowledged record; false when there is none. */
bool wal_oldest_ts(const struct wal *w, int64_t *ts);

/* The per-collector newest timestamps found by wal_open. */
const struct wal_source *wal_sources(const struct wal *w, size_t *n);

#endif
