/*
 * os - node_os_info, node_os_version and node_os_support_end_timestamp_seconds
 * (SUPPORT_END=YYYY-MM-DD, midnight UTC of that day) from ROOTFS/etc/os-release,
 * or ROOTFS/usr/lib/os-release when the first does not exist (os-release(5)).
 *
 * The file is parsed only when it changed: each cycle costs one stat() of the
 * path, compared with the device, inode, size and modification time of the copy
 * parsed last.  Lines are KEY=value with shell-like quoting, read the way
 * node_exporter's parser (hashicorp/go-envparse) reads them: blanks around key
 * and value are dropped, "export " is allowed before the key, 'single' quotes are
 * literal, "double" quotes know \" \\ \n \t (and \$ \` from os-release(5)), and
 * an unquoted # starts a comment.  A line that does not parse is skipped (where
 * node_exporter fails the whole collector); the last of repeated keys wins.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"
#include "emit.h"
#include "procfile.h"
#include "scan.h"

/* The keys of node_os_info, in the (sorted) order of its labels. */
enum os_key {
	K_BUILD_ID,
	K_ID,
	K_ID_LIKE,
	K_IMAGE_ID,
	K_IMAGE_VERSION,
	K_NAME,
	K_PRETTY_NAME,
	K_VARIANT,
	K_VARIANT_ID,
	K_VERSION,
	K_VERSION_CODENAME,
	K_VERSION_ID,
	K_SUPPORT_END, /* not a label of node_os_info: the keys before it are */
	N_KEYS
};
#define N_INFO_KEYS K_SUPPORT_END

static const char *const keys[N_KEYS] = {
	"BUILD_ID",    "ID",      "ID_LIKE",    "IMAGE_ID", "IMAGE_VERSION",    "NAME",
	"PRETTY_NAME", "VARIANT", "VARIANT_ID", "VERSION",  "VERSION_CODENAME", "VERSION_ID",
	"SUPPORT_END",
};

static const char *const labels[N_INFO_KEYS] = {
	"build_id",    "id",      "id_like",    "image_id", "image_version",    "name",
	"pretty_name", "variant", "variant_id", "version",  "version_codename", "version_id",
};

#define N_PATHS 2
static const char *const rel_paths[N_PATHS] = { "etc/os-release", "usr/lib/os-release" };

struct os_state {
	struct procfile files[N_PATHS];
	int cached;     /* index of the file parsed last, -1 for none */
	struct stat id; /* its identity when it was read */
	char *arena;    /* the values, NUL-terminated, one after the other */
	size_t arena_cap;
	size_t off[N_KEYS]; /* where each value starts in arena */
	bool set[N_KEYS];
	double version; /* 0: no major.minor in VERSION_ID */
	bool has_support_end;
	double support_end; /* seconds since the epoch */
};

static void os_fini(void *state)
{
	struct os_state *s = state;
	if (!s)
		return;
	for (int i = 0; i < N_PATHS; i++)
		procfile_close(&s->files[i]);
	free(s->arena);
	free(s);
}

static int os_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct os_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	for (int i = 0; i < N_PATHS; i++) {
		int rc = procfile_init(&s->files[i], env->rootfs, rel_paths[i], err, errlen);
		if (rc) {
			os_fini(s);
			return rc;
		}
	}
	s->cached = -1;
	*state = s;
	return 0;
}

/* ---- parsing ---- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static struct scan trim(struct scan t)
{
	while (t.p < t.end && is_space(*t.p))
		t.p++;
	while (t.end > t.p && is_space(t.end[-1]))
		t.end--;
	return t;
}

static int escaped(char c)
{
	switch (c) {
	case '"':
	case '\\':
	case '$':
	case '`':
		return c;
	case 'n':
		return '\n';
	case 't':
		return '\t';
	default:
		return -1;
	}
}

/*
 * Unquotes the value v into out (room for its length + 1) and terminates it.
 * Returns the length, or -1 for an unterminated quote, an unknown escape or a
 * control character.  sig tracks the end of the last significant character so
 * that blanks before an unquoted comment are dropped.
 */
static long unquote(struct scan v, char *out)
{
	enum { NORMAL, DOUBLE, SINGLE, ESCAPE } mode = NORMAL;
	size_t n = 0, sig = 0;
	bool comment = false;

	for (const char *p = v.p; p < v.end && !comment; p++) {
		char c = *p;
		if ((unsigned char)c < 32 && c != '\t')
			return -1;
		if (mode == NORMAL && c == '#') {
			comment = true;
			continue;
		}
		if (mode == NORMAL && (c == '"' || c == '\'')) {
			mode = c == '"' ? DOUBLE : SINGLE;
			continue;
		}
		if ((mode == DOUBLE && c == '"') || (mode == SINGLE && c == '\'')) {
			mode = NORMAL;
			continue;
		}
		if (mode == DOUBLE && c == '\\') {
			mode = ESCAPE;
			continue;
		}
		if (mode == ESCAPE) {
			int e = escaped(c);
			if (e < 0)
				return -1;
			c = (char)e;
			mode = DOUBLE;
		}
		out[n++] = c;
		if (mode != NORMAL || !is_space(c))
			sig = n;
	}
	if (mode != NORMAL)
		return -1;
	if (comment)
		n = sig;
	out[n] = '\0';
	return (long)n;
}

static int key_index(struct scan k)
{
	static const char export_prefix[] = "export ";
	size_t plen = sizeof export_prefix - 1;

	if ((size_t)(k.end - k.p) > plen && memcmp(k.p, export_prefix, plen) == 0)
		k = trim((struct scan){ k.p + plen, k.end });
	for (int i = 0; i < N_KEYS; i++)
		if (word_is(k.p, (size_t)(k.end - k.p), keys[i]))
			return i;
	return -1;
}

/* One line into the arena at *used; a line that is not KEY=value, a key we do
 * not report, or a value that does not unquote to UTF-8 is skipped. */
static void os_parse_line(struct os_state *s, struct scan line, size_t *used)
{
	line = trim(line);
	if (line.p == line.end || *line.p == '#')
		return;
	const char *eq = memchr(line.p, '=', (size_t)(line.end - line.p));
	if (!eq)
		return;
	int k = key_index(trim((struct scan){ line.p, eq }));
	if (k < 0)
		return;
	long n = unquote(trim((struct scan){ eq + 1, line.end }), s->arena + *used);
	if (n < 0 || n > LABEL_VALUE_MAX || !utf8_valid(s->arena + *used, (size_t)n))
		return;
	s->off[k] = *used;
	s->set[k] = true;
	*used += (size_t)n + 1;
}

/* major.minor of VERSION_ID as node_exporter's ^[0-9]+\.?[0-9]* reads it. */
static double os_version(const char *id)
{
	size_t n = strspn(id, "0123456789");
	double v;

	if (n == 0)
		return 0;
	if (id[n] == '.')
		n += 1 + strspn(id + n + 1, "0123456789");
	return parse_double(id, n, &v) ? v : 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

/* "2028-03-15" (exactly, as Go's time.Parse("2006-01-02") takes it) into the
 * time of its midnight UTC; false for anything else. */
static bool os_date(const char *t, double *out)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	uint64_t y, m, d;

	if (strlen(t) != 10 || t[4] != '-' || t[7] != '-' || !parse_u64(t, 4, &y) ||
	    !parse_u64(t + 5, 2, &m) || !parse_u64(t + 8, 2, &d) || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m == 2 && d == 29 && !leap)
		return false;
	*out = (double)days_from_civil((long long)y, (unsigned)m, (unsigned)d) * 86400.0;
	return true;
}

static int os_parse(struct os_state *s, const struct procfile *f, char *err, size_t errlen)
{
	/* Unquoting only shrinks a value, so the file's size bounds the arena. */
	if (s->arena_cap < f->len + 1) {
		char *a = realloc(s->arena, f->len + 1);
		if (!a) {
			snprintf(err, errlen, "out of memory for %zu bytes of %s", f->len, f->path);
			return -ENOMEM;
		}
		s->arena = a;
		s->arena_cap = f->len + 1;
	}
	size_t used = 0;
	memset(s->set, 0, sizeof s->set);
	struct scan text = scan_text(f->buf, f->len), line;
	while (scan_line(&text, &line))
		os_parse_line(s, line, &used);
	s->version = s->set[K_VERSION_ID] ? os_version(s->arena + s->off[K_VERSION_ID]) : 0;
	s->has_support_end = s->set[K_SUPPORT_END] &&
			     os_date(s->arena + s->off[K_SUPPORT_END], &s->support_end);
	return 0;
}

/* ---- the file ---- */

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Reads and parses file i, whose stat() gave st.  The descriptor is not kept: a
 * package upgrade replaces the file rather than rewriting it. */
static int os_load(struct os_state *s, int i, const struct stat *st, char *err, size_t errlen)
{
	struct procfile *f = &s->files[i];
	s->cached = -1;
	int rc = procfile_read(f, err, errlen);
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	if (rc == 0)
		rc = os_parse(s, f, err, errlen);
	if (rc == 0) {
		s->cached = i;
		s->id = *st;
	}
	return rc;
}

/* The first os-release file that exists, parsed; 1 when there is none. */
static int os_refresh(struct os_state *s, char *err, size_t errlen)
{
	for (int i = 0; i < N_PATHS; i++) {
		struct stat st;
		if (stat(s->files[i].path, &st) != 0) {
			int e = errno;
			if (e == ENOENT || e == ENOTDIR)
				continue;
			snprintf(err, errlen, "stat(\"%s\") failed: %s", s->files[i].path,
				 strerror(e));
			return -e;
		}
		if (s->cached == i && same_file(&st, &s->id))
			return 0;
		int rc = os_load(s, i, &st, err, errlen);
		return rc == -ENOENT ? 1 : rc;
	}
	s->cached = -1;
	return 1;
}

static const char *os_value(const struct os_state *s, int k)
{
	return s->set[k] ? s->arena + s->off[k] : "";
}

static int os_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const version_labels[] = { "id", "id_like", "name" };
	struct os_state *s = state;
	const char *values[N_INFO_KEYS];

	int rc = os_refresh(s, err, errlen);
	if (rc)
		return rc > 0 ? 0 : rc;
	for (int k = 0; k < N_INFO_KEYS; k++)
		values[k] = os_value(s, k);
	rc = batch_family(b, "node_os_info",
			  "A metric with a constant '1' value labeled by build_id, id, id_like, "
			  "image_id, image_version, name, pretty_name, variant, variant_id, "
			  "version, version_codename, version_id.",
			  METRIC_GAUGE, err, errlen);
	if (rc == 0)
		rc = batch_add(b, labels, values, N_INFO_KEYS, 1.0, err, errlen);
	if (rc == 0 && s->has_support_end)
		rc = emit_single(b, "node_os_support_end_timestamp_seconds",
				 "Metric containing the end-of-life date timestamp of the OS.",
				 METRIC_GAUGE, s->support_end, err, errlen);
	if (rc || s->version <= 0)
		return rc;
	const char *vvalues[] = { values[K_ID], values[K_ID_LIKE], values[K_NAME] };
	rc = batch_family(b, "node_os_version",
			  "Metric containing the major.minor part of the OS version.", METRIC_GAUGE,
			  err, errlen);
	if (rc == 0)
		rc = batch_add(b, version_labels, vvalues, 3, s->version, err, errlen);
	return rc;
}

const struct collector_ops collector_os_ops = {
	.init = os_init,
	.collect = os_collect,
	.fini = os_fini,
};
