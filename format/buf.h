/*
 * buf.h - a growable byte buffer for building HTTP response bodies.
 *
 * Appends never fail loudly: on out of memory the buffer is marked failed, later
 * appends do nothing, and the caller checks buf_failed() once at the end.  That
 * keeps rendering code free of an error check after every write.  The contents
 * are always NUL-terminated (the NUL is not counted in len).
 */
#ifndef SHMETRICS_EXPORTER_BUF_H
#define SHMETRICS_EXPORTER_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};

/* An empty buffer; allocates nothing until the first append. */
void buf_init(struct buf *b);
void buf_free(struct buf *b);

/* Forgets the contents and the failed mark, keeps the memory. */
void buf_reset(struct buf *b);

void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Room for n more bytes: returns where to write them, or NULL when the buffer
 * failed.  Call buf_commit with how many were written (at most n).  Lets hot
 * loops format straight into the buffer.
 */
char *buf_space(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);

/* Grows the capacity to at least total bytes now, so that a body of a known
 * size is not copied by repeated doubling. */
void buf_presize(struct buf *b, size_t total);

static inline bool buf_failed(const struct buf *b)
{
	return b->failed;
}

/*
 * Hands the contents (malloc'd, NUL-terminated) to the caller, who frees them,
 * and leaves b empty.  Returns NULL if the buffer failed; *len gets the length.
 */
char *buf_steal(struct buf *b, size_t *len);

#endif
