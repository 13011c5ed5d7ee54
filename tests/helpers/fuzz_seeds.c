/*
 * fuzz_seeds - writes the seed inputs of the blob and segment fuzzers.
 *
 *   fuzz_seeds DIR     writes DIR/blob/seed-* and DIR/segment/seed-*
 *
 * Seeds are real batches (counters, gauges, a histogram, labels with escapes and
 * UTF-8, an empty batch, an error message) so that the fuzzers start from inputs
 * the validator accepts and mutate from there.  Segments use tiny limits to keep
 * the seed files a few kilobytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "../segdir_fixture.h"
#include "segment.h"

static const struct batch_limits small = {
	.max_families = 4,
	.max_series = 8,
	.max_labels = 16,
	.max_values = 32,
	.max_bounds = 8,
	.string_bytes = 1024,
};

static int fill(struct batch *b, int kind, char *err, size_t errlen)
{
	static const char *const ln[] = { "cpu", "mode" };
	static const char *const lv1[] = { "0", "idle" };
	static const char *const lv2[] = { "1", "a\"b\\c\nd \xc3\xa9" };
	static const double bounds[] = { 0.1, 1, 10 };
	static const uint64_t counts[] = { 1, 2, 3, 4 };
	int rc = 0;

	batch_reset(b);
	if (kind >= 1)
		rc = batch_family(b, "node_cpu_seconds_total", "Seconds \\ per\nmode.",
				  METRIC_COUNTER, err, errlen);
	if (kind >= 1 && rc == 0)
		rc = batch_add(b, ln, lv1, 2, 12345.5, err, errlen);
	if (kind >= 1 && rc == 0)
		rc = batch_add(b, ln, lv2, 2, 1e-9, err, errlen);
	if (kind >= 2 && rc == 0)
		rc = batch_family(b, "node_load1", "Load.", METRIC_GAUGE, err, errlen);
	if (kind >= 2 && rc == 0)
		rc = batch_add(b, NULL, NULL, 0, 0.25, err, errlen);
	if (kind >= 3 && rc == 0)
		rc = batch_histogram_family(b, "fuzz_seconds", "A histogram.", bounds, 3, err,
					    errlen);
	if (kind >= 3 && rc == 0)
		rc = batch_add_histogram(b, ln, lv1, 1, counts, 3.5, err, errlen);
	if (kind >= 4 && rc == 0)
		rc = batch_family(b, "fuzz_untyped", "", METRIC_UNTYPED, err, errlen);
	if (kind >= 4 && rc == 0)
		rc = batch_add(b, NULL, NULL, 0, -1.0 / 0.0, err, errlen);
	batch_set_status(b, kind != 2, 1500000, kind == 2 ? "read /proc/x: denied" : NULL);
	return rc;
}

static int write_file(const char *dir, const char *sub, int i, const void *p, size_t n)
{
	char path[4096];
	mkdir(dir, 0755);
	snprintf(path, sizeof path, "%s/%s", dir, sub);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/%s/seed-%d", dir, sub, i);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, n, f) != n) {
		fprintf(stderr, "fuzz_seeds: cannot write %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	return fclose(f);
}

/* Publishes the batch into a fresh small segment and copies the file's bytes. */
static int segment_seed(const char *dir, int i, struct batch *b, char *err, size_t errlen)
{
	struct segment_options opt = {
		.limits = small, .interval_ms = 1000, .mode = 0600, .gid = (gid_t)-1
	};
	struct segdir_fixture fx;
	struct seg_writer *w;
	struct stat st;
	int rc = segdir_fixture_make(&fx) < 0 ? -EIO : 0;

	if (rc == 0)
		rc = segment_create(&fx.dir, "s", &opt, err, errlen);
	if (rc == 0)
		rc = seg_writer_attach(&w, &fx.dir, "s", err, errlen);
	if (rc == 0) {
		rc = seg_writer_publish(w, b, err, errlen);
		seg_writer_detach(w);
	}
	int fd = rc == 0 ? segdir_open_segment(&fx.dir, "s", O_RDONLY, &st, err, errlen) : -1;
	if (fd >= 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED) {
			rc = write_file(dir, "segment", i, p, (size_t)st.st_size);
			munmap(p, (size_t)st.st_size);
		}
		close(fd);
	}
	segdir_fixture_free(&fx);
	return rc;
}

int main(int argc, char **argv)
{
	char err[256];
	size_t len;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds DIR\n");
		return 2;
	}
	struct batch *b = batch_new(&small);
	for (int kind = 0; b != NULL && kind <= 4; kind++) {
		if (fill(b, kind, err, sizeof err) < 0) {
			fprintf(stderr, "fuzz_seeds: %s\n", err);
			return 1;
		}
		void *blob = batch_blob(b, &len);
		if (write_file(argv[1], "blob", kind, blob, len) < 0 ||
		    segment_seed(argv[1], kind, b, err, sizeof err) < 0)
			return 1;
	}
	batch_free(b);
	return b == NULL;
}
