/*
 * values.h - one parser per kind of value, in one place: durations, integers,
 * booleans, listen addresses, names, paths, modes, users and groups.  The JSON
 * loader, the agent's flags and every child's command line read values through
 * these, so "5s" or ":9469" means the same everywhere (settings.h).
 *
 * Parsers and checks return 0, or -EINVAL with a message in err that names the
 * value and says what to write instead, without any prefix
 * ("duration \"5\" has no unit; write e.g. \"5s\""); the caller puts
 * "FILE:LINE:COLUMN: key: " or "--flag: " in front.  On failure the output is
 * untouched.  Nothing here logs or exits.
 */
#ifndef SHMETRICS_CONFIG_VALUES_H
#define SHMETRICS_CONFIG_VALUES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONFIG_NAME_MAX     64 /* collector and instance names, with the NUL */
#define CONFIG_ADDR_MAX     256
#define CONFIG_DEFAULT_PORT 9469

/* Writes prefix and the message into err (when there is one) and returns
 * -EINVAL: the one way code in config/ reports a bad value.  config_fail has no
 * prefix; the loader's positional messages use config_failv. */
int config_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int config_failv(char *err, size_t errlen, const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* ---- durations: "500ms", "5s", "1m", "1m30s"; units ms s m h d w, largest
 * first, each at most once; no fractions, no bare numbers ---- */
int config_parse_duration_ms(const char *s, uint32_t *ms, char *err, size_t errlen);
/* A duration within [lo_ms, hi_ms]. */
int config_parse_duration_range(const char *s, uint32_t lo_ms, uint32_t hi_ms, uint32_t *ms,
				char *err, size_t errlen);
/* A whole number of seconds within [lo_s, hi_s], written as a duration. */
int config_parse_seconds_range(const char *s, uint32_t lo_s, uint32_t hi_s, uint32_t *secs,
			       char *err, size_t errlen);
/* The shortest spelling the parser reads back as ms: "500ms", "5s", "1m30s", "1h". */
void config_format_duration_ms(uint32_t ms, char *out, size_t outlen);

/* ---- numbers and switches ---- */
/* A decimal integer within [lo, hi]; "-1" is out of range, "five" is not a number. */
int config_parse_uint_range(const char *s, uint32_t lo, uint32_t hi, uint32_t *out, char *err,
			    size_t errlen);
int config_check_uint_range(long long v, uint32_t lo, uint32_t hi, char *err, size_t errlen);
/* "true" or "false". */
int config_parse_bool(const char *s, bool *out, char *err, size_t errlen);

/* ---- addresses, names, paths ---- */
/* "HOST:PORT", "[V6]:PORT" or ":PORT" into host ("" = any) and port (either may be NULL). */
int config_parse_listen_address(const char *addr, char *host, size_t hostlen, uint16_t *port,
				char *err, size_t errlen);
/* 1 to 63 of a-z A-Z 0-9 _ - (an instance or collector name; names segments). */
int config_check_name(const char *s, const char *what, char *err, size_t errlen);
int config_check_log_level(const char *s, char *err, size_t errlen);
/* A non-empty absolute path; example is what the message suggests ("/proc"). */
int config_check_abs_path(const char *s, const char *example, char *err, size_t errlen);
/* Any path shorter than PATH_MAX; "" for none. */
int config_check_file(const char *s, char *err, size_t errlen);
/* 3 or 4 octal digits, permission bits only, owner rw: "0640". */
int config_parse_mode(const char *s, mode_t *mode, char *err, size_t errlen);
/* "" or the name of a group that exists. */
int config_check_group(const char *s, char *err, size_t errlen);

/* ---- users and groups (getpwnam_r / getgrnam_r, buffers grown as needed) ----
 * 1 when found (ids filled; any pointer may be NULL), 0 when there is no such
 * name, or a negative errno when the lookup itself failed. */
int config_lookup_user(const char *name, uid_t *uid, gid_t *gid);
int config_lookup_group(const char *name, gid_t *gid);

/* ---- text for messages ---- */
/* s as a quoted string for messages: escapes quotes, backslashes and control
 * bytes, and shortens anything long with "...".  Returns buf. */
const char *config_quote(char *buf, size_t n, const char *s);
/* Optimal-string-alignment edit distance, case-insensitive. */
size_t config_edit_distance(const char *a, const char *b);
/* The candidate nearest to word if it is near enough to be a likely typo, else NULL. */
const char *config_suggest(const char *word, const char *const *candidates, size_t n);
/* Writes "a, b, c" into buf. */
void config_join_names(char *buf, size_t n, const char *const *names, size_t count);
/* Appends to err; keeps it NUL-terminated whatever the lengths. */
void config_appendf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
