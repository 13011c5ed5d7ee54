#include "mountinfo.h"

#include <string.h>

/* The next blank-separated field, NUL-terminated in place. */
static char *next_field(struct scan *line)
{
	const char *w;
	size_t n;
	if (!scan_word(line, &w, &n))
		return NULL;
	char *f = (char *)w; /* the caller's own buffer (see mountinfo.h) */
	if (f + n < line->end)
		line->p++;
	f[n] = '\0';
	return f;
}

bool mountinfo_parse(struct scan line, struct mountinfo *m)
{
	char *f[6], *sep;
	for (int i = 0; i < 6; i++)
		if (!(f[i] = next_field(&line)))
			return false;
	while ((sep = next_field(&line)) != NULL && strcmp(sep, "-") != 0)
		; /* optional fields: shared:N, master:N, ... */
	m->fstype = sep ? next_field(&line) : NULL;
	m->source = m->fstype ? next_field(&line) : NULL;
	m->super_options = m->source ? next_field(&line) : NULL;
	m->devno = f[2];
	m->mountpoint = f[4];
	m->options = f[5];
	return m->super_options != NULL;
}

void mountinfo_unescape(char *p)
{
	char *w = p;
	for (const char *r = p; *r;) {
		if (strncmp(r, "\\040", 4) == 0 || strncmp(r, "\\011", 4) == 0) {
			*w++ = r[2] == '4' ? ' ' : '\t';
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}
