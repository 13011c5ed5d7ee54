/*
 * values.c - parsing and checking single values (values.h): durations, numbers,
 * switches, listen addresses, names, paths, modes, groups.  The JSON loader,
 * the agent's flags and the children's command lines all read through these.
 */
#include "values.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QBUF 200

struct duration_unit {
	const char *name;
	uint64_t ms;
};

/* Largest first: a duration's units must appear in this order, each at most once. */
static const struct duration_unit duration_units[] = {
	{ "w", 7ull * 24 * 3600 * 1000 },
	{ "d", 24ull * 3600 * 1000 },
	{ "h", 3600ull * 1000 },
	{ "m", 60ull * 1000 },
	{ "s", 1000 },
	{ "ms", 1 },
};
#define N_UNITS (sizeof duration_units / sizeof duration_units[0])

static const char *const log_levels[] = { "error", "warn", "info", "debug" };
#define N_LEVELS (sizeof log_levels / sizeof log_levels[0])

int config_failv(char *err, size_t errlen, const char *prefix, const char *fmt, va_list ap)
{
	if (err && errlen) {
		int n = snprintf(err, errlen, "%s", prefix);
		size_t used = n < 0 ? 0 : (size_t)n < errlen ? (size_t)n : errlen - 1;
		vsnprintf(err + used, errlen - used, fmt, ap);
	}
	return -EINVAL;
}

int config_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int rc = config_failv(err, errlen, "", fmt, ap);
	va_end(ap);
	return rc;
}

static int find_unit(const char *s, size_t n)
{
	for (size_t u = 0; u < N_UNITS; u++)
		if (strlen(duration_units[u].name) == n &&
		    strncmp(s, duration_units[u].name, n) == 0)
			return (int)u;
	return -1;
}

/* One "<digits><unit>" term at *p.  Returns the unit index or a negative errno. */
static int duration_term(const char **p, const char *whole, uint64_t *value, char *err,
			 size_t errlen)
{
	char q[QBUF];
	const char *s = *p;
	uint64_t v = 0;
	if (*s < '0' || *s > '9')
		return config_fail(
		    err, errlen,
		    "%s is not a duration; write a number and a unit, e.g. \"5s\", \"500ms\" or \"1m30s\"",
		    config_quote(q, sizeof q, whole));
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > 1000000000000ull)
			return config_fail(err, errlen, "duration %s is too long",
					   config_quote(q, sizeof q, whole));
	}
	if (*s == '.')
		return config_fail(
		    err, errlen,
		    "duration %s has a fraction; use a smaller unit instead, e.g. \"1500ms\" or \"1m30s\"",
		    config_quote(q, sizeof q, whole));
	const char *u = s;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
		s++;
	if (s == u && *s)
		return config_fail(
		    err, errlen,
		    "duration %s contains an unexpected character; write e.g. \"1m30s\", without spaces",
		    config_quote(q, sizeof q, whole));
	if (s == u)
		return config_fail(
		    err, errlen,
		    "duration %s has no unit; write e.g. \"5s\" (units: ms, s, m, h, d, w)",
		    config_quote(q, sizeof q, whole));
	int unit = find_unit(u, (size_t)(s - u));
	if (unit < 0) {
		char uq[QBUF], ub[32];
		snprintf(ub, sizeof ub, "%.*s", (int)(s - u), u);
		return config_fail(
		    err, errlen,
		    "duration %s has unknown unit %s; use ms, s, m, h, d or w, e.g. \"5s\"",
		    config_quote(q, sizeof q, whole), config_quote(uq, sizeof uq, ub));
	}
	*value = v * duration_units[unit].ms;
	*p = s;
	return unit;
}

int config_parse_duration_ms(const char *s, uint32_t *ms, char *err, size_t errlen)
{
	char q[QBUF];
	if (!s || !*s)
		return config_fail(err, errlen, "empty duration; write e.g. \"5s\"");
	const char *p = s;
	uint64_t total = 0;
	int last = -1;
	while (*p) {
		uint64_t v = 0;
		int unit = duration_term(&p, s, &v, err, errlen);
		if (unit < 0)
			return unit;
		if (unit <= last)
			return config_fail(
			    err, errlen,
			    "duration %s: units must go from largest to smallest, each at most once, e.g. \"1m30s\"",
			    config_quote(q, sizeof q, s));
		last = unit;
		total += v;
		if (total > UINT32_MAX)
			return config_fail(err, errlen,
					   "duration %s is too long (at most about 49 days)",
					   config_quote(q, sizeof q, s));
	}
	*ms = (uint32_t)total;
	return 0;
}

/* The units from h down: a duration printed for people or a command line. */
void config_format_duration_ms(uint32_t ms, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	out[0] = '\0';
	if (ms == 0) {
		snprintf(out, outlen, "0s");
		return;
	}
	uint64_t left = ms;
	for (size_t u = 2; u < N_UNITS; u++) {
		uint64_t k = left / duration_units[u].ms;
		if (k) {
			config_appendf(out, outlen, "%llu%s", (unsigned long long)k,
				       duration_units[u].name);
			left -= k * duration_units[u].ms;
		}
	}
}

int config_parse_duration_range(const char *s, uint32_t lo_ms, uint32_t hi_ms, uint32_t *ms,
				char *err, size_t errlen)
{
	uint32_t v = 0;
	int rc = config_parse_duration_ms(s, &v, err, errlen);
	if (rc)
		return rc;
	if (v < lo_ms || v > hi_ms) {
		char q[QBUF], lo[32], hi[32];
		config_format_duration_ms(lo_ms, lo, sizeof lo);
		config_format_duration_ms(hi_ms, hi, sizeof hi);
		return config_fail(err, errlen, "duration %s is out of range; expected %s to %s",
				   config_quote(q, sizeof q, s), lo, hi);
	}
	*ms = v;
	return 0;
}

int config_parse_seconds_range(const char *s, uint32_t lo_s, uint32_t hi_s, uint32_t *secs,
			       char *err, size_t errlen)
{
	uint32_t ms = 0;
	int rc = config_parse_duration_range(s, lo_s * 1000, hi_s * 1000, &ms, err, errlen);
	if (rc)
		return rc;
	if (ms % 1000) {
		char q[QBUF];
		return config_fail(
		    err, errlen, "duration %s is not a whole number of seconds; write e.g. \"%us\"",
		    config_quote(q, sizeof q, s), (ms + 999) / 1000);
	}
	*secs = ms / 1000;
	return 0;
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int parse_port(const char *addr, const char *p, uint16_t *port, char *err, size_t errlen)
{
	char q[QBUF];
	size_t n = strlen(p);
	if (n == 0)
		return config_fail(err, errlen,
				   "listen address %s has no port after ':'; write e.g. \":%d\"",
				   config_quote(q, sizeof q, addr), CONFIG_DEFAULT_PORT);
	/* Port 0 asks the kernel for a free port (the exporter logs the one it got). */
	unsigned long v = all_digits(p, n) && n <= 5 ? strtoul(p, NULL, 10) : 65536;
	if (v > 65535) {
		char pq[QBUF];
		return config_fail(err, errlen,
				   "listen address %s: port %s is not a number from 0 to 65535",
				   config_quote(q, sizeof q, addr), config_quote(pq, sizeof pq, p));
	}
	if (port)
		*port = (uint16_t)v;
	return 0;
}

static int check_v6(const char *addr, const char *h, char *err, size_t errlen)
{
	char q[QBUF], buf[INET6_ADDRSTRLEN + 1];
	struct in6_addr a;
	const char *zone = strchr(h, '%');
	size_t n = zone ? (size_t)(zone - h) : strlen(h);
	if (n < sizeof buf) {
		memcpy(buf, h, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET6, buf, &a) == 1 && (!zone || zone[1]))
			return 0;
	}
	return config_fail(err, errlen,
			   "listen address %s: not a valid IPv6 address between '[' and ']'",
			   config_quote(q, sizeof q, addr));
}

static int check_host(const char *addr, const char *h, char *err, size_t errlen)
{
	char q[QBUF];
	struct in_addr a;
	if (strchr(h, ':'))
		return config_fail(
		    err, errlen,
		    "listen address %s: an IPv6 address needs brackets; write e.g. \"[::1]:%d\"",
		    config_quote(q, sizeof q, addr), CONFIG_DEFAULT_PORT);
	if (strspn(h, "0123456789.") == strlen(h) && *h && inet_pton(AF_INET, h, &a) != 1)
		return config_fail(err, errlen, "listen address %s: not a valid IPv4 address",
				   config_quote(q, sizeof q, addr));
	if (strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
	    strlen(h))
		return config_fail(
		    err, errlen,
		    "listen address %s: host must be an IP address or a host name; write e.g. \"127.0.0.1:%d\"",
		    config_quote(q, sizeof q, addr), CONFIG_DEFAULT_PORT);
	return 0;
}

static int split_address(const char *addr, char *h, size_t hn, const char **port, char *err,
			 size_t errlen)
{
	char q[QBUF];
	const char *whole = addr, *end, *colon;
	if (addr[0] == '[') {
		end = strchr(addr, ']');
		if (!end)
			return config_fail(err, errlen,
					   "listen address %s: missing ']' after the IPv6 address",
					   config_quote(q, sizeof q, addr));
		if (end[1] != ':')
			return config_fail(
			    err, errlen,
			    "listen address %s: expected ':PORT' after ']', e.g. \"[::1]:%d\"",
			    config_quote(q, sizeof q, addr), CONFIG_DEFAULT_PORT);
		colon = end + 1;
		addr++;
	} else {
		colon = strrchr(addr, ':');
		if (!colon) {
			char ex[CONFIG_ADDR_MAX + 8], eq[QBUF];
			snprintf(ex, sizeof ex, "%s:%d", addr, CONFIG_DEFAULT_PORT);
			return config_fail(
			    err, errlen, "listen address %s has no port; write HOST:PORT, e.g. %s",
			    config_quote(q, sizeof q, addr), config_quote(eq, sizeof eq, ex));
		}
		end = colon;
	}
	size_t n = (size_t)(end - addr);
	if (n >= hn)
		return config_fail(err, errlen, "listen address %s: host is too long",
				   config_quote(q, sizeof q, whole));
	memcpy(h, addr, n);
	h[n] = '\0';
	*port = colon + 1;
	return 0;
}

int config_parse_listen_address(const char *addr, char *host, size_t hostlen, uint16_t *port,
				char *err, size_t errlen)
{
	char h[CONFIG_ADDR_MAX], q[QBUF];
	const char *p = "";
	if (!addr || !*addr)
		return config_fail(err, errlen,
				   "empty listen address; write e.g. \":%d\" or \"127.0.0.1:%d\"",
				   CONFIG_DEFAULT_PORT, CONFIG_DEFAULT_PORT);
	if (strlen(addr) >= CONFIG_ADDR_MAX)
		return config_fail(err, errlen, "listen address %s is longer than %d bytes",
				   config_quote(q, sizeof q, addr), CONFIG_ADDR_MAX - 1);
	int rc = split_address(addr, h, sizeof h, &p, err, errlen);
	if (!rc)
		rc = addr[0] == '[' ? check_v6(addr, h, err, errlen)
				    : check_host(addr, h, err, errlen);
	if (!rc)
		rc = parse_port(addr, p, port, err, errlen);
	if (rc)
		return rc;
	if (host) {
		if (strlen(h) >= hostlen)
			return config_fail(err, errlen,
					   "listen address %s: host does not fit in %zu bytes",
					   config_quote(q, sizeof q, addr), hostlen);
		memcpy(host, h, strlen(h) + 1);
	}
	return 0;
}

int config_check_name(const char *s, const char *what, char *err, size_t errlen)
{
	char q[QBUF];
	size_t n = strlen(s);
	if (n >= 1 && n < CONFIG_NAME_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n)
		return 0;
	return config_fail(err, errlen,
			   "%s is not a valid %s name; use 1 to %d of a-z, A-Z, 0-9, '_' and '-'",
			   config_quote(q, sizeof q, s), what, CONFIG_NAME_MAX - 1);
}

int config_check_log_level(const char *s, char *err, size_t errlen)
{
	char q[QBUF];
	for (size_t k = 0; k < N_LEVELS; k++)
		if (strcmp(s, log_levels[k]) == 0)
			return 0;
	const char *near = config_suggest(s, log_levels, N_LEVELS);
	if (near)
		return config_fail(err, errlen, "%s is not a log level; did you mean \"%s\"?",
				   config_quote(q, sizeof q, s), near);
	return config_fail(err, errlen,
			   "%s is not a log level; expected one of error, warn, info, debug",
			   config_quote(q, sizeof q, s));
}

int config_check_abs_path(const char *s, const char *example, char *err, size_t errlen)
{
	char q[QBUF];
	if (!*s)
		return config_fail(err, errlen, "empty path; write an absolute path such as \"%s\"",
				   example);
	if (s[0] != '/')
		return config_fail(
		    err, errlen,
		    "%s is not an absolute path; write one starting with '/', such as \"%s\"",
		    config_quote(q, sizeof q, s), example);
	if (strlen(s) >= PATH_MAX)
		return config_fail(err, errlen, "path %s is longer than %d bytes",
				   config_quote(q, sizeof q, s), PATH_MAX - 1);
	return 0;
}

int config_parse_mode(const char *s, mode_t *mode, char *err, size_t errlen)
{
	char q[QBUF];
	size_t n = strlen(s);
	if ((n != 3 && n != 4) || strspn(s, "01234567") != n)
		return config_fail(
		    err, errlen,
		    "%s is not an octal mode; write 3 or 4 octal digits such as \"0640\"",
		    config_quote(q, sizeof q, s));
	unsigned long v = strtoul(s, NULL, 8);
	if (v > 0777)
		return config_fail(
		    err, errlen,
		    "mode %s sets bits other than permissions (setuid, setgid, sticky); use 0000 to 0777, e.g. \"0640\"",
		    config_quote(q, sizeof q, s));
	if ((v & 0600) != 0600)
		return config_fail(
		    err, errlen,
		    "mode %s does not let the owner read and write; the owner needs rw, e.g. \"0640\"",
		    config_quote(q, sizeof q, s));
	*mode = (mode_t)v;
	return 0;
}

int config_check_group(const char *s, char *err, size_t errlen)
{
	char q[QBUF];
	if (!*s)
		return 0;
	if (strlen(s) >= CONFIG_NAME_MAX)
		return config_fail(err, errlen, "group name %s is longer than %d bytes",
				   config_quote(q, sizeof q, s), CONFIG_NAME_MAX - 1);
	int rc = config_lookup_group(s, NULL);
	if (rc < 0)
		return config_fail(err, errlen, "getgrnam_r(%s) failed: %s",
				   config_quote(q, sizeof q, s), strerror(-rc));
	if (rc == 0)
		return config_fail(
		    err, errlen,
		    "no group named %s on this system; create it, or write \"\" to keep the agent's group",
		    config_quote(q, sizeof q, s));
	return 0;
}

int config_check_file(const char *s, char *err, size_t errlen)
{
	char q[QBUF];
	if (strlen(s) >= PATH_MAX)
		return config_fail(err, errlen, "path %s is longer than %d bytes",
				   config_quote(q, sizeof q, s), PATH_MAX - 1);
	return 0;
}

int config_parse_bool(const char *s, bool *out, char *err, size_t errlen)
{
	char q[QBUF];
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
		*out = s[0] == 't';
		return 0;
	}
	return config_fail(err, errlen, "expected true or false, found %s",
			   config_quote(q, sizeof q, s));
}

int config_check_uint_range(long long v, uint32_t lo, uint32_t hi, char *err, size_t errlen)
{
	if (v < (long long)lo || v > (long long)hi)
		return config_fail(err, errlen,
				   "%lld is out of range; expected an integer from %u to %u", v, lo,
				   hi);
	return 0;
}

/* Up to 18 digits, with an optional '-': a number that can be out of range. */
static bool integer_text(const char *s)
{
	size_t n = strlen(s), sign = s[0] == '-';
	return n > sign && n - sign <= 18 && all_digits(s + sign, n - sign);
}

int config_parse_uint_range(const char *s, uint32_t lo, uint32_t hi, uint32_t *out, char *err,
			    size_t errlen)
{
	char q[QBUF];
	if (!integer_text(s))
		return config_fail(err, errlen, "%s is not an integer from %" PRIu32 " to %" PRIu32,
				   config_quote(q, sizeof q, s), lo, hi);
	long long v = strtoll(s, NULL, 10);
	int rc = config_check_uint_range(v, lo, hi, err, errlen);
	if (!rc)
		*out = (uint32_t)v;
	return rc;
}
