#include "scan.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct scan scan_text(const char *buf, size_t len)
{
	struct scan s = { buf, buf + len };
	return s;
}

bool scan_line(struct scan *s, struct scan *line)
{
	if (s->p >= s->end)
		return false;
	const char *nl = memchr(s->p, '\n', (size_t)(s->end - s->p));
	line->p = s->p;
	line->end = nl ? nl : s->end;
	s->p = nl ? nl + 1 : s->end;
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

bool scan_word(struct scan *s, const char **w, size_t *n)
{
	while (s->p < s->end && is_blank(*s->p))
		s->p++;
	if (s->p >= s->end)
		return false;
	*w = s->p;
	while (s->p < s->end && !is_blank(*s->p))
		s->p++;
	*n = (size_t)(s->p - *w);
	return true;
}

bool word_is(const char *w, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

bool parse_u64(const char *w, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (w[i] < '0' || w[i] > '9')
			return false;
		unsigned d = (unsigned)(w[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool parse_hex_u64(const char *w, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 16)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = w[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

static bool plain_decimal(const char *w, size_t n)
{
	bool digit = false;

	for (size_t i = 0; i < n; i++) {
		char c = w[i];
		if (c >= '0' && c <= '9')
			digit = true;
		else if (c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E')
			return false;
	}
	return digit;
}

bool parse_double(const char *w, size_t n, double *out)
{
	char tmp[64];
	char *endp;

	/* strtod needs a terminated string and would accept "inf", "nan" and hex
	 * floats; only plain decimals come from the kernel. */
	if (n == 0 || n >= sizeof tmp || !plain_decimal(w, n))
		return false;
	memcpy(tmp, w, n);
	tmp[n] = '\0';
	errno = 0;
	double v = strtod(tmp, &endp);
	if (endp != tmp + n || errno == ERANGE || !isfinite(v))
		return false;
	*out = v;
	return true;
}
