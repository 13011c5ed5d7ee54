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
	/* In the set of exposed names: the family that takes the name. */
	uint32_t owner_off, owner_len;
	enum metric_type owner_type;
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

/* Copies s[0..len) into the set's arena; its offset goes to *off. */
static int set_keep(struct name_set *set, const char *s, size_t len, uint32_t *off)
{
	if (set->arena_len + len > set->arena_cap) {
		size_t cap = (set->arena_cap + len) * 2;
		char *a = realloc(set->arena, cap);
		if (a == NULL)
			return -ENOMEM;
		set->arena = a;
		set->arena_cap = cap;
	}
	memcpy(set->arena + set->arena_len, s, len);
	*off = (uint32_t)set->arena_len;
	set->arena_len += len;
	return 0;
}

/* Adds s (not in the set yet); returns its entry, or NULL when out of memory. */
static struct name_entry *set_add(struct name_set *set, const char *s, size_t len, size_t line)
{
	uint32_t off;

	if ((set->n + 1) * 2 > set->cap && set_grow(set) < 0)
		return NULL;
	if (set_keep(set, s, len, &off) < 0)
		return NULL;
	struct name_entry *e = set_slot(set, s, len);
	*e = (struct name_entry){ .off = off, .len = (uint32_t)len, .line = line };
	set->n++;
	return e;
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

/* One sample line, split up; strings point into the scratch buffer. */
struct sample {
	const char *name;
	size_t name_len;
	const char *names[MAX_SAMPLE_LABELS];
	const char *values[MAX_SAMPLE_LABELS];
	size_t n_labels;
	double value;
};

struct parser {
	struct batch *b;
	size_t line_no;
	char *err;
	size_t errlen;
	struct family fam;
	struct hseries hs;
	struct name_set seen;    /* family names */
	struct name_set exposed; /* see metric_exposed_names */
	const char *line;        /* the line being read, for columns in errors */
	char *scratch;           /* unescaped strings of the current line */
};

static int fail(struct parser *p, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, int rc, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "line %zu: %s", p->line_no, msg);
	return rc;
}

/* The column (from 1) of at in the current line.  Errors name columns and
 * metric names, never the text of the input (it may hold a secret). */
static size_t column(const struct parser *p, const char *at)
{
	return (size_t)(at - p->line) + 1;
}

/* A batch error already has its message in why. */
static int fail_batch(struct parser *p, int rc, const char *why)
{
	return fail(p, rc, "%s", why);
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

static int check_hseries(struct parser *p, struct hseries *h)
{
	const char *name = p->fam.name;

	if (!h->have_count || !h->have_sum)
		return fail(p, -EINVAL, "histogram %s: a series has no %s_%s line", name, name,
			    h->have_count ? "sum" : "count");
	sort_buckets(h);
	if (h->n_buckets == 0 || !isinf(h->le[h->n_buckets - 1]))
		return fail(p, -EINVAL, "histogram %s: a series has no bucket with le=\"+Inf\"",
			    name);
	if (h->count[h->n_buckets - 1] != h->total)
		return fail(p, -EINVAL, "histogram %s: the +Inf bucket differs from %s_count", name,
			    name);
	for (size_t i = 1; i < h->n_buckets; i++)
		if (h->count[i] < h->count[i - 1])
			return fail(p, -EINVAL,
				    "histogram %s: bucket counts must not decrease from one bound "
				    "to the next",
				    name);
	return 0;
}

/* Starts the family at its first series; later series must have its bounds. */
static int start_bounded(struct parser *p, const double *bounds, uint32_t n)
{
	char why[400];
	bool summary = p->fam.type == METRIC_SUMMARY;

	if (p->fam.in_batch) {
		if (!bounds_equal(&p->fam, bounds, n))
			return fail(p, -EINVAL, "%s %s: every series must have the same %s",
				    metric_type_name(p->fam.type), p->fam.name,
				    summary ? "quantiles" : "buckets");
		return 0;
	}
	if (n > 0)
		memcpy(p->fam.bounds, bounds, n * sizeof *bounds);
	p->fam.n_bounds = n;
	int rc = summary ? batch_summary_family(p->b, p->fam.name, p->fam.help, bounds, n, why,
						sizeof why)
			 : batch_histogram_family(p->b, p->fam.name, p->fam.help, bounds, n, why,
						  sizeof why);
	if (rc < 0)
		return fail_batch(p, rc, why);
	p->fam.in_batch = true;
	return 0;
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
			rc = fail(p, -EINVAL,
				  "histogram %s: a series appears twice (the lines of one "
				  "series must be together)",
				  p->fam.name);
		else if (rc < 0)
			rc = fail_batch(p, rc, why);
	}
	return rc;
}

static int check_sseries(struct parser *p, struct hseries *h)
{
	const char *name = p->fam.name;

	if (!h->have_count || !h->have_sum)
		return fail(p, -EINVAL, "summary %s: a series has no %s_%s line", name, name,
			    h->have_count ? "sum" : "count");
	if (!(h->total >= 0))
		return fail(p, -EINVAL,
			    "summary %s: %s_count is negative or NaN; a count is never negative",
			    name, name);
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
		return fail(p, -EINVAL,
			    "summary %s: a series appears twice (the lines of one "
			    "series must be together)",
			    p->fam.name);
	return rc < 0 ? fail_batch(p, rc, why) : 0;
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
	p->line_no = h->line;
	int rc = p->fam.type == METRIC_SUMMARY ? add_sseries(p, h) : add_hseries(p, h);
	p->line_no = saved_line;
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
			return fail(p, -EINVAL, "a series of %s has more than %d labels",
				    p->fam.name, METRIC_LABELS_MAX);
		h->names[h->n_labels] = k;
		k += strlen(k) + 1;
		h->values[h->n_labels++] = k;
	}
	h->have_sum = h->have_count = false;
	h->n_buckets = 0;
	return 0;
}

/* The sample's "le" label, parsed. */
static int bucket_bound(struct parser *p, const struct sample *s, double *le)
{
	for (size_t i = 0; i < s->n_labels; i++) {
		if (strcmp(s->names[i], "le") != 0)
			continue;
		if (!parse_value(s->values[i], strlen(s->values[i]), le) || isnan(*le))
			return fail(p, -EINVAL,
				    "histogram %s: an le label is not a number (a decimal or +Inf)",
				    p->fam.name);
		return 0;
	}
	return fail(p, -EINVAL, "histogram %s: a _bucket line has no le label", p->fam.name);
}

static int add_bucket(struct parser *p, const struct sample *s)
{
	struct hseries *h = &p->hs;
	double le;
	int rc = bucket_bound(p, s, &le);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < h->n_buckets; i++)
		if (h->le[i] == le)
			return fail(p, -EINVAL,
				    "histogram %s: a series has two buckets with the same le",
				    p->fam.name);
	if (h->n_buckets == HISTOGRAM_BUCKETS_MAX + 1)
		return fail(p, -EINVAL, "histogram %s has more than %d buckets", p->fam.name,
			    HISTOGRAM_BUCKETS_MAX);
	if (!(s->value >= 0) || s->value > MAX_EXACT_COUNT || s->value != floor(s->value))
		return fail(p, -EINVAL,
			    "histogram %s: bucket counts must be whole numbers from 0 to 2^53",
			    p->fam.name);
	h->le[h->n_buckets] = le;
	h->count[h->n_buckets++] = s->value;
	return 0;
}

/* The sample's "quantile" label, parsed. */
static int quantile_of(struct parser *p, const struct sample *s, double *q)
{
	for (size_t i = 0; i < s->n_labels; i++) {
		if (strcmp(s->names[i], "quantile") != 0)
			continue;
		if (!parse_value(s->values[i], strlen(s->values[i]), q) || !(*q >= 0 && *q <= 1))
			return fail(p, -EINVAL,
				    "summary %s: a quantile label is not a number from 0 to 1",
				    p->fam.name);
		return 0;
	}
	return fail(p, -EINVAL,
		    "summary %s: a line named %s needs a quantile label (or use "
		    "%s_sum, %s_count)",
		    p->fam.name, p->fam.name, p->fam.name, p->fam.name);
}

static int add_quantile(struct parser *p, const struct sample *s)
{
	struct hseries *h = &p->hs;
	double q;
	int rc = quantile_of(p, s, &q);

	if (rc < 0)
		return rc;
	if (q == 0)
		q = 0; /* "-0" is the quantile 0, rendered without its sign */
	for (size_t i = 0; i < h->n_buckets; i++)
		if (h->le[i] == q)
			return fail(p, -EINVAL, "summary %s: a series has one quantile twice",
				    p->fam.name);
	if (h->n_buckets == HISTOGRAM_BUCKETS_MAX)
		return fail(p, -EINVAL, "summary %s has more than %d quantiles", p->fam.name,
			    HISTOGRAM_BUCKETS_MAX);
	h->le[h->n_buckets] = q;
	h->count[h->n_buckets++] = s->value;
	return 0;
}

/* PART_BUCKET: a histogram's _bucket line or a summary's quantile line. */
enum hpart { PART_BUCKET, PART_SUM, PART_COUNT };

static int reserved_only_on_parts(struct parser *p, const struct sample *s, const char *reserved)
{
	bool summary = p->fam.type == METRIC_SUMMARY;

	for (size_t i = 0; i < s->n_labels; i++)
		if (strcmp(s->names[i], reserved) == 0)
			return fail(p, -EINVAL, "%s %s: only %s lines have %s %s label",
				    metric_type_name(p->fam.type), p->fam.name,
				    summary ? "quantile" : "_bucket", summary ? "a" : "an",
				    reserved);
	return 0;
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
		return fail(p, -EINVAL, "a series of %s has too many labels", p->fam.name);
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
		return fail(p, -EINVAL, "%s %s: a series has two _%s lines",
			    metric_type_name(p->fam.type), p->fam.name,
			    part == PART_SUM ? "sum" : "count");
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

static int mark_seen(struct parser *p, const char *name, size_t len)
{
	const struct name_entry *e = set_find(&p->seen, name, len);

	if (e != NULL)
		return fail(p, -EINVAL,
			    "%.*s was already used at line %zu: the lines of a family must be "
			    "together, and each name belongs to one family",
			    (int)len, name, e->line);
	if (p->seen.n >= PROMTEXT_FAMILIES_MAX)
		return fail(p, -EINVAL, "more than %d metric families", PROMTEXT_FAMILIES_MAX);
	if (set_add(&p->seen, name, len, p->line_no) == NULL)
		return fail(p, -ENOMEM, "out of memory");
	return 0;
}

static int begin_family(struct parser *p, const char *name, size_t len)
{
	char why[400];
	int rc = finish_family(p);

	if (rc == 0 && metric_name_check(name, len, why, sizeof why) < 0)
		return fail(p, -EINVAL, "%s", why);
	if (rc == 0)
		rc = mark_seen(p, name, len);
	if (rc < 0)
		return rc;
	memset(&p->fam, 0, offsetof(struct family, bounds));
	p->fam.active = true;
	memcpy(p->fam.name, name, len);
	p->fam.name[len] = '\0';
	p->fam.name_len = len;
	p->fam.type = METRIC_UNTYPED;
	return 0;
}

/* The current family, or a new one, for a HELP or TYPE line about name. */
static int family_for_meta(struct parser *p, const char *name, size_t len, const char *what)
{
	struct family *f = &p->fam;

	if (!f->active || f->name_len != len || memcmp(f->name, name, len) != 0)
		return begin_family(p, name, len);
	if (f->samples > 0)
		return fail(p, -EINVAL, "%s line for %s after its samples", what, f->name);
	if ((what[0] == 'H' && f->have_help) || (what[0] == 'T' && f->have_type))
		return fail(p, -EINVAL, "second %s line for %s", what, f->name);
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
	return fail(p, -EINVAL,
		    "unknown type for %s at column %zu (expected counter, gauge, histogram, "
		    "summary or untyped)",
		    p->fam.name, column(p, w));
}

/* HELP text: \\ and \n are the only escapes. */
static int unescape_help(struct parser *p, struct cursor *c)
{
	size_t n = 0;
	char *out = p->fam.help;

	for (; !at_end(c); c->p++) {
		char ch = *c->p;
		if (ch == '\\') {
			if (c->p + 1 >= c->end || (c->p[1] != '\\' && c->p[1] != 'n'))
				return fail(p, -EINVAL,
					    "invalid escape in HELP of %s (only \\\\ and "
					    "\\n are allowed)",
					    p->fam.name);
			ch = *++c->p == 'n' ? '\n' : '\\';
		}
		if (n == METRIC_HELP_MAX)
			return fail(p, -EINVAL, "HELP of %s is longer than %d bytes", p->fam.name,
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
	if (len == 0)
		return fail(p, -EINVAL, "%s line without a metric name", help ? "HELP" : "TYPE");
	int rc = family_for_meta(p, name, len, help ? "HELP" : "TYPE");
	if (rc < 0)
		return rc;
	skip_blanks(c);
	if (help)
		return unescape_help(p, c);
	const char *w = c->p;
	size_t n = take_word(c);
	skip_blanks(c);
	if (n == 0 || !at_end(c))
		return fail(p, -EINVAL, "TYPE line for %s must be \"# TYPE %s <type>\"",
			    p->fam.name, p->fam.name);
	return parse_type(p, w, n);
}

/* ---- samples ---- */

static int parse_label_value(struct parser *p, struct cursor *c, char **out)
{
	char *w = *out;

	if (at_end(c) || *c->p != '"')
		return fail(p, -EINVAL, "a label value must be in double quotes");
	for (c->p++; !at_end(c) && *c->p != '"'; c->p++) {
		char ch = *c->p;
		if (ch == '\\') {
			char e = c->p + 1 < c->end ? c->p[1] : '\0';
			if (e != '\\' && e != '"' && e != 'n')
				return fail(p, -EINVAL,
					    "invalid escape in a label value (only \\\\, "
					    "\\\" and \\n are allowed)");
			ch = e == 'n' ? '\n' : e;
			c->p++;
		}
		*w++ = ch;
	}
	if (at_end(c))
		return fail(p, -EINVAL, "a label value has no closing quote");
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
		return fail(p, -EINVAL, "expected a label name in %.*s{...}", (int)s->name_len,
			    s->name);
	if (label_name_check(name, len, why, sizeof why) < 0)
		return fail(p, -EINVAL, "%s", why);
	if (s->n_labels == MAX_SAMPLE_LABELS)
		return fail(p, -EINVAL, "%.*s has more than %d labels", (int)s->name_len, s->name,
			    METRIC_LABELS_MAX);
	memcpy(*w, name, len);
	(*w)[len] = '\0';
	s->names[s->n_labels] = *w;
	*w += len + 1;
	skip_blanks(c);
	if (at_end(c) || *c->p != '=')
		return fail(p, -EINVAL, "expected = after label %.*s", (int)len, name);
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
			return fail(p, -EINVAL, "expected , or } after a label value");
	}
	c->p++;
	return 0;
}

/* Sorted by name, so that {a,b} and {b,a} are one series; a name twice is refused. */
static int sort_labels(struct parser *p, struct sample *s)
{
	for (size_t i = 1; i < s->n_labels; i++) {
		const char *n = s->names[i], *v = s->values[i];
		size_t k = i;
		for (; k > 0 && strcmp(s->names[k - 1], n) > 0; k--) {
			s->names[k] = s->names[k - 1];
			s->values[k] = s->values[k - 1];
		}
		s->names[k] = n;
		s->values[k] = v;
	}
	for (size_t i = 1; i < s->n_labels; i++)
		if (strcmp(s->names[i - 1], s->names[i]) == 0)
			return fail(p, -EINVAL, "label %s appears twice", s->names[i]);
	return 0;
}

static int parse_sample_value(struct parser *p, struct cursor *c, struct sample *s)
{
	skip_blanks(c);
	const char *w = c->p;
	size_t n = take_word(c);

	if (n == 0)
		return fail(p, -EINVAL, "%.*s has no value", (int)s->name_len, s->name);
	if (!parse_value(w, n, &s->value))
		return fail(p, -EINVAL, "the value of %.*s at column %zu is not a number",
			    (int)s->name_len, s->name, column(p, w));
	skip_blanks(c);
	if (at_end(c))
		return 0;
	const char *ts = c->p;
	size_t tslen = take_word(c);
	skip_blanks(c);
	size_t sign = ts[0] == '-' ? 1 : 0;
	if (at_end(c) && tslen > sign && digits(ts, sign, tslen) == tslen - sign)
		return fail(p, -EINVAL,
			    "%.*s has a timestamp; timestamps are not supported (as in "
			    "node_exporter's textfile collector)",
			    (int)s->name_len, s->name);
	return fail(p, -EINVAL, "unexpected text after the value of %.*s", (int)s->name_len,
		    s->name);
}

static int parse_sample_line(struct parser *p, struct cursor *c, struct sample *s)
{
	char why[400];

	s->name = c->p;
	s->name_len = take_name(c, true);
	s->n_labels = 0;
	if (s->name_len == 0)
		return fail(p, -EINVAL, "expected a metric name at column %zu", column(p, c->p));
	if (metric_name_check(s->name, s->name_len, why, sizeof why) < 0)
		return fail(p, -EINVAL, "%s", why);
	skip_blanks(c);
	if (!at_end(c) && *c->p == '{') {
		int rc = parse_labels(p, c, s, p->scratch);
		if (rc < 0)
			return rc;
	} else if (c->p > s->name + s->name_len || at_end(c)) {
		/* blanks after the name, or nothing: the value follows */
	} else {
		return fail(p, -EINVAL, "unexpected character after %.*s at column %zu",
			    (int)s->name_len, s->name, column(p, c->p));
	}
	int rc = parse_sample_value(p, c, s);
	return rc < 0 ? rc : sort_labels(p, s);
}

/* The other family a name of the current one is taken by, and which name. */
static const struct name_entry *exposed_clash(struct parser *p, const struct metric_exposed *mine,
					      size_t *which)
{
	for (size_t i = 0; i < mine->n; i++) {
		const struct name_entry *e = set_find(&p->exposed, mine->name[i], mine->len[i]);
		if (e != NULL) {
			*which = i;
			return e;
		}
	}
	return NULL;
}

/* Why a family of this type exposes shared, a name other than its own, or "". */
static const char *exposure_reason(enum metric_type type, const char *name, size_t len,
				   const char *shared)
{
	if (strlen(shared) == len && memcmp(shared, name, len) == 0)
		return "";
	if (type == METRIC_COUNTER)
		return " (a counter is exposed with and without _total)";
	if (type == METRIC_HISTOGRAM)
		return " (a histogram is also exposed as NAME_bucket, NAME_sum, NAME_count)";
	return " (a summary is also exposed as NAME_sum, NAME_count)";
}

/* The refusal of the current family, whose name shared is e's family's too. */
static int exposed_clash_error(struct parser *p, const struct name_entry *e, const char *shared)
{
	const char *owner = p->exposed.arena + e->owner_off;
	const char *why = exposure_reason(p->fam.type, p->fam.name, p->fam.name_len, shared);

	if (!*why)
		why = exposure_reason(e->owner_type, owner, e->owner_len, shared);
	return fail(p, -EINVAL,
		    "%s %s and %s %.*s (line %zu) would both be exposed as %s%s; "
		    "rename one of them",
		    metric_type_name(p->fam.type), p->fam.name, metric_type_name(e->owner_type),
		    (int)e->owner_len, owner, e->line, shared, why);
}

/* At a family's first sample: the names it will expose must be no other
 * family's (families without samples are left out, so they take none). */
static int claim_exposed(struct parser *p)
{
	struct metric_exposed mine;
	size_t i;

	metric_exposed_names(p->fam.name, p->fam.name_len, p->fam.type, &mine);
	const struct name_entry *e = exposed_clash(p, &mine, &i);
	if (e != NULL)
		return exposed_clash_error(p, e, mine.name[i]);
	for (i = 0; i < mine.n; i++) {
		struct name_entry *n = set_add(&p->exposed, mine.name[i], mine.len[i], p->line_no);
		if (n == NULL ||
		    set_keep(&p->exposed, p->fam.name, p->fam.name_len, &n->owner_off) < 0)
			return fail(p, -ENOMEM, "out of memory");
		n->owner_len = (uint32_t)p->fam.name_len;
		n->owner_type = p->fam.type;
	}
	return 0;
}

/* Counts a sample of the current family. */
static int count_sample(struct parser *p)
{
	return p->fam.samples++ == 0 ? claim_exposed(p) : 0;
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
		return fail(p, -EINVAL,
			    "counter %s has a negative value (or NaN); counters are never negative",
			    f->name);
	if (!f->in_batch) {
		rc = batch_family(p->b, f->name, f->help, f->type, why, sizeof why);
		if (rc < 0)
			return fail_batch(p, rc, why);
		f->in_batch = true;
	}
	rc = batch_add(p->b, s->names, s->values, s->n_labels, s->value, why, sizeof why);
	if (rc == -EEXIST)
		return fail(p, -EINVAL, "%s has this series twice", f->name);
	return rc < 0 ? fail_batch(p, rc, why) : 0;
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
			return fail(p, -EINVAL,
				    "histogram %s: samples must be named %s_bucket, %s_sum "
				    "or %s_count",
				    f->name, f->name, f->name, f->name);
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

	p->line = line;
	if (len > PROMTEXT_LINE_MAX)
		return fail(p, -EINVAL, "line longer than %d bytes", PROMTEXT_LINE_MAX);
	if (memchr(line, '\r', len) != NULL)
		return fail(p, -EINVAL, "carriage return in the line (lines end with \\n alone)");
	if (!utf8_valid(line, len))
		return fail(p, -EINVAL, "not valid UTF-8 (or a NUL byte)");
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
		if (nl == NULL)
			return fail(p, -EINVAL, "the last line does not end with a newline");
		int rc = parse_line(p, at, (size_t)(nl - at));
		if (rc < 0)
			return rc;
		at = nl + 1;
	}
	return finish_family(p);
}

int promtext_parse(struct batch *b, const char *text, size_t len, char *err, size_t errlen)
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
	rc = parse_all(p, text, len);
	set_free(&p->seen);
	set_free(&p->exposed);
	free(p->scratch);
	free(p);
	return rc;
}
