/*
 * load.c - JSON text to struct shm_config, with messages that point at the line
 * and column of the offending key or value.
 *
 * jansson checks the syntax (and rejects duplicate keys); the position index
 * (pos.c) supplies positions for everything jansson accepted but we do not.
 * Everything is read into a private copy that replaces *out only on success.
 */
#include "config_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_BUF 256
#define MSG_BUF  512

enum at { AT_KEY, AT_VALUE };

struct loader {
	const char *source;
	struct config_pos_index pos;
	struct shm_config *cfg;
	bool interval_set[CONFIG_MAX_COLLECTORS];
	bool per_ip_set;
	size_t cur; /* the collector whose object is being read */
	char *err;
	size_t errlen;
};

typedef int (*key_fn)(struct loader *ld, const char *path, json_t *v);

struct key_rule {
	const char *key;
	key_fn fn;
};

static int fail(struct loader *ld, const char *path, enum at at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct loader *ld, const char *path, enum at at, const char *fmt, ...)
{
	const struct config_pos *p = config_pos_find_nearest(&ld->pos, path);
	int line = 1, col = 1;
	if (p && at == AT_KEY && p->key_line > 0) {
		line = p->key_line;
		col = p->key_col;
	} else if (p) {
		line = p->val_line;
		col = p->val_col;
	}
	if (ld->err && ld->errlen) {
		va_list ap;
		snprintf(ld->err, ld->errlen, "%s:%d:%d: ", ld->source, line, col);
		size_t used = strlen(ld->err);
		va_start(ap, fmt);
		vsnprintf(ld->err + used, ld->errlen - used, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		break;
	}
	return "null";
}

static int wrong_type(struct loader *ld, const char *path, const json_t *v, const char *want)
{
	return fail(ld, path, AT_VALUE, "%s: expected %s, found %s", path, want, type_name(v));
}

/* Runs a validator that writes an unprefixed message, and positions its failure. */
static int checked(struct loader *ld, const char *path, int rc, const char *msg)
{
	return rc ? fail(ld, path, AT_VALUE, "%s: %s", path, msg) : 0;
}

static int want_string(struct loader *ld, const char *path, json_t *v, const char **out)
{
	if (!json_is_string(v))
		return wrong_type(ld, path, v, "a string");
	*out = json_string_value(v);
	return 0;
}

static int want_uint(struct loader *ld, const char *path, json_t *v, uint32_t lo, uint32_t hi,
		     uint32_t *out)
{
	char msg[MSG_BUF];
	if (!json_is_integer(v))
		return wrong_type(ld, path, v, "an integer");
	json_int_t n = json_integer_value(v);
	int rc = config_check_uint_range((long long)n, lo, hi, msg, sizeof msg);
	if (!rc)
		*out = (uint32_t)n;
	return checked(ld, path, rc, msg);
}

static int want_duration(struct loader *ld, const char *path, json_t *v, uint32_t *ms)
{
	char msg[MSG_BUF];
	if (json_is_number(v))
		return fail(
		    ld, path, AT_VALUE,
		    "%s: expected a duration string, found a bare number; write e.g. \"5s\"", path);
	if (!json_is_string(v))
		return wrong_type(ld, path, v, "a duration string such as \"5s\"");
	int rc = config_parse_duration_range(json_string_value(v), CONFIG_INTERVAL_MIN_MS,
					     CONFIG_INTERVAL_MAX_MS, ms, msg, sizeof msg);
	return checked(ld, path, rc, msg);
}

static int copy_string(char *dst, size_t n, const char *s)
{
	size_t len = strlen(s);
	if (len >= n)
		return -ENAMETOOLONG;
	memcpy(dst, s, len + 1);
	return 0;
}

/* "parent.key" into buf[PATH_BUF]; a path too long for messages is cut short. */
static void join_path(char *buf, const char *parent, const char *key)
{
	size_t n = 0;
	for (const char *p = parent; *p && n < PATH_BUF - 1; p++)
		buf[n++] = *p;
	if (*parent && n < PATH_BUF - 1)
		buf[n++] = '.';
	for (const char *p = key; *p && n < PATH_BUF - 1; p++)
		buf[n++] = *p;
	buf[n] = '\0';
}

static int unknown_key_among(struct loader *ld, const char *parent, const char *key,
			     const char *const *names, size_t n)
{
	char q[200], where[PATH_BUF + 8], list[MSG_BUF], path[PATH_BUF];
	snprintf(where, sizeof where, "%s%s", *parent ? "in " : "at the top level", parent);
	join_path(path, parent, key);
	config_quote(q, sizeof q, key);
	const char *near = config_suggest(key, names, n);
	if (near)
		return fail(ld, path, AT_KEY, "unknown key %s %s; did you mean \"%s\"?", q, where,
			    near);
	config_join_names(list, sizeof list, names, n);
	return fail(ld, path, AT_KEY, "unknown key %s %s; valid keys are %s", q, where, list);
}

static int unknown_key(struct loader *ld, const char *parent, const char *key,
		       const struct key_rule *rules, size_t n)
{
	const char *names[16];
	n = n < 16 ? n : 16;
	for (size_t k = 0; k < n; k++)
		names[k] = rules[k].key;
	return unknown_key_among(ld, parent, key, names, n);
}

static const struct key_rule *find_rule(const struct key_rule *rules, size_t n, const char *key)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(rules[k].key, key) == 0)
			return &rules[k];
	return NULL;
}

static int walk(struct loader *ld, const char *parent, json_t *obj, const struct key_rule *rules,
		size_t n)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		const struct key_rule *r = find_rule(rules, n, key);
		if (!r)
			return unknown_key(ld, parent, key, rules, n);
		char path[PATH_BUF];
		join_path(path, parent, key);
		int rc = r->fn(ld, path, v);
		if (rc)
			return rc;
	}
	return 0;
}

#define WALK(ld, path, v, rules) walk(ld, path, v, rules, sizeof rules / sizeof rules[0])

/* ---- top level ---- */

static int on_instance(struct loader *ld, const char *path, json_t *v)
{
	char msg[MSG_BUF];
	const char *s = "";
	int rc = want_string(ld, path, v, &s);
	if (rc)
		return rc;
	rc = checked(ld, path, config_check_instance(s, msg, sizeof msg), msg);
	return rc ? rc : copy_string(ld->cfg->instance, sizeof ld->cfg->instance, s);
}

static int on_log_level(struct loader *ld, const char *path, json_t *v)
{
	char msg[MSG_BUF];
	const char *s = "";
	int rc = want_string(ld, path, v, &s);
	if (rc)
		return rc;
	rc = checked(ld, path, config_check_log_level(s, msg, sizeof msg), msg);
	return rc ? rc : copy_string(ld->cfg->log_level, sizeof ld->cfg->log_level, s);
}

static int on_interval(struct loader *ld, const char *path, json_t *v)
{
	return want_duration(ld, path, v, &ld->cfg->default_interval_ms);
}

static int on_staleness(struct loader *ld, const char *path, json_t *v)
{
	return want_uint(ld, path, v, CONFIG_STALENESS_MIN, CONFIG_STALENESS_MAX,
			 &ld->cfg->staleness_intervals);
}

/* ---- paths ---- */

static int want_abs_path(struct loader *ld, const char *path, json_t *v, char *dst,
			 const char *example)
{
	char msg[MSG_BUF];
	const char *s = "";
	int rc = want_string(ld, path, v, &s);
	if (rc)
		return rc;
	rc = checked(ld, path, config_check_abs_path(s, example, msg, sizeof msg), msg);
	return rc ? rc : copy_string(dst, PATH_MAX, s);
}

static int on_procfs(struct loader *ld, const char *path, json_t *v)
{
	return want_abs_path(ld, path, v, ld->cfg->procfs, "/proc");
}

static int on_sysfs(struct loader *ld, const char *path, json_t *v)
{
	return want_abs_path(ld, path, v, ld->cfg->sysfs, "/sys");
}

static int on_rootfs(struct loader *ld, const char *path, json_t *v)
{
	return want_abs_path(ld, path, v, ld->cfg->rootfs, "/");
}

static int on_udev_data(struct loader *ld, const char *path, json_t *v)
{
	return want_abs_path(ld, path, v, ld->cfg->udev_data, "/run/udev/data");
}

static const struct key_rule path_rules[] = {
	{ "procfs", on_procfs },
	{ "sysfs", on_sysfs },
	{ "rootfs", on_rootfs },
	{ "udev_data", on_udev_data },
};

static int on_paths(struct loader *ld, const char *path, json_t *v)
{
	return json_is_object(v) ? WALK(ld, path, v, path_rules)
				 : wrong_type(ld, path, v, "an object");
}

/* ---- web ---- */

static int on_listen_address(struct loader *ld, const char *path, json_t *v)
{
	char msg[MSG_BUF];
	const char *s = "";
	int rc = want_string(ld, path, v, &s);
	if (rc)
		return rc;
	rc = checked(ld, path, config_check_listen_address(s, msg, sizeof msg), msg);
	return rc ? rc : copy_string(ld->cfg->web.listen_address, CONFIG_ADDR_MAX, s);
}

static int on_timeout(struct loader *ld, const char *path, json_t *v)
{
	char msg[MSG_BUF];
	if (json_is_number(v))
		return fail(
		    ld, path, AT_VALUE,
		    "%s: expected a duration string, found a bare number; write e.g. \"10s\"",
		    path);
	if (!json_is_string(v))
		return wrong_type(ld, path, v, "a duration string such as \"10s\"");
	int rc = config_parse_timeout_s(json_string_value(v), &ld->cfg->web.connection_timeout_s,
					msg, sizeof msg);
	return checked(ld, path, rc, msg);
}

static int on_max_connections(struct loader *ld, const char *path, json_t *v)
{
	return want_uint(ld, path, v, 1, CONFIG_MAX_CONNECTIONS_MAX, &ld->cfg->web.max_connections);
}

static int on_per_ip(struct loader *ld, const char *path, json_t *v)
{
	ld->per_ip_set = true;
	return want_uint(ld, path, v, 1, CONFIG_MAX_CONNECTIONS_MAX,
			 &ld->cfg->web.max_connections_per_ip);
}

static int on_threads(struct loader *ld, const char *path, json_t *v)
{
	return want_uint(ld, path, v, 1, CONFIG_THREADS_MAX, &ld->cfg->web.threads);
}

static int on_web_config_file(struct loader *ld, const char *path, json_t *v)
{
	const char *s = "";
	int rc = want_string(ld, path, v, &s);
	return rc ? rc : copy_string(ld->cfg->web.config_file, PATH_MAX, s);
}

static int on_openmetrics(struct loader *ld, const char *path, json_t *v)
{
	if (!json_is_boolean(v))
		return wrong_type(ld, path, v, "true or false");
	ld->cfg->web.openmetrics = json_is_true(v);
	return 0;
}

static const struct key_rule web_rules[] = {
	{ "listen_address", on_listen_address },
	{ "config_file", on_web_config_file },
	{ "openmetrics", on_openmetrics },
	{ "connection_timeout", on_timeout },
	{ "max_connections", on_max_connections },
	{ "max_connections_per_ip", on_per_ip },
	{ "threads", on_threads },
};

/* The per-IP limit cannot exceed the total; an unset one follows a smaller total. */
static int check_per_ip(struct loader *ld, const char *path)
{
	struct web_config *w = &ld->cfg->web;
	char p[PATH_BUF];
	if (w->max_connections_per_ip <= w->max_connections)
		return 0;
	if (!ld->per_ip_set) {
		w->max_connections_per_ip = w->max_connections;
		return 0;
	}
	join_path(p, path, "max_connections_per_ip");
	return fail(
	    ld, p, AT_VALUE,
	    "%s: %u is out of range; expected an integer from 1 to web.max_connections (%u)", p,
	    w->max_connections_per_ip, w->max_connections);
}

static int on_web(struct loader *ld, const char *path, json_t *v)
{
	if (!json_is_object(v))
		return wrong_type(ld, path, v, "an object");
	int rc = WALK(ld, path, v, web_rules);
	return rc ? rc : check_per_ip(ld, path);
}

/* ---- segments ---- */

static int on_mode(struct loader *ld, const char *path, json_t *v)
{
	char msg[MSG_BUF];
	if (json_is_integer(v))
		return fail(
		    ld, path, AT_VALUE,
		    "%s: expected an octal string such as \"0640\", found an integer (JSON has no octal numbers)",
		    path);
	if (!json_is_string(v))
		return wrong_type(ld, path, v, "an octal string such as \"0640\"");
	int rc = config_parse_mode(json_string_value(v), &ld->cfg->segments.mode, msg, sizeof msg);
	return checked(ld, path, rc, msg);
}

static int on_group(struct loader *ld, const char *path, json_t *v)
{
	char msg[MSG_BUF];
	const char *s = "";
	int rc = want_string(ld, path, v, &s);
	if (rc)
		return rc;
	rc = checked(ld, path, config_check_group(s, msg, sizeof msg), msg);
	return rc ? rc : copy_string(ld->cfg->segments.group, CONFIG_NAME_MAX, s);
}

static int on_max_series(struct loader *ld, const char *path, json_t *v)
{
	return want_uint(ld, path, v, 1, CONFIG_MAX_SERIES_MAX, &ld->cfg->segments.max_series);
}

static const struct key_rule segment_rules[] = {
	{ "mode", on_mode },
	{ "group", on_group },
	{ "max_series", on_max_series },
};

static int on_segments(struct loader *ld, const char *path, json_t *v)
{
	return json_is_object(v) ? WALK(ld, path, v, segment_rules)
				 : wrong_type(ld, path, v, "an object");
}

/* ---- collectors ---- */

static int on_enabled(struct loader *ld, const char *path, json_t *v)
{
	if (!json_is_boolean(v))
		return wrong_type(ld, path, v, "true or false");
	ld->cfg->collectors[ld->cur].enabled = json_is_true(v);
	return 0;
}

static int on_collector_interval(struct loader *ld, const char *path, json_t *v)
{
	ld->interval_set[ld->cur] = true;
	return want_duration(ld, path, v, &ld->cfg->collectors[ld->cur].interval_ms);
}

static int on_isolated(struct loader *ld, const char *path, json_t *v)
{
	if (!json_is_boolean(v))
		return wrong_type(ld, path, v, "true or false");
	ld->cfg->collectors[ld->cur].isolated = json_is_true(v);
	return 0;
}

static const struct key_rule collector_rules[] = {
	{ "enabled", on_enabled },
	{ "interval", on_collector_interval },
	{ "isolated", on_isolated },
};

/* A LIST option's array of strings, joined with '\n' into buf. */
static int option_list(struct loader *ld, const char *path, json_t *v, char *buf, size_t len,
		       const char **out)
{
	size_t i, o = 0;
	json_t *item;
	buf[0] = '\0';
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item))
			return wrong_type(ld, path, item, "an array of strings");
		const char *s = json_string_value(item);
		int n = snprintf(buf + o, len - o, "%s%s", o ? "\n" : "", s);
		if (n < 0 || (size_t)n >= len - o || strchr(s, '\n'))
			return fail(
			    ld, path, AT_VALUE,
			    "%s: entries must be one line each and %zu bytes together at most",
			    path, len - 1);
		o += (size_t)n;
	}
	*out = buf;
	return 0;
}

/* The option's value as a string (bools are JSON true/false, lists arrays of strings or
 * one string, everything else a string). */
static int option_text(struct loader *ld, const char *path, json_t *v,
		       const struct collector_option_def *d, char *buf, size_t len,
		       const char **out)
{
	if (d->type == OPTION_LIST && json_is_array(v))
		return option_list(ld, path, v, buf, len, out);
	if (d->type == OPTION_BOOL) {
		if (!json_is_boolean(v))
			return wrong_type(ld, path, v, "true or false");
		*out = json_is_true(v) ? "true" : "false";
		return 0;
	}
	return want_string(ld, path, v, out);
}

static int on_option(struct loader *ld, const char *parent, const char *collector, const char *key,
		     json_t *v)
{
	char path[PATH_BUF], msg[MSG_BUF] = "";
	const struct collector_option_def *d = config_option_def(collector, key);
	const char *text = "";
	char list[CONFIG_OPTION_VALUE_MAX];
	join_path(path, parent, key);
	int rc = option_text(ld, path, v, d, list, sizeof list, &text);
	if (rc)
		return rc;
	rc = config_set_collector_option(ld->cfg, collector, key, text, msg, sizeof msg);
	return checked(ld, path, rc, msg);
}

#define N_COLLECTOR_RULES (sizeof collector_rules / sizeof collector_rules[0])

/* A collector's object: "enabled", "interval", "isolated" and the collector's own options. */
static int walk_collector(struct loader *ld, const char *path, const char *name, json_t *obj)
{
	const char *names[48], *key;
	json_t *v;
	size_t n = 0;
	for (size_t k = 0; k < sizeof collector_rules / sizeof collector_rules[0]; k++)
		names[n++] = collector_rules[k].key;
	n += config_option_keys(name, names + n, sizeof names / sizeof names[0] - n);
	json_object_foreach(obj, key, v)
	{
		const struct key_rule *r = find_rule(collector_rules, N_COLLECTOR_RULES, key);
		char kpath[PATH_BUF];
		int rc;
		join_path(kpath, path, key);
		if (config_option_def(name, key) != NULL)
			rc = on_option(ld, path, name, key, v);
		else if (r != NULL)
			rc = r->fn(ld, kpath, v);
		else
			rc = unknown_key_among(ld, path, key, names, n);
		if (rc)
			return rc;
	}
	return 0;
}

static int on_one_collector(struct loader *ld, const char *parent, const char *name, json_t *v)
{
	char path[PATH_BUF], msg[MSG_BUF] = "";
	join_path(path, parent, name);
	struct collector_config *cc = config_find_collector(ld->cfg, name);
	if (!cc || !config_is_builtin_collector(name)) { /* custom ones: custom_collectors */
		config_unknown_collector(name, " in collectors", msg, sizeof msg);
		return fail(ld, path, AT_KEY, "%s", msg);
	}
	if (!json_is_object(v))
		return fail(
		    ld, path, AT_VALUE,
		    "%s: expected an object such as {\"enabled\": true, \"interval\": \"5s\"}, found %s",
		    path, type_name(v));
	ld->cur = (size_t)(cc - ld->cfg->collectors);
	return walk_collector(ld, path, name, v);
}

static int on_collectors(struct loader *ld, const char *path, json_t *v)
{
	const char *name;
	json_t *cv;
	if (!json_is_object(v))
		return wrong_type(ld, path, v, "an object");
	json_object_foreach(v, name, cv)
	{
		int rc = on_one_collector(ld, path, name, cv);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- custom collectors (custom.c) ---- */

static int custom_fail(void *ctx, const char *path, bool at_key, const char *msg)
{
	return fail(ctx, path, at_key ? AT_KEY : AT_VALUE, "%s", msg);
}

static int on_custom_collectors(struct loader *ld, const char *path, json_t *v)
{
	return config_custom_load(ld->cfg, path, v, ld, custom_fail);
}

static const struct key_rule top_rules[] = {
	{ "instance", on_instance },
	{ "log_level", on_log_level },
	{ "interval", on_interval },
	{ "staleness_intervals", on_staleness },
	{ "paths", on_paths },
	{ "web", on_web },
	{ "segments", on_segments },
	{ "collectors", on_collectors },
	{ "custom_collectors", on_custom_collectors },
};

/* ---- loading ---- */

static int syntax_error(const char *source, const json_error_t *je, char *err, size_t errlen)
{
	const char *hint = json_error_code(je) == json_error_duplicate_key
			       ? "; each key may appear only once in an object"
			       : "";
	if (!err || !errlen)
		return -EINVAL;
	/* jansson says column 0 before it has read a character (an empty file). */
	if (je->line > 0)
		snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s%s", source, je->line,
			 je->column > 0 ? je->column : 1, je->text, hint);
	else
		snprintf(err, errlen, "%s: invalid JSON: %s%s", source, je->text, hint);
	return -EINVAL;
}

static int apply_root(struct loader *ld, json_t *root)
{
	if (!json_is_object(root))
		return fail(
		    ld, "", AT_VALUE,
		    "expected a JSON object at the top level, found %s; write e.g. {\"log_level\": \"info\"}",
		    type_name(root));
	int rc = WALK(ld, "", root, top_rules);
	if (rc)
		return rc;
	for (size_t k = 0; k < ld->cfg->n_collectors; k++)
		if (!ld->interval_set[k])
			ld->cfg->collectors[k].interval_ms = ld->cfg->default_interval_ms;
	return config_custom_finish(ld->cfg, ld, custom_fail);
}

static int load_buffer(struct shm_config *out, const char *text, size_t len, const char *source,
		       char *err, size_t errlen)
{
	json_error_t je;
	struct loader ld = { .source = source, .err = err, .errlen = errlen };
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return syntax_error(source, &je, err, errlen);
	int rc = -ENOMEM;
	ld.cfg = malloc(sizeof *ld.cfg);
	if (!ld.cfg || config_pos_build(&ld.pos, text, len) != 0) {
		snprintf(err, errlen, "%s: out of memory", source);
		goto out;
	}
	config_set_defaults(ld.cfg);
	snprintf(ld.cfg->source, sizeof ld.cfg->source, "%s", source);
	rc = apply_root(&ld, root);
	if (rc == -ENAMETOOLONG)
		snprintf(err, errlen, "%s: a value is too long", source);
	if (!rc)
		memcpy(out, ld.cfg, sizeof *out);
out:
	config_pos_free(&ld.pos);
	free(ld.cfg);
	json_decref(root);
	return rc;
}

int config_load_string(struct shm_config *out, const char *text, const char *source, char *err,
		       size_t errlen)
{
	if (!source)
		source = "<string>";
	if (!text) {
		snprintf(err, errlen, "%s: no configuration text", source);
		return -EINVAL;
	}
	return load_buffer(out, text, strlen(text), source, err, errlen);
}

int config_load_default(struct shm_config *out, char *err, size_t errlen)
{
	return config_load_string(out, config_default_json, "<embedded default>", err, errlen);
}

/* Reads the whole file into a malloc'd buffer; -errno with the message in err. */
static int read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "open(\"%s\") failed: %s", path, strerror(e));
		return -e;
	}
	int rc = 0;
	size_t used = 0;
	char *buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + used, CONFIG_FILE_MAX + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "read(\"%s\") failed: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > CONFIG_FILE_MAX) {
			rc = -EFBIG;
			snprintf(err, errlen,
				 "%s: larger than %d bytes; is this the configuration file?", path,
				 CONFIG_FILE_MAX);
			goto out;
		}
	}
	buf[used] = '\0';
	*text = buf;
	*len = used;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

int config_load_file(struct shm_config *out, const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	if (!path) {
		snprintf(err, errlen, "no configuration file given");
		return -EINVAL;
	}
	int rc = read_file(path, &text, &len, err, errlen);
	if (rc)
		return rc;
	rc = load_buffer(out, text, len, path, err, errlen);
	free(text);
	return rc;
}
