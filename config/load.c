/*
 * load.c - JSON text to struct shm_config, with messages that point at the line
 * and column of the offending key or value.
 *
 * jansson checks the syntax (and rejects duplicate keys); the position index
 * (pos.c) supplies positions for everything jansson accepted but we do not.
 * The keys of the settings come from settings.def: a key is a setting, or an
 * object on the way to some (web, paths, ...), or "collectors" or
 * "custom_collectors", or unknown.  Everything is read into a private copy
 * that replaces *out only on success.
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
	size_t cur; /* the collector whose object is being read */
	char *err;
	size_t errlen;
};

typedef int (*key_fn)(struct loader *ld, const char *path, json_t *v);

struct key_rule {
	const char *key;
	key_fn fn;
};

static int failv(struct loader *ld, const char *path, enum at at, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* "SOURCE:LINE:COLUMN: " of path's key or value, then the message. */
static int failv(struct loader *ld, const char *path, enum at at, const char *fmt, va_list ap)
{
	const struct config_pos *p = config_pos_find_nearest(&ld->pos, path);
	char prefix[PATH_MAX + 64];
	int line = 1, col = 1;
	if (p && at == AT_KEY && p->key_line > 0) {
		line = p->key_line;
		col = p->key_col;
	} else if (p) {
		line = p->val_line;
		col = p->val_col;
	}
	snprintf(prefix, sizeof prefix, "%s:%d:%d: ", ld->source, line, col);
	return config_failv(ld->err, ld->errlen, prefix, fmt, ap);
}

static int fail(struct loader *ld, const char *path, enum at at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct loader *ld, const char *path, enum at at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int rc = failv(ld, path, at, fmt, ap);
	va_end(ap);
	return rc;
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

/* ---- the settings of settings.def ---- */

/* The value of d as the text its parser reads, from the JSON type d's type is
 * written in: integers for UINT, booleans for BOOL, strings for the rest. */
static int setting_text(struct loader *ld, const char *path, const struct setting_def *d, json_t *v,
			char *buf, size_t n, const char **text)
{
	switch (d->type) {
	case VALUE_UINT:
		if (!json_is_integer(v))
			return wrong_type(ld, path, v, "an integer");
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
		*text = buf;
		return 0;
	case VALUE_BOOL:
		if (!json_is_boolean(v))
			return wrong_type(ld, path, v, "true or false");
		*text = json_is_true(v) ? "true" : "false";
		return 0;
	case VALUE_DURATION:
	case VALUE_SECONDS:
		if (json_is_number(v))
			return fail(ld, path, AT_VALUE,
				    "%s: expected a duration string, found a bare number; write "
				    "e.g. \"%s\"",
				    path, d->default_text);
		if (!json_is_string(v))
			return fail(ld, path, AT_VALUE,
				    "%s: expected a duration string such as \"%s\", found %s", path,
				    d->default_text, type_name(v));
		break;
	case VALUE_MODE:
		if (json_is_integer(v))
			return fail(ld, path, AT_VALUE,
				    "%s: expected an octal string such as \"%s\", found an integer "
				    "(JSON has no octal numbers)",
				    path, d->default_text);
		if (!json_is_string(v))
			return fail(ld, path, AT_VALUE,
				    "%s: expected an octal string such as "
				    "\"%s\", found %s",
				    path, d->default_text, type_name(v));
		break;
	default:
		if (!json_is_string(v))
			return wrong_type(ld, path, v, "a string");
		break;
	}
	*text = json_string_value(v);
	return 0;
}

static int on_setting(struct loader *ld, const char *path, const struct setting_def *d, json_t *v)
{
	char buf[32], msg[MSG_BUF] = "";
	const char *text = "";
	int rc = setting_text(ld, path, d, v, buf, sizeof buf, &text);

	if (rc)
		return rc;
	rc = setting_set(&ld->cfg->set, d, text, msg, sizeof msg);
	if (rc == -ENOMEM)
		snprintf(ld->err, ld->errlen, "%s: out of memory", ld->source);
	return rc == -EINVAL ? checked(ld, path, rc, msg) : rc;
}

/* True when path is an object on the way to some setting ("web"). */
static bool is_section(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const char *k = setting_defs[i].key;
		if (k && strncmp(k, path, n) == 0 && k[n] == '.')
			return true;
	}
	return false;
}

/* The keys an object at parent may have, in table order (at most max). */
static size_t keys_at(const char *parent, const char **names, size_t max)
{
	static char words[SETTING_COUNT][64];
	size_t n = 0, plen = strlen(parent);

	for (size_t i = 0; i < SETTING_COUNT && n < max; i++) {
		const char *k = setting_defs[i].key;
		if (!k || (plen && (strncmp(k, parent, plen) != 0 || k[plen] != '.')))
			continue;
		const char *rest = plen ? k + plen + 1 : k;
		snprintf(words[n], sizeof words[n], "%.*s", (int)strcspn(rest, "."), rest);
		bool seen = false;
		for (size_t j = 0; j < n && !seen; j++)
			seen = strcmp(names[j], words[n]) == 0;
		if (!seen) {
			names[n] = words[n];
			n++;
		}
	}
	return n;
}

static int on_collectors(struct loader *ld, const char *path, json_t *v);
static int on_custom_collectors(struct loader *ld, const char *path, json_t *v);
static int on_remote_write(struct loader *ld, const char *path, json_t *v);

/* Keys of the top level that are not settings. */
static const struct key_rule top_rules[] = {
	{ "collectors", on_collectors },
	{ "custom_collectors", on_custom_collectors },
	{ "remote_write", on_remote_write },
};
#define N_TOP_RULES (sizeof top_rules / sizeof top_rules[0])

static int unknown_key(struct loader *ld, const char *parent, const char *key)
{
	const char *names[SETTING_COUNT + N_TOP_RULES];
	size_t n = keys_at(parent, names, SETTING_COUNT);

	for (size_t k = 0; !*parent && k < N_TOP_RULES; k++)
		names[n++] = top_rules[k].key;
	return unknown_key_among(ld, parent, key, names, n);
}

static int walk(struct loader *ld, const char *parent, json_t *obj);

static int on_key(struct loader *ld, const char *parent, const char *key, json_t *v)
{
	char path[PATH_BUF];
	const struct setting_def *d;

	join_path(path, parent, key);
	for (size_t k = 0; !*parent && k < N_TOP_RULES; k++)
		if (strcmp(top_rules[k].key, key) == 0)
			return top_rules[k].fn(ld, path, v);
	if ((d = setting_by_key(path)) != NULL)
		return on_setting(ld, path, d, v);
	if (!is_section(path))
		return unknown_key(ld, parent, key);
	return json_is_object(v) ? walk(ld, path, v) : wrong_type(ld, path, v, "an object");
}

static int walk(struct loader *ld, const char *parent, json_t *obj)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		int rc = on_key(ld, parent, key, v);
		if (rc)
			return rc;
	}
	return 0;
}

/* Settings that bound one another, once the whole file is read. */
static int check_settings(struct loader *ld)
{
	const struct setting_def *bad;
	char msg[MSG_BUF];

	if (settings_check(&ld->cfg->set, &bad, msg, sizeof msg) == 0)
		return 0;
	return fail(ld, bad->key, AT_VALUE, "%s: %s", bad->key, msg);
}

/* ---- collectors ---- */

static const struct key_rule *find_rule(const struct key_rule *rules, size_t n, const char *key)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(rules[k].key, key) == 0)
			return &rules[k];
	return NULL;
}

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
 * one string, whole numbers a JSON number or a string, everything else a string). */
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
	if (d->type == OPTION_UINT && json_is_integer(v)) {
		/* Written as a number; checked as text like every other value. */
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		*out = buf;
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

static int custom_fail(void *ctx, const char *path, bool at_key, const char *fmt, va_list ap)
{
	return failv(ctx, path, at_key ? AT_KEY : AT_VALUE, fmt, ap);
}

static int on_custom_collectors(struct loader *ld, const char *path, json_t *v)
{
	return config_custom_load(ld->cfg, path, v, ld, custom_fail);
}

/* ---- remote write (remote_write.c) ---- */

static int on_remote_write(struct loader *ld, const char *path, json_t *v)
{
	return config_remote_write_load(ld->cfg, path, v, ld, custom_fail);
}

/* ---- loading ---- */

/*
 * jansson ends its reasons with the token it stopped at ("near 'x'").  That is
 * a key for a duplicate key, and is kept; otherwise it is whatever the file
 * holds there, and the file may not be a configuration at all but a secret
 * given by mistake: the line and column say where, the token is left out.
 */
static int syntax_error(const char *source, const json_error_t *je, char *err, size_t errlen)
{
	bool duplicate = json_error_code(je) == json_error_duplicate_key;
	const char *hint = duplicate ? "; each key may appear only once in an object" : "";
	const char *near = duplicate ? NULL : strstr(je->text, " near '");
	int len = near ? (int)(near - je->text) : (int)strlen(je->text);

	if (!err || !errlen)
		return -EINVAL;
	/* jansson says column 0 before it has read a character (an empty file). */
	if (je->line > 0)
		snprintf(err, errlen, "%s:%d:%d: invalid JSON: %.*s%s", source, je->line,
			 je->column > 0 ? je->column : 1, len, je->text, hint);
	else
		snprintf(err, errlen, "%s: invalid JSON: %.*s%s", source, len, je->text, hint);
	return -EINVAL;
}

static int apply_root(struct loader *ld, json_t *root)
{
	if (!json_is_object(root))
		return fail(
		    ld, "", AT_VALUE,
		    "expected a JSON object at the top level, found %s; write e.g. {\"log_level\": \"info\"}",
		    type_name(root));
	int rc = walk(ld, "", root);
	if (rc == 0)
		rc = check_settings(ld);
	if (rc)
		return rc;
	for (size_t k = 0; k < ld->cfg->n_collectors; k++)
		if (!ld->interval_set[k])
			ld->cfg->collectors[k].interval_ms = ld->cfg->set.interval_ms;
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
	if (!ld.cfg || config_init(ld.cfg) < 0) {
		free(ld.cfg);
		ld.cfg = NULL;
	}
	if (!ld.cfg || config_pos_build(&ld.pos, text, len) != 0) {
		snprintf(err, errlen, "%s: out of memory", source);
		goto out;
	}
	rc = config_set_source(ld.cfg, source) < 0 ? -ENOMEM : apply_root(&ld, root);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", source);
	if (!rc) { /* *out takes what ld.cfg holds */
		config_free(out);
		memcpy(out, ld.cfg, sizeof *out);
		memset(ld.cfg, 0, sizeof *ld.cfg);
	}
out:
	if (ld.cfg)
		config_free(ld.cfg);
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
