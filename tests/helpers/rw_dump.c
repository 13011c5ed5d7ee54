/*
 * rw_dump - prints the samples of Prometheus remote-write request bodies.
 *
 *   rw_dump FILE...
 *
 * Each FILE is one request body as a receiver got it (a snappy-compressed
 * WriteRequest).  One line per sample: the series in the text format's
 * spelling, the value, the timestamp in ms:
 *
 *   node_load1{instance="h1"} 0.25 1700000000123
 *
 * Labels other than __name__ in the order they were sent.  A stale marker
 * prints as "stale".  Exits 1 when a body is not valid snappy or protobuf, or
 * when a series' labels are not sorted by name (as remote write requires).
 */
#include <math.h>
#include <snappy-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.pb-c.h"

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap);

	if (!f || !buf) {
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	for (size_t r; (r = fread(buf + n, 1, cap - n, f)) > 0;) {
		n += r;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	*len = n;
	return buf;
}

static void print_series(const Prometheus__TimeSeries *ts)
{
	const char *name = "";
	int first = 1;

	for (size_t i = 0; i < ts->n_labels; i++)
		if (strcmp(ts->labels[i]->name, "__name__") == 0)
			name = ts->labels[i]->value;
	printf("%s{", name);
	for (size_t i = 0; i < ts->n_labels; i++) {
		if (strcmp(ts->labels[i]->name, "__name__") == 0)
			continue;
		printf("%s%s=\"%s\"", first ? "" : ",", ts->labels[i]->name, ts->labels[i]->value);
		first = 0;
	}
	printf("}");
}

static int check_sorted(const char *path, const Prometheus__TimeSeries *ts)
{
	for (size_t i = 1; i < ts->n_labels; i++)
		if (strcmp(ts->labels[i - 1]->name, ts->labels[i]->name) >= 0) {
			fprintf(stderr, "rw_dump: %s: labels %s and %s out of order\n", path,
				ts->labels[i - 1]->name, ts->labels[i]->name);
			return 1;
		}
	return 0;
}

static int dump(const char *path)
{
	size_t len = 0, plen = 0;
	unsigned char *z = slurp(path, &len);
	int rc = 1;

	if (!z || snappy_uncompressed_length((char *)z, len, &plen) != SNAPPY_OK) {
		fprintf(stderr, "rw_dump: %s: not snappy data\n", path);
		free(z);
		return 1;
	}
	char *plain = malloc(plen + 1);
	Prometheus__WriteRequest *req = NULL;
	if (snappy_uncompress((char *)z, len, plain, &plen) == SNAPPY_OK)
		req = prometheus__write_request__unpack(NULL, plen, (uint8_t *)plain);
	if (!req)
		fprintf(stderr, "rw_dump: %s: not a WriteRequest\n", path);
	int unsorted = 0;
	for (size_t i = 0; req && i < req->n_timeseries; i++) {
		const Prometheus__TimeSeries *ts = req->timeseries[i];
		unsorted |= check_sorted(path, ts);
		for (size_t k = 0; k < ts->n_samples; k++) {
			uint64_t bits;
			memcpy(&bits, &ts->samples[k]->value, sizeof bits);
			print_series(ts);
			if (bits == 0x7ff0000000000002ull)
				printf(" stale");
			else
				printf(" %.17g", ts->samples[k]->value);
			printf(" %lld\n", (long long)ts->samples[k]->timestamp);
		}
	}
	if (req) {
		rc = unsorted;
		prometheus__write_request__free_unpacked(req, NULL);
	}
	free(plain);
	free(z);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0;

	for (int i = 1; i < argc; i++)
		rc |= dump(argv[i]);
	return rc;
}
