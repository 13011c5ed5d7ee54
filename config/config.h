/*
 * config.h - the agent's configuration: the settings of settings.def, the
 * collectors, their options and the custom collectors, from a JSON document
 * (parsed with jansson; config/ is the only code that touches json_t), an
 * embedded default, and the command-line overrides.  Only the agent uses this
 * part; its children read what they need from their command line
 * (settings.h).
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

#include "settings.h"

_Static_assert(CONFIG_MAX_BUILTIN <= 128, "built-in collectors beyond the group's member set");

/* Most collectors (built-in and custom) and collector options one configuration
 * may have; storage is sized to what is configured, these only bound it. */
#define CONFIG_MAX_COLLECTORS 128
#define CONFIG_MAX_OPTIONS    128

#define CONFIG_DEFAULT_INTERVAL_MS 5000

struct collector_config {
	char name[CONFIG_NAME_MAX]; /* [a-zA-Z0-9_-]+, names the segment */
	bool enabled;
	uint32_t interval_ms; /* collection interval */
	bool isolated;        /* built-in: in its own process, not the shared one */
};

/* A collector option set to something else than its default (settings.h). */
struct collector_option {
	char collector[CONFIG_NAME_MAX];
	char key[CONFIG_NAME_MAX];
	char *value;    /* owned; at most CONFIG_OPTION_VALUE_MAX - 1 bytes */
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
	char *args;            /* owned, args_len bytes (at most CONFIG_CUSTOM_ARGS_BYTES) */
	size_t args_len;
	uint32_t envc; /* "KEY=VALUE" strings, each NUL-terminated, in env */
	char *env;     /* owned, env_len bytes (at most CONFIG_CUSTOM_ENV_BYTES) */
	size_t env_len;
	bool sandbox; /* command/exec: run in a sandbox (lib/sandbox.h); default true */
};

/*
 * Remote write ("remote_write" in the file; docs/remote-write.md): the
 * endpoints the shipper sends to.  Allocated only when configured; its strings
 * live in one pool inside it (offsets, 0 is ""), so it is one block to copy and
 * compare.  The queue directory is a setting (remote_write_queue_dir).
 */
#define CONFIG_MAX_REMOTE_WRITE 8
#define CONFIG_RW_LIST_MAX      16 /* headers, external labels, relabel rules each */
#define CONFIG_RW_POOL          16384
#define CONFIG_RW_URL_MAX       1024

#define CONFIG_RW_DEFAULT_MAX_BYTES         (256ull << 20)
#define CONFIG_RW_MIN_MAX_BYTES             (256ull << 10)
#define CONFIG_RW_DEFAULT_MAX_AGE_MS        (24u * 3600u * 1000u)
#define CONFIG_RW_DEFAULT_BATCH_MAX_SAMPLES 2000u
#define CONFIG_RW_DEFAULT_BATCH_DEADLINE_MS 5000u
#define CONFIG_RW_DEFAULT_MIN_BACKOFF_MS    30u
#define CONFIG_RW_DEFAULT_MAX_BACKOFF_MS    5000u
#define CONFIG_RW_DEFAULT_TIMEOUT_MS        30000u

struct remote_write_config {
	uint32_t url, username, password_file, bearer_token_file; /* pool offsets */
	uint32_t ca_file, cert_file, key_file, server_name;
	bool insecure_skip_verify;
	uint32_t n_headers, header_name[CONFIG_RW_LIST_MAX], header_value[CONFIG_RW_LIST_MAX];
	uint32_t n_ext, ext_name[CONFIG_RW_LIST_MAX], ext_value[CONFIG_RW_LIST_MAX];
	uint32_t n_relabel;
	bool relabel_keep[CONFIG_RW_LIST_MAX];
	uint32_t relabel_regex[CONFIG_RW_LIST_MAX];
	uint64_t max_bytes;
	uint32_t max_age_ms; /* 0: no limit */
	uint32_t batch_max_samples, batch_deadline_ms;
	uint32_t min_backoff_ms, max_backoff_ms;
	uint32_t timeout_ms;
};

struct remote_write_set {
	/* --remote-write.external-label: added to every endpoint's own */
	uint32_t n_ext_all, ext_all_name[CONFIG_RW_LIST_MAX], ext_all_value[CONFIG_RW_LIST_MAX];
	size_t n;
	struct remote_write_config ep[CONFIG_MAX_REMOTE_WRITE];
	uint32_t pool_len;
	char pool[CONFIG_RW_POOL];
};

/*
 * The configuration.  Every array is sized to what is configured (a default
 * agent holds its settings, its built-in collectors and nothing else); the
 * CONFIG_MAX_* and CONFIG_CUSTOM_* values only bound them.
 */
struct shm_config {
	char *source;        /* file it came from, or "<embedded default>" */
	struct settings set; /* settings.def: instance, paths, web, segments... */
	size_t n_collectors, cap_collectors;
	struct collector_config *collectors;
	size_t n_options, cap_options; /* options set to something else than their default */
	struct collector_option *options;
	size_t n_custom, cap_custom;
	struct custom_collector_config *custom;
	struct remote_write_set *rw; /* NULL: no remote write */
};

/*
 * A configuration holds allocated strings: start one with config_init (the
 * built-in defaults) or zero it, end it with config_free, copy it with
 * config_copy.  The loaders replace (and free) what *out held only on success.
 */
int config_init(struct shm_config *c);
void config_free(struct shm_config *c);
int config_copy(struct shm_config *dst, const struct shm_config *src);
/* True when a and b configure the same thing (source aside). */
bool config_equal(const struct shm_config *a, const struct shm_config *b);

/* Sets c's source ("<embedded default>", a path).  0 or -ENOMEM. */
int config_set_source(struct shm_config *c, const char *source);

/* A new zeroed collector (or custom collector) at the end of c's array: NULL
 * when there are CONFIG_MAX_COLLECTORS (CONFIG_MAX_CUSTOM) already, or on out of
 * memory (*full tells which). */
struct collector_config *config_add_collector(struct shm_config *c, bool *full);
struct custom_collector_config *config_add_custom(struct shm_config *c, bool *full);

/* The embedded default configuration text (JSON). */
extern const char config_default_json[];

/* Loads the embedded default (cannot fail unless the build is broken).  For
 * every loader, *out is initialised or zeroed; on success what it held is freed
 * and replaced, on failure it is untouched. */
int config_load_default(struct shm_config *out, char *err, size_t errlen);

/* Loads path; on any error returns -EINVAL (or -errno for I/O) with
 * "path:line:column: message" in err. */
int config_load_file(struct shm_config *out, const char *path, char *err, size_t errlen);

/* Loads NUL-terminated JSON text; source names it in messages ("<string>" if NULL). */
int config_load_string(struct shm_config *out, const char *text, const char *source, char *err,
		       size_t errlen);

/* The collector named name, or NULL. */
struct collector_config *config_find_collector(struct shm_config *c, const char *name);

/* The custom collector named name, or NULL. */
const struct custom_collector_config *config_find_custom(const struct shm_config *c,
							 const char *name);

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

/*
 * Applies one command-line flag in node_exporter's spelling ("--path.procfs=/host/proc",
 * "--collector.cpu", "--no-collector.cpu", "--web.listen-address=:9469", ...).
 * Returns 1 if the flag was a config override and was applied, 0 if it is not a
 * config flag, or -EINVAL with the reason (unknown collector, bad value).
 *
 * Known: the flag of every setting in settings.def (--flag=VALUE; a switch also
 * --flag and --no-flag), --collector.NAME --no-collector.NAME
 * --collector.NAME.interval=DURATION --collector.NAME.isolated
 * --no-collector.NAME.isolated (built-in collectors only)
 * --collector.NAME.OPTION=VALUE, --collector.disable-defaults, and
 * --remote-write.url=URL and --remote-write.external-label=NAME=VALUE (each
 * repeatable; docs/remote-write.md).  Values only in
 * the "--flag=value" form.  Flags apply in order: --collector.disable-defaults
 * disables every collector, so it goes before the --collector.NAME flags that
 * enable some again.  Settings that bound one another are checked by
 * settings_check once all flags are applied.  On -EINVAL, c is unchanged; err
 * reads "--flag: what is wrong; what to write".
 */
int config_apply_flag(struct shm_config *c, const char *flag, char *err, size_t errlen);

/* How many remote-write endpoints c has (0 without remote write). */
size_t config_rw_count(const struct shm_config *c);

/* The string at off in the remote-write pool. */
const char *config_rw_str(const struct remote_write_set *s, uint32_t off);

/* An endpoint for url with every default (the --remote-write.url flag); one
 * already configured for url is left as it is.  -EINVAL or -ENOMEM with the
 * reason. */
int config_rw_add_url(struct shm_config *c, const char *url, char *err, size_t errlen);

/* "NAME=VALUE" (the --remote-write.external-label flag): a label every endpoint
 * sends unless its own external_labels set NAME.  -EINVAL with the reason. */
int config_rw_add_external_label(struct shm_config *c, const char *pair, char *err, size_t errlen);

/* True when the remote-write endpoints of a and b differ. */
bool config_remote_write_changed(const struct shm_config *a, const struct shm_config *b);

/* True when the two configurations differ in anything that concerns collector name
 * (its settings or the shared paths), or the exporter when name is "exporter".
 * A collector: enabled, interval or isolated, or instance, paths, log_level or segments
 * (false when it is disabled in both); a custom one also any of its own keys.  The exporter: web, instance,
 * staleness_intervals, log_level or the set of enabled collectors. */
bool config_collector_changed(const struct shm_config *a, const struct shm_config *b,
			      const char *name);

#endif
