/*
 * pos.c - where each key and value of a JSON text starts.
 *
 * jansson reports positions only for syntax errors; semantic errors ("out of
 * range") need the position of a value, so this scans the same text once more.
 * It trusts nothing: every read is bounds-checked, recursion is capped, and the
 * scan simply stops at anything unexpected.
 */
#include "config_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POS_PATH_MAX  512
#define POS_KEY_MAX   256
/* Deeper values are skipped without recursion; a config is never this deep. */
#define POS_MAX_DEPTH 64

struct scan {
	const char *s;
	size_t len, i;
	int line, col;
	bool failed;
	int rc;
	struct config_pos_index *ix;
	char path[POS_PATH_MAX];
	size_t plen;
};

static int peek(const struct scan *sc)
{
	return sc->i < sc->len ? (unsigned char)sc->s[sc->i] : -1;
}

static void advance(struct scan *sc)
{
	if (sc->i >= sc->len)
		return;
	unsigned char c = (unsigned char)sc->s[sc->i++];
	if (c == '\n') {
		sc->line++;
		sc->col = 1;
	} else if ((c & 0xC0) != 0x80) {
		/* Continuation bytes do not start a character; only lead bytes count. */
		sc->col++;
	}
}

static void skip_ws(struct scan *sc)
{
	for (int c = peek(sc); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = peek(sc))
		advance(sc);
}

static bool expect(struct scan *sc, int c)
{
	if (peek(sc) != c) {
		sc->failed = true;
		return false;
	}
	advance(sc);
	return true;
}

static void put_byte(char *out, size_t outlen, size_t *o, bool *fits, unsigned char c)
{
	if (!out)
		return;
	if (*o + 1 < outlen)
		out[(*o)++] = (char)c;
	else
		*fits = false;
}

static void put_utf8(char *out, size_t outlen, size_t *o, bool *fits, unsigned long cp)
{
	if (cp < 0x80) {
		put_byte(out, outlen, o, fits, (unsigned char)cp);
	} else if (cp < 0x800) {
		put_byte(out, outlen, o, fits, (unsigned char)(0xC0 | (cp >> 6)));
		put_byte(out, outlen, o, fits, (unsigned char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		put_byte(out, outlen, o, fits, (unsigned char)(0xE0 | (cp >> 12)));
		put_byte(out, outlen, o, fits, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
		put_byte(out, outlen, o, fits, (unsigned char)(0x80 | (cp & 0x3F)));
	} else {
		put_byte(out, outlen, o, fits, (unsigned char)(0xF0 | (cp >> 18)));
		put_byte(out, outlen, o, fits, (unsigned char)(0x80 | ((cp >> 12) & 0x3F)));
		put_byte(out, outlen, o, fits, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
		put_byte(out, outlen, o, fits, (unsigned char)(0x80 | (cp & 0x3F)));
	}
}

/* Reads the 4 hex digits after "\u"; -1 if they are not there. */
static long read_hex4(struct scan *sc)
{
	long v = 0;
	for (int k = 0; k < 4; k++) {
		int c = peek(sc);
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
		advance(sc);
	}
	return v;
}

/* After "\u": one code point, joining a surrogate pair when one follows. */
static long read_unicode_escape(struct scan *sc)
{
	long hi = read_hex4(sc);
	if (hi < 0xD800 || hi > 0xDBFF)
		return hi;
	if (sc->i + 1 < sc->len && sc->s[sc->i] == '\\' && sc->s[sc->i + 1] == 'u') {
		advance(sc);
		advance(sc);
		long lo = read_hex4(sc);
		if (lo >= 0xDC00 && lo <= 0xDFFF)
			return 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
	}
	return 0xFFFD;
}

static bool read_escape(struct scan *sc, char *out, size_t outlen, size_t *o, bool *fits)
{
	static const char from[] = "\"\\/bfnrt";
	static const char to[] = "\"\\/\b\f\n\r\t";
	int e = peek(sc);
	if (e < 0)
		return false;
	advance(sc);
	if (e == 'u') {
		long cp = read_unicode_escape(sc);
		if (cp < 0)
			return false;
		put_utf8(out, outlen, o, fits, (unsigned long)cp);
		return true;
	}
	const char *p = e ? strchr(from, e) : NULL;
	if (!p)
		return false;
	put_byte(out, outlen, o, fits, (unsigned char)to[p - from]);
	return true;
}

/* Scans a string starting at its quote; decodes it into out when out is given.
 * *fits turns false when the decoded text does not fit. */
static void scan_string(struct scan *sc, char *out, size_t outlen, bool *fits)
{
	size_t o = 0;
	if (!expect(sc, '"'))
		return;
	for (;;) {
		int c = peek(sc);
		if (c < 0) {
			sc->failed = true;
			break;
		}
		advance(sc);
		if (c == '"')
			break;
		if (c != '\\') {
			put_byte(out, outlen, &o, fits, (unsigned char)c);
		} else if (!read_escape(sc, out, outlen, &o, fits)) {
			sc->failed = true;
			break;
		}
	}
	if (out && outlen)
		out[o] = '\0';
}

static void skip_scalar(struct scan *sc)
{
	for (int c = peek(sc); c >= 0 && !strchr(",]}: \t\r\n\"", c); c = peek(sc))
		advance(sc);
}

/* Skips a whole value without recursion (for values nested too deeply). */
static void skip_nested(struct scan *sc)
{
	size_t depth = 0;
	do {
		int c = peek(sc);
		if (c < 0) {
			sc->failed = true;
			return;
		}
		if (c == '"') {
			bool fits = true;
			scan_string(sc, NULL, 0, &fits);
			if (sc->failed)
				return;
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && depth > 0)
			depth--;
		advance(sc);
	} while (depth > 0);
}

static void add_entry(struct scan *sc, const struct config_pos *pos)
{
	struct config_pos_index *ix = sc->ix;
	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 32;
		struct config_pos_entry *e = realloc(ix->entries, cap * sizeof *e);
		if (!e)
			goto nomem;
		ix->entries = e;
		ix->cap = cap;
	}
	char *path = strdup(sc->path);
	if (!path)
		goto nomem;
	ix->entries[ix->n].path = path;
	ix->entries[ix->n].pos = *pos;
	ix->n++;
	return;
nomem:
	sc->rc = -ENOMEM;
	sc->failed = true;
}

/* Appends ".key", "key" (at the root) or "[i]" to the path; false if it does not fit. */
static bool push_path(struct scan *sc, const char *key, size_t index, bool is_index)
{
	size_t room = sizeof sc->path - sc->plen;
	int n;
	if (is_index)
		n = snprintf(sc->path + sc->plen, room, "[%zu]", index);
	else
		n = snprintf(sc->path + sc->plen, room, "%s%s", sc->plen ? "." : "", key);
	if (n < 0 || (size_t)n >= room) {
		sc->path[sc->plen] = '\0';
		return false;
	}
	sc->plen += (size_t)n;
	return true;
}

static void pop_path(struct scan *sc, size_t plen)
{
	sc->plen = plen;
	sc->path[plen] = '\0';
}

static void scan_value(struct scan *sc, int depth, int key_line, int key_col, bool record);

static void scan_member(struct scan *sc, int depth, bool record)
{
	char key[POS_KEY_MAX];
	bool fits = true;
	int key_line = sc->line, key_col = sc->col;
	scan_string(sc, key, sizeof key, &fits);
	skip_ws(sc);
	if (sc->failed || !expect(sc, ':'))
		return;
	size_t plen = sc->plen;
	bool child = record && fits && push_path(sc, key, 0, false);
	scan_value(sc, depth + 1, key_line, key_col, child);
	pop_path(sc, plen);
}

/* Walks the members or elements of an object or array until its closing bracket. */
static void scan_container(struct scan *sc, int depth, bool record, int close)
{
	size_t index = 0;
	advance(sc);
	skip_ws(sc);
	if (peek(sc) == close) {
		advance(sc);
		return;
	}
	while (!sc->failed) {
		skip_ws(sc);
		if (close == '}') {
			scan_member(sc, depth, record);
		} else {
			size_t plen = sc->plen;
			bool child = record && push_path(sc, NULL, index++, true);
			scan_value(sc, depth + 1, 0, 0, child);
			pop_path(sc, plen);
		}
		skip_ws(sc);
		if (sc->failed || peek(sc) == close)
			break;
		expect(sc, ',');
	}
	expect(sc, close);
}

static void scan_value(struct scan *sc, int depth, int key_line, int key_col, bool record)
{
	skip_ws(sc);
	struct config_pos pos = { key_line, key_col, sc->line, sc->col };
	if (record)
		add_entry(sc, &pos);
	int c = peek(sc);
	if (sc->failed || c < 0) {
		sc->failed = true;
		return;
	}
	if ((c == '{' || c == '[') && depth >= POS_MAX_DEPTH)
		skip_nested(sc);
	else if (c == '{')
		scan_container(sc, depth, record, '}');
	else if (c == '[')
		scan_container(sc, depth, record, ']');
	else if (c == '"')
		scan_string(sc, NULL, 0, &(bool){ true });
	else
		skip_scalar(sc);
}

int config_pos_build(struct config_pos_index *ix, const char *text, size_t len)
{
	struct scan *sc = calloc(1, sizeof *sc);
	if (!sc)
		return -ENOMEM;
	memset(ix, 0, sizeof *ix);
	sc->s = text ? text : "";
	sc->len = text ? len : 0;
	sc->line = 1;
	sc->col = 1;
	sc->ix = ix;
	/* A UTF-8 byte order mark is not part of the document. */
	if (sc->len >= 3 && memcmp(sc->s, "\xEF\xBB\xBF", 3) == 0)
		sc->i = 3;
	scan_value(sc, 0, 0, 0, true);
	int rc = sc->rc;
	free(sc);
	return rc;
}

const struct config_pos *config_pos_find(const struct config_pos_index *ix, const char *path)
{
	for (size_t k = 0; k < ix->n; k++)
		if (strcmp(ix->entries[k].path, path) == 0)
			return &ix->entries[k].pos;
	return NULL;
}

const struct config_pos *config_pos_find_nearest(const struct config_pos_index *ix,
						 const char *path)
{
	char buf[POS_PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (;;) {
		const struct config_pos *p = config_pos_find(ix, buf);
		if (p || buf[0] == '\0')
			return p;
		char *dot = strrchr(buf, '.');
		char *bracket = strrchr(buf, '[');
		char *cut = dot;
		if (!cut || (bracket && bracket > dot))
			cut = bracket;
		if (cut)
			*cut = '\0';
		else
			buf[0] = '\0';
	}
}

void config_pos_free(struct config_pos_index *ix)
{
	for (size_t k = 0; k < ix->n; k++)
		free(ix->entries[k].path);
	free(ix->entries);
	memset(ix, 0, sizeof *ix);
}
