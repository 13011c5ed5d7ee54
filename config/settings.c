/*
 * settings.c - the table of settings.def, expanded: descriptors, defaults,
 * setting a value from text and writing it back, and the command lines of the
 * children (settings.h).
 */
#include "settings.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

const struct setting_def setting_defs[SETTING_COUNT] = {
#define SETTING(id_, type_, key_, flag_, def_, lo_, hi_, roles_, help_) \
	{ .id = SETTING_##id_,                                          \
	  .type = VALUE_##type_,                                        \
	  .key = key_,                                                  \
	  .flag = flag_,                                                \
	  .default_text = def_,                                         \
	  .lo = lo_,                                                    \
	  .hi = hi_,                                                    \
	  .roles = roles_,                                              \
	  .help = help_,                                                \
	  .offset = offsetof(struct settings, id_) },
#include "settings.def"
#undef SETTING
};

static const char *const role_names[ROLE_COUNT] = {
#define ROLE(id, name) name,
#include "roles.def"
#undef ROLE
};

const char *role_name(unsigned role)
{
	for (unsigned i = 0; i < ROLE_COUNT; i++)
		if (role == 1u << i)
			return role_names[i];
	return "agent";
}

/* ---- where a value lives ---- */

static bool is_string(enum value_type t)
{
	return t == VALUE_NAME || t == VALUE_LOGLEVEL || t == VALUE_PATH || t == VALUE_FILE ||
	       t == VALUE_DIR || t == VALUE_LISTEN || t == VALUE_GROUP;
}

static void *field(struct settings *s, const struct setting_def *d)
{
	return (char *)s + d->offset;
}

static const void *cfield(const struct settings *s, const struct setting_def *d)
{
	return (const char *)s + d->offset;
}

static char **string_field(struct settings *s, const struct setting_def *d)
{
	return (char **)field(s, d);
}

static const char *string_value(const struct settings *s, const struct setting_def *d)
{
	const char *v = *(char *const *)cfield(s, d);
	return v ? v : "";
}

/* ---- one parser per type (values.h) ---- */

static int check_string(const struct setting_def *d, const char *text, char *err, size_t errlen)
{
	switch (d->type) {
	case VALUE_NAME:
		return config_check_name(text, "instance", err, errlen);
	case VALUE_LOGLEVEL:
		return config_check_log_level(text, err, errlen);
	case VALUE_PATH:
		return config_check_abs_path(text, d->default_text, err, errlen);
	case VALUE_FILE:
		return config_check_file(text, err, errlen);
	case VALUE_DIR:
		return *text ? config_check_abs_path(text, setting_example(d), err, errlen) : 0;
	case VALUE_LISTEN:
		return config_parse_listen_address(text, NULL, 0, NULL, err, errlen);
	case VALUE_GROUP:
		return config_check_group(text, err, errlen);
	default:
		return 0;
	}
}

static int set_string(struct settings *s, const struct setting_def *d, const char *text, char *err,
		      size_t errlen)
{
	int rc = check_string(d, text, err, errlen);
	if (rc)
		return rc;
	char *copy = strdup(text);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	char **slot = string_field(s, d);
	free(*slot);
	*slot = copy;
	return 0;
}

/* Parses text into the value of d's type, *without* storing it: 0 or -EINVAL. */
static int parse_scalar(const struct setting_def *d, const char *text, void *out, char *err,
			size_t errlen)
{
	switch (d->type) {
	case VALUE_DURATION:
		return config_parse_duration_range(text, d->lo, d->hi, out, err, errlen);
	case VALUE_SECONDS:
		return config_parse_seconds_range(text, d->lo, d->hi, out, err, errlen);
	case VALUE_UINT:
		return config_parse_uint_range(text, d->lo, d->hi, out, err, errlen);
	case VALUE_BOOL:
		return config_parse_bool(text, out, err, errlen);
	case VALUE_MODE:
		return config_parse_mode(text, out, err, errlen);
	default:
		return config_fail(err, errlen, "not a scalar setting");
	}
}

int setting_set(struct settings *s, const struct setting_def *d, const char *text, char *err,
		size_t errlen)
{
	int rc;

	if (is_string(d->type)) {
		rc = set_string(s, d, text, err, errlen);
	} else {
		union {
			uint32_t u;
			bool b;
			mode_t m;
		} v;
		rc = parse_scalar(d, text, &v, err, errlen);
		if (rc == 0 && d->type == VALUE_BOOL)
			*(bool *)field(s, d) = v.b;
		else if (rc == 0 && d->type == VALUE_MODE)
			*(mode_t *)field(s, d) = v.m;
		else if (rc == 0)
			*(uint32_t *)field(s, d) = v.u;
	}
	if (rc == 0)
		s->given |= UINT64_C(1) << d->id;
	return rc;
}

const char *setting_format(const struct settings *s, const struct setting_def *d, char *buf,
			   size_t n)
{
	const void *f = cfield(s, d);

	if (is_string(d->type))
		snprintf(buf, n, "%s", string_value(s, d));
	else if (d->type == VALUE_DURATION)
		config_format_duration_ms(*(const uint32_t *)f, buf, n);
	else if (d->type == VALUE_SECONDS)
		config_format_duration_ms(*(const uint32_t *)f * 1000u, buf, n);
	else if (d->type == VALUE_UINT)
		snprintf(buf, n, "%" PRIu32, *(const uint32_t *)f);
	else if (d->type == VALUE_BOOL)
		snprintf(buf, n, "%s", *(const bool *)f ? "true" : "false");
	else if (d->type == VALUE_MODE)
		snprintf(buf, n, "%04o", (unsigned)*(const mode_t *)f);
	return buf;
}

const char *setting_example(const struct setting_def *d)
{
	if (d->default_text[0])
		return d->default_text;
	switch (d->type) {
	case VALUE_GROUP:
		return "metrics";
	case VALUE_FILE:
		return "/etc/shmetrics/web.yml";
	case VALUE_DIR:
		return "/var/lib/shmetrics/remote-write";
	default:
		return "VALUE";
	}
}

/* ---- whole sets ---- */

int settings_init(struct settings *s)
{
	char err[256];

	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const struct setting_def *d = &setting_defs[i];
		/* a group default would need the group to exist: "" is never looked up */
		int rc = setting_set(s, d, d->default_text, err, sizeof err);
		if (rc < 0) {
			settings_free(s);
			return rc == -ENOMEM ? rc : -EINVAL; /* -EINVAL: settings.def is wrong */
		}
	}
	s->given = 0;
	return 0;
}

void settings_free(struct settings *s)
{
	for (size_t i = 0; i < SETTING_COUNT; i++)
		if (is_string(setting_defs[i].type)) {
			char **slot = string_field(s, &setting_defs[i]);
			free(*slot);
			*slot = NULL;
		}
}

int settings_copy(struct settings *dst, const struct settings *src)
{
	struct settings tmp = *src;

	for (size_t i = 0; i < SETTING_COUNT; i++)
		if (is_string(setting_defs[i].type))
			*string_field(&tmp, &setting_defs[i]) = NULL;
	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const struct setting_def *d = &setting_defs[i];
		if (!is_string(d->type))
			continue;
		char *copy = strdup(string_value(src, d));
		if (!copy) {
			settings_free(&tmp);
			return -ENOMEM;
		}
		*string_field(&tmp, d) = copy;
	}
	settings_free(dst);
	*dst = tmp;
	return 0;
}

bool setting_equal(const struct settings *a, const struct settings *b, const struct setting_def *d)
{
	char x[SETTING_TEXT_MAX], y[SETTING_TEXT_MAX];

	if (is_string(d->type))
		return strcmp(string_value(a, d), string_value(b, d)) == 0;
	return strcmp(setting_format(a, d, x, sizeof x), setting_format(b, d, y, sizeof y)) == 0;
}

bool settings_equal(const struct settings *a, const struct settings *b, unsigned roles)
{
	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const struct setting_def *d = &setting_defs[i];
		if ((roles == SETTINGS_ALL || (d->roles & roles)) && !setting_equal(a, b, d))
			return false;
	}
	return true;
}

const struct setting_def *setting_by_key(const char *key)
{
	for (size_t i = 0; i < SETTING_COUNT; i++)
		if (setting_defs[i].key && strcmp(setting_defs[i].key, key) == 0)
			return &setting_defs[i];
	return NULL;
}

const struct setting_def *setting_by_flag(const char *flag, size_t len)
{
	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const char *f = setting_defs[i].flag;
		if (f && strlen(f) == len && strncmp(f, flag, len) == 0)
			return &setting_defs[i];
	}
	return NULL;
}

/* ---- settings that bound one another ---- */

int settings_check(struct settings *s, const struct setting_def **bad, char *err, size_t errlen)
{
	const struct setting_def *per_ip = &setting_defs[SETTING_max_connections_per_ip];

	*bad = NULL;
	if (s->max_connections_per_ip <= s->max_connections)
		return 0;
	if (!(s->given & (UINT64_C(1) << SETTING_max_connections_per_ip))) {
		s->max_connections_per_ip = s->max_connections;
		return 0;
	}
	*bad = per_ip;
	return config_fail(err, errlen,
			   "%" PRIu32 " is out of range; expected an integer from %" PRIu32
			   " to web.max_connections (%" PRIu32 ")",
			   s->max_connections_per_ip, per_ip->lo, s->max_connections);
}

/* ---- command lines ---- */

int settings_argv(const struct settings *s, unsigned role, int (*push)(void *ctx, const char *arg),
		  void *ctx)
{
	char value[SETTING_TEXT_MAX], arg[SETTING_TEXT_MAX + 64];

	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const struct setting_def *d = &setting_defs[i];
		if (!(d->roles & role) || !d->flag)
			continue;
		snprintf(arg, sizeof arg, "%s=%s", d->flag,
			 setting_format(s, d, value, sizeof value));
		int rc = push(ctx, arg);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The setting a child's argument names: "--flag" or, for a switch, "--no-flag". */
static const struct setting_def *argv_setting(const char *name, size_t len, bool *negated)
{
	const struct setting_def *d = setting_by_flag(name, len);

	*negated = false;
	if (!d && len > 5 && strncmp(name, "--no-", 5) == 0) {
		char plain[128];
		if (len - 3 >= sizeof plain)
			return NULL;
		snprintf(plain, sizeof plain, "--%.*s", (int)(len - 5), name + 5);
		d = setting_by_flag(plain, len - 3);
		*negated = d != NULL;
		if (d && d->type != VALUE_BOOL)
			return NULL;
	}
	return d;
}

static int argv_set(struct settings *s, const struct setting_def *d, bool negated,
		    const char *value, char *err, size_t errlen)
{
	char msg[512];

	if (d->type == VALUE_BOOL && (negated || !value))
		value = negated ? "false" : "true";
	if (!value)
		return config_fail(err, errlen, "%s: needs a value; write %s=%s", d->flag, d->flag,
				   setting_example(d));
	int rc = setting_set(s, d, value, msg, sizeof msg);
	if (rc < 0)
		config_fail(err, errlen, "%s: %s", d->flag, msg);
	return rc;
}

/* One argument at argv[*i]; *i moves past a separate value. */
static int parse_one(struct settings *s, unsigned role, int argc, char *const argv[], int *i,
		     const struct settings_job *job, char *err, size_t errlen)
{
	const char *arg = argv[*i], *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const char *value = eq ? eq + 1 : NULL;
	char name[256];
	bool negated;

	if (strncmp(arg, "--", 2) != 0 || len >= sizeof name)
		return config_fail(err, errlen, "unexpected argument \"%.200s\"", arg);
	snprintf(name, sizeof name, "%.*s", (int)len, arg);
	const struct setting_def *d = argv_setting(name, len, &negated);
	if (d && !(d->roles & role))
		return config_fail(err, errlen, "%s is not a setting of the %s", name,
				   role_name(role));
	bool wants = d ? d->type != VALUE_BOOL
		       : job && job->takes_value && job->takes_value(job->ctx, arg, len);
	if (!value && wants && *i + 1 < argc)
		value = argv[++*i];
	if (d)
		return argv_set(s, d, negated, value, err, errlen);
	int rc = job ? job->take(job->ctx, arg, len, value, err, errlen) : 0;
	if (rc == 0)
		return config_fail(err, errlen, "unknown flag %s", name);
	return rc < 0 ? rc : 0;
}

int settings_parse_argv(struct settings *s, unsigned role, int argc, char *const argv[],
			const struct settings_job *job, char *err, size_t errlen)
{
	const struct setting_def *bad;

	s->given = 0;
	for (int i = 1; i < argc; i++) {
		int rc = parse_one(s, role, argc, argv, &i, job, err, errlen);
		if (rc < 0)
			return rc;
	}
	char msg[256];
	if (settings_check(s, &bad, msg, sizeof msg) < 0)
		return config_fail(err, errlen, "%s: %s", bad->flag, msg);
	return 0;
}

/* ---- --help ---- */

static const char *metavar(enum value_type t)
{
	static const char *const names[] = {
		[VALUE_NAME] = "NAME",
		[VALUE_LOGLEVEL] = "LEVEL",
		[VALUE_DURATION] = "DURATION",
		[VALUE_SECONDS] = "DURATION",
		[VALUE_UINT] = "N",
		[VALUE_BOOL] = NULL,
		[VALUE_PATH] = "PATH",
		[VALUE_FILE] = "FILE",
		[VALUE_DIR] = "DIR",
		[VALUE_LISTEN] = "HOST:PORT",
		[VALUE_MODE] = "MODE",
		[VALUE_GROUP] = "GROUP",
	};
	return names[t];
}

void settings_usage(FILE *f, int width, unsigned roles)
{
	char left[160];

	for (size_t i = 0; i < SETTING_COUNT; i++) {
		const struct setting_def *d = &setting_defs[i];
		const char *mv = metavar(d->type);
		if (!d->flag || (roles != SETTINGS_ALL && !(d->roles & roles)))
			continue;
		if (mv)
			snprintf(left, sizeof left, "%s=%s", d->flag, mv);
		else
			snprintf(left, sizeof left, "%s, --no-%s", d->flag, d->flag + 2);
		fprintf(f, "  %-*s %s (default \"%s\")\n", width, left, d->help, d->default_text);
	}
}
