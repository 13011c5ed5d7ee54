#include "negotiate.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WS " \t"

/* One element of a comma-separated header: "type;k=v;q=0.5". */
struct element {
	const char *type;
	size_t type_len;
	const char *params; /* from the first ';' to the end of the element */
	size_t params_len;
};

/* Splits off the element starting at *p and advances past it; false at the end. */
static bool next_element(const char **p, struct element *e)
{
	const char *s = *p + strspn(*p, WS ",");

	if (!*s)
		return false;
	size_t len = strcspn(s, ",");
	size_t tlen = strcspn(s, ";,");
	e->type = s;
	e->type_len = tlen;
	while (e->type_len && strchr(WS, e->type[e->type_len - 1]))
		e->type_len--;
	e->params = s + tlen;
	e->params_len = len - tlen;
	*p = s + len;
	return true;
}

static bool token_is(const struct element *e, const char *t)
{
	return e->type_len == strlen(t) && strncasecmp(e->type, t, e->type_len) == 0;
}

/* The value of parameter name in e ("" if absent), copied into out. */
static void param(const struct element *e, const char *name, char *out, size_t outlen)
{
	const char *p = e->params, *end = e->params + e->params_len;
	size_t nlen = strlen(name);

	out[0] = '\0';
	while (p < end) {
		p += strspn(p, WS ";");
		size_t len = strcspn(p, ";,");
		if (p + len > end)
			len = (size_t)(end - p);
		if (len > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t vlen = len - nlen - 1;
			const char *v = p + nlen + 1;
			while (vlen && strchr(WS, v[vlen - 1]))
				vlen--;
			if (vlen >= outlen)
				vlen = outlen - 1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return;
		}
		p += len ? len : 1;
	}
}

static double quality(const struct element *e)
{
	char q[16];

	param(e, "q", q, sizeof q);
	if (!q[0])
		return 1.0;
	double v = strtod(q, NULL);
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

static bool is_openmetrics(const struct element *e)
{
	char v[16];

	if (!token_is(e, "application/openmetrics-text"))
		return false;
	param(e, "version", v, sizeof v);
	return !v[0] || strcmp(v, "1.0.0") == 0 || strcmp(v, "0.0.1") == 0;
}

static bool is_text(const struct element *e)
{
	return token_is(e, "text/plain") || token_is(e, "text/*") || token_is(e, "*/*");
}

enum scrape_format negotiate_format(const char *accept, bool openmetrics_allowed)
{
	struct element e;
	enum scrape_format best = SCRAPE_FORMAT_TEXT;
	double best_q = 0;

	if (!accept || !openmetrics_allowed)
		return SCRAPE_FORMAT_TEXT;
	while (next_element(&accept, &e)) {
		double q = quality(&e);
		if (q <= best_q) /* strictly better only: ties keep the earlier type */
			continue;
		if (is_openmetrics(&e)) {
			best = SCRAPE_FORMAT_OPENMETRICS;
			best_q = q;
		} else if (is_text(&e)) {
			best = SCRAPE_FORMAT_TEXT;
			best_q = q;
		}
	}
	return best;
}

bool negotiate_gzip(const char *accept_encoding)
{
	struct element e;

	while (accept_encoding && next_element(&accept_encoding, &e))
		if (token_is(&e, "gzip") || token_is(&e, "x-gzip"))
			return quality(&e) > 0;
	return false;
}
