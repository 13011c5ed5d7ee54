/*
 * The write-ahead queue's files (wal.h).  Integers on disk are little-endian.
 *
 *   file header (32 bytes)        record header (32 bytes)
 *    0  "SHMRWQ1\n"                 0  CRC-32 of bytes 4.. to the record's end
 *    8  u64 position of byte 0      4  u32 payload length
 *   16  u32 version (1)             8  u32 samples
 *   20  u32 CRC-32 of bytes 0..20  12  u8 source length, u8 kind, u16 zero
 *   24  u64 zero                   16  i64 lowest timestamp (ms)
 *                                  24  i64 highest timestamp (ms)
 *                                  32  source name, then the payload
 *   ack (32 bytes): "SHMRWACK", u64 first unacknowledged position, u64 end of the
 *                   batch being sent (0: none), u32 CRC-32 of bytes 0..24, u32 zero
 */
#include "wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#define FILE_MAGIC   "SHMRWQ1\n"
#define ACK_MAGIC    "SHMRWACK"
#define ACK_NAME     "ack"
#define ACK_SIZE     32u
#define FILE_VERSION 1u
#define FILE_SUFFIX  ".q"
#define FILE_MIN     (64u << 10)
#define FILE_MAX     (64u << 20)
#define OPEN_FLAGS   (O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)

struct wal_file {
	uint64_t start, size;
	int fd;
};

struct wal {
	int dirfd;
	struct wal_limits lim;
	struct wal_file *files;
	size_t n_files, cap;
	uint64_t bytes;
	uint64_t acked;
	uint64_t sending;    /* end of the batch being sent, 0 when none */
	uint64_t resend_end; /* found at open: the batch to send first, as it was */
	uint64_t pending;
	bool have_oldest;
	int64_t oldest_ts;
	int ack_fd;
	bool dirty_data, dirty_ack, dirty_dir;
	size_t n_sources;
	struct wal_source sources[WAL_SOURCES_MAX];
	unsigned char *buf; /* record bodies while scanning */
	size_t buf_cap;
	struct wal_repair late; /* repairs after opening, not yet taken */
};

struct rec_header {
	uint32_t crc, payload_len, n_samples;
	uint8_t source_len, kind;
	int64_t min_ts, max_ts;
};

/* ---- little-endian fields ---- */

static void put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t crc(uint32_t c, const void *p, size_t n)
{
	return (uint32_t)crc32(c, p, (uInt)n);
}

static void rec_encode(unsigned char h[WAL_RECORD_HEADER], const struct rec_header *r)
{
	memset(h, 0, WAL_RECORD_HEADER);
	put_u32(h + 4, r->payload_len);
	put_u32(h + 8, r->n_samples);
	h[12] = r->source_len;
	h[13] = r->kind;
	put_u64(h + 16, (uint64_t)r->min_ts);
	put_u64(h + 24, (uint64_t)r->max_ts);
}

static void rec_decode(const unsigned char h[WAL_RECORD_HEADER], struct rec_header *r)
{
	r->crc = get_u32(h);
	r->payload_len = get_u32(h + 4);
	r->n_samples = get_u32(h + 8);
	r->source_len = h[12];
	r->kind = h[13];
	r->min_ts = (int64_t)get_u64(h + 16);
	r->max_ts = (int64_t)get_u64(h + 24);
}

static uint64_t rec_size(const struct rec_header *r)
{
	return WAL_RECORD_HEADER + r->source_len + (uint64_t)r->payload_len;
}

/* ---- I/O helpers ---- */

static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		done += (size_t)n;
	}
	return 0;
}

static int pwritev_full(int fd, struct iovec *iov, int n, uint64_t off)
{
	while (n > 0) {
		ssize_t w = pwritev(fd, iov, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		off += (uint64_t)w;
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* A regular file of ours that nobody else may write, or -EPERM with why. */
static int check_ours(int fd, const char *name, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "fstat(\"%s\") failed: %s", name, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		snprintf(err, errlen,
			 "queue file %s is not a regular file owned by uid %u and writable by it "
			 "alone; remove it",
			 name, (unsigned)geteuid());
		return -EPERM;
	}
	return 0;
}

static int open_checked(int dirfd, const char *name, int flags, int *out, char *err, size_t errlen)
{
	int fd = openat(dirfd, name, flags | O_RDWR | OPEN_FLAGS, 0600);

	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "open(\"%s\") in the queue directory failed: %s", name,
			 strerror(e));
		return -e;
	}
	int rc = check_ours(fd, name, err, errlen);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

static void file_name(char *out, size_t n, uint64_t start)
{
	snprintf(out, n, "%016" PRIx64 FILE_SUFFIX, start);
}

static void note(struct wal_repair *rep, uint64_t bytes, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note(struct wal_repair *rep, uint64_t bytes, const char *fmt, ...)
{
	va_list ap;

	rep->files++;
	rep->bytes += bytes;
	if (rep->first[0])
		return;
	va_start(ap, fmt);
	vsnprintf(rep->first, sizeof rep->first, fmt, ap);
	va_end(ap);
}

/* ---- the file list ---- */

static int files_push(struct wal *w, uint64_t start, uint64_t size, int fd)
{
	if (w->n_files == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		struct wal_file *f = realloc(w->files, cap * sizeof *f);
		if (!f)
			return -ENOMEM;
		w->files = f;
		w->cap = cap;
	}
	w->files[w->n_files++] = (struct wal_file){ start, size, fd };
	w->bytes += size;
	return 0;
}

static void file_remove(struct wal *w, size_t i)
{
	char name[32];

	file_name(name, sizeof name, w->files[i].start);
	close(w->files[i].fd);
	unlinkat(w->dirfd, name, 0);
	w->bytes -= w->files[i].size;
	memmove(&w->files[i], &w->files[i + 1], (w->n_files - i - 1) * sizeof *w->files);
	w->n_files--;
	w->dirty_dir = true;
}

static uint64_t file_end(const struct wal_file *f)
{
	return f->start + f->size;
}

static int cut(struct wal *w, struct wal_file *f, uint64_t pos, struct wal_repair *rep,
	       const char *why)
{
	char name[32];
	uint64_t lost = file_end(f) - pos;

	file_name(name, sizeof name, f->start);
	note(rep, lost,
	     "%s: %s at offset %" PRIu64 "; cut back to its last good record (%" PRIu64
	     " bytes removed)",
	     name, why, pos - f->start, lost);
	if (ftruncate(f->fd, (off_t)(pos - f->start)) < 0)
		return -errno;
	w->bytes -= lost;
	f->size = pos - f->start;
	w->dirty_data = true;
	return 0;
}

/* ---- records ---- */

/* Why the header h at pos of f cannot be a record, or NULL. */
static const char *header_problem(const struct wal_file *f, uint64_t pos,
				  const struct rec_header *h)
{
	if (h->kind != WAL_KIND_SNAPPY_PB || h->source_len == 0 || h->source_len > WAL_SOURCE_MAX)
		return "a record header that is not one";
	if (h->payload_len > WAL_RECORD_MAX || h->min_ts > h->max_ts)
		return "a record header with impossible values";
	if (pos + rec_size(h) > file_end(f))
		return "a torn last record";
	return NULL;
}

static int read_header(const struct wal_file *f, uint64_t pos, struct rec_header *h,
		       unsigned char raw[WAL_RECORD_HEADER])
{
	if (file_end(f) - pos < WAL_RECORD_HEADER)
		return -ENODATA;
	int rc = pread_full(f->fd, raw, WAL_RECORD_HEADER, pos - f->start);
	if (rc == 0)
		rec_decode(raw, h);
	return rc;
}

static int buf_reserve(struct wal *w, size_t n)
{
	if (n <= w->buf_cap)
		return 0;
	unsigned char *b = realloc(w->buf, n);
	if (!b)
		return -ENOMEM;
	w->buf = b;
	w->buf_cap = n;
	return 0;
}

/* CRC of the record whose header is raw and whose source and payload are in
 * body[0..n). */
static uint32_t record_crc(const unsigned char raw[WAL_RECORD_HEADER], const void *body, size_t n)
{
	return crc(crc(0, raw + 4, WAL_RECORD_HEADER - 4), body, n);
}

static void source_seen(struct wal *w, const char *name, size_t len, int64_t max_ts)
{
	for (size_t i = 0; i < w->n_sources; i++)
		if (strlen(w->sources[i].name) == len &&
		    memcmp(w->sources[i].name, name, len) == 0) {
			if (max_ts > w->sources[i].max_ts)
				w->sources[i].max_ts = max_ts;
			return;
		}
	if (w->n_sources == WAL_SOURCES_MAX)
		return;
	struct wal_source *s = &w->sources[w->n_sources++];
	memcpy(s->name, name, len);
	s->name[len] = '\0';
	s->max_ts = max_ts;
}

/* Checks every record of f; cuts it back at the first bad one. */
static int scan_file(struct wal *w, struct wal_file *f, struct wal_repair *rep)
{
	unsigned char raw[WAL_RECORD_HEADER];
	uint64_t pos = f->start + WAL_FILE_HEADER;
	struct rec_header h;

	while (pos < file_end(f)) {
		int rc = read_header(f, pos, &h, raw);
		const char *why = rc == -ENODATA ? "a torn last record"
				  : rc == 0      ? header_problem(f, pos, &h)
						 : NULL;
		if (rc < 0 && rc != -ENODATA)
			return rc;
		if (!why) {
			size_t body = h.source_len + (size_t)h.payload_len;
			if (buf_reserve(w, body) < 0)
				return -ENOMEM;
			rc = pread_full(f->fd, w->buf, body, pos - f->start + WAL_RECORD_HEADER);
			if (rc < 0)
				return rc;
			if (record_crc(raw, w->buf, body) != h.crc)
				why = "a record whose CRC does not match";
		}
		if (why)
			return cut(w, f, pos, rep, why);
		source_seen(w, (const char *)w->buf, h.source_len, h.max_ts);
		pos += rec_size(&h);
	}
	return 0;
}

/* ---- opening ---- */

static int file_header_ok(int fd, uint64_t start)
{
	unsigned char h[WAL_FILE_HEADER];

	if (pread_full(fd, h, sizeof h, 0) < 0)
		return 0;
	return memcmp(h, FILE_MAGIC, 8) == 0 && get_u64(h + 8) == start &&
	       get_u32(h + 16) == FILE_VERSION && get_u32(h + 20) == crc(0, h, 20);
}

static bool parse_file_name(const char *name, uint64_t *start)
{
	char *end;

	if (strlen(name) != 16 + strlen(FILE_SUFFIX) || strcmp(name + 16, FILE_SUFFIX) != 0)
		return false;
	for (int i = 0; i < 16; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return false;
	*start = strtoull(name, &end, 16);
	return end == name + 16;
}

static int cmp_u64_start(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Opens one file found in the directory, or removes it when its header is bad
 * or it overlaps the one before. */
static int adopt_file(struct wal *w, uint64_t start, struct wal_repair *rep, char *err,
		      size_t errlen)
{
	char name[32];
	struct stat st;
	int fd, rc;

	file_name(name, sizeof name, start);
	rc = open_checked(w->dirfd, name, 0, &fd, err, errlen);
	if (rc < 0)
		return rc;
	if (fstat(fd, &st) < 0 || !file_header_ok(fd, start) ||
	    (w->n_files && start < file_end(&w->files[w->n_files - 1]))) {
		note(rep, (uint64_t)st.st_size, "%s: not a queue file of this version; removed",
		     name);
		close(fd);
		unlinkat(w->dirfd, name, 0);
		return 0;
	}
	rc = files_push(w, start, (uint64_t)st.st_size, fd);
	if (rc < 0)
		close(fd);
	return rc;
}

static int list_files(struct wal *w, uint64_t **starts, size_t *n, char *err, size_t errlen)
{
	int fd = dup(w->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	size_t cap = 0;

	*starts = NULL;
	*n = 0;
	if (!d) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "reading the queue directory failed: %s", strerror(e));
		return -e;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		uint64_t s;
		if (!parse_file_name(de->d_name, &s))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 32;
			uint64_t *p = realloc(*starts, cap * sizeof *p);
			if (!p) {
				closedir(d);
				return -ENOMEM;
			}
			*starts = p;
		}
		(*starts)[(*n)++] = s;
	}
	closedir(d);
	return 0;
}

static int load_files(struct wal *w, struct wal_repair *rep, char *err, size_t errlen)
{
	uint64_t *starts;
	size_t n;
	int rc = list_files(w, &starts, &n, err, errlen);

	if (rc < 0)
		return rc;
	if (n) /* starts is NULL without any */
		qsort(starts, n, sizeof *starts, cmp_u64_start);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = adopt_file(w, starts[i], rep, err, errlen);
	free(starts);
	for (size_t i = 0; rc == 0 && i < w->n_files; i++)
		rc = scan_file(w, &w->files[i], rep);
	if (rc < 0 && !err[0])
		snprintf(err, errlen, "reading the queue files failed: %s", strerror(-rc));
	return rc;
}

/* ---- the acknowledged position ---- */

static int ack_write(struct wal *w)
{
	unsigned char a[ACK_SIZE] = { 0 };

	memcpy(a, ACK_MAGIC, 8);
	put_u64(a + 8, w->acked);
	put_u64(a + 16, w->sending > w->acked ? w->sending : 0);
	put_u32(a + 24, crc(0, a, 24));
	ssize_t n = pwrite(w->ack_fd, a, sizeof a, 0);
	if (n != (ssize_t)sizeof a)
		return n < 0 ? -errno : -EIO;
	w->dirty_ack = true;
	return 0;
}

/* The positions in the ack file; false when it is missing or corrupt. */
static bool ack_read(struct wal *w, uint64_t *pos, uint64_t *sending)
{
	unsigned char a[ACK_SIZE];

	if (pread_full(w->ack_fd, a, sizeof a, 0) < 0)
		return false;
	if (memcmp(a, ACK_MAGIC, 8) != 0 || get_u32(a + 24) != crc(0, a, 24))
		return false;
	*pos = get_u64(a + 8);
	*sending = get_u64(a + 16);
	return true;
}

/* pos itself when it is a record boundary, a file's end or in a gap between
 * files (the first record after it then); otherwise the start of the record
 * that holds it, with *exact false. */
static uint64_t settle_position(struct wal *w, uint64_t pos, bool *exact)
{
	unsigned char raw[WAL_RECORD_HEADER];
	struct rec_header h;

	*exact = true;
	for (size_t i = 0; i < w->n_files; i++) {
		const struct wal_file *f = &w->files[i];
		uint64_t p = f->start + WAL_FILE_HEADER, prev = p;
		if (pos >= file_end(f))
			continue;
		if (pos <= p)
			return p;
		while (p < pos && read_header(f, p, &h, raw) == 0) {
			prev = p;
			p += rec_size(&h);
		}
		*exact = p == pos;
		return *exact ? p : prev;
	}
	return pos;
}

/* Samples of the records from pos to the end of file f (pos a boundary). */
static uint64_t samples_from(const struct wal_file *f, uint64_t pos, uint64_t *records)
{
	unsigned char raw[WAL_RECORD_HEADER];
	struct rec_header h;
	uint64_t n = 0;

	if (pos < f->start + WAL_FILE_HEADER)
		pos = f->start + WAL_FILE_HEADER;
	while (pos < file_end(f) && read_header(f, pos, &h, raw) == 0) {
		n += h.n_samples;
		pos += rec_size(&h);
		if (records)
			(*records)++;
	}
	return n;
}

static void recount(struct wal *w)
{
	w->pending = 0;
	for (size_t i = 0; i < w->n_files; i++)
		w->pending += samples_from(&w->files[i], w->acked, NULL);
}

static void oldest_update(struct wal *w)
{
	struct wal_record_info info;
	char err[8];

	int rc = wal_peek(w, w->acked, &info, err, sizeof err);

	w->have_oldest = rc == 0;
	if (w->have_oldest)
		w->oldest_ts = info.min_ts;
	else if (rc == 1)
		w->pending = 0; /* nothing is left to read, whatever was counted */
}

/* Settles acked on a record boundary inside the files, removes files wholly
 * before it, and counts what is pending. */
static void settle_acked(struct wal *w, bool ack_ok, struct wal_repair *rep)
{
	bool exact = true;

	if (!ack_ok)
		w->acked = 0;
	w->acked = settle_position(w, w->acked, &exact);
	if (!ack_ok || !exact) {
		rep->ack_reset = true;
		if (!rep->first[0])
			snprintf(rep->first, sizeof rep->first,
				 "the acknowledged position was %s; what is queued is sent again",
				 ack_ok ? "inside a record" : "missing or corrupt");
	}
	while (w->n_files && file_end(&w->files[0]) <= w->acked)
		file_remove(w, 0);
	w->pending = 0;
	recount(w);
}

/* The batch that was being sent when the process stopped: sent first, and
 * exactly as it was, when it still lies on record boundaries past acked. */
static void settle_resend(struct wal *w, uint64_t sending)
{
	bool exact;

	w->resend_end = 0;
	if (sending <= w->acked || !w->n_files || sending > file_end(&w->files[w->n_files - 1]))
		return;
	uint64_t end = settle_position(w, sending, &exact);
	if (exact && end == sending)
		w->resend_end = sending;
}

static int file_create(struct wal *w, uint64_t start, char *err, size_t errlen)
{
	unsigned char h[WAL_FILE_HEADER] = { 0 };
	char name[32];
	int fd, rc;

	file_name(name, sizeof name, start);
	rc = open_checked(w->dirfd, name, O_CREAT | O_EXCL, &fd, err, errlen);
	if (rc < 0)
		return rc;
	memcpy(h, FILE_MAGIC, 8);
	put_u64(h + 8, start);
	put_u32(h + 16, FILE_VERSION);
	put_u32(h + 20, crc(0, h, 20));
	if (pwrite(fd, h, sizeof h, 0) != (ssize_t)sizeof h || files_push(w, start, sizeof h, fd)) {
		rc = errno ? -errno : -EIO;
		snprintf(err, errlen, "writing queue file %s failed: %s", name, strerror(-rc));
		close(fd);
		unlinkat(w->dirfd, name, 0);
		return rc;
	}
	w->dirty_dir = w->dirty_data = true;
	return 0;
}

static uint64_t file_bytes_for(const struct wal_limits *lim)
{
	uint64_t b = lim->file_bytes ? lim->file_bytes : lim->max_bytes / 16;

	return b < FILE_MIN ? FILE_MIN : b > FILE_MAX ? FILE_MAX : b;
}

int wal_open(struct wal **out, int dirfd, const struct wal_limits *lim, struct wal_repair *rep,
	     char *err, size_t errlen)
{
	struct wal *w = calloc(1, sizeof *w);
	int rc;

	memset(rep, 0, sizeof *rep);
	err[0] = '\0';
	if (!w)
		return -ENOMEM;
	w->dirfd = dirfd;
	w->lim = *lim;
	if (w->lim.max_bytes < WAL_MIN_MAX_BYTES)
		w->lim.max_bytes = WAL_MIN_MAX_BYTES;
	w->lim.file_bytes = file_bytes_for(&w->lim);
	w->ack_fd = -1;
	rc = open_checked(dirfd, ACK_NAME, O_CREAT, &w->ack_fd, err, errlen);
	if (rc == 0)
		rc = load_files(w, rep, err, errlen);
	if (rc == 0) {
		uint64_t sending = 0;
		bool ok = ack_read(w, &w->acked, &sending);
		settle_acked(w, ok || (w->n_files == 0 && !rep->files), rep);
		settle_resend(w, ok ? sending : 0);
		uint64_t next = w->n_files ? file_end(&w->files[w->n_files - 1]) : w->acked;
		rc = file_create(w, next > w->acked ? next : w->acked, err, errlen);
	}
	if (rc == 0 && w->acked < w->files[0].start + WAL_FILE_HEADER)
		w->acked = w->files[0].start + WAL_FILE_HEADER;
	if (rc == 0)
		rc = ack_write(w);
	if (rc < 0) {
		if (!err[0])
			snprintf(err, errlen, "opening the queue failed: %s", strerror(-rc));
		wal_close(w);
		return rc;
	}
	oldest_update(w);
	*out = w;
	return 0;
}

void wal_close(struct wal *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n_files; i++)
		close(w->files[i].fd);
	if (w->ack_fd >= 0)
		close(w->ack_fd);
	free(w->files);
	free(w->buf);
	free(w);
}

/* ---- appending and the bound ---- */

/* Removes the oldest file and counts its unacknowledged samples in *drop. */
static void drop_oldest(struct wal *w, struct wal_drop *drop)
{
	const struct wal_file *f = &w->files[0];
	uint64_t records = 0;

	if (w->acked < file_end(f)) {
		uint64_t n = samples_from(f, w->acked, &records);
		if (drop->records == 0)
			drop->from = w->acked;
		drop->samples += n;
		drop->records += records;
		w->pending -= n < w->pending ? n : w->pending;
	}
	file_remove(w, 0);
	if (w->acked < w->files[0].start + WAL_FILE_HEADER)
		w->acked = w->files[0].start + WAL_FILE_HEADER;
	drop->to = w->acked;
}

static int rotate(struct wal *w, char *err, size_t errlen)
{
	struct wal_file *cur = &w->files[w->n_files - 1];

	/* The file is complete: make it durable once, now, rather than on every tick. */
	if (fdatasync(cur->fd) < 0) {
		int e = errno;
		snprintf(err, errlen, "fdatasync of a queue file failed: %s", strerror(e));
		return -e;
	}
	return file_create(w, file_end(cur), err, errlen);
}

static int make_room(struct wal *w, uint64_t size, struct wal_drop *drop, char *err, size_t errlen)
{
	const struct wal_file *cur = &w->files[w->n_files - 1];
	int rc = 0;

	if (cur->size > WAL_FILE_HEADER && cur->size + size > w->lim.file_bytes)
		rc = rotate(w, err, errlen);
	else if (w->n_files == 1 && w->bytes + size > w->lim.max_bytes)
		rc = rotate(w, err, errlen); /* the only file is full: start the next one */
	while (rc == 0 && w->n_files > 1 && w->bytes + size > w->lim.max_bytes)
		drop_oldest(w, drop);
	if (drop->records)
		rc = rc ? rc : ack_write(w);
	return rc;
}

int wal_append(struct wal *w, const char *source, int64_t min_ts, int64_t max_ts,
	       uint32_t n_samples, const void *payload, size_t len, struct wal_drop *drop,
	       char *err, size_t errlen)
{
	size_t slen = strlen(source);
	struct rec_header h = { 0,      (uint32_t)len, n_samples, (uint8_t)slen, WAL_KIND_SNAPPY_PB,
				min_ts, max_ts };
	unsigned char raw[WAL_RECORD_HEADER];

	memset(drop, 0, sizeof *drop);
	if (slen == 0 || slen > WAL_SOURCE_MAX || len > WAL_RECORD_MAX || min_ts > max_ts) {
		snprintf(err, errlen, "a record of %zu bytes from \"%.63s\" cannot be queued", len,
			 source);
		return -EINVAL;
	}
	if (rec_size(&h) + 2 * WAL_FILE_HEADER > w->lim.max_bytes) {
		snprintf(err, errlen, "a request of %zu bytes is larger than the queue's bound",
			 len);
		return -E2BIG;
	}
	int rc = make_room(w, rec_size(&h), drop, err, errlen);
	if (rc < 0)
		return rc;
	struct wal_file *cur = &w->files[w->n_files - 1];
	rec_encode(raw, &h);
	uint32_t c = crc(crc(crc(0, raw + 4, WAL_RECORD_HEADER - 4), source, slen), payload, len);
	put_u32(raw, c);
	struct iovec iov[3] = { { raw, sizeof raw },
				{ (void *)source, slen },
				{ (void *)payload, len } };
	rc = pwritev_full(cur->fd, iov, 3, cur->size);
	if (rc < 0) {
		/* A partial record would be cut at the next open; cut it now. */
		if (ftruncate(cur->fd, (off_t)cur->size) < 0) {
			/* nothing more to do: the next open repairs it */
		}
		snprintf(err, errlen, "writing to the queue failed: %s", strerror(-rc));
		return rc;
	}
	bool was_empty = w->acked >= file_end(cur);
	cur->size += rec_size(&h);
	w->bytes += rec_size(&h);
	w->pending += n_samples;
	w->dirty_data = true;
	if (was_empty || !w->have_oldest || drop->records)
		oldest_update(w);
	return 0;
}

/* ---- reading ---- */

/* A record found bad after opening: cut back, remembered for wal_take_repairs. */
static int cut_late(struct wal *w, struct wal_file *f, uint64_t pos, const char *why, char *err,
		    size_t errlen)
{
	struct wal_repair one = { 0 };

	cut(w, f, pos, &one, why);
	snprintf(err, errlen, "%s", one.first);
	w->late.files += one.files;
	w->late.bytes += one.bytes;
	if (!w->late.first[0])
		snprintf(w->late.first, sizeof w->late.first, "%s", one.first);
	recount(w);
	return -EPROTO;
}

/* The file holding a record at or after *pos, with *pos moved onto it; NULL
 * when there is none. */
static struct wal_file *file_at(struct wal *w, uint64_t *pos)
{
	for (size_t i = 0; i < w->n_files; i++) {
		struct wal_file *f = &w->files[i];
		if (*pos < f->start + WAL_FILE_HEADER)
			*pos = f->start + WAL_FILE_HEADER;
		if (*pos < file_end(f))
			return f;
	}
	return NULL;
}

int wal_peek(struct wal *w, uint64_t pos, struct wal_record_info *info, char *err, size_t errlen)
{
	unsigned char raw[WAL_RECORD_HEADER];
	struct rec_header h;
	struct wal_file *f = file_at(w, &pos);

	if (!f)
		return 1;
	int rc = read_header(f, pos, &h, raw);
	const char *why = rc == -ENODATA ? "a torn last record"
			  : rc == 0      ? header_problem(f, pos, &h)
					 : NULL;
	if (rc == 0 && !why &&
	    pread_full(f->fd, info->source, h.source_len, pos - f->start + WAL_RECORD_HEADER) < 0)
		why = "a record that cannot be read";
	if (rc < 0 && rc != -ENODATA) {
		snprintf(err, errlen, "reading the queue failed: %s", strerror(-rc));
		return rc;
	}
	if (why)
		return cut_late(w, f, pos, why, err, errlen);
	info->source[h.source_len] = '\0';
	info->pos = pos;
	info->next = pos + rec_size(&h);
	info->n_samples = h.n_samples;
	info->payload_len = h.payload_len;
	info->min_ts = h.min_ts;
	info->max_ts = h.max_ts;
	return 0;
}

int wal_read(struct wal *w, const struct wal_record_info *info, void *buf, char *err, size_t errlen)
{
	unsigned char raw[WAL_RECORD_HEADER];
	struct rec_header h;
	uint64_t pos = info->pos;
	struct wal_file *f = file_at(w, &pos);
	size_t slen = strlen(info->source);

	if (!f || pos != info->pos) {
		snprintf(err, errlen, "the record at %" PRIu64 " is no longer queued", info->pos);
		return -ENOENT;
	}
	int rc = read_header(f, pos, &h, raw);
	if (rc == 0)
		rc = pread_full(f->fd, buf, info->payload_len,
				pos - f->start + WAL_RECORD_HEADER + slen);
	if (rc < 0 && rc != -ENODATA) {
		snprintf(err, errlen, "reading the queue failed: %s", strerror(-rc));
		return rc;
	}
	uint32_t c = crc(crc(crc(0, raw + 4, WAL_RECORD_HEADER - 4), info->source, slen), buf,
			 info->payload_len);
	if (rc == -ENODATA || c != h.crc)
		return cut_late(w, f, pos, "a record whose CRC does not match", err, errlen);
	return 0;
}

/* ---- acknowledging ---- */

int wal_ack(struct wal *w, uint64_t pos, uint64_t n_samples, char *err, size_t errlen)
{
	if (pos <= w->acked)
		return 0;
	w->acked = pos;
	w->pending -= n_samples < w->pending ? n_samples : w->pending;
	while (w->n_files > 1 && file_end(&w->files[0]) <= w->acked)
		file_remove(w, 0);
	if (w->acked < w->files[0].start + WAL_FILE_HEADER)
		w->acked = w->files[0].start + WAL_FILE_HEADER;
	oldest_update(w);
	int rc = ack_write(w);
	if (rc < 0)
		snprintf(err, errlen, "writing the queue's ack file failed: %s", strerror(-rc));
	return rc;
}

int wal_set_sending(struct wal *w, uint64_t end, char *err, size_t errlen)
{
	w->sending = end;
	int rc = ack_write(w);
	if (rc < 0)
		snprintf(err, errlen, "writing the queue's ack file failed: %s", strerror(-rc));
	return rc;
}

uint64_t wal_take_resend(struct wal *w)
{
	uint64_t end = w->resend_end > w->acked ? w->resend_end : 0;

	w->resend_end = 0;
	return end;
}

int wal_sync(struct wal *w, char *err, size_t errlen)
{
	const char *what = NULL;
	int e = 0;

	if (w->dirty_data && fdatasync(w->files[w->n_files - 1].fd) < 0)
		e = errno, what = "a queue file";
	else if (w->dirty_ack && fdatasync(w->ack_fd) < 0)
		e = errno, what = "the ack file";
	else if (w->dirty_dir && fsync(w->dirfd) < 0)
		e = errno, what = "the queue directory";
	if (what) {
		snprintf(err, errlen, "fdatasync of %s failed: %s", what, strerror(e));
		return -e;
	}
	w->dirty_data = w->dirty_ack = w->dirty_dir = false;
	return 0;
}

/* ---- state ---- */

uint64_t wal_acked(const struct wal *w)
{
	return w->acked;
}

uint64_t wal_end(const struct wal *w)
{
	return file_end(&w->files[w->n_files - 1]);
}

uint64_t wal_bytes(const struct wal *w)
{
	return w->bytes;
}

uint64_t wal_pending_samples(const struct wal *w)
{
	return w->pending;
}

bool wal_oldest_ts(const struct wal *w, int64_t *ts)
{
	if (w->have_oldest)
		*ts = w->oldest_ts;
	return w->have_oldest;
}

void wal_take_repairs(struct wal *w, struct wal_repair *out)
{
	*out = w->late;
	memset(&w->late, 0, sizeof w->late);
}

const struct wal_source *wal_sources(const struct wal *w, size_t *n)
{
	*n = w->n_sources;
	return w->sources;
}
