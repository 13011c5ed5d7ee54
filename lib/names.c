/* Name and string rules of the Prometheus data model. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

static bool is_alpha_(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The messages say what is wrong and where, never what the name is: it may come
 * from a file that is a secret (metrics.h). */
static int name_check(const char *what, const char *s, size_t len, size_t max, bool colon_ok,
		      char *err, size_t errlen)
{
	const char *pattern = colon_ok ? "[a-zA-Z_:][a-zA-Z0-9_:]*" : "[a-zA-Z_][a-zA-Z0-9_]*";

	if (len == 0) {
		snprintf(err, errlen, "the %s is empty; %ss must match %s", what, what, pattern);
		return -EINVAL;
	}
	if (len > max) {
		snprintf(err, errlen, "the %s is longer than %zu bytes", what, max);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool ok = is_alpha_(c) || (colon_ok && c == ':') || (i > 0 && is_digit(c));
		if (!ok) {
			snprintf(err, errlen,
				 "character %zu of the %s is not allowed; %ss must match %s", i + 1,
				 what, what, pattern);
			return -EINVAL;
		}
	}
	if (len >= 2 && s[0] == '_' && s[1] == '_') {
		snprintf(err, errlen, "the %s starts with __, which Prometheus reserves", what);
		return -EINVAL;
	}
	return 0;
}

int metric_name_check(const char *s, size_t len, char *err, size_t errlen)
{
	return name_check("metric name", s, len, METRIC_NAME_MAX, true, err, errlen);
}

int label_name_check(const char *s, size_t len, char *err, size_t errlen)
{
	return name_check("label name", s, len, LABEL_NAME_MAX, false, err, errlen);
}

/* Length of the UTF-8 sequence starting with lead byte c, 0 if c cannot lead. */
static size_t utf8_sequence_length(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

size_t utf8_valid_prefix(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_sequence_length(s[i]);
		if (n == 0 || s[i] == 0 || n > len - i)
			return i;
		for (size_t k = 1; k < n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
		/* Overlong 3/4-byte forms, UTF-16 surrogates and code points past U+10FFFF. */
		if (n == 3 && s[i] == 0xe0 && s[i + 1] < 0xa0)
			return i;
		if (n == 3 && s[i] == 0xed && s[i + 1] > 0x9f)
			return i;
		if (n == 4 && s[i] == 0xf0 && s[i + 1] < 0x90)
			return i;
		if (n == 4 && s[i] == 0xf4 && s[i + 1] > 0x8f)
			return i;
		i += n;
	}
	return len;
}

bool utf8_valid(const char *str, size_t len)
{
	return utf8_valid_prefix(str, len) == len;
}

const char *metric_type_name(uint32_t type)
{
	switch (type) {
	case METRIC_COUNTER:
		return "counter";
	case METRIC_GAUGE:
		return "gauge";
	case METRIC_HISTOGRAM:
		return "histogram";
	case METRIC_SUMMARY:
		return "summary";
	default:
		return "untyped";
	}
}

static void add_exposed(struct metric_exposed *out, const char *name, size_t len,
			const char *suffix)
{
	size_t sl = strlen(suffix);
	char *dst = out->name[out->n];

	memcpy(dst, name, len);
	memcpy(dst + len, suffix, sl + 1);
	out->len[out->n++] = len + sl;
}

void metric_exposed_names(const char *name, size_t len, uint32_t type, struct metric_exposed *out)
{
	static const char total[] = "_total";
	const size_t tl = sizeof total - 1;

	if (len > METRIC_NAME_MAX)
		len = METRIC_NAME_MAX; /* longer names are refused everywhere anyway */
	out->n = 0;
	add_exposed(out, name, len, "");
	if (type == METRIC_COUNTER && len > tl && memcmp(name + len - tl, total, tl) == 0)
		add_exposed(out, name, len - tl, "");
	else if (type == METRIC_COUNTER)
		add_exposed(out, name, len, total);
	if (type == METRIC_HISTOGRAM)
		add_exposed(out, name, len, "_bucket");
	if (type == METRIC_HISTOGRAM || type == METRIC_SUMMARY) {
		add_exposed(out, name, len, "_sum");
		add_exposed(out, name, len, "_count");
	}
}

const char *metric_exposed_meet(const struct metric_exposed *a, const struct metric_exposed *b)
{
	for (size_t i = 0; i < a->n; i++)
		for (size_t k = 0; k < b->n; k++)
			if (a->len[i] == b->len[k] &&
			    memcmp(a->name[i], b->name[k], a->len[i]) == 0)
				return a->name[i];
	return NULL;
}
