/*
 * settings.h - the contract between the agent and its children: every setting,
 * from one table (settings.def), and the collectors and their options (from
 * collectors/list.def and collectors/options.def).
 *
 * From the table come the fields of struct settings, their defaults, the JSON
 * keys the agent's loader accepts, the agent's flags and --help, and the
 * command line of each child: the agent writes "--flag=value" for every setting
 * of the child's role (settings_argv) and the child reads them back with the
 * same parsers (settings_parse_argv), refusing any other setting.  What else a
 * child's command line says is its job (which collectors, which segments),
 * parsed by the child itself through the same job callback.
 *
 * This part of config/ has no JSON in it: the children link it without
 * jansson.  Nothing here logs or exits.
 */
#ifndef SHMETRICS_CONFIG_SETTINGS_H
#define SHMETRICS_CONFIG_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "values.h"

/* ---- roles (roles.def) ---- */

enum role_index {
#define ROLE(id, name) ROLE_INDEX_##id,
#include "roles.def"
#undef ROLE
	ROLE_COUNT
};

/* Which children get a setting: bits of role_index; R_AGENT is none of them. */
enum role_bits {
	R_AGENT = 0,
#define ROLE(id, name) R_##id = 1u << ROLE_INDEX_##id,
#include "roles.def"
#undef ROLE
	R_CHILDREN = (1u << ROLE_COUNT) - 1,
};
_Static_assert(ROLE_COUNT <= 8, "role masks are 8 bits");

/* For settings_equal and settings_usage: every setting, the agent's own too. */
#define SETTINGS_ALL 0xffffffffu

/* "collector", "exporter": for messages. */
const char *role_name(unsigned role);

/* ---- settings (settings.def) ---- */

enum value_type {
	VALUE_NAME,
	VALUE_LOGLEVEL,
	VALUE_DURATION,
	VALUE_SECONDS,
	VALUE_UINT,
	VALUE_BOOL,
	VALUE_PATH,
	VALUE_FILE,
	VALUE_DIR, /* "" (a default the child works out) or an absolute path */
	VALUE_LISTEN,
	VALUE_MODE,
	VALUE_GROUP,
};

/* The C type that holds a value of each type; strings are owned by the struct. */
#define SETTING_CTYPE_NAME     char *
#define SETTING_CTYPE_LOGLEVEL char *
#define SETTING_CTYPE_DURATION uint32_t
#define SETTING_CTYPE_SECONDS  uint32_t
#define SETTING_CTYPE_UINT     uint32_t
#define SETTING_CTYPE_BOOL     bool
#define SETTING_CTYPE_PATH     char *
#define SETTING_CTYPE_FILE     char *
#define SETTING_CTYPE_DIR      char *
#define SETTING_CTYPE_LISTEN   char *
#define SETTING_CTYPE_MODE     mode_t
#define SETTING_CTYPE_GROUP    char *

enum setting_id {
#define SETTING(id, type, key, flag, def, lo, hi, roles, help) SETTING_##id,
#include "settings.def"
#undef SETTING
	SETTING_COUNT
};
_Static_assert(SETTING_COUNT <= 64, "settings.given is a 64-bit mask");

struct settings {
#define SETTING(id, type, key, flag, def, lo, hi, roles, help) SETTING_CTYPE_##type id;
#include "settings.def"
#undef SETTING
	/* Bit SETTING_x: x was set since the last settings_mark_given(s, 0), by
	 * the layer being read (a file, or the flags). */
	uint64_t given;
};

struct setting_def {
	enum setting_id id;
	enum value_type type;
	const char *key;  /* JSON key, "web.threads" */
	const char *flag; /* "--web.threads" */
	const char *default_text;
	uint32_t lo, hi; /* range of DURATION (ms), SECONDS (s) and UINT */
	unsigned roles;  /* role_bits */
	const char *help;
	size_t offset; /* of the value in struct settings */
};

extern const struct setting_def setting_defs[SETTING_COUNT];

/* The longest text setting_format writes (a path). */
#define SETTING_TEXT_MAX 4096

/* Every value at its default (strings allocated).  0, or -ENOMEM with s empty. */
int settings_init(struct settings *s);
/* Frees the strings; s is then empty (settings_free again does nothing). */
void settings_free(struct settings *s);
/* dst (empty or initialised) becomes a copy of src.  0 or -ENOMEM (dst unchanged). */
int settings_copy(struct settings *dst, const struct settings *src);
/* True when d's value is the same in a and b. */
bool setting_equal(const struct settings *a, const struct settings *b, const struct setting_def *d);
/* True when every setting of any role in roles (or SETTINGS_ALL) is the same
 * in a and b. */
bool settings_equal(const struct settings *a, const struct settings *b, unsigned roles);

/* The setting with JSON key key, or with flag flag[0..len) ("--web.threads"); NULL. */
const struct setting_def *setting_by_key(const char *key);
const struct setting_def *setting_by_flag(const char *flag, size_t len);

/*
 * Sets d's value from text, through its type's parser and within its range, and
 * marks it given.  0, or -EINVAL (message without prefix in err; s unchanged),
 * or -ENOMEM.  An example of a good value: setting_example(d).
 */
int setting_set(struct settings *s, const struct setting_def *d, const char *text, char *err,
		size_t errlen);
const char *setting_example(const struct setting_def *d);

/* d's value in s as text that setting_set reads back to the same value. */
const char *setting_format(const struct settings *s, const struct setting_def *d, char *buf,
			   size_t n);

/*
 * Settings that bound one another, checked once a layer (a file, or all the
 * flags) is read: web.max_connections_per_ip may not exceed web.max_connections.
 * A bound lowered below a value the layer did not give lowers that value with
 * it; a value the layer gave above its bound is an error.  Returns 0, or
 * -EINVAL with the message in err and *bad the offending setting.
 */
int settings_check(struct settings *s, const struct setting_def **bad, char *err, size_t errlen);

/* ---- command lines ---- */

/*
 * Calls push(ctx, "--flag=value") for each setting of role, in table order.
 * Returns 0, or the first negative value push returned.
 */
int settings_argv(const struct settings *s, unsigned role, int (*push)(void *ctx, const char *arg),
		  void *ctx);

/*
 * A child's own arguments, its job (which collectors, which segments): take is
 * called with the name ("--run", not NUL-terminated: len bytes, pointing into
 * argv) and the value (the text after '=', the next argument, or NULL), and
 * returns 1 when it took the argument, 0 when it does not know it, or a
 * negative errno with err filled.  takes_value says whether an argument given
 * without '=' takes the next one as its value.
 */
struct settings_job {
	int (*take)(void *ctx, const char *name, size_t len, const char *value, char *err,
		    size_t errlen);
	bool (*takes_value)(void *ctx, const char *name, size_t len);
	void *ctx;
};

/*
 * A child's command line: "--flag=value" and "--flag value" for the settings of
 * role (a BOOL also as --flag and --no-flag), anything else to job.  s starts
 * from settings_init.  An unknown flag, or a setting of another role, is
 * -EINVAL with the reason in err.
 */
int settings_parse_argv(struct settings *s, unsigned role, int argc, char *const argv[],
			const struct settings_job *job, char *err, size_t errlen);

/* --help lines ("  --flag=VALUE   help (default X)") for the settings of any
 * role in roles (or SETTINGS_ALL), the first column width wide. */
void settings_usage(FILE *f, int width, unsigned roles);

/* ---- built-in collectors (collectors/list.def) ---- */

/* At most this many built-in collectors (the agent's group member set). */
#define CONFIG_MAX_BUILTIN 128

/* Names of the built-in collectors, NULL-terminated, and whether each is on by default. */
extern const char *const config_builtin_collectors[];
bool config_builtin_default_enabled(const char *name);
/* True when name is a collector this build knows how to run. */
bool config_is_builtin_collector(const char *name);
/* The position of name in config_builtin_collectors, or -1. */
int config_builtin_index(const char *name);
/* Appends "unknown collector "x"<where>; did you mean "y"?", or where to find
 * the list of built-in collectors when none is near. */
void config_unknown_collector(const char *name, const char *where, char *err, size_t errlen);

/* ---- collector options (collectors/options.def) ---- */

#define CONFIG_OPTION_VALUE_MAX 1024
#define CONFIG_OPTION_UINT_MAX  1000000

enum collector_option_type {
	OPTION_STRING,
	OPTION_BOOL,
	OPTION_REGEX,
	OPTION_DURATION,
	OPTION_PATH,
	OPTION_LIST, /* repeatable flag / JSON array; the entries joined with '\n' */
	OPTION_UINT, /* a whole number, 0 to CONFIG_OPTION_UINT_MAX */
};

struct collector_option_def {
	const char *collector;
	const char *key;
	enum collector_option_type type;
	const char *default_value;
	const char *help;
};

/* Every collector option, terminated by an entry whose collector is NULL. */
extern const struct collector_option_def config_option_defs[];

/*
 * Another spelling of an option (options.def: COLLECTOR_OPTION_ALIAS): a name
 * node_exporter deprecated but still accepts, or a flag whose prefix is not the
 * collector's name (--collector.powersupply.* for powersupplyclass).
 */
struct collector_option_alias {
	const char *collector, *key;               /* as written in a flag or a config key */
	const char *target_collector, *target_key; /* the option it sets */
};

/* Every alias, terminated by an entry whose collector is NULL. */
extern const struct collector_option_alias config_option_aliases[];

/* The definition of collector's option key, or NULL.  An alias resolves to the
 * option it stands for: use the definition's collector and key from then on. */
const struct collector_option_def *config_option_def(const char *collector, const char *key);

/* Checks value against the option's type; -EINVAL with the reason. */
int config_check_option_value(const struct collector_option_def *d, const char *value, char *err,
			      size_t errlen);

/* The option keys of collector (at most max) into keys; returns how many. */
size_t config_option_keys(const char *collector, const char **keys, size_t max);

#endif
