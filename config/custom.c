/*
 * custom.c - the "custom_collectors" key: collectors the agent runs or hosts for
 * someone else (docs/processes.md, "Custom collectors").  Positions in messages
 * come from load.c through the fail callback.
 */
#include "config_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_BUF 256
#define MSG_BUF  512

#define CUSTOM_TIMEOUT_DEFAULT_MS 10000u

/* Keys, as bits of what an object set. */
enum {
	K_COMMAND = 1 << 0,
	K_EXEC = 1 << 1,
	K_EXTERNAL = 1 << 2,
	K_ENV = 1 << 3,
	K_USER = 1 << 4,
	K_GROUP = 1 << 5,
	K_MODE = 1 << 6,
	K_INTERVAL = 1 << 7,
	K_TIMEOUT = 1 << 8,
	K_MAX_SERIES = 1 << 9,
	K_ENABLED = 1 << 10,
	K_SANDBOX = 1 << 11,
};

struct cload {
	struct shm_config *c;
	struct custom_collector_config *cc;
	struct collector_config *col;
	void *ctx;
	config_fail_fn fail;
	unsigned seen;
	char obj[128]; /* "custom_collectors.NAME" */
};

typedef int (*ckey_fn)(struct cload *l, const char *path, json_t *v);

struct ckey {
	const char *key;
	unsigned bit;
	ckey_fn fn;
};

static int cfail(struct cload *l, const char *path, bool at_key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int cfail(struct cload *l, const char *path, bool at_key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int rc = l->fail(l->ctx, path, at_key, fmt, ap);
	va_end(ap);
	return rc;
}

static int bad_type(struct cload *l, const char *path, const char *want)
{
	return cfail(l, path, false, "%s: expected %s", path, want);
}

/* Runs a values.c validator (unprefixed message) and positions its failure. */
static int checked(struct cload *l, const char *path, int rc, const char *msg)
{
	return rc ? cfail(l, path, false, "%s: %s", path, msg) : 0;
}

static int copy_name(struct cload *l, const char *path, char *dst, const char *s)
{
	if (strlen(s) >= CONFIG_NAME_MAX)
		return cfail(l, path, false, "%s: longer than %d bytes", path, CONFIG_NAME_MAX - 1);
	snprintf(dst, CONFIG_NAME_MAX, "%s", s);
	return 0;
}

/* ---- the words of "command" and "exec" ---- */

/* A copy of buf[0..n) into *dst (freeing what was there), for the words and env. */
static int keep(struct cload *l, const char *path, char **dst, size_t *dst_len, const char *buf,
		size_t n)
{
	char *copy = malloc(n ? n : 1);

	if (!copy)
		return cfail(l, path, false, "%s: out of memory", path);
	memcpy(copy, buf, n);
	free(*dst);
	*dst = copy;
	*dst_len = n;
	return 0;
}

static int on_words(struct cload *l, const char *path, json_t *v, enum custom_kind kind)
{
	struct custom_collector_config *cc = l->cc;
	char buf[CONFIG_CUSTOM_ARGS_BYTES];
	size_t used = 0, i;
	json_t *w;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return bad_type(l, path,
				"a non-empty array of strings, the program and its "
				"arguments, such as [\"/usr/local/bin/app\", \"--flag\"]");
	if (json_array_size(v) > CONFIG_CUSTOM_ARGS_MAX)
		return cfail(l, path, false, "%s: %zu words; at most %d are allowed", path,
			     json_array_size(v), CONFIG_CUSTOM_ARGS_MAX);
	json_array_foreach(v, i, w)
	{
		if (!json_is_string(w))
			return cfail(l, path, false, "%s[%zu]: expected a string", path, i);
		const char *s = json_string_value(w);
		size_t n = strlen(s) + 1;
		if (i == 0 && s[0] != '/')
			return cfail(l, path, false,
				     "%s[0]: \"%.100s\" is not an absolute path; the "
				     "program is run without a shell or $PATH search, "
				     "so write its full path",
				     path, s);
		if (n > sizeof buf - used)
			return cfail(l, path, false,
				     "%s: the words are longer than %zu bytes in all", path,
				     sizeof buf - 1);
		memcpy(buf + used, s, n);
		used += n;
	}
	cc->argc = (uint32_t)json_array_size(v);
	cc->kind = kind;
	return keep(l, path, &cc->args, &cc->args_len, buf, used);
}

static int on_command(struct cload *l, const char *path, json_t *v)
{
	return on_words(l, path, v, CUSTOM_COMMAND);
}

static int on_exec(struct cload *l, const char *path, json_t *v)
{
	return on_words(l, path, v, CUSTOM_EXEC);
}

static int on_external(struct cload *l, const char *path, json_t *v)
{
	if (!json_is_true(v))
		return bad_type(l, path,
				"true (an external collector is attached to by its own "
				"program); to turn it off write \"enabled\": false");
	l->cc->kind = CUSTOM_EXTERNAL;
	return 0;
}

/* ---- env ---- */

static bool env_name_valid(const char *k)
{
	size_t n = strlen(k);

	return n > 0 && strchr("0123456789", k[0]) == NULL &&
	       strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

static int on_env(struct cload *l, const char *path, json_t *v)
{
	struct custom_collector_config *cc = l->cc;
	const char *k;
	json_t *val;
	size_t used = 0;
	char kpath[PATH_BUF], buf[CONFIG_CUSTOM_ENV_BYTES];

	if (!json_is_object(v))
		return bad_type(l, path, "an object of strings such as {\"LANG\": \"C\"}");
	if (json_object_size(v) > CONFIG_CUSTOM_ENV_MAX)
		return cfail(l, path, false, "%s: %zu variables; at most %d are allowed", path,
			     json_object_size(v), CONFIG_CUSTOM_ENV_MAX);
	json_object_foreach(v, k, val)
	{
		snprintf(kpath, sizeof kpath, "%.150s.%.100s", path, k);
		if (!env_name_valid(k))
			return cfail(l, kpath, true,
				     "%s: \"%.64s\" is not a variable name; use A-Z, "
				     "a-z, 0-9 and '_', not starting with a digit",
				     path, k);
		if (strncmp(k, "SHMETRICS_", 10) == 0)
			return cfail(l, kpath, true,
				     "%s: %s is set by the agent (SHMETRICS_* "
				     "tell the collector its segment)",
				     path, k);
		if (!json_is_string(val))
			return cfail(l, kpath, false, "%s: expected a string", kpath);
		int n = snprintf(buf + used, sizeof buf - used, "%s=%s", k, json_string_value(val));
		if (n < 0 || (size_t)n + 1 > sizeof buf - used)
			return cfail(l, path, false,
				     "%s: the variables are longer than %zu bytes in "
				     "all",
				     path, sizeof buf - 1);
		used += (size_t)n + 1;
		cc->envc++;
	}
	return keep(l, path, &cc->env, &cc->env_len, buf, used);
}

/* ---- user, group, mode ---- */

static int on_user(struct cload *l, const char *path, json_t *v)
{
	uid_t uid = 0;

	if (!json_is_string(v) || json_string_length(v) == 0)
		return bad_type(l, path, "a user name such as \"nobody\"");
	const char *s = json_string_value(v);
	int rc = copy_name(l, path, l->cc->user, s);
	if (rc)
		return rc;
	rc = config_lookup_user(s, &uid, NULL);
	if (rc < 0)
		return cfail(l, path, false, "%s: getpwnam_r(\"%s\") failed: %s", path, s,
			     strerror(-rc));
	if (rc == 0)
		return cfail(l, path, false, "%s: no user named \"%s\" on this system", path, s);
	if (geteuid() != 0 && uid != geteuid())
		return cfail(l, path, false,
			     "%s: the agent runs as uid %u, not as root, so it "
			     "cannot start a program as \"%s\"; run the agent as "
			     "root or remove \"user\"",
			     path, (unsigned)geteuid(), s);
	return 0;
}

static int on_group(struct cload *l, const char *path, json_t *v)
{
	char msg[MSG_BUF];

	if (!json_is_string(v))
		return bad_type(l, path, "a group name");
	const char *s = json_string_value(v);
	int rc = checked(l, path, config_check_group(s, msg, sizeof msg), msg);
	return rc ? rc : copy_name(l, path, l->cc->group, s);
}

static int on_mode(struct cload *l, const char *path, json_t *v)
{
	char msg[MSG_BUF];

	if (!json_is_string(v))
		return bad_type(l, path,
				"an octal string such as \"0660\" (JSON has no octal "
				"numbers)");
	return checked(l, path,
		       config_parse_mode(json_string_value(v), &l->cc->mode, msg, sizeof msg), msg);
}

/* ---- numbers ---- */

static int want_duration(struct cload *l, const char *path, json_t *v, uint32_t *ms)
{
	char msg[MSG_BUF];

	if (!json_is_string(v))
		return bad_type(l, path, "a duration string such as \"10s\"");
	return checked(l, path,
		       config_parse_duration_range(json_string_value(v), CONFIG_INTERVAL_MIN_MS,
						   CONFIG_INTERVAL_MAX_MS, ms, msg, sizeof msg),
		       msg);
}

static int on_interval(struct cload *l, const char *path, json_t *v)
{
	return want_duration(l, path, v, &l->cc->interval_ms);
}

static int on_timeout(struct cload *l, const char *path, json_t *v)
{
	return want_duration(l, path, v, &l->cc->timeout_ms);
}

static int on_max_series(struct cload *l, const char *path, json_t *v)
{
	char msg[MSG_BUF];

	if (!json_is_integer(v))
		return bad_type(l, path, "an integer");
	json_int_t n = json_integer_value(v);
	int rc = config_check_uint_range((long long)n, 1, CONFIG_MAX_SERIES_MAX, msg, sizeof msg);
	if (!rc)
		l->cc->max_series = (uint32_t)n;
	return checked(l, path, rc, msg);
}

static int on_enabled(struct cload *l, const char *path, json_t *v)
{
	if (!json_is_boolean(v))
		return bad_type(l, path, "true or false");
	l->col->enabled = json_is_true(v);
	return 0;
}

static int on_sandbox(struct cload *l, const char *path, json_t *v)
{
	if (!json_is_boolean(v))
		return bad_type(l, path, "true or false");
	l->cc->sandbox = json_is_true(v);
	return 0;
}

static const struct ckey ckeys[] = {
	{ "command", K_COMMAND, on_command },
	{ "exec", K_EXEC, on_exec },
	{ "external", K_EXTERNAL, on_external },
	{ "env", K_ENV, on_env },
	{ "user", K_USER, on_user },
	{ "group", K_GROUP, on_group },
	{ "mode", K_MODE, on_mode },
	{ "interval", K_INTERVAL, on_interval },
	{ "timeout", K_TIMEOUT, on_timeout },
	{ "max_series", K_MAX_SERIES, on_max_series },
	{ "enabled", K_ENABLED, on_enabled },
	{ "sandbox", K_SANDBOX, on_sandbox },
};
#define N_CKEYS (sizeof ckeys / sizeof ckeys[0])

static int unknown_key(struct cload *l, const char *path, const char *key)
{
	const char *names[N_CKEYS];
	char list[MSG_BUF];

	for (size_t k = 0; k < N_CKEYS; k++)
		names[k] = ckeys[k].key;
	const char *near = config_suggest(key, names, N_CKEYS);
	if (near)
		return cfail(l, path, true, "unknown key \"%.64s\" in %s; did you mean \"%s\"?",
			     key, l->obj, near);
	config_join_names(list, sizeof list, names, N_CKEYS);
	return cfail(l, path, true, "unknown key \"%.64s\" in %s; valid keys are %s", key, l->obj,
		     list);
}

/* ---- checks across the keys of one collector ---- */

static int refuse_key(struct cload *l, const char *key, const char *why)
{
	char path[PATH_BUF];

	snprintf(path, sizeof path, "%s.%.100s", l->obj, key);
	return cfail(l, path, true, "%s: %s", path, why);
}

static int check_kind(struct cload *l)
{
	unsigned kinds = l->seen & (K_COMMAND | K_EXEC | K_EXTERNAL);

	if (kinds == 0)
		return cfail(l, l->obj, true,
			     "%s: say how the collector runs: \"command\": [...] "
			     "(the agent runs a program linked with libshmetrics), "
			     "\"exec\": [...] (the agent runs a script each interval) "
			     "or \"external\": true (a program of yours attaches)",
			     l->obj);
	if (kinds & (kinds - 1))
		return refuse_key(l, kinds & K_EXTERNAL ? "external" : "exec",
				  "a custom collector is exactly one of \"command\", \"exec\" and "
				  "\"external\"");
	if ((l->seen & K_TIMEOUT) && !(kinds & K_EXEC))
		return refuse_key(l, "timeout", "only \"exec\" collectors have a timeout");
	if (kinds & K_EXTERNAL) {
		if (l->seen & K_ENV)
			return refuse_key(l, "env",
					  "the agent does not start an external collector, "
					  "so it cannot set its environment");
		if (l->seen & K_SANDBOX)
			return refuse_key(l, "sandbox",
					  "the agent does not start an external collector, "
					  "so it cannot isolate it");
		if (l->seen & K_USER)
			return refuse_key(l, "user",
					  "the agent does not start an external "
					  "collector; \"group\" and \"mode\" decide who may "
					  "attach");
	}
	return 0;
}

/* A program running as another user writes the segment through its group. */
static int check_user_mode(struct cload *l)
{
	const struct custom_collector_config *cc = l->cc;

	if (!(l->seen & K_USER) || !(l->seen & K_MODE) || (cc->mode & 0060) == 0060)
		return 0;
	return refuse_key(l, "mode",
			  "with \"user\" set, the collector writes its segment "
			  "through the segment's group: the mode needs group read and "
			  "write, e.g. \"0660\"");
}

/* ---- one collector ---- */

static int check_name(struct cload *l, const char *path, const char *name)
{
	char msg[MSG_BUF];

	if (config_check_name(name, "collector", msg, sizeof msg) < 0)
		return cfail(l, path, true, "%s", msg);
	/* "host" names the process of the built-in collectors in logs and reloads. */
	if (config_is_builtin_collector(name) || strcmp(name, "agent") == 0 ||
	    strcmp(name, "exporter") == 0 || strcmp(name, "host") == 0 ||
	    strcmp(name, "shipper") == 0)
		return cfail(l, path, true,
			     "\"%s\" is the name of a built-in collector or process; "
			     "give the custom collector another name",
			     name);
	return 0;
}

static int walk_one(struct cload *l, json_t *obj)
{
	const char *key;
	json_t *v;
	char path[PATH_BUF];

	json_object_foreach(obj, key, v)
	{
		const struct ckey *k = NULL;
		for (size_t i = 0; i < N_CKEYS && !k; i++)
			if (strcmp(ckeys[i].key, key) == 0)
				k = &ckeys[i];
		snprintf(path, sizeof path, "%s.%.100s", l->obj, key);
		if (!k)
			return unknown_key(l, path, key);
		l->seen |= k->bit;
		int rc = k->fn(l, path, v);
		if (rc)
			return rc;
	}
	int rc = check_kind(l);
	return rc ? rc : check_user_mode(l);
}

static int load_one(struct cload *l, const char *parent, const char *name, json_t *v)
{
	struct shm_config *c = l->c;

	snprintf(l->obj, sizeof l->obj, "%.40s.%.80s", parent, name);
	int rc = check_name(l, l->obj, name);
	if (rc)
		return rc;
	if (!json_is_object(v))
		return cfail(l, l->obj, false,
			     "%s: expected an object such as {\"command\": "
			     "[\"/usr/local/bin/app\"]}",
			     l->obj);
	/* Added now; a failed load throws the whole configuration away. */
	bool full_custom = false, full_all = false;
	l->cc = config_add_custom(c, &full_custom);
	l->col = l->cc ? config_add_collector(c, &full_all) : NULL;
	if (!l->col && (full_custom || full_all))
		return cfail(l, l->obj, true,
			     "too many collectors; at most %d custom ones and %d in all",
			     CONFIG_MAX_CUSTOM, CONFIG_MAX_COLLECTORS);
	if (!l->col)
		return cfail(l, l->obj, true, "%s: out of memory", l->obj);
	l->cc->sandbox = true;
	snprintf(l->cc->name, sizeof l->cc->name, "%s", name);
	snprintf(l->col->name, sizeof l->col->name, "%s", name);
	l->col->enabled = true;
	l->seen = 0;
	return walk_one(l, v);
}

int config_custom_load(struct shm_config *c, const char *path, json_t *v, void *ctx,
		       config_fail_fn fail)
{
	struct cload l = { .c = c, .ctx = ctx, .fail = fail };
	const char *name;
	json_t *cv;

	if (!json_is_object(v))
		return bad_type(&l, path,
				"an object of custom collectors keyed by name, such as "
				"{\"myapp\": {\"external\": true}}");
	json_object_foreach(v, name, cv)
	{
		int rc = load_one(&l, path, name, cv);
		if (rc)
			return rc;
	}
	return 0;
}

int config_custom_finish(struct shm_config *c, void *ctx, config_fail_fn fail)
{
	struct cload l = { .c = c, .ctx = ctx, .fail = fail };

	for (size_t i = 0; i < c->n_custom; i++) {
		struct custom_collector_config *cc = &c->custom[i];
		struct collector_config *col = config_find_collector(c, cc->name);
		if (col == NULL)
			continue;
		if (cc->interval_ms)
			col->interval_ms = cc->interval_ms;
		if (cc->kind != CUSTOM_EXEC)
			continue;
		if (cc->timeout_ms == 0) {
			cc->timeout_ms = col->interval_ms < CUSTOM_TIMEOUT_DEFAULT_MS
					     ? col->interval_ms
					     : CUSTOM_TIMEOUT_DEFAULT_MS;
		} else if (cc->timeout_ms > col->interval_ms) {
			char path[PATH_BUF];
			snprintf(path, sizeof path, "custom_collectors.%s.timeout", cc->name);
			return cfail(&l, path, false,
				     "%s: %ums is longer than the collector's "
				     "interval (%ums); a command must end before "
				     "the next one starts",
				     path, cc->timeout_ms, col->interval_ms);
		}
	}
	return 0;
}

const struct custom_collector_config *config_find_custom(const struct shm_config *c,
							 const char *name)
{
	for (size_t i = 0; i < c->n_custom; i++)
		if (strcmp(c->custom[i].name, name) == 0)
			return &c->custom[i];
	return NULL;
}

static bool same_bytes(const char *a, size_t na, const char *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

bool config_custom_differs(const struct shm_config *a, const struct shm_config *b, const char *name)
{
	const struct custom_collector_config *x = config_find_custom(a, name);
	const struct custom_collector_config *y = config_find_custom(b, name);

	if (!x || !y)
		return x != y;
	return x->kind != y->kind || x->timeout_ms != y->timeout_ms || x->sandbox != y->sandbox ||
	       x->max_series != y->max_series || strcmp(x->user, y->user) != 0 ||
	       strcmp(x->group, y->group) != 0 || x->mode != y->mode || x->argc != y->argc ||
	       x->envc != y->envc || !same_bytes(x->args, x->args_len, y->args, y->args_len) ||
	       !same_bytes(x->env, x->env_len, y->env, y->env_len);
}
