/*
 * config.h - the agent's configuration: a JSON document (parsed with jansson; this
 * module is the only code that touches json_t), an embedded default, and the
 * command-line overrides that mirror node_exporter's flags.
 *
 * Every error names the source (file or "<embedded default>"), line and column,
 * what was found, and what was expected; an unknown key suggests the nearest valid
 * one.  A failed load leaves the output untouched.
 */
#ifndef SHMETRICS_CONFIG_H
#define SHMETRICS_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONFIG_NAME_MAX       64
#define CONFIG_MAX_COLLECTORS 128
#define CONFIG_ADDR_MAX       256

#define CONFIG_MAX_OPTIONS      128
#define CONFIG_OPTION_VALUE_MAX 1024

#define CONFIG_DEFAULT_PORT        9469
#define CONFIG_DEFAULT_INTERVAL_MS 5000
#define CONFIG_DEFAULT_INSTANCE    "main"

struct collector_config {
	char name[CONFIG_NAME_MAX]; /* [a-zA-Z0-9_-]+, names the segment */
	bool enabled;
	uint32_t interval_ms; /* collection interval */
	bool isolated;        /* built-in: in its own process, not the shared one */
};

struct web_config {
	char listen_address[CONFIG_ADDR_MAX]; /* "HOST:PORT", "[V6]:PORT" or ":PORT" */
	uint32_t connection_timeout_s;
	uint32_t max_connections;
	uint32_t max_connections_per_ip;
	uint32_t threads;
	char config_file[PATH_MAX]; /* exporter-toolkit web config (TLS, auth); "" none */
	bool openmetrics;           /* false: serve text 0.0.4 whatever Accept says */
};

struct segments_config {
	mode_t mode;                 /* permission bits of each segment, e.g. 0640 */
	char group[CONFIG_NAME_MAX]; /* owning group; "" keeps the agent's */
	uint32_t max_series;         /* per collector */
};

/* A collector option (collectors/options.def): its definition and a set value. */
enum collector_option_type {
	OPTION_STRING,
	OPTION_BOOL,
	OPTION_REGEX,
	OPTION_DURATION,
	OPTION_PATH,
	OPTION_LIST, /* repeatable flag / JSON array; the entries joined with '\n' */
};

struct collector_option_def {
	const char *collector;
	const char *key;
	enum collector_option_type type;
	const char *default_value;
	const char *help;
};

struct collector_option {
	char collector[CONFIG_NAME_MAX];
	char key[CONFIG_NAME_MAX];
	char value[CONFIG_OPTION_VALUE_MAX];
	bool from_flag; /* set by a command-line flag: a repeated LIST flag appends */
};

/*
 * A custom collector ("custom_collectors" in the file; docs/processes.md): one
 * of three kinds.  It also has an entry in shm_config.collectors (its enabled
 * flag and effective interval), so everything that walks the collectors sees it.
 */
#define CONFIG_MAX_CUSTOM        32
#define CONFIG_CUSTOM_ARGS_MAX   32   /* command/exec words */
#define CONFIG_CUSTOM_ARGS_BYTES 4096 /* all words with their NULs */
#define CONFIG_CUSTOM_ENV_MAX    32
#define CONFIG_CUSTOM_ENV_BYTES  4096

enum custom_kind { CUSTOM_COMMAND = 1, CUSTOM_EXEC, CUSTOM_EXTERNAL };

struct custom_collector_config {
	char name[CONFIG_NAME_MAX];
	enum custom_kind kind;
	uint32_t interval_ms; /* as written; 0 when not (collectors[] has the effective one) */
	uint32_t timeout_ms;  /* exec: the command is killed after this */
	uint32_t max_series;  /* 0: segments.max_series */
	char user[CONFIG_NAME_MAX]; /* command/exec: run as this user; "" the agent's */
	char group
	    [CONFIG_NAME_MAX]; /* segment group; "": the user's group if user, else segments.group */
	mode_t mode;           /* segment mode; 0: 0660 if user, else segments.mode */
	uint32_t argc;         /* command/exec: the words, each NUL-terminated, in args */
	char args[CONFIG_CUSTOM_ARGS_BYTES];
	uint32_t envc; /* "KEY=VALUE" strings, each NUL-terminated, in env */
	char env[CONFIG_CUSTOM_ENV_BYTES];
};

struct shm_config {
	char source[PATH_MAX]; /* file it came from, or "<embedded default>" */
	char instance
	    [CONFIG_NAME_MAX]; /* prefixes segment names: /shmetrics.<instance>.<collector> */
	char log_level[16];    /* error, warn, info, debug */
	char procfs[PATH_MAX];
	char sysfs[PATH_MAX];
	char rootfs[PATH_MAX];
	char udev_data[PATH_MAX];     /* udev database, for device properties */
	uint32_t staleness_intervals; /* series omitted after this many missed intervals */
	uint32_t default_interval_ms; /* "interval": for collectors without their own */
	struct web_config web;
	struct segments_config segments;
	size_t n_collectors;
	struct collector_config collectors[CONFIG_MAX_COLLECTORS];
	size_t n_options; /* options set to something else than their default */
	struct collector_option options[CONFIG_MAX_OPTIONS];
	size_t n_custom;
	struct custom_collector_config custom[CONFIG_MAX_CUSTOM];
};

/* The embedded default configuration text (JSON). */
extern const char config_default_json[];

/* Loads the embedded default (cannot fail unless the build is broken). */
int config_load_default(struct shm_config *out, char *err, size_t errlen);

/* Loads path; on any error returns -EINVAL (or -errno for I/O) with
 * "path:line:column: message" in err, and leaves out untouched. */
int config_load_file(struct shm_config *out, const char *path, char *err, size_t errlen);

/* Loads NUL-terminated JSON text; source names it in messages ("<string>" if NULL). */
int config_load_string(struct shm_config *out, const char *text, const char *source, char *err,
		       size_t errlen);

/* The collector named name, or NULL. */
struct collector_config *config_find_collector(struct shm_config *c, const char *name);

/* The custom collector named name, or NULL. */
const struct custom_collector_config *config_find_custom(const struct shm_config *c,
							 const char *name);

/* True when name is a collector this build knows how to run. */
bool config_is_builtin_collector(const char *name);

/* Every collector option, terminated by an entry whose collector is NULL. */
extern const struct collector_option_def config_option_defs[];

/* The definition of collector's option key, or NULL. */
const struct collector_option_def *config_option_def(const char *collector, const char *key);

/* Checks value against the option's type; -EINVAL with the reason. */
int config_check_option_value(const struct collector_option_def *d, const char *value, char *err,
			      size_t errlen);

/* Sets collector's option key (validated), or -EINVAL/-ENOSPC with the reason. */
int config_set_collector_option(struct shm_config *c, const char *collector, const char *key,
				const char *value, char *err, size_t errlen);

/*
 * The same for a command-line flag: a LIST option given again by a flag gets the
 * new entry appended ('\n' between entries), so --collector.sysctl.include=a
 * --collector.sysctl.include=b keeps both; a value from the file is replaced.
 */
int config_set_collector_option_flag(struct shm_config *c, const char *collector, const char *key,
				     const char *value, char *err, size_t errlen);

/* The option's value in c: the one set, else its default; NULL for an unknown option. */
const char *config_collector_option(const struct shm_config *c, const char *collector,
				    const char *key);

/* Names of the built-in collectors, NULL-terminated, and whether each is on by default. */
extern const char *const config_builtin_collectors[];
bool config_builtin_default_enabled(const char *name);

/*
 * Applies one command-line flag in node_exporter's spelling ("--path.procfs=/host/proc",
 * "--collector.cpu", "--no-collector.cpu", "--web.listen-address=:9469", ...).
 * Returns 1 if the flag was a config override and was applied, 0 if it is not a
 * config flag, or -EINVAL with the reason (unknown collector, bad value).
 *
 * Known: --web.listen-address= --web.timeout= --web.max-connections=
 * --web.max-connections-per-ip= --web.threads= --web.config.file= --path.procfs= --path.sysfs=
 * --path.rootfs= --log.level= --instance= --staleness-intervals=
 * --collector.NAME --no-collector.NAME --collector.NAME.interval=DURATION
 * --collector.NAME.isolated --no-collector.NAME.isolated (built-in collectors only)
 * --collector.disable-defaults.  Values only in the "--flag=value" form.  Flags
 * apply in order: --collector.disable-defaults disables every collector, so it
 * goes before the --collector.NAME flags that enable some again.  On -EINVAL, c
 * is unchanged; err reads "--flag: what is wrong; what to write".
 */
int config_apply_flag(struct shm_config *c, const char *flag, char *err, size_t errlen);

/* Parses "HOST:PORT" / "[V6]:PORT" / ":PORT" into host ("" = any) and port. */
int config_parse_listen_address(const char *addr, char *host, size_t hostlen, uint16_t *port,
				char *err, size_t errlen);

/* Parses a duration "500ms", "5s", "1m", "1h" (also "1m30s") into milliseconds. */
int config_parse_duration_ms(const char *s, uint32_t *ms, char *err, size_t errlen);

/* True when the two configurations differ in anything that concerns collector name
 * (its settings or the shared paths), or the exporter when name is "exporter".
 * A collector: enabled, interval or isolated, or instance, paths, log_level or segments
 * (false when it is disabled in both); a custom one also any of its own keys.  The exporter: web, instance,
 * staleness_intervals, log_level or the set of enabled collectors. */
bool config_collector_changed(const struct shm_config *a, const struct shm_config *b,
			      const char *name);

#endif
