/*
 * util.c - small text helpers for config messages: quoting, typo suggestions.
 */
#include "values.h"

#include <stdarg.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Longer words get no suggestion: nobody mistypes a 64-character key. */
#define SUGGEST_MAX_LEN 64
#define QUOTE_MAX_CHARS 60

const char *config_quote(char *buf, size_t n, const char *s)
{
	if (n == 0)
		return buf;
	buf[0] = '\0';
	config_appendf(buf, n, "\"");
	for (size_t i = 0; s && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i >= QUOTE_MAX_CHARS && (c & 0xC0) != 0x80) {
			config_appendf(buf, n, "...");
			break;
		}
		if (c == '"' || c == '\\')
			config_appendf(buf, n, "\\%c", c);
		else if (c < 0x20 || c == 0x7F)
			config_appendf(buf, n, "\\x%02x", c);
		else
			config_appendf(buf, n, "%c", c);
	}
	config_appendf(buf, n, "\"");
	return buf;
}

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

size_t config_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
		return (size_t)-1;
	/* Three rows of the usual table: the one before last is needed for transpositions. */
	size_t rows[3][SUGGEST_MAX_LEN + 1];
	size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t cost = ca != cb;
			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
		size_t *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

const char *config_suggest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	for (size_t k = 0; k < n; k++) {
		size_t d = config_edit_distance(word, candidates[k]);
		if (d < best_d) {
			best_d = d;
			best = candidates[k];
		}
	}
	if (!best)
		return NULL;
	size_t len = strlen(best);
	size_t limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
	return best_d <= limit ? best : NULL;
}

void config_join_names(char *buf, size_t n, const char *const *names, size_t count)
{
	if (n == 0)
		return;
	buf[0] = '\0';
	for (size_t k = 0; k < count; k++)
		config_appendf(buf, n, "%s%s", k ? ", " : "", names[k]);
}

void config_appendf(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	size_t used = strnlen(err, errlen);
	if (used >= errlen - 1) {
		err[errlen - 1] = '\0';
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}
