/*
 * textfile - metrics from *.prom files in a directory, as node_exporter's
 * textfile collector serves them (--collector.textfile.directory, repeatable: a
 * LIST option, its entries one a line).  Each entry may be a glob(7) pattern:
 * every directory it matches is read, in name order; a pattern matching nothing
 * is taken as a directory name, as node_exporter's filepath.Glob fallback does.
 *
 * Each file is parsed on its own with the strict parser (lib/promtext.h); a bad
 * file is skipped and named in the collection error, the good ones are served.
 * Families are then merged across files in file-name order: a family that two
 * files both carry must agree on type, help and buckets, and no series may be in
 * two files; the later file of a disagreement is refused as a whole.  A family
 * without HELP gets node_exporter's "Metric read from FILE, ...".
 * node_textfile_mtime_seconds{file} is served for every file served, and
 * node_textfile_scrape_error is 1 when any file was refused.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"
#include "promtext.h"

#define TEXTFILE_FILES_MAX 1000
#define TEXTFILE_SIZE_MAX  (8u << 20)
#define LABEL_BUF          (METRIC_LABELS_MAX * (LABEL_NAME_MAX + LABEL_VALUE_MAX + 2))

struct tf_file {
	char path[PATH_MAX];
	double mtime;
	unsigned char *blob; /* a copy of the file's parsed batch */
	struct metrics_view view;
	size_t *fam_line; /* where each family of view starts: errors name it so */
	bool refused;
};

struct tf_family {
	struct blob_family f;
	const struct tf_file *file; /* the first file that has it */
	uint32_t index;             /* its index in that file */
};

struct textfile_state {
	const char *dir; /* the option: directories or patterns, one a line */
	bool several;    /* dir has patterns or several lines: name files by their path */
	struct batch *scratch;
	size_t *lines; /* one per family scratch can hold */
	size_t lines_cap;
	char *text;
	size_t text_cap;
	/* this collection */
	struct tf_file *files;
	size_t n_files, cap_files;
	struct tf_family *fams;
	size_t n_fams, cap_fams;
	char *err;
	size_t errlen;
	unsigned errors;
};

static int textfile_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct textfile_state *s = calloc(1, sizeof *s);
	struct batch_limits lim;

	batch_limits_default(&lim);
	if (s == NULL || (s->scratch = batch_new(&lim)) == NULL ||
	    (s->lines = calloc(lim.max_families, sizeof *s->lines)) == NULL) {
		if (s)
			batch_free(s->scratch);
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->lines_cap = lim.max_families;
	s->dir = collector_option(env, "directory");
	if (s->dir == NULL)
		s->dir = "";
	s->several = strpbrk(s->dir, "*?[\n") != NULL;
	*state = s;
	return 0;
}

static void textfile_fini(void *state)
{
	struct textfile_state *s = state;
	if (s == NULL)
		return;
	batch_free(s->scratch);
	free(s->lines);
	free(s->text);
	free(s);
}

/* ---- errors: every refused file is named, as far as the buffer goes ----
 *
 * A file's content may be a secret that landed in the directory (a link, a
 * wrong path): what is wrong in it is told by line and column (promtext.h),
 * and its families by the line where they start, never by their names. */

static void file_error(struct textfile_state *s, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void file_error(struct textfile_state *s, const char *path, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	size_t used = strlen(s->err);

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	s->errors++;
	/* Files are named relative to the directory: the message has to be short
	 * (with a pattern, several directories: their files keep the whole path). */
	size_t dl = strlen(s->dir);
	if (!s->several && strncmp(path, s->dir, dl) == 0 && path[dl] == '/')
		path += dl + 1;
	if (used > 0 && used + 2 < s->errlen) {
		memcpy(s->err + used, "; ", 3);
		used += 2;
	}
	/* "line N, column C: why" reads better as "path:N:C: why". */
	promtext_error_in(s->err + used, s->errlen - used, path, msg);
}

/* ---- reading and parsing one file ---- */

static int read_fd(struct textfile_state *s, int fd, size_t *len)
{
	size_t n = 0;

	for (;;) {
		if (n == s->text_cap) {
			size_t cap = s->text_cap ? s->text_cap * 2 : 64 * 1024;
			if (s->text_cap >= TEXTFILE_SIZE_MAX + 1)
				return -EFBIG;
			if (cap > TEXTFILE_SIZE_MAX + 1)
				cap = TEXTFILE_SIZE_MAX + 1;
			char *t = realloc(s->text, cap);
			if (t == NULL)
				return -ENOMEM;
			s->text = t;
			s->text_cap = cap;
		}
		ssize_t r = read(fd, s->text + n, s->text_cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > TEXTFILE_SIZE_MAX)
			return -EFBIG;
	}
	*len = n;
	return 0;
}

/*
 * Opens without blocking (a FIFO named x.prom must not hang the collector) and
 * without following a symbolic link: whoever may write the directory could
 * otherwise have us read, and serve, a file only we may read.
 */
static int load_file(struct textfile_state *s, struct tf_file *f, size_t *len)
{
	struct stat st;
	int fd = open(f->path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 && errno == ELOOP) {
		file_error(s, f->path, "is a symbolic link; only regular files are read");
		return -ELOOP;
	}
	if (fd < 0) {
		file_error(s, f->path, "open failed: %s", strerror(errno));
		return -errno;
	}

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		file_error(s, f->path, "not a regular file");
		rc = -EINVAL;
		goto out;
	}
	rc = read_fd(s, fd, len);
	if (rc == -EFBIG)
		file_error(s, f->path, "larger than %u bytes", TEXTFILE_SIZE_MAX);
	else if (rc < 0)
		file_error(s, f->path, "read failed: %s", strerror(-rc));
	f->mtime = (double)st.st_mtim.tv_sec;
out:
	close(fd);
	return rc;
}

static int parse_file(struct textfile_state *s, struct tf_file *f)
{
	char why[600];
	size_t len = 0;

	int rc = load_file(s, f, &len);
	if (rc < 0)
		return rc;
	batch_reset(s->scratch);
	rc = promtext_parse_lines(s->scratch, s->text, len, s->lines, s->lines_cap, why,
				  sizeof why);
	if (rc < 0) {
		file_error(s, f->path, "%s", why);
		return rc;
	}
	size_t blob_len;
	const void *blob = batch_blob(s->scratch, &blob_len);
	f->blob = malloc(blob_len);
	memcpy(&f->view.hdr, blob, sizeof f->view.hdr);
	f->fam_line = malloc((f->view.hdr.n_families + 1) * sizeof *f->fam_line);
	if (f->blob == NULL || f->fam_line == NULL) {
		free(f->blob);
		f->blob = NULL;
		file_error(s, f->path, "out of memory");
		return -ENOMEM;
	}
	memcpy(f->blob, blob, blob_len);
	memcpy(f->fam_line, s->lines, f->view.hdr.n_families * sizeof *f->fam_line);
	f->view.blob = f->blob;
	view_compute_offsets(&f->view);
	return 0;
}

/* ---- the directory ---- */

static bool is_prom(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && strcmp(name + n - 5, ".prom") == 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct tf_file *)a)->path, ((const struct tf_file *)b)->path);
}

/* Adds the *.prom files of one directory, sorted by name after those already listed. */
static int list_dir(struct textfile_state *s, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t first = s->n_files;

	if (d == NULL) {
		file_error(s, dir, "opendir failed: %s", strerror(errno));
		return -errno;
	}
	while ((e = readdir(d)) != NULL) {
		if (!is_prom(e->d_name))
			continue;
		if (s->n_files == TEXTFILE_FILES_MAX) {
			file_error(s, dir, "more than %d *.prom files; the rest are ignored",
				   TEXTFILE_FILES_MAX);
			break;
		}
		if (s->n_files == s->cap_files) {
			size_t cap = s->cap_files ? s->cap_files * 2 : 16;
			struct tf_file *nf = realloc(s->files, cap * sizeof *nf);
			if (nf == NULL) {
				closedir(d);
				return -ENOMEM;
			}
			s->files = nf;
			s->cap_files = cap;
		}
		memset(&s->files[s->n_files], 0, sizeof *s->files);
		struct tf_file *f = &s->files[s->n_files];
		int n = snprintf(f->path, sizeof f->path, "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof f->path || !utf8_valid(f->path, (size_t)n)) {
			file_error(s, dir, "a file name is too long or not UTF-8");
			continue;
		}
		s->n_files++;
	}
	closedir(d);
	qsort(s->files + first, s->n_files - first, sizeof *s->files, by_path);
	return 0;
}

/* The directory, or each match of the pattern (glob sorts them).  0 when at
 * least one directory could be listed. */
static int list_entry(struct textfile_state *s, const char *entry)
{
	glob_t g;
	int rc;

	if (strpbrk(entry, "*?[") == NULL)
		return list_dir(s, entry);
	if (glob(entry, 0, NULL, &g) != 0) {
		globfree(&g);
		return list_dir(s, entry);
	}
	rc = -ENOENT;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		int r = list_dir(s, g.gl_pathv[i]);
		if (r == -ENOMEM) {
			rc = r;
			break;
		}
		if (r == 0)
			rc = 0;
	}
	globfree(&g);
	return rc;
}

/* Every entry of the option, in the order given.  0 when at least one directory
 * could be listed. */
static int list_files(struct textfile_state *s)
{
	char entry[PATH_MAX];
	int rc = -ENOENT;

	for (const char *p = s->dir; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len >= sizeof entry) {
			file_error(s, "directory", "an entry is longer than %d bytes",
				   PATH_MAX - 1);
		} else if (len > 0) {
			memcpy(entry, p, len);
			entry[len] = '\0';
			int r = list_entry(s, entry);
			if (r == -ENOMEM)
				return r;
			if (r == 0)
				rc = 0;
		}
		p += len + (nl != NULL);
	}
	return rc;
}

/* ---- merging families across files ---- */

static bool str_eq(const struct metrics_view *a, uint32_t aoff, uint32_t alen,
		   const struct metrics_view *b, uint32_t boff, uint32_t blen)
{
	return alen == blen && memcmp(view_string(a, aoff), view_string(b, boff), alen) == 0;
}

static bool same_name(const struct tf_family *m, const struct tf_file *f,
		      const struct blob_family *bf)
{
	return str_eq(&m->file->view, m->f.name_off, m->f.name_len, &f->view, bf->name_off,
		      bf->name_len);
}

static struct tf_family *find_family(struct textfile_state *s, const struct tf_file *f,
				     const struct blob_family *bf)
{
	for (size_t i = 0; i < s->n_fams; i++)
		if (same_name(&s->fams[i], f, bf))
			return &s->fams[i];
	return NULL;
}

static bool same_bounds(const struct tf_family *m, const struct tf_file *f,
			const struct blob_family *bf)
{
	if (m->f.n_bounds != bf->n_bounds)
		return false;
	for (uint32_t i = 0; i < bf->n_bounds; i++)
		if (view_bound(&m->file->view, m->f.first_bound + i) !=
		    view_bound(&f->view, bf->first_bound + i))
			return false;
	return true;
}

/* True when the families of m and bf would expose one name in either dialect
 * (metric_exposed_names). */
static bool names_meet(const struct tf_family *m, const struct tf_file *f,
		       const struct blob_family *bf)
{
	struct metric_exposed a, b;

	metric_exposed_names(view_string(&m->file->view, m->f.name_off), m->f.name_len, m->f.type,
			     &a);
	metric_exposed_names(view_string(&f->view, bf->name_off), bf->name_len, bf->type, &b);
	return metric_exposed_meet(&b, &a) != NULL;
}

/* NULL when bf agrees with what earlier files said, else what disagrees with
 * *other: a sentence that ends with the other family's file and line. */
static const char *disagreement(struct textfile_state *s, const struct tf_file *f,
				const struct blob_family *bf, const struct tf_family **other)
{
	for (size_t i = 0; i < s->n_fams; i++) {
		const struct tf_family *m = &s->fams[i];
		*other = m;
		if (!same_name(m, f, bf) && names_meet(m, f, bf))
			return "this family would expose a name (a counter's is with and without "
			       "_total, a histogram's with _bucket, _sum and _count, a summary's with "
			       "_sum and _count) that is also exposed by the family in";

		if (!same_name(m, f, bf))
			continue;
		if (m->f.type != bf->type)
			return "this family's type differs from that of the same family in";
		if (!str_eq(&m->file->view, m->f.help_off, m->f.help_len, &f->view, bf->help_off,
			    bf->help_len))
			return "this family's HELP differs from that of the same family in";
		if (!same_bounds(m, f, bf))
			return bf->type == METRIC_SUMMARY
				   ? "this family's quantiles differ from those of the same family in"
				   : "this family's buckets differ from those of the same family in";
	}
	return NULL;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static int add_families(struct textfile_state *s, const struct tf_file *f)
{
	for (uint32_t i = 0; i < f->view.hdr.n_families; i++) {
		struct blob_family bf;
		view_family(&f->view, i, &bf);
		if (find_family(s, f, &bf) != NULL)
			continue;
		if (s->n_fams == s->cap_fams) {
			size_t cap = s->cap_fams ? s->cap_fams * 2 : 64;
			struct tf_family *nf = realloc(s->fams, cap * sizeof *nf);
			if (nf == NULL)
				return -ENOMEM;
			s->fams = nf;
			s->cap_fams = cap;
		}
		s->fams[s->n_fams++] = (struct tf_family){ bf, f, i };
	}
	return 0;
}

/* Refuses a file whose families disagree with earlier files'. */
static int check_file(struct textfile_state *s, struct tf_file *f)
{
	for (uint32_t i = 0; i < f->view.hdr.n_families; i++) {
		struct blob_family bf;
		const struct tf_family *other = NULL;
		view_family(&f->view, i, &bf);
		const char *why = disagreement(s, f, &bf, &other);
		if (why != NULL) {
			file_error(s, f->path, "line %zu: %s %s (line %zu)", f->fam_line[i], why,
				   base_name(other->file->path),
				   other->file->fam_line[other->index]);
			f->refused = true;
			return -EINVAL;
		}
	}
	return add_families(s, f);
}

/* ---- emitting the merged batch ---- */

/* "Metric read from A, B" over the served files that have family m, cut to fit. */
static void default_help(const struct textfile_state *s, const struct tf_family *m, char *help)
{
	size_t n = (size_t)snprintf(help, METRIC_HELP_MAX + 1, "Metric read from");
	const char *sep = " ";

	for (size_t i = 0; i < s->n_files && n < METRIC_HELP_MAX; i++) {
		const struct tf_file *f = &s->files[i];
		for (uint32_t k = 0; !f->refused && f->blob && k < f->view.hdr.n_families; k++) {
			struct blob_family bf;
			view_family(&f->view, k, &bf);
			if (!same_name(m, f, &bf))
				continue;
			int w = snprintf(help + n, METRIC_HELP_MAX + 1 - n, "%s%s", sep, f->path);
			n = w < 0 ? n : n + (size_t)w;
			sep = ", ";
			break;
		}
	}
	if (n > METRIC_HELP_MAX)
		n = METRIC_HELP_MAX;
	while (n > 0 && !utf8_valid(help, n))
		n--;
	help[n] = '\0';
}

static void copy_str(char *dst, const struct metrics_view *v, uint32_t off, uint32_t len)
{
	memcpy(dst, view_string(v, off), len);
	dst[len] = '\0';
}

static int start_family(struct textfile_state *s, struct batch *out, const struct tf_family *m,
			char *why, size_t whylen)
{
	char name[METRIC_NAME_MAX + 1], help[METRIC_HELP_MAX + 1];
	double bounds[HISTOGRAM_BUCKETS_MAX];
	const struct metrics_view *v = &m->file->view;

	copy_str(name, v, m->f.name_off, m->f.name_len);
	if (m->f.help_len)
		copy_str(help, v, m->f.help_off, m->f.help_len);
	else
		default_help(s, m, help);
	if (m->f.type != METRIC_HISTOGRAM && m->f.type != METRIC_SUMMARY)
		return batch_family(out, name, help, m->f.type, why, whylen);
	for (uint32_t i = 0; i < m->f.n_bounds; i++)
		bounds[i] = view_bound(v, m->f.first_bound + i);
	if (m->f.type == METRIC_SUMMARY)
		return batch_summary_family(out, name, help, bounds, m->f.n_bounds, why, whylen);
	return batch_histogram_family(out, name, help, bounds, m->f.n_bounds, why, whylen);
}

static int add_summary_series(struct batch *out, const struct metrics_view *v,
			      const struct blob_series *ser, const struct blob_family *bf,
			      const char *const *names, const char *const *values, char *why,
			      size_t whylen)
{
	double q[HISTOGRAM_BUCKETS_MAX];
	uint32_t nq = bf->n_bounds;

	for (uint32_t i = 0; i < nq; i++)
		q[i] = view_value(v, ser->value_idx + i);
	return batch_add_summary(out, names, values, ser->n_labels, q,
				 view_value(v, ser->value_idx + nq),
				 view_value(v, ser->value_idx + nq + 1), why, whylen);
}

static int add_series(struct batch *out, const struct tf_file *f, const struct blob_series *ser,
		      const struct blob_family *bf, char *why, size_t whylen)
{
	const struct metrics_view *v = &f->view;
	char buf[LABEL_BUF + 2 * METRIC_LABELS_MAX], *w = buf;
	const char *names[METRIC_LABELS_MAX], *values[METRIC_LABELS_MAX];

	for (uint32_t i = 0; i < ser->n_labels && i < METRIC_LABELS_MAX; i++) {
		struct blob_label l;
		view_label(v, ser->first_label + i, &l);
		copy_str(w, v, l.name_off, l.name_len);
		names[i] = w;
		w += l.name_len + 1;
		copy_str(w, v, l.value_off, l.value_len);
		values[i] = w;
		w += l.value_len + 1;
	}
	if (bf->type == METRIC_SUMMARY)
		return add_summary_series(out, v, ser, bf, names, values, why, whylen);
	if (bf->type != METRIC_HISTOGRAM)
		return batch_add(out, names, values, ser->n_labels, view_value(v, ser->value_idx),
				 why, whylen);
	uint64_t counts[HISTOGRAM_BUCKETS_MAX + 1];
	for (uint32_t i = 0; i <= bf->n_bounds; i++)
		counts[i] = (uint64_t)view_value(v, ser->value_idx + i) -
			    (i ? (uint64_t)view_value(v, ser->value_idx + i - 1) : 0);
	return batch_add_histogram(out, names, values, ser->n_labels, counts,
				   view_value(v, ser->value_idx + bf->n_bounds + 1), why, whylen);
}

/* The family a failure to merge is blamed on: its file is refused. */
struct tf_blame {
	struct tf_file *file;
	uint32_t family; /* its index in the file */
};

/* Adds file f's series of family m; a failure names the family through *bad. */
static int add_file_series(struct batch *out, struct tf_file *f, const struct tf_family *m,
			   struct tf_blame *bad, char *why, size_t whylen)
{
	for (uint32_t k = 0; k < f->view.hdr.n_families; k++) {
		struct blob_family bf;
		view_family(&f->view, k, &bf);
		if (!same_name(m, f, &bf))
			continue;
		for (uint32_t i = 0; i < bf.n_series; i++) {
			struct blob_series ser;
			view_series(&f->view, bf.first_series + i, &ser);
			int rc = add_series(out, f, &ser, &bf, why, whylen);
			if (rc < 0) {
				*bad = (struct tf_blame){ f, k };
				return rc;
			}
		}
	}
	return 0;
}

static int emit_merged(struct textfile_state *s, struct batch *out, struct tf_blame *bad, char *why,
		       size_t whylen)
{
	for (size_t i = 0; i < s->n_fams; i++) {
		const struct tf_family *m = &s->fams[i];
		int rc = start_family(s, out, m, why, whylen);
		if (rc < 0) {
			*bad = (struct tf_blame){ (struct tf_file *)m->file, m->index };
			return rc;
		}
		for (size_t k = 0; k < s->n_files; k++) {
			struct tf_file *f = &s->files[k];
			if (f->blob == NULL || f->refused)
				continue;
			rc = add_file_series(out, f, m, bad, why, whylen);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* Re-checks the served files from scratch (after one was refused). */
static int merge_files(struct textfile_state *s)
{
	s->n_fams = 0;
	for (size_t i = 0; i < s->n_files; i++) {
		struct tf_file *f = &s->files[i];
		if (f->blob == NULL || f->refused)
			continue;
		int rc = check_file(s, f);
		if (rc == -ENOMEM)
			return rc;
	}
	return 0;
}

/* Emits the merged families; a file whose series clash or overflow is refused
 * and the merge starts again without it, so what is served is all-or-nothing per file. */
static int emit_files(struct textfile_state *s, struct batch *out)
{
	char why[600];

	for (size_t attempt = 0; attempt <= s->n_files; attempt++) {
		struct tf_blame bad = { NULL, 0 };
		int rc = merge_files(s);
		if (rc < 0)
			return rc;
		batch_reset(out);
		rc = emit_merged(s, out, &bad, why, sizeof why);
		if (rc == 0)
			return 0;
		if (bad.file == NULL)
			return rc;
		size_t line = bad.file->fam_line[bad.family];
		if (rc == -EEXIST)
			file_error(s, bad.file->path,
				   "line %zu: a series of this family is also in an earlier file; "
				   "a series may be in one file only",
				   line);
		else
			file_error(s, bad.file->path, "line %zu: this family: %s", line, why);
		bad.file->refused = true;
	}
	batch_reset(out);
	return 0;
}

/* ---- own metrics ---- */

static int emit_own(struct textfile_state *s, struct batch *out, char *why, size_t whylen)
{
	static const char *const label[] = { "file" };
	int rc = 0;
	bool any = false;

	for (size_t i = 0; rc == 0 && i < s->n_files; i++) {
		const struct tf_file *f = &s->files[i];
		const char *value[] = { f->path };
		if (f->blob == NULL || f->refused)
			continue;
		if (!any)
			rc = batch_family(out, "node_textfile_mtime_seconds",
					  "Unixtime mtime of textfiles successfully read.",
					  METRIC_GAUGE, why, whylen);
		any = true;
		if (rc == 0)
			rc = batch_add(out, label, value, 1, f->mtime, why, whylen);
	}
	if (rc == 0)
		rc = batch_family(out, "node_textfile_scrape_error",
				  "1 if there was an error opening or reading a file, 0 otherwise",
				  METRIC_GAUGE, why, whylen);
	if (rc == 0)
		rc = batch_add(out, NULL, NULL, 0, s->errors ? 1 : 0, why, whylen);
	return rc;
}

static void release_files(struct textfile_state *s)
{
	for (size_t i = 0; i < s->n_files; i++) {
		free(s->files[i].blob);
		free(s->files[i].fam_line);
	}
	free(s->files);
	free(s->fams);
	s->files = NULL;
	s->fams = NULL;
	s->n_files = s->cap_files = s->n_fams = s->cap_fams = 0;
}

static int textfile_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct textfile_state *s = state;
	char why[600] = "";
	int rc = 0;

	s->err = err;
	s->errlen = errlen;
	s->errors = 0;
	err[0] = '\0';
	if (s->dir[0] != '\0' && list_files(s) == 0) {
		for (size_t i = 0; i < s->n_files; i++)
			parse_file(s, &s->files[i]);
		rc = emit_files(s, b);
	}
	if (rc == 0)
		rc = emit_own(s, b, why, sizeof why);
	if (rc < 0 && rc != -ENOMEM)
		file_error(s, "textfile", "%s", why);
	release_files(s);
	/* As node_exporter: refused files are reported through
	 * node_textfile_scrape_error and the message, not as a failed collection. */
	return rc;
}

const struct collector_ops collector_textfile_ops = {
	.init = textfile_init,
	.collect = textfile_collect,
	.fini = textfile_fini,
};
