#include "args.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct unit {
	const char *suffix;
	uint64_t ms;
};

/* Longest suffixes first so that "ms" is not read as "m". */
static const struct unit units[] = {
	{ "ms", 1 },
	{ "h", 3600000 },
	{ "m", 60000 },
	{ "s", 1000 },
};

static const struct unit *match_unit(const char *p)
{
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strncmp(p, units[i].suffix, strlen(units[i].suffix)) == 0)
			return &units[i];
	return NULL;
}

/* Reads digits at *p into *v; false when there are none or they overflow. */
static bool read_number(const char **p, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	if (s == *p)
		return false;
	*p = s;
	return true;
}

int args_parse_duration_ms(const char *s, uint64_t *ms, char *err, size_t errlen)
{
	const char *p = s;
	uint64_t total = 0, last_unit = UINT64_MAX;

	while (*p) {
		uint64_t v;
		const struct unit *u;
		if (!read_number(&p, &v) || !(u = match_unit(p)) || u->ms >= last_unit ||
		    v > (UINT64_MAX - total) / u->ms)
			goto bad;
		total += v * u->ms;
		last_unit = u->ms;
		p += strlen(u->suffix);
	}
	if (p == s)
		goto bad;
	*ms = total;
	return 0;
bad:
	snprintf(err, errlen, "bad duration \"%s\": expected e.g. 500ms, 5s, 1m, 1m30s", s);
	return -EINVAL;
}

int args_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out, char *err,
		    size_t errlen)
{
	const char *p = s;
	uint64_t v;

	if (!read_number(&p, &v) || *p || v < min || v > max) {
		snprintf(err, errlen, "bad number \"%s\": expected an integer from %u to %u", s,
			 min, max);
		return -EINVAL;
	}
	*out = (unsigned)v;
	return 0;
}

static int split_host(const char *s, const char **host, size_t *hlen, const char **port)
{
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || close == s + 1)
			return -EINVAL;
		*host = s + 1;
		*hlen = (size_t)(close - s - 1);
		*port = close + 2;
		return 0;
	}
	const char *colon = strrchr(s, ':');
	if (!colon || memchr(s, ':', (size_t)(colon - s)))
		return -EINVAL; /* an IPv6 literal needs brackets */
	*host = s;
	*hlen = (size_t)(colon - s);
	*port = colon + 1;
	return 0;
}

int args_parse_listen_address(const char *s, char *host, size_t hostlen, uint16_t *port, char *err,
			      size_t errlen)
{
	const char *h, *p;
	size_t hlen;
	unsigned v;
	char perr[128];

	if (split_host(s, &h, &hlen, &p) < 0 || hlen >= hostlen ||
	    args_parse_uint(p, 0, 65535, &v, perr, sizeof perr) < 0) {
		snprintf(err, errlen,
			 "bad listen address \"%s\": expected HOST:PORT, [IPV6]:PORT or :PORT", s);
		return -EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)v;
	return 0;
}

int args_parse_bytes(const char *s, uint64_t *bytes, char *err, size_t errlen)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} size_units[] = { { "", 0 },     { "B", 0 },  { "KiB", 10 }, { "k", 10 }, { "K", 10 },
			   { "MiB", 20 }, { "M", 20 }, { "GiB", 30 }, { "G", 30 } };
	const char *p = s;
	uint64_t v;

	if (read_number(&p, &v))
		for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++)
			if (strcmp(p, size_units[i].suffix) == 0 &&
			    v <= (UINT64_MAX >> size_units[i].shift)) {
				*bytes = v << size_units[i].shift;
				return 0;
			}
	snprintf(err, errlen, "bad size \"%s\": expected e.g. 65536, 512KiB, 64MiB, 1GiB", s);
	return -EINVAL;
}
