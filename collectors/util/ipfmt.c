#include "ipfmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool is_v4_mapped(const unsigned char *ip)
{
	static const unsigned char prefix[12] = { [10] = 0xff, [11] = 0xff };
	return memcmp(ip, prefix, sizeof prefix) == 0;
}

static void fmt_v4(char *out, size_t cap, const unsigned char *ip)
{
	snprintf(out, cap, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

/* The longest run (the first of equal ones) of two or more zero groups. */
static void zero_run(const unsigned char *ip, int *start, int *end)
{
	*start = *end = -1;
	for (int i = 0; i < 8; i++) {
		int j = i;
		while (j < 8 && ip[2 * j] == 0 && ip[2 * j + 1] == 0)
			j++;
		if (j - i >= 2 && j - i > *end - *start) {
			*start = i;
			*end = j;
		}
		if (j > i)
			i = j - 1;
	}
}

static void fmt_v6(char *out, size_t cap, const unsigned char *ip)
{
	int start, end, n = 0;

	zero_run(ip, &start, &end);
	for (int i = 0; i < 8; i++) {
		if (i == start) {
			n += snprintf(out + n, cap - (size_t)n, "::");
			i = end - 1;
			continue;
		}
		if (i > 0 && i != end)
			n += snprintf(out + n, cap - (size_t)n, ":");
		n += snprintf(out + n, cap - (size_t)n, "%x", (ip[2 * i] << 8) | ip[2 * i + 1]);
	}
}

char *ipfmt_addr(char *out, const unsigned char *ip, size_t len)
{
	if (len == 4) {
		fmt_v4(out, IPFMT_MAX, ip);
	} else if (len == 16) {
		if (is_v4_mapped(ip))
			fmt_v4(out, IPFMT_MAX, ip + 12);
		else
			fmt_v6(out, IPFMT_MAX, ip);
	} else if (len == 0) {
		out[0] = '\0';
	} else {
		int n = snprintf(out, IPFMT_MAX, "?");
		for (size_t i = 0; i < len && n < IPFMT_MAX - 3; i++)
			n += snprintf(out + n, IPFMT_MAX - (size_t)n, "%02x", ip[i]);
	}
	return out;
}

char *ipfmt_prefix(char *out, const unsigned char *ip, size_t len, unsigned prefix)
{
	char addr[IPFMT_MAX - 8];
	bool v4 = len == 4 || (len == 16 && is_v4_mapped(ip));
	unsigned bits = v4 ? 32 : 128;

	if ((len != 4 && len != 16) || prefix > bits) {
		snprintf(out, IPFMT_MAX, "<nil>");
		return out;
	}
	/* An address is at most 39 characters, so addr's size is no limit. */
	if (v4)
		fmt_v4(addr, sizeof addr, len == 4 ? ip : ip + 12);
	else
		fmt_v6(addr, sizeof addr, ip);
	snprintf(out, IPFMT_MAX, "%s/%u", addr, prefix);
	return out;
}
