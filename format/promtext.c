/* The strict Prometheus text parser (see promtext.h). */
#include "promtext.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SAMPLE_LABELS (METRIC_LABELS_MAX + 1) /* + "le" or "quantile" */
#define VALUE_TOKEN_MAX   64
#define MAX_EXACT_COUNT   9007199254740992.0 /* 2^53: counts above lose precision */

/* ---- sets of names: the family names used so far, to keep families
 * contiguous, and the names the families with samples expose ---- */

struct name_entry {
	uint32_t off, len;
	size_t line;
};

struct name_set {
	struct name_entry *slots; /* len 0: empty */
	size_t cap, n;
	char *arena;
	size_t arena_len, arena_cap;
};

static uint32_t name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static struct name_entry *set_slot(const struct name_set *set, const char *s, size_t len)
{
	size_t i = name_hash(s, len) & (set->cap - 1);
	for (;; i = (i + 1) & (set->cap - 1)) {
		struct name_entry *e = &set->slots[i];
		if (e->len == 0 || (e->len == len && memcmp(set->arena + e->off, s, len) == 0))
			return e;
	}
}

static const struct name_entry *set_find(const struct name_set *set, const char *s, size_t len)
{
	if (set->cap == 0)
		return NULL;
	const struct name_entry *e = set_slot(set, s, len);
	return e->len ? e : NULL;
}

static int set_grow(struct name_set *set)
{
	size_t cap = set->cap ? set->cap * 2 : 64;
	struct name_entry *old = set->slots;
	size_t old_cap = set->cap;

	set->slots = calloc(cap, sizeof *set->slots);
	if (set->slots == NULL) {
		set->slots = old;
		return -ENOMEM;
	}
	set->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].len)
			*set_slot(set, set->arena + old[i].off, old[i].len) = old[i];
	free(old);
	return 0;
}

static int set_add(struct name_set *set, const char *s, size_t len, size_t line)
{
	if ((set->n + 1) * 2 > set->cap && set_grow(set) < 0)
		return -ENOMEM;
	if (set->arena_len + len > set->arena_cap) {
		size_t cap = (set->arena_cap + len) * 2;
		char *a = realloc(set->arena, cap);
		if (a == NULL)
			return -ENOMEM;
		set->arena = a;
		set->arena_cap = cap;
	}
	memcpy(set->arena + set->arena_len, s, len);
	*set_slot(set, s, len) = (struct name_entry){ (uint32_t)set->arena_len, (uint32_t)len,
						      line };
	set->arena_len += len;
	set->n++;
	return 0;
}

static void set_free(struct name_set *set)
{
	free(set->slots);
	free(set->arena);
}

/* ---- parser state ---- */

struct family {
	bool active;
	char name[METRIC_NAME_MAX + 1];
	size_t name_len;
	size_t line; /* where it starts: errors name a family by this line, never by its name */
	char help[METRIC_HELP_MAX + 1];
	bool have_help, have_type;
	enum metric_type type;
	size_t samples;
	bool in_batch;
	double bounds[HISTOGRAM_BUCKETS_MAX]; /* or a summary's quantiles */
	uint32_t n_bounds;
};

/* The histogram or summary series being read: its lines must be consecutive.
 * For a summary, le[] holds the quantiles and count[] their values. */
struct hseries {
	bool active;
	size_t line;
	char key[MAX_SAMPLE_LABELS * (LABEL_NAME_MAX + LABEL_VALUE_MAX + 2)];
	size_t key_len;
	const char *names[METRIC_LABELS_MAX];
	const char *values[METRIC_LABELS_MAX];
	size_t n_labels;
	double le[HISTOGRAM_BUCKETS_MAX + 1];
	double count[HISTOGRAM_BUCKETS_MAX + 1];
	size_t n_buckets;
	bool have_sum, have_count;
	double sum, total;
};

/* One sample line, split up; names[] and values[] point into the scratch
 * buffer, the *_at pointers into the line (for the columns of errors). */
struct sample {
	const char *name;
	size_t name_len;
	const char *names[MAX_SAMPLE_LABELS];
	const char *values[MAX_SAMPLE_LABELS];
	const char *label_at[MAX_SAMPLE_LABELS];
	size_t n_labels;
	double value;
	const char *value_at;
};

struct parser {
	struct batch *b;
	size_t line_no;
	const char *line; /* the current line: columns count from here */
	char *err;
	size_t errlen;
	struct family fam;
	struct hseries hs;
	struct name_set seen;    /* family names */
	struct name_set exposed; /* see metric_exposed_names; line: the owner's first */
	char *scratch;           /* unescaped strings of the current line */
	size_t *family_line; /* promtext_parse_lines: the line of each family in b */
	size_t family_line_cap, n_families;
};

/*
 * Errors.  The input may be a secret that failed to parse (a file put where it
 * does not belong), so no byte of it may reach err.  A message is therefore a
 * string literal (the "" in MSG refuses anything else) whose only conversions
 * are %zu, filled from up to three numbers the parser counted: lines, columns,
 * positions, limits.  The numbers initialise an array of size_t, so a pointer
 * (a string) does not compile, nor a double (a value read from the input: the
 * pragma below), nor a char (NUM).
 *
 *   fail(p, rc, "msg %zu", n)         "line N: msg"             (a line, a series, a family)
 *   fail_at(p, at, rc, "msg %zu", n)  "line N, column C: msg"   (at points into the line)
 *
 * A family is named by the line where it starts ("the histogram family that
 * starts at line %zu"), never by its name.  The one way around the rule is
 * fail_lib(): the reasons of lib/ (names.c, metrics.c), which never quote what
 * they were given either (metrics.h).
 */
#pragma GCC diagnostic error "-Wfloat-conversion"
struct not_a_byte_of_the_input {
	int unused;
};
/* clang-format off */
#define NUM(x) _Generic((x),                                         \
	char: (struct not_a_byte_of_the_input){ 0 },                  \
	signed char: (struct not_a_byte_of_the_input){ 0 },           \
	unsigned char: (struct not_a_byte_of_the_input){ 0 },         \
	default: (x))
/* clang-format on */
#define PICK4(_0, _1, _2, _3, n, ...) n
#define COUNT(...)                    PICK4(__VA_ARGS__, 3, 2, 1, 0, ~)
#define NUMBERS_0(m)                  (const size_t[]){ 0 }, 0
#define NUMBERS_1(m, a)               (const size_t[]){ 0, NUM(a) }, 1
#define NUMBERS_2(m, a, b)            (const size_t[]){ 0, NUM(a), NUM(b) }, 2
#define NUMBERS_3(m, a, b, c)         (const size_t[]){ 0, NUM(a), NUM(b), NUM(c) }, 3
#define NUMBERS_(n)                   NUMBERS_##n
#define NUMBERS(n)                    NUMBERS_(n)
#define MSG_(m, ...)                  "" m
#define MSG(...)                      MSG_(__VA_ARGS__, ~)
#define MSG_AND_NUMBERS(...)          MSG(__VA_ARGS__), NUMBERS(COUNT(__VA_ARGS__))(__VA_ARGS__)
#define fail(p, rc, ...)              fail_numbers((p), NULL, (rc), MSG_AND_NUMBERS(__VA_ARGS__))
#define fail_at(p, at, rc, ...)       fail_numbers((p), (at), (rc), MSG_AND_NUMBERS(__VA_ARGS__))

static void where(const struct parser *p, const char *at, char *out, size_t outlen)
{
	if (at != NULL && p->line != NULL)
		snprintf(out, outlen, "line %zu, column %zu: ", p->line_no,
			 (size_t)(at - p->line) + 1);
	else
		snprintf(out, outlen, "line %zu: ", p->line_no);
}

/* num[1..n]: the numbers for the %zu of msg, in order (num[0] is padding).  A
 * %zu without its number shows as "?", which the tests look for. */
static int fail_numbers(struct parser *p, const char *at, int rc, const char *msg,
			const size_t *num, size_t n)
{
	char text[512];
	size_t w, k = 1;

	where(p, at, text, sizeof text);
	w = strlen(text);
	for (; *msg != '\0' && w + 24 < sizeof text; msg++) {
		if (strncmp(msg, "%zu", 3) != 0) {
			text[w++] = *msg;
			continue;
		}
		if (k <= n)
			w += (size_t)snprintf(text + w, sizeof text - w, "%zu", num[k++]);
		else
			text[w++] = '?';
		msg += 2;
	}
	text[w] = '\0';
	snprintf(p->err, p->errlen, "%s", text);
	return rc;
}

/* A reason from lib/, whose messages hold no input (see above). */
static int fail_lib(struct parser *p, const char *at, int rc, const char *why)
{
	char prefix[64];

	where(p, at, prefix, sizeof prefix);
	snprintf(p->err, p->errlen, "%s%s", prefix, why);
	return rc;
}

/* ---- tokens ---- */

struct cursor {
	const char *p, *end;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void skip_blanks(struct cursor *c)
{
	while (c->p < c->end && is_blank(*c->p))
		c->p++;
}

static bool at_end(const struct cursor *c)
{
	return c->p >= c->end;
}

static bool name_char(char c, bool first, bool colon_ok)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (colon_ok && c == ':') || (!first && c >= '0' && c <= '9');
}

/* A metric (colon_ok) or label name token; its rules are checked by the caller. */
static size_t take_name(struct cursor *c, bool colon_ok)
{
	const char *start = c->p;
	while (c->p < c->end && name_char(*c->p, c->p == start, colon_ok))
		c->p++;
	return (size_t)(c->p - start);
}

static size_t take_word(struct cursor *c)
{
	const char *start = c->p;
	while (c->p < c->end && !is_blank(*c->p))
		c->p++;
	return (size_t)(c->p - start);
}

static bool word_eq(const char *w, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

static bool word_eq_nocase(const char *w, size_t n, const char *lit)
{
	if (strlen(lit) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = w[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lit[i])
			return false;
	}
	return true;
}

static size_t digits(const char *s, size_t i, size_t n)
{
	size_t start = i;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i - start;
}

/* [+-]? (d+ (. d*)? | . d+) ([eE] [+-]? d+)? */
static bool decimal_shape(const char *s, size_t n)
{
	size_t i = (n > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
	size_t int_digits = digits(s, i, n), frac_digits = 0;

	i += int_digits;
	if (i < n && s[i] == '.') {
		frac_digits = digits(s, i + 1, n);
		i += 1 + frac_digits;
	}
	if (int_digits + frac_digits == 0)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t exp_digits = digits(s, i, n);
		if (exp_digits == 0)
			return false;
		i += exp_digits;
	}
	return i == n;
}

/* Go's ParseFloat without hex and underscores: what node_exporter reads. */
static bool parse_value(const char *s, size_t n, double *out)
{
	const char *w = s;
	size_t wn = n;
	double sign = 1;

	if (wn > 0 && (w[0] == '+' || w[0] == '-')) {
		sign = w[0] == '-' ? -1 : 1;
		w++;
		wn--;
	}
	if (word_eq_nocase(w, wn, "inf") || word_eq_nocase(w, wn, "infinity")) {
		*out = sign * INFINITY;
		return true;
	}
	if (word_eq_nocase(w, wn, "nan")) {
		*out = NAN;
		return true;
	}
	if (n >= VALUE_TOKEN_MAX || !decimal_shape(s, n))
		return false;
	char buf[VALUE_TOKEN_MAX];
	memcpy(buf, s, n);
	buf[n] = '\0';
	*out = strtod(buf, NULL);
	return !isinf(*out);
}

/* ---- histogram series ---- */

/* The current family was just started in the batch: note its line. */
static int family_added(struct parser *p)
{
	p->fam.in_batch = true;
	if (p->family_line != NULL && p->n_families < p->family_line_cap)
		p->family_line[p->n_families] = p->fam.line;
	p->n_families++;
	return 0;
}

static bool bounds_equal(const struct family *f, const double *le, uint32_t n)
{
	if (f->n_bounds != n)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (f->bounds[i] != le[i])
			return false;
	return true;
}

static void sort_buckets(struct hseries *h)
{
	for (size_t i = 1; i < h->n_buckets; i++) {
		double le = h->le[i], c = h->count[i];
		size_t k = i;
		for (; k > 0 && h->le[k - 1] > le; k--) {
			h->le[k] = h->le[k - 1];
			h->count[k] = h->count[k - 1];
		}
		h->le[k] = le;
		h->count[k] = c;
	}
}

/* Runs with p->line_no at the series' first line: "line N: this series ...". */
static int check_hseries(struct parser *p, struct hseries *h)
{
	size_t fam = p->fam.line;

	if (!h->have_count)
		return fail(p, -EINVAL,
			    "this series of the histogram family that starts at line %zu has no "
			    "_count line",
			    fam);
	if (!h->have_sum)
		return fail(p, -EINVAL,
			    "this series of the histogram family that starts at line %zu has no "
			    "_sum line",
			    fam);
	sort_buckets(h);
	if (h->n_buckets == 0 || !isinf(h->le[h->n_buckets - 1]))
		return fail(p, -EINVAL,
			    "this series of the histogram family that starts at line %zu has no "
			    "bucket with le=\"+Inf\"",
			    fam);
	if (h->count[h->n_buckets - 1] != h->total)
		return fail(p, -EINVAL,
			    "in this series of the histogram family that starts at line %zu, the "
			    "le=\"+Inf\" bucket differs from _count; they must be equal",
			    fam);
	for (size_t i = 1; i < h->n_buckets; i++)
		if (h->count[i] < h->count[i - 1])
			return fail(p, -EINVAL,
				    "in this series of the histogram family that starts at line "
				    "%zu, bucket %zu (in le order) holds less than bucket %zu; "
				    "bucket counts are cumulative and never decrease",
				    fam, i + 1, i);
	return 0;
}

/* Starts the family at its first series; later series must have its bounds. */
static int start_bounded(struct parser *p, const double *bounds, uint32_t n)
{
	char why[400];
	bool summary = p->fam.type == METRIC_SUMMARY;

	if (p->fam.in_batch) {
		if (bounds_equal(&p->fam, bounds, n))
			return 0;
		if (summary)
			return fail(
			    p, -EINVAL,
			    "this series has other quantiles than the first series of the "
			    "summary family that starts at line %zu; every series must have "
			    "the same quantiles",
			    p->fam.line);
		return fail(p, -EINVAL,
			    "this series has other buckets than the first series of the "
			    "histogram family that starts at line %zu; every series must have the "
			    "same buckets",
			    p->fam.line);
	}
	if (n > 0)
		memcpy(p->fam.bounds, bounds, n * sizeof *bounds);
	p->fam.n_bounds = n;
	int rc = summary ? batch_summary_family(p->b, p->fam.name, p->fam.help, bounds, n, why,
						sizeof why)
			 : batch_histogram_family(p->b, p->fam.name, p->fam.help, bounds, n, why,
						  sizeof why);
	if (rc < 0)
		return fail_lib(p, NULL, rc, why);
	return family_added(p);
}

static int series_twice(struct parser *p)
{
	if (p->fam.type == METRIC_SUMMARY)
		return fail(
		    p, -EINVAL,
		    "this series (the same labels) appears twice in the summary family that "
		    "starts at line %zu; the lines of one series must be together",
		    p->fam.line);
	return fail(p, -EINVAL,
		    "this series (the same labels) appears twice in the histogram family that "
		    "starts at line %zu; the lines of one series must be together",
		    p->fam.line);
}

static int add_hseries(struct parser *p, struct hseries *h)
{
	uint64_t counts[HISTOGRAM_BUCKETS_MAX + 1];
	char why[400];
	int rc = check_hseries(p, h);

	if (rc == 0)
		rc = start_bounded(p, h->le, (uint32_t)h->n_buckets - 1);
	for (size_t i = 0; rc == 0 && i < h->n_buckets; i++)
		counts[i] = (uint64_t)h->count[i] - (i ? (uint64_t)h->count[i - 1] : 0);
	if (rc == 0) {
		rc = batch_add_histogram(p->b, h->names, h->values, h->n_labels, counts, h->sum,
					 why, sizeof why);
		if (rc == -EEXIST)
			rc = series_twice(p);
		else if (rc < 0)
			rc = fail_lib(p, NULL, rc, why);
	}
	return rc;
}

static int check_sseries(struct parser *p, struct hseries *h)
{
	size_t fam = p->fam.line;

	if (!h->have_count)
		return fail(p, -EINVAL,
			    "this series of the summary family that starts at line %zu has no "
			    "_count line",
			    fam);
	if (!h->have_sum)
		return fail(p, -EINVAL,
			    "this series of the summary family that starts at line %zu has no "
			    "_sum line",
			    fam);
	if (!(h->total >= 0))
		return fail(p, -EINVAL,
			    "this series of the summary family that starts at line %zu has a "
			    "negative or NaN _count; a count is 0 or more",
			    fam);
	sort_buckets(h);
	return 0;
}

static int add_sseries(struct parser *p, struct hseries *h)
{
	char why[400];
	int rc = check_sseries(p, h);

	if (rc == 0)
		rc = start_bounded(p, h->le, (uint32_t)h->n_buckets);
	if (rc < 0)
		return rc;
	rc = batch_add_summary(p->b, h->names, h->values, h->n_labels, h->count, h->sum, h->total,
			       why, sizeof why);
	if (rc == -EEXIST)
		return series_twice(p);
	return rc < 0 ? fail_lib(p, NULL, rc, why) : 0;
}

/* Checks and adds the histogram or summary series read so far, if any; errors
 * name the series' first line. */
static int finish_hseries(struct parser *p)
{
	struct hseries *h = &p->hs;

	if (!h->active)
		return 0;
	h->active = false;
	size_t saved_line = p->line_no;
	const char *saved = p->line;
	p->line_no = h->line;
	p->line = NULL; /* no columns: the series' line is gone */
	int rc = p->fam.type == METRIC_SUMMARY ? add_sseries(p, h) : add_hseries(p, h);
	p->line_no = saved_line;
	p->line = saved;
	return rc;
}

/* Serializes the labels but the reserved one as "name\0value\0...". */
static size_t series_key(const struct sample *s, const char *reserved, char *key, size_t keycap)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_labels; i++) {
		if (strcmp(s->names[i], reserved) == 0)
			continue;
		size_t a = strlen(s->names[i]) + 1, b = strlen(s->values[i]) + 1;
		if (n + a + b > keycap)
			return SIZE_MAX;
		memcpy(key + n, s->names[i], a);
		memcpy(key + n + a, s->values[i], b);
		n += a + b;
	}
	return n;
}

static int begin_hseries(struct parser *p, const char *key, size_t len)
{
	struct hseries *h = &p->hs;

	h->active = true;
	h->n_labels = 0;
	h->line = p->line_no;
	memcpy(h->key, key, len);
	h->key_len = len;
	for (const char *k = h->key; k < h->key + len; k += strlen(k) + 1) {
		if (h->n_labels == METRIC_LABELS_MAX)
			return fail(p, -EINVAL, "a series has more than %zu labels",
				    METRIC_LABELS_MAX);
		h->names[h->n_labels] = k;
		k += strlen(k) + 1;
		h->values[h->n_labels++] = k;
	}
	h->have_sum = h->have_count = false;
	h->n_buckets = 0;
	return 0;
}

/* The index of the sample's label called name, or -1. */
static int label_index(const struct sample *s, const char *name)
{
	for (size_t i = 0; i < s->n_labels; i++)
		if (strcmp(s->names[i], name) == 0)
			return (int)i;
	return -1;
}

/* The sample's "le" label, parsed; *at gets its column. */
static int bucket_bound(struct parser *p, const struct sample *s, double *le, const char **at)
{
	int i = label_index(s, "le");

	if (i < 0)
		return fail_at(p, s->name, -EINVAL,
			       "a _bucket line needs an le label (the bucket's upper bound)");
	*at = s->label_at[i];
	if (!parse_value(s->values[i], strlen(s->values[i]), le) || isnan(*le))
		return fail_at(p, *at, -EINVAL,
			       "le must be a number or +Inf (the bucket's upper bound)");
	return 0;
}

static int add_bucket(struct parser *p, const struct sample *s)
{
	struct hseries *h = &p->hs;
	const char *le_at = NULL;
	double le;
	int rc = bucket_bound(p, s, &le, &le_at);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < h->n_buckets; i++)
		if (h->le[i] == le)
			return fail_at(p, le_at, -EINVAL,
				       "this series already has a bucket with this le; each bound "
				       "appears once per series");
	if (h->n_buckets == HISTOGRAM_BUCKETS_MAX + 1)
		return fail(p, -EINVAL, "a series has more than %zu buckets besides +Inf",
			    HISTOGRAM_BUCKETS_MAX);
	if (!(s->value >= 0) || s->value > MAX_EXACT_COUNT || s->value != floor(s->value))
		return fail_at(p, s->value_at, -EINVAL,
			       "bucket counts must be whole numbers from 0 to 2^53");
	h->le[h->n_buckets] = le;
	h->count[h->n_buckets++] = s->value;
	return 0;
}

/* The sample's "quantile" label, parsed; *at gets its column. */
static int quantile_of(struct parser *p, const struct sample *s, double *q, const char **at)
{
	int i = label_index(s, "quantile");

	if (i < 0)
		return fail_at(p, s->name, -EINVAL,
			       "a summary's line without _sum or _count needs a quantile label");
	*at = s->label_at[i];
	if (!parse_value(s->values[i], strlen(s->values[i]), q) || !(*q >= 0 && *q <= 1))
		return fail_at(p, *at, -EINVAL, "a quantile must be a number from 0 to 1");
	return 0;
}

static int add_quantile(struct parser *p, const struct sample *s)
{
	struct hseries *h = &p->hs;
	const char *at = NULL;
	double q;
	int rc = quantile_of(p, s, &q, &at);

	if (rc < 0)
		return rc;
	if (q == 0)
		q = 0; /* "-0" is the quantile 0, rendered without its sign */
	for (size_t i = 0; i < h->n_buckets; i++)
		if (h->le[i] == q)
			return fail_at(p, at, -EINVAL,
				       "this series already has this quantile; each quantile "
				       "appears once per series");
	if (h->n_buckets == HISTOGRAM_BUCKETS_MAX)
		return fail(p, -EINVAL, "a series has more than %zu quantiles",
			    HISTOGRAM_BUCKETS_MAX);
	h->le[h->n_buckets] = q;
	h->count[h->n_buckets++] = s->value;
	return 0;
}

/* PART_BUCKET: a histogram's _bucket line or a summary's quantile line. */
enum hpart { PART_BUCKET, PART_SUM, PART_COUNT };

static int reserved_only_on_parts(struct parser *p, const struct sample *s, const char *reserved)
{
	int i = label_index(s, reserved);

	if (i < 0)
		return 0;
	if (p->fam.type == METRIC_SUMMARY)
		return fail_at(p, s->label_at[i], -EINVAL,
			       "_sum and _count lines have no quantile label; only a summary's "
			       "quantile lines do");
	return fail_at(p, s->label_at[i], -EINVAL,
		       "_sum and _count lines have no le label; only _bucket lines do");
}

static int part_twice(struct parser *p, enum hpart part)
{
	if (part == PART_SUM)
		return fail(p, -EINVAL,
			    "the series that starts at line %zu already has a _sum line; a series "
			    "has one",
			    p->hs.line);
	return fail(p, -EINVAL,
		    "the series that starts at line %zu already has a _count line; a series has "
		    "one",
		    p->hs.line);
}

static int histogram_sample(struct parser *p, const struct sample *s, enum hpart part)
{
	char key[sizeof p->hs.key];
	const char *reserved = family_reserved_label(p->fam.type);
	size_t len = series_key(s, reserved, key, sizeof key);
	int rc = 0;

	if (part != PART_BUCKET && len != SIZE_MAX && reserved_only_on_parts(p, s, reserved) < 0)
		return -EINVAL;
	if (len == SIZE_MAX)
		return fail(p, -EINVAL, "a series has too many labels");
	if (p->hs.active && (p->hs.key_len != len || memcmp(p->hs.key, key, len) != 0))
		rc = finish_hseries(p);
	if (rc == 0 && !p->hs.active)
		rc = begin_hseries(p, key, len);
	if (rc < 0)
		return rc;
	struct hseries *h = &p->hs;
	if (part == PART_BUCKET)
		return p->fam.type == METRIC_SUMMARY ? add_quantile(p, s) : add_bucket(p, s);
	bool *have = part == PART_SUM ? &h->have_sum : &h->have_count;
	if (*have)
		return part_twice(p, part);
	*have = true;
	if (part == PART_SUM)
		h->sum = s->value;
	else
		h->total = s->value;
	return 0;
}

/* ---- families ---- */

static int finish_family(struct parser *p)
{
	int rc = 0;

	if (p->fam.active && (p->fam.type == METRIC_HISTOGRAM || p->fam.type == METRIC_SUMMARY))
		rc = finish_hseries(p);
	p->fam.active = false;
	return rc;
}

/* at: the name in the line.  Every family name is noted with the line where
 * its family starts. */
static int mark_seen(struct parser *p, const char *name, size_t len, const char *at)
{
	const struct name_entry *e = set_find(&p->seen, name, len);

	if (e != NULL)
		return fail_at(p, at, -EINVAL,
			       "this name was already used by the family that starts at line %zu; "
			       "the lines of a family must be together, and each name belongs to "
			       "one family",
			       e->line);
	if (p->seen.n >= PROMTEXT_FAMILIES_MAX)
		return fail(p, -EINVAL, "more than %zu metric families", PROMTEXT_FAMILIES_MAX);
	if (set_add(&p->seen, name, len, p->fam.active ? p->fam.line : p->line_no) < 0)
		return fail(p, -ENOMEM, "out of memory");
	return 0;
}

static int begin_family(struct parser *p, const char *name, size_t len)
{
	char why[400];
	int rc = finish_family(p);

	if (rc == 0 && metric_name_check(name, len, why, sizeof why) < 0)
		return fail_lib(p, name, -EINVAL, why);
	if (rc == 0)
		rc = mark_seen(p, name, len, name);
	if (rc < 0)
		return rc;
	memset(&p->fam, 0, offsetof(struct family, bounds));
	p->fam.active = true;
	memcpy(p->fam.name, name, len);
	p->fam.name[len] = '\0';
	p->fam.name_len = len;
	p->fam.line = p->line_no;
	p->fam.type = METRIC_UNTYPED;
	return 0;
}

/* The current family, or a new one, for a HELP (help) or TYPE line about name. */
static int family_for_meta(struct parser *p, const char *name, size_t len, bool help)
{
	struct family *f = &p->fam;

	if (!f->active || f->name_len != len || memcmp(f->name, name, len) != 0)
		return begin_family(p, name, len);
	if (f->samples > 0 && help)
		return fail(p, -EINVAL,
			    "a HELP line after the samples of the family that starts at line %zu; "
			    "HELP and TYPE come before the samples",
			    f->line);
	if (f->samples > 0)
		return fail(p, -EINVAL,
			    "a TYPE line after the samples of the family that starts at line %zu; "
			    "HELP and TYPE come before the samples",
			    f->line);
	if (help && f->have_help)
		return fail(p, -EINVAL,
			    "a second HELP line for the family that starts at line %zu; a family "
			    "has at most one",
			    f->line);
	if (!help && f->have_type)
		return fail(p, -EINVAL,
			    "a second TYPE line for the family that starts at line %zu; a family "
			    "has at most one",
			    f->line);
	return 0;
}

static int parse_type(struct parser *p, const char *w, size_t n)
{
	static const struct {
		const char *word;
		enum metric_type type;
	} types[] = {
		{ "counter", METRIC_COUNTER },     { "gauge", METRIC_GAUGE },
		{ "histogram", METRIC_HISTOGRAM }, { "summary", METRIC_SUMMARY },
		{ "untyped", METRIC_UNTYPED },
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (word_eq(w, n, types[i].word)) {
			p->fam.type = types[i].type;
			p->fam.have_type = true;
			return 0;
		}
	return fail_at(p, w, -EINVAL,
		       "unknown type; expected counter, gauge, histogram, summary or untyped");
}

/* HELP text: \\ and \n are the only escapes. */
static int unescape_help(struct parser *p, struct cursor *c)
{
	const char *start = c->p;
	size_t n = 0;
	char *out = p->fam.help;

	for (; !at_end(c); c->p++) {
		char ch = *c->p;
		if (ch == '\\') {
			if (c->p + 1 >= c->end || (c->p[1] != '\\' && c->p[1] != 'n'))
				return fail_at(p, c->p, -EINVAL,
					       "invalid escape in a HELP text; only \\\\ and \\n "
					       "are allowed");
			ch = *++c->p == 'n' ? '\n' : '\\';
		}
		if (n == METRIC_HELP_MAX)
			return fail_at(p, start, -EINVAL, "the HELP text is longer than %zu bytes",
				       METRIC_HELP_MAX);
		out[n++] = ch;
	}
	out[n] = '\0';
	p->fam.have_help = true;
	return 0;
}

static int parse_comment(struct parser *p, struct cursor *c)
{
	c->p++; /* '#' */
	skip_blanks(c);
	const char *kw = c->p;
	size_t kwlen = take_word(c);
	bool help = word_eq(kw, kwlen, "HELP"), type = word_eq(kw, kwlen, "TYPE");

	if (!help && !type)
		return 0;
	skip_blanks(c);
	const char *name = c->p;
	size_t len = take_word(c);
	if (len == 0 && help)
		return fail_at(p, name, -EINVAL, "expected a metric name: # HELP name text");
	if (len == 0)
		return fail_at(p, name, -EINVAL, "expected a metric name: # TYPE name type");
	int rc = family_for_meta(p, name, len, help);
	if (rc < 0)
		return rc;
	skip_blanks(c);
	if (help)
		return unescape_help(p, c);
	const char *w = c->p;
	size_t n = take_word(c);
	skip_blanks(c);
	if (n == 0)
		return fail_at(
		    p, w, -EINVAL,
		    "expected a type: # TYPE name counter|gauge|histogram|summary|untyped");
	if (!at_end(c))
		return fail_at(p, c->p, -EINVAL,
			       "unexpected text after the type: # TYPE name type ends there");
	return parse_type(p, w, n);
}

/* ---- samples ---- */

static int parse_label_value(struct parser *p, struct cursor *c, char **out)
{
	const char *quote = c->p;
	char *w = *out, *start = *out;

	if (at_end(c) || *c->p != '"')
		return fail_at(p, c->p, -EINVAL, "a label value must be in double quotes");
	for (c->p++; !at_end(c) && *c->p != '"'; c->p++) {
		char ch = *c->p;
		if (ch == '\\') {
			char e = c->p + 1 < c->end ? c->p[1] : '\0';
			if (e != '\\' && e != '"' && e != 'n')
				return fail_at(
				    p, c->p, -EINVAL,
				    "invalid escape in a label value; only \\\\, \\\" and "
				    "\\n are allowed");
			ch = e == 'n' ? '\n' : e;
			c->p++;
		}
		*w++ = ch;
	}
	if (at_end(c))
		return fail_at(p, quote, -EINVAL, "a label value has no closing quote");
	if ((size_t)(w - start) > LABEL_VALUE_MAX)
		return fail_at(p, quote, -EINVAL, "a label value is longer than %zu bytes",
			       LABEL_VALUE_MAX);
	c->p++;
	*w++ = '\0';
	*out = w;
	return 0;
}

static int parse_label(struct parser *p, struct cursor *c, struct sample *s, char **w)
{
	char why[400];
	const char *name = c->p;
	size_t len = take_name(c, false);

	if (len == 0)
		return fail_at(p, name, -EINVAL,
			       "expected a label name matching [a-zA-Z_][a-zA-Z0-9_]*, or } to end "
			       "the labels");
	if (label_name_check(name, len, why, sizeof why) < 0)
		return fail_lib(p, name, -EINVAL, why);
	if (s->n_labels == MAX_SAMPLE_LABELS)
		return fail_at(p, name, -EINVAL, "a series has more than %zu labels",
			       METRIC_LABELS_MAX);
	memcpy(*w, name, len);
	(*w)[len] = '\0';
	s->names[s->n_labels] = *w;
	s->label_at[s->n_labels] = name;
	*w += len + 1;
	skip_blanks(c);
	if (at_end(c) || *c->p != '=')
		return fail_at(p, c->p, -EINVAL,
			       "expected = after the label name (label names match "
			       "[a-zA-Z_][a-zA-Z0-9_]*)");
	c->p++;
	skip_blanks(c);
	s->values[s->n_labels] = *w;
	int rc = parse_label_value(p, c, w);
	if (rc == 0)
		s->n_labels++;
	return rc;
}

static int parse_labels(struct parser *p, struct cursor *c, struct sample *s, char *w)
{
	c->p++; /* '{' */
	for (;;) {
		skip_blanks(c);
		if (!at_end(c) && *c->p == '}')
			break;
		int rc = parse_label(p, c, s, &w);
		if (rc < 0)
			return rc;
		skip_blanks(c);
		if (!at_end(c) && *c->p == ',') {
			c->p++;
			continue;
		}
		if (at_end(c) || *c->p != '}')
			return fail_at(p, c->p, -EINVAL, "expected , or } after a label value");
	}
	c->p++;
	return 0;
}

/* Sorted by name, so that {a,b} and {b,a} are one series; a name twice is refused. */
static int sort_labels(struct parser *p, struct sample *s)
{
	for (size_t i = 1; i < s->n_labels; i++) {
		const char *n = s->names[i], *v = s->values[i], *at = s->label_at[i];
		size_t k = i;
		for (; k > 0 && strcmp(s->names[k - 1], n) > 0; k--) {
			s->names[k] = s->names[k - 1];
			s->values[k] = s->values[k - 1];
			s->label_at[k] = s->label_at[k - 1];
		}
		s->names[k] = n;
		s->values[k] = v;
		s->label_at[k] = at;
	}
	for (size_t i = 1; i < s->n_labels; i++) {
		if (strcmp(s->names[i - 1], s->names[i]) != 0)
			continue;
		const char *first = s->label_at[i - 1], *again = s->label_at[i];
		if (again < first) {
			again = first;
			first = s->label_at[i];
		}
		return fail_at(p, again, -EINVAL,
			       "this label was already given at column %zu; a series has each "
			       "label once",
			       (size_t)(first - p->line) + 1);
	}
	return 0;
}

static int parse_sample_value(struct parser *p, struct cursor *c, struct sample *s)
{
	skip_blanks(c);
	const char *w = c->p;
	size_t n = take_word(c);

	s->value_at = w;
	if (n == 0)
		return fail_at(p, w, -EINVAL, "expected a value after the metric name and labels");
	if (!parse_value(w, n, &s->value))
		return fail_at(p, w, -EINVAL, "a value must be a number, +Inf, -Inf or NaN");
	skip_blanks(c);
	if (at_end(c))
		return 0;
	const char *ts = c->p;
	size_t tslen = take_word(c);
	skip_blanks(c);
	size_t sign = ts[0] == '-' ? 1 : 0;
	if (at_end(c) && tslen > sign && digits(ts, sign, tslen) == tslen - sign)
		return fail_at(p, ts, -EINVAL,
			       "a timestamp; they are not supported (as in node_exporter)");
	return fail_at(p, ts, -EINVAL, "unexpected text after the value");
}

static int parse_sample_line(struct parser *p, struct cursor *c, struct sample *s)
{
	char why[400];

	s->name = c->p;
	s->name_len = take_name(c, true);
	s->n_labels = 0;
	if (s->name_len == 0)
		return fail_at(p, s->name, -EINVAL,
			       "expected a metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*");
	if (metric_name_check(s->name, s->name_len, why, sizeof why) < 0)
		return fail_lib(p, s->name, -EINVAL, why);
	skip_blanks(c);
	if (!at_end(c) && *c->p == '{') {
		int rc = parse_labels(p, c, s, p->scratch);
		if (rc < 0)
			return rc;
	} else if (c->p > s->name + s->name_len || at_end(c)) {
		/* blanks after the name, or nothing: the value follows */
	} else {
		return fail_at(p, c->p, -EINVAL,
			       "this character is not allowed in a metric name (names match "
			       "[a-zA-Z_:][a-zA-Z0-9_:]*); expected { or a blank after the name");
	}
	int rc = parse_sample_value(p, c, s);
	return rc < 0 ? rc : sort_labels(p, s);
}

static bool is_suffixed(const struct family *f, const struct sample *s, const char *suffix)
{
	size_t sl = strlen(suffix);
	return s->name_len == f->name_len + sl && memcmp(s->name, f->name, f->name_len) == 0 &&
	       memcmp(s->name + f->name_len, suffix, sl) == 0;
}

static int plain_sample(struct parser *p, const struct sample *s)
{
	struct family *f = &p->fam;
	char why[400];
	int rc = 0;

	if (f->type == METRIC_COUNTER && !(s->value >= 0))
		return fail_at(p, s->value_at, -EINVAL,
			       "a counter's value must be 0 or more (counters are never negative, "
			       "nor NaN)");
	if (!f->in_batch) {
		rc = batch_family(p->b, f->name, f->help, f->type, why, sizeof why);
		if (rc < 0)
			return fail_lib(p, NULL, rc, why);
		family_added(p);
	}
	rc = batch_add(p->b, s->names, s->values, s->n_labels, s->value, why, sizeof why);
	if (rc == -EEXIST)
		return fail(p, -EINVAL,
			    "the family that starts at line %zu already has a series with these "
			    "labels",
			    f->line);
	return rc < 0 ? fail_lib(p, NULL, rc, why) : 0;
}

/* At a family's first sample: the names it will expose must be no other
 * family's (families without samples take none). */
static int claim_exposed(struct parser *p)
{
	struct metric_exposed mine;

	metric_exposed_names(p->fam.name, p->fam.name_len, p->fam.type, &mine);
	for (size_t i = 0; i < mine.n; i++) {
		const struct name_entry *e = set_find(&p->exposed, mine.name[i], mine.len[i]);
		if (e != NULL)
			return fail(p, -EINVAL,
				    "the family that starts at line %zu and the one that starts at "
				    "line %zu would both expose one name (a counter is exposed with "
				    "and without _total, a histogram with _bucket, _sum and _count, a "
				    "summary with _sum and _count): rename one of them, or keep the "
				    "lines of one family together",
				    e->line, p->fam.line);
	}
	for (size_t i = 0; i < mine.n; i++)
		if (set_add(&p->exposed, mine.name[i], mine.len[i], p->fam.line) < 0)
			return fail(p, -ENOMEM, "out of memory");
	return 0;
}

static int count_sample(struct parser *p)
{
	return p->fam.samples++ == 0 ? claim_exposed(p) : 0;
}

static bool is_family_name(const struct family *f, const struct sample *s)
{
	return s->name_len == f->name_len && memcmp(s->name, f->name, f->name_len) == 0;
}

static int summary_sample(struct parser *p, const struct sample *s)
{
	struct family *f = &p->fam;
	enum hpart part = PART_BUCKET;

	if (is_suffixed(f, s, "_sum"))
		part = PART_SUM;
	else if (is_suffixed(f, s, "_count"))
		part = PART_COUNT;
	else if (!is_family_name(f, s)) {
		int rc = begin_family(p, s->name, s->name_len);
		if (rc == 0)
			rc = count_sample(p);
		return rc < 0 ? rc : plain_sample(p, s);
	}
	int rc = count_sample(p);
	return rc < 0 ? rc : histogram_sample(p, s, part);
}

static int dispatch_sample(struct parser *p, const struct sample *s)
{
	struct family *f = &p->fam;
	int rc = 0;

	if (f->active && f->type == METRIC_SUMMARY)
		return summary_sample(p, s);
	if (f->active && f->type == METRIC_HISTOGRAM) {
		static const char *const suffix[] = { "_bucket", "_sum", "_count" };
		for (int part = PART_BUCKET; part <= PART_COUNT; part++)
			if (is_suffixed(f, s, suffix[part])) {
				rc = count_sample(p);
				return rc < 0 ? rc : histogram_sample(p, s, (enum hpart)part);
			}
		if (s->name_len == f->name_len && memcmp(s->name, f->name, f->name_len) == 0)
			return fail_at(
			    p, s->name, -EINVAL,
			    "the samples of the histogram family that starts at line %zu "
			    "are named after it with _bucket, _sum or _count",
			    f->line);
	}
	if (!f->active || s->name_len != f->name_len || memcmp(s->name, f->name, f->name_len) != 0)
		rc = begin_family(p, s->name, s->name_len);
	if (rc == 0)
		rc = count_sample(p);
	return rc < 0 ? rc : plain_sample(p, s);
}

/* ---- lines ---- */

static int parse_line(struct parser *p, const char *line, size_t len)
{
	struct cursor c = { line, line + len };
	struct sample s;
	const char *cr = memchr(line, '\r', len);

	p->line = line;
	if (len > PROMTEXT_LINE_MAX)
		return fail(p, -EINVAL, "the line is longer than %zu bytes", PROMTEXT_LINE_MAX);
	if (cr != NULL)
		return fail_at(p, cr, -EINVAL, "a carriage return; lines end with \\n alone");
	size_t valid = utf8_valid_prefix(line, len);
	if (valid < len)
		return fail_at(p, line + valid, -EINVAL, "not valid UTF-8 (or a NUL byte)");
	skip_blanks(&c);
	if (at_end(&c))
		return 0;
	if (*c.p == '#')
		return parse_comment(p, &c);
	int rc = parse_sample_line(p, &c, &s);
	return rc < 0 ? rc : dispatch_sample(p, &s);
}

static int parse_all(struct parser *p, const char *text, size_t len)
{
	const char *at = text, *end = text + len;

	while (at < end) {
		const char *nl = memchr(at, '\n', (size_t)(end - at));
		p->line_no++;
		p->line = NULL;
		if (nl == NULL)
			return fail(p, -EINVAL, "the last line does not end with \\n");
		int rc = parse_line(p, at, (size_t)(nl - at));
		if (rc < 0)
			return rc;
		at = nl + 1;
	}
	p->line = NULL;
	return finish_family(p);
}

int promtext_parse_lines(struct batch *b, const char *text, size_t len, size_t *family_line,
			 size_t cap, char *err, size_t errlen)
{
	struct parser *p = calloc(1, sizeof *p);
	int rc;

	if (p == NULL || (p->scratch = malloc(PROMTEXT_LINE_MAX + 16)) == NULL) {
		free(p);
		snprintf(err, errlen, "out of memory parsing Prometheus text");
		return -ENOMEM;
	}
	p->b = b;
	p->err = err;
	p->errlen = errlen;
	p->family_line = family_line;
	p->family_line_cap = cap;
	rc = parse_all(p, text, len);
	set_free(&p->seen);
	set_free(&p->exposed);
	free(p->scratch);
	free(p);
	return rc;
}

int promtext_parse(struct batch *b, const char *text, size_t len, char *err, size_t errlen)
{
	return promtext_parse_lines(b, text, len, NULL, 0, err, errlen);
}

void promtext_error_in(char *out, size_t outlen, const char *path, const char *err)
{
	unsigned long line, column;
	int skip = 0;

	if (sscanf(err, "line %lu, column %lu: %n", &line, &column, &skip) == 2 && skip > 0)
		snprintf(out, outlen, "%s:%lu:%lu: %s", path, line, column, err + skip);
	else if (skip = 0, sscanf(err, "line %lu: %n", &line, &skip) == 1 && skip > 0)
		snprintf(out, outlen, "%s:%lu: %s", path, line, err + skip);
	else
		snprintf(out, outlen, "%s: %s", path, err);
}
