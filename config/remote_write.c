/*
 * remote_write.c - the "remote_write" key: where the shipper sends, how it
 * authenticates, what it adds and leaves out, and its queue (docs/remote-write.md).
 * Positions in messages come from load.c through the fail callback.  Secrets
 * are named by file only, and no message repeats what a value held beyond
 * what is needed to find it.
 */
#include "config_internal.h"

#include <errno.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "metrics.h"

#define PATH_BUF  256
#define MSG_BUF   512
#define REGEX_MAX 512
#define VALUE_MAX 1024

struct rwload {
	struct remote_write_set *s;
	struct remote_write_config *ep;
	void *ctx;
	config_fail_fn fail;
	size_t index;
	unsigned seen; /* K_* of the endpoint */
};

enum { K_URL = 1, K_BASIC = 2, K_BEARER = 4 };

typedef int (*rw_fn)(struct rwload *l, const char *path, json_t *v);

struct rw_key {
	const char *key;
	rw_fn fn;
};

static int rfail(struct rwload *l, const char *path, bool at_key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int rfail(struct rwload *l, const char *path, bool at_key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int rc = l->fail(l->ctx, path, at_key, fmt, ap);
	va_end(ap);
	return rc;
}

static int bad_type(struct rwload *l, const char *path, const char *want)
{
	return rfail(l, path, false, "%s: expected %s", path, want);
}

static int checked(struct rwload *l, const char *path, int rc, const char *msg)
{
	return rc ? rfail(l, path, false, "%s: %s", path, msg) : 0;
}

/* ---- the string pool ---- */

const char *config_rw_str(const struct remote_write_set *s, uint32_t off)
{
	return off < s->pool_len ? s->pool + off : "";
}

static int pool_add(struct remote_write_set *s, const char *str, uint32_t *off)
{
	size_t n = strlen(str) + 1;

	if (s->pool_len == 0)
		s->pool_len = 1; /* offset 0 is the empty string */
	if (n == 1) {
		*off = 0;
		return 0;
	}
	if (n > sizeof s->pool - s->pool_len)
		return -ENOSPC;
	memcpy(s->pool + s->pool_len, str, n);
	*off = s->pool_len;
	s->pool_len += (uint32_t)n;
	return 0;
}

static int add_string(struct rwload *l, const char *path, const char *str, uint32_t *off)
{
	if (pool_add(l->s, str, off) == 0)
		return 0;
	return rfail(l, path, false,
		     "%s: the remote_write settings are longer than %d bytes in all", path,
		     CONFIG_RW_POOL);
}

static int want_string(struct rwload *l, const char *path, json_t *v, size_t max, uint32_t *off)
{
	if (!json_is_string(v))
		return bad_type(l, path, "a string");
	if (json_string_length(v) >= max)
		return rfail(l, path, false, "%s: longer than %zu bytes", path, max - 1);
	return add_string(l, path, json_string_value(v), off);
}

static int want_file(struct rwload *l, const char *path, json_t *v, uint32_t *off)
{
	char msg[MSG_BUF];

	if (!json_is_string(v))
		return bad_type(l, path, "the absolute path of a file (\"\" for none)");
	const char *s = json_string_value(v);
	if (!*s) {
		*off = 0;
		return 0;
	}
	int rc = checked(l, path,
			 config_check_abs_path(s, "/etc/shmetrics/secret", msg, sizeof msg), msg);
	return rc ? rc : add_string(l, path, s, off);
}

/* ---- walking objects ---- */

static int walk(struct rwload *l, const char *path, json_t *obj, const struct rw_key *keys,
		size_t n, const char *example)
{
	const char *names[16], *key;
	char kpath[PATH_BUF], list[MSG_BUF];
	json_t *v;

	if (!json_is_object(obj))
		return rfail(l, path, false, "%s: expected an object such as %s", path, example);
	for (size_t i = 0; i < n; i++)
		names[i] = keys[i].key;
	json_object_foreach(obj, key, v)
	{
		size_t i = 0;
		while (i < n && strcmp(keys[i].key, key) != 0)
			i++;
		snprintf(kpath, sizeof kpath, "%.150s.%.100s", path, key);
		if (i == n) {
			const char *near = config_suggest(key, names, n);
			config_join_names(list, sizeof list, names, n);
			return near ? rfail(l, kpath, true,
					    "unknown key \"%.64s\" in %s; did you mean \"%s\"?",
					    key, path, near)
				    : rfail(l, kpath, true,
					    "unknown key \"%.64s\" in %s; valid keys are %s", key,
					    path, list);
		}
		int rc = keys[i].fn(l, kpath, v);
		if (rc)
			return rc;
	}
	return 0;
}

#define WALK(l, path, v, keys, example) \
	walk(l, path, v, keys, sizeof keys / sizeof keys[0], example)

/* ---- url ---- */

int config_rw_check_url(const char *url, char *err, size_t errlen)
{
	size_t skip = strncmp(url, "https://", 8) == 0  ? 8
		      : strncmp(url, "http://", 7) == 0 ? 7
							: 0;

	if (!skip) {
		snprintf(err, errlen,
			 "expected an http:// or https:// URL such as "
			 "\"https://mimir.example:9009/api/v1/push\"");
		return -EINVAL;
	}
	if (strlen(url) >= CONFIG_RW_URL_MAX) {
		snprintf(err, errlen, "the URL is longer than %d bytes", CONFIG_RW_URL_MAX - 1);
		return -EINVAL;
	}
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f) {
			snprintf(err, errlen,
				 "the URL holds a space or a control character at "
				 "byte %zu; escape it",
				 (size_t)(p - url) + 1);
			return -EINVAL;
		}
	size_t host = strcspn(url + skip, "/?#");
	if (host == 0) {
		snprintf(err, errlen, "the URL has no host");
		return -EINVAL;
	}
	if (memchr(url + skip, '@', host)) {
		/* The URL is not repeated: what precedes the '@' is a password. */
		snprintf(err, errlen,
			 "the URL holds a user name or password, which process lists "
			 "and logs would show; use \"basic_auth\" with a password_file");
		return -EINVAL;
	}
	return 0;
}

/* The URL up to its query or fragment, which names an endpoint's queue. */
static size_t url_base_len(const char *url)
{
	return strcspn(url, "?#");
}

static int on_url(struct rwload *l, const char *path, json_t *v)
{
	char msg[MSG_BUF];

	if (!json_is_string(v))
		return bad_type(l, path, "an http:// or https:// URL");
	const char *url = json_string_value(v);
	int rc = checked(l, path, config_rw_check_url(url, msg, sizeof msg), msg);
	for (size_t i = 0; rc == 0 && i < l->index; i++) {
		const char *o = config_rw_str(l->s, l->s->ep[i].url);
		if (url_base_len(o) == url_base_len(url) && strncmp(o, url, url_base_len(url)) == 0)
			return rfail(
			    l, path, false,
			    "%s: the same endpoint as remote_write[%zu]; each URL gets one "
			    "queue, so list it once",
			    path, i);
	}
	l->seen |= K_URL;
	return rc ? rc : add_string(l, path, url, &l->ep->url);
}

/* ---- authentication and TLS ---- */

static int on_username(struct rwload *l, const char *path, json_t *v)
{
	if (!json_is_string(v) || json_string_length(v) == 0)
		return bad_type(l, path, "a non-empty user name");
	return want_string(l, path, v, 256, &l->ep->username);
}

static int on_password_file(struct rwload *l, const char *path, json_t *v)
{
	return want_file(l, path, v, &l->ep->password_file);
}

static const struct rw_key basic_keys[] = {
	{ "username", on_username },
	{ "password_file", on_password_file },
};

static int on_basic_auth(struct rwload *l, const char *path, json_t *v)
{
	int rc = WALK(l, path, v, basic_keys,
		      "{\"username\": \"me\", \"password_file\": \"/etc/shmetrics/rw.pass\"}");

	if (rc == 0 && l->ep->username == 0)
		return rfail(l, path, false, "%s: \"username\" is missing", path);
	l->seen |= K_BASIC;
	return rc;
}

static int on_bearer(struct rwload *l, const char *path, json_t *v)
{
	int rc = want_file(l, path, v, &l->ep->bearer_token_file);

	if (l->ep->bearer_token_file)
		l->seen |= K_BEARER;
	return rc;
}

static int on_ca_file(struct rwload *l, const char *path, json_t *v)
{
	return want_file(l, path, v, &l->ep->ca_file);
}

static int on_cert_file(struct rwload *l, const char *path, json_t *v)
{
	return want_file(l, path, v, &l->ep->cert_file);
}

static int on_key_file(struct rwload *l, const char *path, json_t *v)
{
	return want_file(l, path, v, &l->ep->key_file);
}

static int on_server_name(struct rwload *l, const char *path, json_t *v)
{
	if (json_is_string(v) &&
	    strspn(json_string_value(v),
		   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
		json_string_length(v))
		return rfail(l, path, false, "%s: expected a host name such as \"mimir.example\"",
			     path);
	return want_string(l, path, v, 256, &l->ep->server_name);
}

static int on_insecure(struct rwload *l, const char *path, json_t *v)
{
	if (!json_is_boolean(v))
		return bad_type(l, path, "true or false");
	l->ep->insecure_skip_verify = json_is_true(v);
	return 0;
}

static const struct rw_key tls_keys[] = {
	{ "ca_file", on_ca_file },
	{ "cert_file", on_cert_file },
	{ "key_file", on_key_file },
	{ "server_name", on_server_name },
	{ "insecure_skip_verify", on_insecure },
};

static int on_tls(struct rwload *l, const char *path, json_t *v)
{
	int rc = WALK(l, path, v, tls_keys, "{\"ca_file\": \"/etc/shmetrics/ca.pem\"}");

	if (rc == 0 && (l->ep->cert_file != 0) != (l->ep->key_file != 0))
		return rfail(l, path, false,
			     "%s: a client certificate needs both \"cert_file\" and \"key_file\"",
			     path);
	return rc;
}

/* ---- headers, external labels, relabelling ---- */

/* What the shipper sets itself, and what would let a header steal a request. */
static const char *const reserved_headers[] = {
	"Authorization",
	"Host",
	"Content-Encoding",
	"Content-Type",
	"Content-Length",
	"User-Agent",
	"X-Prometheus-Remote-Write-Version",
	"Connection",
	"Expect",
	"Transfer-Encoding",
	"Proxy-Authorization",
	"Keep-Alive",
	"Upgrade",
	"TE",
};

static const char *header_problem(const char *name, const char *value)
{
	static const char token[] = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

	if (!*name || strspn(name, token) != strlen(name))
		return "is not an HTTP header name";
	for (size_t i = 0; i < sizeof reserved_headers / sizeof *reserved_headers; i++)
		if (strcasecmp(name, reserved_headers[i]) == 0)
			return "is set by the shipper itself (authentication goes in basic_auth or "
			       "bearer_token_file)";
	for (const char *p = value; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return "has a value with a control character";
	return NULL;
}

static int on_headers(struct rwload *l, const char *path, json_t *v)
{
	char kpath[PATH_BUF];
	const char *name;
	json_t *val;

	if (!json_is_object(v))
		return bad_type(l, path, "an object such as {\"X-Scope-OrgID\": \"team-a\"}");
	if (json_object_size(v) > CONFIG_RW_LIST_MAX)
		return rfail(l, path, false, "%s: at most %d headers", path, CONFIG_RW_LIST_MAX);
	json_object_foreach(v, name, val)
	{
		snprintf(kpath, sizeof kpath, "%.150s.%.100s", path, name);
		if (!json_is_string(val))
			return bad_type(l, kpath, "a string");
		const char *why = header_problem(name, json_string_value(val));
		if (why)
			return rfail(l, kpath, true, "%s: header \"%.64s\" %s", path, name, why);
		struct remote_write_config *ep = l->ep;
		int rc = add_string(l, kpath, name, &ep->header_name[ep->n_headers]);
		if (rc == 0)
			rc = want_string(l, kpath, val, VALUE_MAX,
					 &ep->header_value[ep->n_headers]);
		if (rc)
			return rc;
		ep->n_headers++;
	}
	return 0;
}

static int on_external_labels(struct rwload *l, const char *path, json_t *v)
{
	char kpath[PATH_BUF], msg[MSG_BUF];
	const char *name;
	json_t *val;

	if (!json_is_object(v))
		return bad_type(l, path, "an object such as {\"cluster\": \"eu-1\"}");
	if (json_object_size(v) > CONFIG_RW_LIST_MAX)
		return rfail(l, path, false, "%s: at most %d labels", path, CONFIG_RW_LIST_MAX);
	json_object_foreach(v, name, val)
	{
		snprintf(kpath, sizeof kpath, "%.150s.%.100s", path, name);
		if (label_name_check(name, strlen(name), msg, sizeof msg) < 0)
			return rfail(l, kpath, true, "%s: %s", path, msg);
		if (!json_is_string(val) ||
		    !utf8_valid(json_string_value(val), json_string_length(val)))
			return bad_type(l, kpath, "a UTF-8 string");
		struct remote_write_config *ep = l->ep;
		int rc = add_string(l, kpath, name, &ep->ext_name[ep->n_ext]);
		if (rc == 0)
			rc = want_string(l, kpath, val, LABEL_VALUE_MAX + 1,
					 &ep->ext_value[ep->n_ext]);
		if (rc)
			return rc;
		ep->n_ext++;
	}
	return 0;
}

/* The rule at index i of write_relabel: {"action": "keep"|"drop", "regex": "..."}. */
static int relabel_rule(struct rwload *l, const char *path, json_t *v, size_t i)
{
	json_t *action = json_is_object(v) ? json_object_get(v, "action") : NULL;
	json_t *regex = json_is_object(v) ? json_object_get(v, "regex") : NULL;
	char apath[PATH_BUF], rpath[PATH_BUF], why[200], anchored[REGEX_MAX + 8];
	regex_t re;

	snprintf(apath, sizeof apath, "%.200s.action", path);
	snprintf(rpath, sizeof rpath, "%.200s.regex", path);
	if (!json_is_object(v) || json_object_size(v) != (size_t)(!!action + !!regex) || !regex)
		return rfail(l, path, false,
			     "%s: expected {\"action\": \"keep\" or \"drop\", \"regex\": \"...\"}, "
			     "nothing else",
			     path);
	const char *a = json_is_string(action) ? json_string_value(action) : "";
	if (strcmp(a, "keep") != 0 && strcmp(a, "drop") != 0)
		return rfail(l, action ? apath : path, false,
			     "%s: expected \"keep\" or \"drop\" (on metric names)", apath);
	if (!json_is_string(regex) || json_string_length(regex) > REGEX_MAX)
		return bad_type(l, rpath, "a regular expression of at most 512 bytes");
	snprintf(anchored, sizeof anchored, "^(%s)$", json_string_value(regex));
	int rc = regcomp(&re, anchored, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &re, why, sizeof why);
		return rfail(l, rpath, false, "%s: not a valid (POSIX extended) regex: %s", rpath,
			     why);
	}
	regfree(&re);
	l->ep->relabel_keep[i] = strcmp(a, "keep") == 0;
	return add_string(l, rpath, json_string_value(regex), &l->ep->relabel_regex[i]);
}

static int on_write_relabel(struct rwload *l, const char *path, json_t *v)
{
	char ipath[PATH_BUF];
	json_t *rule;
	size_t i;

	if (!json_is_array(v))
		return bad_type(l, path,
				"an array such as [{\"action\": \"drop\", \"regex\": \"go_.*\"}]");
	if (json_array_size(v) > CONFIG_RW_LIST_MAX)
		return rfail(l, path, false, "%s: at most %d rules", path, CONFIG_RW_LIST_MAX);
	json_array_foreach(v, i, rule)
	{
		snprintf(ipath, sizeof ipath, "%.200s[%zu]", path, i);
		int rc = relabel_rule(l, ipath, rule, i);
		if (rc)
			return rc;
	}
	l->ep->n_relabel = (uint32_t)json_array_size(v);
	return 0;
}

/* ---- the queue ---- */

int config_parse_bytes(const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *err,
		       size_t errlen)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = { { "", 1 },
		      { "B", 1 },
		      { "KiB", 1ull << 10 },
		      { "MiB", 1ull << 20 },
		      { "GiB", 1ull << 30 },
		      { "TiB", 1ull << 40 },
		      { "KB", 1000 },
		      { "MB", 1000000 },
		      { "GB", 1000000000 },
		      { "TB", 1000000000000ull } };
	char *end;

	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	for (size_t i = 0; *s >= '0' && *s <= '9' && errno == 0 && i < sizeof units / sizeof *units;
	     i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (n > hi / units[i].mult || n * units[i].mult < lo)
			break;
		*out = n * units[i].mult;
		return 0;
	}
	snprintf(err, errlen,
		 "expected a size from %llu bytes to %llu GiB: bytes, or a string such as "
		 "\"256MiB\" (units B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)",
		 (unsigned long long)lo, (unsigned long long)(hi >> 30));
	return -EINVAL;
}

static int on_max_bytes(struct rwload *l, const char *path, json_t *v)
{
	char msg[MSG_BUF], num[32];
	const char *s = num;

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
	else if (json_is_string(v))
		s = json_string_value(v);
	else
		return bad_type(l, path, "a size such as \"256MiB\"");
	return checked(l, path,
		       config_parse_bytes(s, CONFIG_RW_MIN_MAX_BYTES, 1ull << 40, &l->ep->max_bytes,
					  msg, sizeof msg),
		       msg);
}

static int want_duration(struct rwload *l, const char *path, json_t *v, uint32_t lo, uint32_t hi,
			 uint32_t *ms)
{
	char msg[MSG_BUF];

	if (!json_is_string(v))
		return bad_type(l, path, "a duration string such as \"5s\"");
	return checked(l, path,
		       config_parse_duration_range(json_string_value(v), lo, hi, ms, msg,
						   sizeof msg),
		       msg);
}

static int on_max_age(struct rwload *l, const char *path, json_t *v)
{
	return want_duration(l, path, v, 0, UINT32_MAX, &l->ep->max_age_ms);
}

static int on_batch_deadline(struct rwload *l, const char *path, json_t *v)
{
	return want_duration(l, path, v, 10, 600000, &l->ep->batch_deadline_ms);
}

static int on_min_backoff(struct rwload *l, const char *path, json_t *v)
{
	return want_duration(l, path, v, 1, 3600000, &l->ep->min_backoff_ms);
}

static int on_max_backoff(struct rwload *l, const char *path, json_t *v)
{
	return want_duration(l, path, v, 1, 3600000, &l->ep->max_backoff_ms);
}

static int on_batch_max_samples(struct rwload *l, const char *path, json_t *v)
{
	char msg[MSG_BUF];

	if (!json_is_integer(v))
		return bad_type(l, path, "an integer");
	json_int_t n = json_integer_value(v);
	int rc = config_check_uint_range((long long)n, 1, 1000000, msg, sizeof msg);
	if (rc == 0)
		l->ep->batch_max_samples = (uint32_t)n;
	return checked(l, path, rc, msg);
}

static const struct rw_key queue_keys[] = {
	{ "max_bytes", on_max_bytes },
	{ "max_age", on_max_age },
	{ "batch_max_samples", on_batch_max_samples },
	{ "batch_deadline", on_batch_deadline },
	{ "min_backoff", on_min_backoff },
	{ "max_backoff", on_max_backoff },
};

static int on_queue(struct rwload *l, const char *path, json_t *v)
{
	int rc = WALK(l, path, v, queue_keys, "{\"max_bytes\": \"256MiB\", \"max_age\": \"24h\"}");

	if (rc == 0 && l->ep->min_backoff_ms > l->ep->max_backoff_ms)
		return rfail(l, path, false, "%s: min_backoff is longer than max_backoff", path);
	return rc;
}

static int on_timeout(struct rwload *l, const char *path, json_t *v)
{
	return want_duration(l, path, v, 100, 600000, &l->ep->timeout_ms);
}

/* ---- one endpoint, and the list ---- */

static const struct rw_key endpoint_keys[] = {
	{ "url", on_url },
	{ "basic_auth", on_basic_auth },
	{ "bearer_token_file", on_bearer },
	{ "tls", on_tls },
	{ "headers", on_headers },
	{ "external_labels", on_external_labels },
	{ "write_relabel", on_write_relabel },
	{ "queue", on_queue },
	{ "remote_timeout", on_timeout },
};

static void endpoint_defaults(struct remote_write_config *ep)
{
	memset(ep, 0, sizeof *ep);
	ep->max_bytes = CONFIG_RW_DEFAULT_MAX_BYTES;
	ep->max_age_ms = CONFIG_RW_DEFAULT_MAX_AGE_MS;
	ep->batch_max_samples = CONFIG_RW_DEFAULT_BATCH_MAX_SAMPLES;
	ep->batch_deadline_ms = CONFIG_RW_DEFAULT_BATCH_DEADLINE_MS;
	ep->min_backoff_ms = CONFIG_RW_DEFAULT_MIN_BACKOFF_MS;
	ep->max_backoff_ms = CONFIG_RW_DEFAULT_MAX_BACKOFF_MS;
	ep->timeout_ms = CONFIG_RW_DEFAULT_TIMEOUT_MS;
}

static int load_endpoint(struct rwload *l, const char *path, json_t *v)
{
	int rc = WALK(l, path, v, endpoint_keys,
		      "{\"url\": \"https://mimir.example:9009/api/v1/push\"}");

	if (rc)
		return rc;
	if (!(l->seen & K_URL))
		return rfail(l, path, false, "%s: \"url\" is missing", path);
	if ((l->seen & K_BASIC) && (l->seen & K_BEARER))
		return rfail(l, path, false,
			     "%s: \"basic_auth\" and \"bearer_token_file\" both set; use one",
			     path);
	return 0;
}

/* c's endpoints, allocated on first use; NULL when out of memory. */
static struct remote_write_set *rw_set(struct shm_config *c)
{
	if (!c->rw)
		c->rw = calloc(1, sizeof *c->rw);
	return c->rw;
}

size_t config_rw_count(const struct shm_config *c)
{
	return c->rw ? c->rw->n : 0;
}

int config_remote_write_load(struct shm_config *c, const char *path, json_t *v, void *ctx,
			     config_fail_fn fail)
{
	struct rwload l = { .s = rw_set(c), .ctx = ctx, .fail = fail };
	char ipath[PATH_BUF];
	json_t *item;
	size_t i;

	if (!l.s)
		return rfail(&l, path, false, "%s: out of memory", path);
	if (!json_is_array(v))
		return bad_type(&l, path,
				"an array of endpoints such as [{\"url\": "
				"\"https://mimir.example:9009/api/v1/push\"}]");
	if (json_array_size(v) > CONFIG_MAX_REMOTE_WRITE)
		return rfail(&l, path, false, "%s: at most %d endpoints", path,
			     CONFIG_MAX_REMOTE_WRITE);
	l.s->n = 0;
	json_array_foreach(v, i, item)
	{
		snprintf(ipath, sizeof ipath, "%.200s[%zu]", path, i);
		l.index = i;
		l.ep = &l.s->ep[i];
		l.seen = 0;
		endpoint_defaults(l.ep);
		int rc = load_endpoint(&l, ipath, item);
		if (rc)
			return rc;
		l.s->n = i + 1;
	}
	return 0;
}

int config_rw_add_url(struct shm_config *c, const char *url, char *err, size_t errlen)
{
	struct remote_write_set *s = rw_set(c);
	int rc = s ? config_rw_check_url(url, err, errlen)
		   : config_fail(err, errlen, "out of memory");

	for (size_t i = 0; rc == 0 && i < s->n; i++)
		if (strcmp(config_rw_str(s, s->ep[i].url), url) == 0)
			return 0;
	if (rc == 0 && s->n == CONFIG_MAX_REMOTE_WRITE) {
		snprintf(err, errlen, "at most %d endpoints", CONFIG_MAX_REMOTE_WRITE);
		rc = -EINVAL;
	}
	if (rc < 0)
		return rc;
	struct remote_write_config *ep = &s->ep[s->n];
	endpoint_defaults(ep);
	if (pool_add(s, url, &ep->url) < 0) {
		snprintf(err, errlen, "the remote_write settings are longer than %d bytes in all",
			 CONFIG_RW_POOL);
		return -EINVAL;
	}
	s->n++;
	return 0;
}

int config_rw_add_external_label(struct shm_config *c, const char *pair, char *err, size_t errlen)
{
	struct remote_write_set *s = rw_set(c);
	const char *eq = strchr(pair, '=');
	char name[LABEL_NAME_MAX + 1];
	uint32_t i = 0;

	if (!s)
		return config_fail(err, errlen, "out of memory");
	if (!eq || (size_t)(eq - pair) > LABEL_NAME_MAX) {
		snprintf(err, errlen, "expected NAME=VALUE, e.g. instance=host-1");
		return -EINVAL;
	}
	snprintf(name, sizeof name, "%.*s", (int)(eq - pair), pair);
	if (label_name_check(name, strlen(name), err, errlen) < 0)
		return -EINVAL;
	if (!utf8_valid(eq + 1, strlen(eq + 1)) || strlen(eq + 1) > LABEL_VALUE_MAX) {
		snprintf(err, errlen, "the value is not UTF-8 of at most %d bytes",
			 LABEL_VALUE_MAX);
		return -EINVAL;
	}
	while (i < s->n_ext_all && strcmp(config_rw_str(s, s->ext_all_name[i]), name) != 0)
		i++;
	if (i == CONFIG_RW_LIST_MAX) {
		snprintf(err, errlen, "at most %d labels", CONFIG_RW_LIST_MAX);
		return -EINVAL;
	}
	if (pool_add(s, name, &s->ext_all_name[i]) < 0 ||
	    pool_add(s, eq + 1, &s->ext_all_value[i]) < 0) {
		snprintf(err, errlen, "the remote_write settings are longer than %d bytes in all",
			 CONFIG_RW_POOL);
		return -EINVAL;
	}
	if (i == s->n_ext_all)
		s->n_ext_all++; /* a later flag for the same name replaces the value */
	return 0;
}

/* ---- comparing ---- */

static bool str_differs(const struct remote_write_set *a, uint32_t x,
			const struct remote_write_set *b, uint32_t y)
{
	return strcmp(config_rw_str(a, x), config_rw_str(b, y)) != 0;
}

static bool lists_differ(const struct remote_write_set *a, const uint32_t *x,
			 const struct remote_write_set *b, const uint32_t *y, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (str_differs(a, x[i], b, y[i]))
			return true;
	return false;
}

static bool endpoint_differs(const struct remote_write_set *a, const struct remote_write_config *x,
			     const struct remote_write_set *b, const struct remote_write_config *y)
{
	const uint32_t *xs[] = { &x->url,           &x->username,
				 &x->password_file, &x->bearer_token_file,
				 &x->ca_file,       &x->cert_file,
				 &x->key_file,      &x->server_name };
	const uint32_t *ys[] = { &y->url,           &y->username,
				 &y->password_file, &y->bearer_token_file,
				 &y->ca_file,       &y->cert_file,
				 &y->key_file,      &y->server_name };

	for (size_t i = 0; i < sizeof xs / sizeof *xs; i++)
		if (str_differs(a, *xs[i], b, *ys[i]))
			return true;
	return x->insecure_skip_verify != y->insecure_skip_verify || x->n_headers != y->n_headers ||
	       x->n_ext != y->n_ext || x->n_relabel != y->n_relabel ||
	       memcmp(x->relabel_keep, y->relabel_keep, sizeof x->relabel_keep) != 0 ||
	       x->max_bytes != y->max_bytes || x->max_age_ms != y->max_age_ms ||
	       x->batch_max_samples != y->batch_max_samples ||
	       x->batch_deadline_ms != y->batch_deadline_ms ||
	       x->min_backoff_ms != y->min_backoff_ms || x->max_backoff_ms != y->max_backoff_ms ||
	       x->timeout_ms != y->timeout_ms ||
	       lists_differ(a, x->header_name, b, y->header_name, x->n_headers) ||
	       lists_differ(a, x->header_value, b, y->header_value, x->n_headers) ||
	       lists_differ(a, x->ext_name, b, y->ext_name, x->n_ext) ||
	       lists_differ(a, x->ext_value, b, y->ext_value, x->n_ext) ||
	       lists_differ(a, x->relabel_regex, b, y->relabel_regex, x->n_relabel);
}

bool config_remote_write_changed(const struct shm_config *a, const struct shm_config *b)
{
	static const struct remote_write_set none;
	const struct remote_write_set *x = a->rw ? a->rw : &none, *y = b->rw ? b->rw : &none;

	if (x->n != y->n || x->n_ext_all != y->n_ext_all ||
	    lists_differ(x, x->ext_all_name, y, y->ext_all_name, x->n_ext_all) ||
	    lists_differ(x, x->ext_all_value, y, y->ext_all_value, x->n_ext_all))
		return true;
	for (size_t i = 0; i < x->n; i++)
		if (endpoint_differs(x, &x->ep[i], y, &y->ep[i]))
			return true;
	return false;
}
