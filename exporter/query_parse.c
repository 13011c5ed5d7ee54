/*
 * Series selectors and their matching, times and durations (query.h).
 *
 * A regular expression made only of metric-name characters and '|' (the
 * dashboard's {__name__=~"a|b|c"}) is matched as a set of literals: glibc's
 * regexec costs microseconds per call, and every series is tested.
 */
#include "query.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "series_key.h"

enum match_op { OP_EQ, OP_NE, OP_RE, OP_NRE };

struct matcher {
	char name[LABEL_NAME_MAX + 1]; /* "__name__" for the metric name */
	enum match_op op;
	char *value;
	size_t value_len;
	bool compiled; /* re holds a regex */
	regex_t re;
	char **alts; /* literal alternatives instead of re; NULL when not */
	size_t *alt_lens;
	size_t n_alts;
};

struct selector {
	size_t n;
	struct matcher m[QUERY_MAX_MATCHERS];
};

struct parser {
	const char *s;
	size_t pos;
	char *err;
	size_t errlen;
};

/* ---- errors ---- */

static int parse_error(struct parser *p, const char *what)
{
	snprintf(p->err, p->errlen, "1:%zu: parse error: %s", p->pos + 1, what);
	return -EINVAL;
}

static void skip_space(struct parser *p)
{
	while (p->s[p->pos] && isspace((unsigned char)p->s[p->pos]))
		p->pos++;
}

static bool name_start(char c, bool metric)
{
	return isalpha((unsigned char)c) || c == '_' || (metric && c == ':');
}

static bool name_char(char c, bool metric)
{
	return name_start(c, metric) || isdigit((unsigned char)c);
}

/* An identifier into out (outlen bytes); 0 length when there is none. */
static size_t read_name(struct parser *p, char *out, size_t outlen, bool metric)
{
	size_t n = 0;

	if (!name_start(p->s[p->pos], metric))
		return 0;
	while (name_char(p->s[p->pos], metric)) {
		if (n + 1 < outlen)
			out[n] = p->s[p->pos];
		n++;
		p->pos++;
	}
	out[n < outlen ? n : outlen - 1] = '\0';
	return n < outlen ? n : 0;
}

/* ---- strings ---- */

static int unescape(struct parser *p, char c, char *out)
{
	static const char from[] = "abfnrtv\\\"'`";
	static const char to[] = "\a\b\f\n\r\t\v\\\"'`";
	const char *hit = strchr(from, c);

	if (!c || !hit)
		return parse_error(p, "unknown escape sequence in string");
	*out = to[hit - from];
	return 0;
}

/* A quoted string: "..." or '...' with escapes, `...` raw.  malloc'd. */
static int read_string(struct parser *p, char **out, size_t *len)
{
	char q = p->s[p->pos];
	size_t cap = strlen(p->s + p->pos) + 1, n = 0;
	char *buf;

	if (q != '"' && q != '\'' && q != '`')
		return parse_error(p, "expected a quoted string");
	if (!(buf = malloc(cap)))
		return -ENOMEM;
	for (p->pos++; p->s[p->pos] != q; p->pos++) {
		char c = p->s[p->pos];
		if (!c) {
			free(buf);
			return parse_error(p, "unterminated quoted string");
		}
		if (c == '\\' && q != '`') {
			int rc = unescape(p, p->s[++p->pos], &c);
			if (rc < 0) {
				free(buf);
				return rc;
			}
		}
		buf[n++] = c;
	}
	p->pos++;
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* ---- regular expressions ---- */

static bool literal_alternation(const char *re)
{
	if (!*re)
		return false;
	for (const char *c = re; *c; c++)
		if (!name_char(*c, true) && *c != '|')
			return false;
	return true;
}

static int split_alternation(struct matcher *m)
{
	size_t n = 1;

	for (const char *c = m->value; *c; c++)
		n += *c == '|';
	m->alts = calloc(n, sizeof *m->alts);
	m->alt_lens = calloc(n, sizeof *m->alt_lens);
	if (!m->alts || !m->alt_lens)
		return -ENOMEM;
	for (char *s = m->value, *bar;; s = bar + 1) {
		bar = strchr(s, '|');
		m->alts[m->n_alts] = s;
		m->alt_lens[m->n_alts++] = bar ? (size_t)(bar - s) : strlen(s);
		if (!bar)
			break;
	}
	return 0;
}

/*
 * glibc compiles a repetition by copying the repeated part: a+ is aa*, a{3}
 * is aaa, and (a+)+ doubles again, so a short hostile pattern ("a+++++...")
 * can ask for gigabytes.  Before regcomp, the size of the expanded pattern is
 * estimated: an atom counts 1, a group the sum of its alternatives, and a
 * repetition multiplies what it repeats (+ by 2, {m,n} by n, * and ? by 1).
 */
#define REGEX_MAX_COST 256u

struct re_scan {
	const char *s;
	size_t pos;
	bool nested; /* a repetition of a repetition: "a++", "a*{2}" */
};

static unsigned long long re_mul(unsigned long long a, unsigned long long b)
{
	return a > REGEX_MAX_COST || b > REGEX_MAX_COST ? REGEX_MAX_COST + 1 : a * b;
}

static bool re_repeats(const struct re_scan *sc)
{
	char c = sc->s[sc->pos];

	return c == '*' || c == '?' || c == '+' ||
	       (c == '{' &&
		(isdigit((unsigned char)sc->s[sc->pos + 1]) || sc->s[sc->pos + 1] == ','));
}

/* The factor of the repetition at sc->pos, which re_repeats said is one. */
static unsigned long long re_repeat(struct re_scan *sc)
{
	char c = sc->s[sc->pos];
	unsigned long long lo = 0, hi = 0;

	if (c == '*' || c == '?' || c == '+') {
		sc->pos++;
		return c == '+' ? 2 : 1;
	}
	for (sc->pos++; isdigit((unsigned char)sc->s[sc->pos]); sc->pos++)
		lo = lo > REGEX_MAX_COST ? lo : lo * 10 + (unsigned)(sc->s[sc->pos] - '0');
	hi = lo;
	if (sc->s[sc->pos] == ',')
		for (hi = lo + 1, sc->pos++; isdigit((unsigned char)sc->s[sc->pos]); sc->pos++)
			hi = hi > REGEX_MAX_COST ? hi : hi * 10 + (unsigned)(sc->s[sc->pos] - '0');
	if (sc->s[sc->pos] == '}')
		sc->pos++;
	return hi ? hi : 1;
}

static void re_skip_bracket(struct re_scan *sc)
{
	sc->pos++; /* '[' */
	if (sc->s[sc->pos] == '^')
		sc->pos++;
	if (sc->s[sc->pos] == ']')
		sc->pos++;
	while (sc->s[sc->pos] && sc->s[sc->pos] != ']')
		sc->pos++;
	if (sc->s[sc->pos])
		sc->pos++;
}

/* The cost of alternatives up to the ')' closing this group, or the end (at
 * depth 0 a stray ')' is an atom). */
static unsigned long long re_cost(struct re_scan *sc, unsigned depth)
{
	unsigned long long total = 0, atom;

	while (sc->s[sc->pos] && !(sc->s[sc->pos] == ')' && depth > 0) && total <= REGEX_MAX_COST) {
		char c = sc->s[sc->pos];
		if (c == '|') {
			sc->pos++;
			continue;
		}
		if (c == '(') {
			sc->pos++;
			atom = depth > 64 ? REGEX_MAX_COST + 1 : re_cost(sc, depth + 1) + 1;
			if (sc->s[sc->pos] == ')')
				sc->pos++;
		} else if (c == '[') {
			re_skip_bracket(sc);
			atom = 1;
		} else {
			sc->pos += c == '\\' && sc->s[sc->pos + 1] ? 2 : 1;
			atom = 1;
		}
		for (int n = 0; re_repeats(sc); n++) {
			atom = re_mul(atom, re_repeat(sc));
			sc->nested |= n > 0;
		}
		total += atom;
	}
	return total;
}

/* NULL, or why the pattern is refused before regcomp sees it. */
static const char *regex_refused(const char *re)
{
	struct re_scan sc = { re, 0, false };
	unsigned long long cost = re_cost(&sc, 0);

	if (sc.nested)
		return "invalid nested repetition operator (as in RE2: write (a+)+ if you mean it)";
	if (cost > REGEX_MAX_COST)
		return "too large once its repetitions are expanded (at most 256 atoms); simplify "
		       "it";
	return NULL;
}

static int compile_regex(struct parser *p, struct matcher *m)
{
	size_t len = m->value_len + 8;
	char *anchored;
	int rc;

	if (literal_alternation(m->value))
		return split_alternation(m);
	const char *why = regex_refused(m->value);
	if (why) {
		snprintf(p->err, p->errlen, "regular expression for label %s: %s", m->name, why);
		return -EINVAL;
	}
	if (!(anchored = malloc(len)))
		return -ENOMEM;
	snprintf(anchored, len, "^(%s)$", m->value);
	rc = regcomp(&m->re, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	if (rc != 0) {
		char reason[128];
		regerror(rc, &m->re, reason, sizeof reason);
		snprintf(p->err, p->errlen,
			 "invalid regular expression for label %s: %s (POSIX extended syntax; "
			 "\\d, \\w, (?i) and other RE2-only forms are not supported)",
			 m->name, reason);
		return -EINVAL;
	}
	m->compiled = true;
	return 0;
}

/* ---- matchers ---- */

static int read_op(struct parser *p, enum match_op *op)
{
	const char *s = p->s + p->pos;

	if (s[0] == '=' && s[1] == '~')
		*op = OP_RE;
	else if (s[0] == '!' && s[1] == '~')
		*op = OP_NRE;
	else if (s[0] == '!' && s[1] == '=')
		*op = OP_NE;
	else if (s[0] == '=')
		*op = OP_EQ;
	else
		return parse_error(p, "expected a matcher: =, !=, =~ or !~");
	p->pos += *op == OP_EQ ? 1 : 2;
	return 0;
}

static int read_matcher(struct parser *p, struct selector *sel)
{
	struct matcher *m;
	int rc;

	if (sel->n == QUERY_MAX_MATCHERS)
		return parse_error(p, "too many matchers");
	m = &sel->m[sel->n];
	memset(m, 0, sizeof *m);
	if (!read_name(p, m->name, sizeof m->name, false))
		return parse_error(p, "expected a label name");
	skip_space(p);
	if ((rc = read_op(p, &m->op)) < 0)
		return rc;
	skip_space(p);
	if ((rc = read_string(p, &m->value, &m->value_len)) < 0)
		return rc;
	sel->n++; /* owned by sel from here on */
	if (m->op == OP_RE || m->op == OP_NRE)
		return compile_regex(p, m);
	return 0;
}

static int read_braces(struct parser *p, struct selector *sel)
{
	p->pos++; /* '{' */
	for (;;) {
		skip_space(p);
		if (p->s[p->pos] == '}')
			break;
		int rc = read_matcher(p, sel);
		if (rc < 0)
			return rc;
		skip_space(p);
		if (p->s[p->pos] == ',')
			p->pos++;
		else if (p->s[p->pos] != '}')
			return parse_error(p, "expected , or } after a matcher");
	}
	p->pos++;
	return 0;
}

static int add_name_matcher(struct selector *sel, const char *name)
{
	struct matcher *m = &sel->m[sel->n];

	memset(m, 0, sizeof *m);
	snprintf(m->name, sizeof m->name, "__name__");
	m->op = OP_EQ;
	if (!(m->value = strdup(name)))
		return -ENOMEM;
	m->value_len = strlen(name);
	sel->n++;
	return 0;
}

/* ---- matching ---- */

static bool matches_literal_set(const struct matcher *m, const char *v, size_t len)
{
	for (size_t i = 0; i < m->n_alts; i++)
		if (m->alt_lens[i] == len && memcmp(m->alts[i], v, len) == 0)
			return true;
	return false;
}

static bool matches_value(const struct matcher *m, const char *v, size_t len)
{
	bool eq;

	if (m->op == OP_EQ || m->op == OP_NE) {
		eq = len == m->value_len && memcmp(v, m->value, len) == 0;
		return m->op == OP_EQ ? eq : !eq;
	}
	if (m->alts)
		eq = matches_literal_set(m, v, len);
	else {
		char tmp[LABEL_VALUE_MAX + 1];
		if (len > LABEL_VALUE_MAX)
			return m->op == OP_NRE;
		memcpy(tmp, v, len);
		tmp[len] = '\0';
		eq = regexec(&m->re, tmp, 0, NULL, 0) == 0;
	}
	return m->op == OP_RE ? eq : !eq;
}

bool selector_matches(const struct selector *sel, const char *key, size_t key_len)
{
	for (size_t i = 0; i < sel->n; i++) {
		const struct matcher *m = &sel->m[i];
		const char *v = "";
		size_t len = 0;
		if (strcmp(m->name, "__name__") == 0)
			series_key_name(key, key_len, &v, &len);
		else if (!series_key_label(key, key_len, m->name, strlen(m->name), &v, &len))
			v = "", len = 0; /* a missing label matches as the empty string */
		if (!matches_value(m, v, len))
			return false;
	}
	return true;
}

/* PromQL refuses selectors that would match every series. */
static bool has_nonempty_matcher(const struct selector *sel)
{
	for (size_t i = 0; i < sel->n; i++)
		if (!matches_value(&sel->m[i], "", 0))
			return true;
	return false;
}

/* ---- the selector ---- */

void selector_free(struct selector *sel)
{
	if (!sel)
		return;
	for (size_t i = 0; i < sel->n; i++) {
		struct matcher *m = &sel->m[i];
		if (m->compiled)
			regfree(&m->re);
		free(m->alts);
		free(m->alt_lens);
		free(m->value);
	}
	free(sel);
}

static int read_range(struct parser *p, int64_t *range_ms)
{
	char dur[32];
	size_t n = 0;

	p->pos++; /* '[' */
	skip_space(p);
	while (p->s[p->pos] && p->s[p->pos] != ']' && !isspace((unsigned char)p->s[p->pos]) &&
	       n + 1 < sizeof dur)
		dur[n++] = p->s[p->pos++];
	dur[n] = '\0';
	skip_space(p);
	if (p->s[p->pos] != ']')
		return parse_error(p, "expected ] after the range");
	if (query_parse_duration(dur, range_ms) < 0 || *range_ms <= 0 || strchr(dur, '.') ||
	    !isalpha((unsigned char)dur[n ? n - 1 : 0]))
		return parse_error(p, "bad range: expected a duration such as 5m or 30s");
	p->pos++;
	return 0;
}

static int parse_into(struct parser *p, struct selector *sel, int64_t *range_ms)
{
	char name[METRIC_NAME_MAX + 1];
	int rc = 0;

	skip_space(p);
	if (read_name(p, name, sizeof name, true))
		rc = add_name_matcher(sel, name);
	else if (p->s[p->pos] != '{')
		return parse_error(p, "expected a metric name or {; only series selectors are "
				      "supported (no functions or operators)");
	skip_space(p);
	if (rc == 0 && p->s[p->pos] == '{')
		rc = read_braces(p, sel);
	skip_space(p);
	if (rc == 0 && p->s[p->pos] == '[')
		rc = read_range(p, range_ms);
	skip_space(p);
	if (rc == 0 && p->s[p->pos])
		rc = parse_error(p, "unexpected text after the selector; only series selectors "
				    "are supported (no functions or operators)");
	if (rc == 0 && !has_nonempty_matcher(sel))
		rc = parse_error(p, "vector selector must contain at least one non-empty matcher");
	return rc;
}

int selector_parse(const char *s, struct selector **out, int64_t *range_ms, char *err,
		   size_t errlen)
{
	struct parser p = { s, 0, err, errlen };
	struct selector *sel;
	int rc;

	*out = NULL;
	*range_ms = 0;
	if (strlen(s) > QUERY_MAX_LEN) {
		snprintf(err, errlen, "query is longer than %d bytes", QUERY_MAX_LEN);
		return -EINVAL;
	}
	if (!(sel = calloc(1, sizeof *sel))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = parse_into(&p, sel, range_ms);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc < 0) {
		selector_free(sel);
		return rc;
	}
	*out = sel;
	return 0;
}

/* ---- times and durations ---- */

static int parse_seconds(const char *s, int64_t *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v) || fabs(v) > 1e13)
		return -EINVAL;
	*ms = (int64_t)llround(v * 1000.0);
	return 0;
}

static bool two_digits(const char *p, int *v)
{
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return false;
	*v = (p[0] - '0') * 10 + (p[1] - '0');
	return true;
}

/* 2006-01-02T15:04:05(.999)?(Z|+07:00) */
static int parse_rfc3339(const char *s, int64_t *ms)
{
	struct tm tm;
	int frac_ms = 0, tz_sign = 0, tz_h = 0, tz_m = 0;
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", (memset(&tm, 0, sizeof tm), &tm));

	if (!p)
		return -EINVAL;
	if (*p == '.') {
		int digits = 0;
		for (p++; isdigit((unsigned char)*p); p++, digits++)
			if (digits < 3)
				frac_ms = frac_ms * 10 + (*p - '0');
		for (; digits < 3; digits++)
			frac_ms *= 10;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if ((*p == '+' || *p == '-') && two_digits(p + 1, &tz_h) && p[3] == ':' &&
		 two_digits(p + 4, &tz_m)) {
		tz_sign = *p == '+' ? 1 : -1;
		p += 6;
	} else
		return -EINVAL;
	if (*p)
		return -EINVAL;
	*ms = ((int64_t)timegm(&tm) - tz_sign * (tz_h * 3600 + tz_m * 60)) * 1000 + frac_ms;
	return 0;
}

int query_parse_time(const char *s, int64_t *ms)
{
	return parse_seconds(s, ms) == 0 ? 0 : parse_rfc3339(s, ms);
}

static int64_t unit_ms(const char **p)
{
	static const struct {
		const char *u;
		int64_t ms;
	} units[] = { { "ms", 1 },       { "s", 1000 },      { "m", 60000 },      { "h", 3600000 },
		      { "d", 86400000 }, { "w", 604800000 }, { "y", 31536000000 } };

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		size_t n = strlen(units[i].u);
		if (strncmp(*p, units[i].u, n) == 0) {
			*p += n;
			return units[i].ms;
		}
	}
	return 0;
}

int query_parse_duration(const char *s, int64_t *ms)
{
	int64_t total = 0, last = INT64_MAX;
	const char *p = s;

	if (parse_seconds(s, ms) == 0)
		return *ms >= 0 ? 0 : -EINVAL;
	while (*p) {
		int64_t v = 0, u;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++)
			if ((v = v * 10 + (*p - '0')) > 1000000000)
				return -EINVAL;
		if (!(u = unit_ms(&p)) || u >= last || v > (INT64_MAX / 4 - total) / u)
			return -EINVAL;
		total += v * u;
		last = u;
	}
	if (p == s)
		return -EINVAL;
	*ms = total;
	return 0;
}
