#include "cpucols.h"

#include <string.h>

size_t cpucols_count(struct scan header)
{
	const char *w;
	size_t n, count = 0;
	while (scan_word(&header, &w, &n))
		count++;
	return count;
}

bool cpucols_row(struct scan line, const char **name, size_t *namelen, struct scan *rest)
{
	const char *colon = memchr(line.p, ':', (size_t)(line.end - line.p));
	if (!colon)
		return false;
	const char *p = line.p;
	while (p < colon && (*p == ' ' || *p == '\t'))
		p++;
	if (p == colon)
		return false;
	*name = p;
	*namelen = (size_t)(colon - p);
	rest->p = colon + 1;
	rest->end = line.end;
	return true;
}
