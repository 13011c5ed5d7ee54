#include "metricname.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

int metric_name_sanitize(char *out, size_t len, const char *name, size_t n)
{
	size_t o = 0, kept = 0; /* out[0..kept) holds replacements, never stripped */
	for (size_t i = 0; i < n;) {
		if (name_char(name[i])) {
			if (o + 1 >= len)
				return -ENAMETOOLONG;
			out[o++] = name[i++];
			continue;
		}
		while (o > kept && out[o - 1] == '_')
			o--;
		while (i < n && !name_char(name[i]))
			i++;
		while (i < n && name[i] == '_')
			i++;
		if (o + 1 >= len)
			return -ENAMETOOLONG;
		out[o++] = '_';
		kept = o;
	}
	if (o >= len)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return 0;
}

void metric_name_clean(char *out, size_t len, const char *name, size_t n)
{
	size_t o = 0;
	if (len == 0)
		return;
	for (size_t i = 0; i < n && o + 1 < len; i++) {
		char c = name[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '_';
		out[o++] = ok ? c : '_';
	}
	while (o > 0 && out[o - 1] == '_')
		o--;
	out[o] = '\0';
	size_t lead = 0;
	while (out[lead] == '_')
		lead++;
	if (lead)
		memmove(out, out + lead, o - lead + 1);
}
