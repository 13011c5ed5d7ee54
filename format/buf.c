#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE (2u << 20)

void buf_init(struct buf *b)
{
	memset(b, 0, sizeof *b);
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data)
		b->data[0] = '\0';
}

/*
 * A body of tens of megabytes (a million series) is written once into fresh
 * memory, and faulting it in 4 KiB pages cost more than rendering it.  Asking
 * for transparent huge pages on the aligned interior cuts the faults 512-fold
 * where the kernel allows it ("madvise" mode); elsewhere this is a no-op.
 */
static void advise_huge(char *p, size_t cap)
{
	uintptr_t start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	uintptr_t end = ((uintptr_t)p + cap) & ~(uintptr_t)(HUGE_PAGE - 1);

	if (cap >= 4 * HUGE_PAGE && end > start)
		madvise((void *)start, end - start, MADV_HUGEPAGE);
}

/* Makes room for n more bytes plus the terminating NUL. */
static bool buf_reserve(struct buf *b, size_t n)
{
	if (b->failed)
		return false;
	if (n < b->cap - b->len) /* len < cap whenever data exists */
		return true;
	size_t need = b->len + n + 1;
	if (need <= b->len) {
		b->failed = true;
		return false;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	char *p = realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	advise_huge(p, cap);
	return true;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	char small[128];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n < sizeof small) {
		buf_append(b, small, (size_t)n);
		return;
	}
	if (!buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *buf_space(struct buf *b, size_t n)
{
	return buf_reserve(b, n) ? b->data + b->len : NULL;
}

void buf_commit(struct buf *b, size_t n)
{
	if (b->failed)
		return;
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_presize(struct buf *b, size_t total)
{
	if (total > b->len)
		buf_reserve(b, total - b->len);
}

char *buf_steal(struct buf *b, size_t *len)
{
	if (b->failed) {
		buf_free(b);
		*len = 0;
		return NULL;
	}
	buf_append(b, "", 0); /* an empty buffer still yields a string */
	if (b->failed) {
		buf_free(b);
		*len = 0;
		return NULL;
	}
	char *p = b->data;
	*len = b->len;
	buf_init(b);
	return p;
}
