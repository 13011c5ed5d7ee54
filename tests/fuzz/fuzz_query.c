/*
 * fuzz_query - libFuzzer harness: what the exporter makes of a request's
 * headers and query, called directly (fuzz_http reaches the same code through a
 * socket, a thousand times slower).
 *
 * The input is split at newlines: the first line is an Accept header, the
 * second an Accept-Encoding header, and every further line a collect[] name (or
 * an exclude[] name when it starts with '-').  negotiate_format, negotiate_gzip
 * and scrape_select (node_exporter's collect[]/exclude[] filters) must answer
 * each without crashing, and scrape_select must either refuse with a reason or
 * select only configured collectors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "negotiate.h"
#include "scrape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_NAMES 64

static const char *const configured[] = { "cpu", "meminfo", "loadavg", "agent" };
static struct scrape *scrape;

static void check_selection(const struct scrape_selection *sel)
{
	size_t n = sizeof configured / sizeof configured[0];

	for (size_t i = n; i < SCRAPE_MAX_COLLECTORS; i++)
		if (sel->bits[i / 64] & (1ull << (i % 64)))
			abort(); /* a collector that does not exist was selected */
}

static void filters(char **lines, size_t n)
{
	const char *collect[MAX_NAMES], *exclude[MAX_NAMES];
	size_t nc = 0, ne = 0;
	struct scrape_selection sel;
	char err[256] = "";

	for (size_t i = 0; i < n; i++) {
		if (lines[i][0] == '-' && ne < MAX_NAMES)
			exclude[ne++] = lines[i] + 1;
		else if (lines[i][0] != '-' && nc < MAX_NAMES)
			collect[nc++] = lines[i];
	}
	if (scrape_select(scrape, collect, nc, exclude, ne, &sel, err, sizeof err) == 0)
		check_selection(&sel);
	else if (err[0] == '\0')
		abort(); /* a refusal (answered with 400) must say why */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *lines[2 + MAX_NAMES];
	size_t n = 0;
	char err[256];

	if (scrape == NULL) {
		struct scrape_options o = { .instance = "fuzzquery",
					    .collectors = configured,
					    .n_collectors = sizeof configured /
							    sizeof configured[0] };
		if (scrape_new(&scrape, &o, err, sizeof err) < 0) {
			fprintf(stderr, "fuzz_query: %s\n", err);
			abort();
		}
	}
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *p = text; p && n < sizeof lines / sizeof lines[0];) {
		lines[n++] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	negotiate_format(n > 0 ? lines[0] : NULL, true);
	negotiate_format(n > 0 ? lines[0] : NULL, false);
	negotiate_gzip(n > 1 ? lines[1] : NULL);
	if (n > 2)
		filters(lines + 2, n - 2);
	free(text);
	return 0;
}
