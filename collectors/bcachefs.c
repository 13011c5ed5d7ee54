/*
 * bcachefs - mounted bcachefs filesystems, from SYSFS/fs/bcachefs/<uuid>/, as
 * node_exporter's bcachefs collector reports them (on by default there since
 * 1.11, and here), labelled uuid:
 *
 *   node_bcachefs_info 1 and _btree_cache_size_bytes (btree_cache_size)
 *   _compression_{compressed,uncompressed}_bytes{algorithm} (compression_stats)
 *   _errors_total{error_type} (errors)
 *   _btree_writes_total and _btree_write_average_size_bytes{type} (btree_write_stats)
 *   _<counter>_total, one family per file of counters/, the count since the
 *     filesystem was created
 *   _device_info{device, label, state} 1, _device_bucket_size_bytes,
 *     _device_buckets, _device_durability, _device_io_done_bytes_total{device,
 *     operation, data_type} and _device_io_errors_total{device, type} (since
 *     creation) for each dev-<N>/
 *
 * Sizes are written "542k", "1.5G" (powers of 1024).  A file that is missing
 * gives no series (btree_cache_size, nbuckets and durability read as 0, as in
 * node_exporter); a line that does not parse is skipped.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collector.h"
#include "dirents.h"
#include "metricname.h"
#include "scan.h"
#include "seriesbuf.h"

#define B "node_bcachefs_"

struct bcachefs_state {
	char root[PATH_MAX];
	struct dirents fss, entries, counters;
	char *buf;
	size_t cap;
	struct seriesbuf series;
};

static void bcachefs_fini(void *state)
{
	struct bcachefs_state *s = state;
	if (!s)
		return;
	dirents_free(&s->fss);
	dirents_free(&s->entries);
	dirents_free(&s->counters);
	free(s->buf);
	seriesbuf_free(&s->series);
	free(s);
}

static int bcachefs_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct bcachefs_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->root, sizeof s->root, "%s/fs/bcachefs", env->sysfs) != 0) {
		snprintf(err, errlen, "path %s/fs/bcachefs is too long", env->sysfs);
		free(s);
		return -ENAMETOOLONG;
	}
	seriesbuf_init(&s->series);
	*state = s;
	return 0;
}

/* "542k", "1.5G", "405": bytes, with k..E as powers of 1024. */
static bool human_bytes(const char *w, size_t n, double *out)
{
	static const char units[] = "kmgtpe";
	double mult = 1, v;
	if (n == 0)
		return false;
	char last = w[n - 1];
	if (last >= 'A' && last <= 'Z')
		last = (char)(last - 'A' + 'a');
	const char *u = strchr(units, last);
	if (u && last) {
		for (const char *p = units; p <= u; p++)
			mult *= 1024;
		n--;
	}
	if (!parse_double(w, n, &v) || v < 0)
		return false;
	*out = (double)(unsigned long long)(v * mult);
	return true;
}

/* Reads dir/file into s->buf; its length, or -1 when it cannot be read. */
static long read_file(struct bcachefs_state *s, const char *dir, const char *file)
{
	char path[PATH_MAX];
	if (path_fmt(path, sizeof path, "%s/%s", dir, file) != 0)
		return -1;
	long n = sysfile_slurp(path, &s->buf, &s->cap);
	return n < 0 ? -1 : n;
}

static void trim_colon(const char **w, size_t *n)
{
	if (*n > 0 && (*w)[*n - 1] == ':')
		(*n)--;
}

static int add1(struct seriesbuf *sb, const char *name, const char *help, enum metric_type type,
		const char *uuid, double v)
{
	static const char *const names[] = { "uuid" };
	const char *values[] = { uuid };
	return seriesbuf_add(sb, name, help, type, names, values, 1, v);
}

static int add2(struct seriesbuf *sb, const char *name, const char *help, enum metric_type type,
		const char *uuid, const char *label, const char *w, size_t n, double v)
{
	char value[256];
	snprintf(value, sizeof value, "%.*s", (int)n, w);
	const char *names[] = { "uuid", label }, *values[] = { uuid, value };
	return seriesbuf_add(sb, name, help, type, names, values, 2, v);
}

/* compression_stats and btree_write_stats: a header line, then "name: a b ...". */
static int table_file(struct bcachefs_state *s, const char *dir, const char *uuid, bool btree)
{
	long len = read_file(s, dir, btree ? "btree_write_stats" : "compression_stats");
	struct scan text = scan_text(s->buf, len > 0 ? (size_t)len : 0), line;
	int rc = 0;
	scan_line(&text, &line);
	while (rc == 0 && scan_line(&text, &line)) {
		const char *w[3];
		size_t n[3], i = 0;
		double a, b;
		uint64_t count;
		while (i < 3 && scan_word(&line, &w[i], &n[i]))
			i++;
		if (i < 3)
			continue;
		trim_colon(&w[0], &n[0]);
		if (btree && parse_u64(w[1], n[1], &count) && human_bytes(w[2], n[2], &b)) {
			rc = add2(&s->series, B "btree_writes_total",
				  "Number of btree writes by type.", METRIC_COUNTER, uuid, "type",
				  w[0], n[0], (double)count);
			if (rc == 0)
				rc = add2(&s->series, B "btree_write_average_size_bytes",
					  "Average btree write size by type.", METRIC_GAUGE, uuid,
					  "type", w[0], n[0], b);
		} else if (!btree && human_bytes(w[1], n[1], &a) && human_bytes(w[2], n[2], &b)) {
			rc = add2(&s->series, B "compression_compressed_bytes",
				  "Compressed size by algorithm.", METRIC_GAUGE, uuid, "algorithm",
				  w[0], n[0], a);
			if (rc == 0)
				rc = add2(&s->series, B "compression_uncompressed_bytes",
					  "Uncompressed size by algorithm.", METRIC_GAUGE, uuid,
					  "algorithm", w[0], n[0], b);
		}
	}
	return rc;
}

/* errors: "btree_node_read_err 5 1700000000" (name, count, last time). */
static int errors_file(struct bcachefs_state *s, const char *dir, const char *uuid)
{
	long len = read_file(s, dir, "errors");
	struct scan text = scan_text(s->buf, len > 0 ? (size_t)len : 0), line;
	int rc = 0;
	while (rc == 0 && scan_line(&text, &line)) {
		const char *name, *cw;
		size_t nn, cn;
		uint64_t count;
		if (scan_word(&line, &name, &nn) && scan_word(&line, &cw, &cn) &&
		    parse_u64(cw, cn, &count))
			rc = add2(&s->series, B "errors_total", "Error count by error type.",
				  METRIC_COUNTER, uuid, "error_type", name, nn, (double)count);
	}
	return rc;
}

/* counters/<name>: "since mount: 2.05G" and "since filesystem creation: 1.5T". */
static int counters_dir(struct bcachefs_state *s, const char *dir, const char *uuid)
{
	static const char creation[] = "since filesystem creation:", mount[] = "since mount:";
	char cdir[PATH_MAX], name[256], metric[300], help[320];
	if (path_fmt(cdir, sizeof cdir, "%s/counters", dir) != 0 ||
	    dirents_read(&s->counters, cdir, NULL) != 0)
		return 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < s->counters.n; i++) {
		const char *counter = dirents_name(&s->counters, i);
		long len = read_file(s, cdir, counter);
		struct scan text = scan_text(s->buf, len > 0 ? (size_t)len : 0), line;
		double v = 0;
		bool found = false;
		while (scan_line(&text, &line)) {
			size_t n = (size_t)(line.end - line.p);
			if (n > sizeof creation - 1 &&
			    memcmp(line.p, creation, sizeof creation - 1) == 0) {
				struct scan rest = { line.p + sizeof creation - 1, line.end };
				const char *w;
				size_t wn;
				found = scan_word(&rest, &w, &wn) && human_bytes(w, wn, &v);
			} else if (n >= sizeof mount - 1 &&
				   memcmp(line.p, mount, sizeof mount - 1) == 0) {
				found = true; /* the creation count is 0 when only this is given */
			}
		}
		if (!found ||
		    metric_name_sanitize(name, sizeof name, counter, strlen(counter)) != 0)
			continue;
		snprintf(metric, sizeof metric, B "%s_total", name);
		snprintf(help, sizeof help, "Bcachefs counter %s since filesystem creation.",
			 counter);
		rc = add1(&s->series, metric, help, METRIC_COUNTER, uuid, v);
	}
	return rc;
}

static int add_dev(struct seriesbuf *sb, const char *name, const char *help, enum metric_type type,
		   const char *uuid, const char *dev, const char *label, const char *w, size_t n,
		   double v)
{
	char value[256];
	snprintf(value, sizeof value, "%.*s", (int)n, w);
	const char *names[] = { "uuid", "device", label }, *values[] = { uuid, dev, value };
	return seriesbuf_add(sb, name, help, type, names, values, label ? 3 : 2, v);
}

/* io_done: "read:" / "write:" then "btree : 4411097088" lines. */
static int io_done(struct bcachefs_state *s, const char *dir, const char *uuid, const char *dev)
{
	static const char *const names[] = { "uuid", "device", "operation", "data_type" };
	long len = read_file(s, dir, "io_done");
	struct scan text = scan_text(s->buf, len > 0 ? (size_t)len : 0), line;
	char op[16] = "", type[128];
	int rc = 0;
	while (rc == 0 && scan_line(&text, &line)) {
		const char *w, *colon = memchr(line.p, ':', (size_t)(line.end - line.p));
		size_t n;
		uint64_t v;
		struct scan head = { line.p, colon ? colon : line.end }, rest;
		if (!colon || !scan_word(&head, &w, &n))
			continue;
		rest = (struct scan){ colon + 1, line.end };
		const char *vw;
		size_t vn;
		if (!scan_word(&rest, &vw, &vn)) { /* "read:" or "write:" */
			if (word_is(w, n, "read") || word_is(w, n, "write"))
				snprintf(op, sizeof op, "%.*s", (int)n, w);
			continue;
		}
		if (!op[0] || !parse_u64(vw, vn, &v))
			continue;
		snprintf(type, sizeof type, "%.*s", (int)n, w);
		const char *values[] = { uuid, dev, op, type };
		rc = seriesbuf_add(&s->series, B "device_io_done_bytes_total",
				   "IO bytes by operation type and data type.", METRIC_COUNTER,
				   names, values, 4, (double)v);
	}
	return rc;
}

/* io_errors: the section "IO errors since filesystem creation", "read: 5" lines. */
static int io_errors(struct bcachefs_state *s, const char *dir, const char *uuid, const char *dev)
{
	static const char creation[] = "IO errors since filesystem creation",
			  since[] = "IO errors since ";
	long len = read_file(s, dir, "io_errors");
	struct scan text = scan_text(s->buf, len > 0 ? (size_t)len : 0), line;
	bool in = false;
	int rc = 0;
	while (rc == 0 && scan_line(&text, &line)) {
		size_t n = (size_t)(line.end - line.p);
		if (n >= sizeof creation - 1 &&
		    memcmp(line.p, creation, sizeof creation - 1) == 0) {
			in = true;
			continue;
		}
		if (n >= sizeof since - 1 && memcmp(line.p, since, sizeof since - 1) == 0)
			break;
		const char *colon = memchr(line.p, ':', n), *w, *vw;
		size_t wn, vn;
		uint64_t v;
		struct scan head = { line.p, colon ? colon : line.end },
			    rest = { colon ? colon + 1 : line.end, line.end };
		if (in && colon && scan_word(&head, &w, &wn) && scan_word(&rest, &vw, &vn) &&
		    parse_u64(vw, vn, &v))
			rc = add_dev(&s->series, B "device_io_errors_total",
				     "IO errors by error type.", METRIC_COUNTER, uuid, dev, "type",
				     w, wn, (double)v);
	}
	return rc;
}

static double dev_number(struct bcachefs_state *s, const char *dir, const char *file, bool human)
{
	long len = read_file(s, dir, file);
	struct scan text = scan_text(s->buf, len > 0 ? (size_t)len : 0), line;
	const char *w;
	size_t n;
	uint64_t u;
	double v;
	if (!scan_line(&text, &line) || !scan_word(&line, &w, &n))
		return 0;
	if (human)
		return human_bytes(w, n, &v) ? v : 0;
	return parse_u64(w, n, &u) ? (double)u : 0;
}

static int device(struct bcachefs_state *s, const char *fsdir, const char *uuid, const char *entry)
{
	char dir[PATH_MAX], label[256], state[64], path[PATH_MAX];
	const char *dev = entry + 4;
	if (path_fmt(dir, sizeof dir, "%s/%s", fsdir, entry) != 0)
		return 0;
	if (path_fmt(path, sizeof path, "%s/label", dir) != 0 ||
	    sysfile_text(path, label, sizeof label) < 0)
		label[0] = '\0';
	if (path_fmt(path, sizeof path, "%s/state", dir) != 0 ||
	    sysfile_text(path, state, sizeof state) < 0)
		state[0] = '\0';
	const char *names[] = { "uuid", "device", "label", "state" },
		   *values[] = { uuid, dev, label, state };
	int rc = seriesbuf_add(&s->series, B "device_info", "Device information.", METRIC_GAUGE,
			       names, values, 4, 1);
	if (rc == 0)
		rc = add_dev(&s->series, B "device_bucket_size_bytes", "Bucket size in bytes.",
			     METRIC_GAUGE, uuid, dev, NULL, "", 0,
			     dev_number(s, dir, "bucket_size", true));
	if (rc == 0)
		rc = add_dev(&s->series, B "device_buckets", "Total number of buckets.",
			     METRIC_GAUGE, uuid, dev, NULL, "", 0,
			     dev_number(s, dir, "nbuckets", false));
	if (rc == 0)
		rc = add_dev(&s->series, B "device_durability", "Device durability setting.",
			     METRIC_GAUGE, uuid, dev, NULL, "", 0,
			     dev_number(s, dir, "durability", false));
	if (rc == 0)
		rc = io_done(s, dir, uuid, dev);
	return rc ? rc : io_errors(s, dir, uuid, dev);
}

static bool is_dir(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	return path_fmt(path, sizeof path, "%s/%s", dir, name) == 0 && stat(path, &st) == 0 &&
	       S_ISDIR(st.st_mode);
}

static int filesystem(struct bcachefs_state *s, const char *uuid)
{
	char dir[PATH_MAX];
	if (path_fmt(dir, sizeof dir, "%s/%s", s->root, uuid) != 0 || !is_dir(s->root, uuid))
		return 0;
	int rc = add1(&s->series, B "info", "Filesystem information.", METRIC_GAUGE, uuid, 1);
	if (rc == 0)
		rc = add1(&s->series, B "btree_cache_size_bytes",
			  "Btree cache memory usage in bytes.", METRIC_GAUGE, uuid,
			  dev_number(s, dir, "btree_cache_size", true));
	if (rc == 0)
		rc = table_file(s, dir, uuid, false);
	if (rc == 0)
		rc = errors_file(s, dir, uuid);
	if (rc == 0)
		rc = counters_dir(s, dir, uuid);
	if (rc == 0)
		rc = table_file(s, dir, uuid, true);
	if (rc == 0 && dirents_read(&s->entries, dir, NULL) == 0)
		for (size_t i = 0; rc == 0 && i < s->entries.n; i++) {
			const char *e = dirents_name(&s->entries, i);
			if (strncmp(e, "dev-", 4) == 0 && e[4] && is_dir(dir, e))
				rc = device(s, dir, uuid, e);
		}
	return rc;
}

static int bcachefs_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct bcachefs_state *s = state;
	int rc = dirents_read(&s->fss, s->root, NULL);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(err, errlen, "listing %s: %s", s->root, strerror(-rc));
		return rc;
	}
	seriesbuf_reset(&s->series);
	for (size_t i = 0; rc == 0 && i < s->fss.n; i++)
		rc = filesystem(s, dirents_name(&s->fss, i));
	if (rc) {
		snprintf(err, errlen, "out of memory reading %s", s->root);
		return rc;
	}
	return seriesbuf_emit(&s->series, b, err, errlen);
}

const struct collector_ops collector_bcachefs_ops = {
	.init = bcachefs_init,
	.collect = bcachefs_collect,
	.fini = bcachefs_fini,
};
