/*
 * config_internal.h - what the files of config/ share with each other and with
 * tests/test_config.c.  Nothing outside config/ and its test includes this.
 *
 * Validators write a message without any prefix ("\"x\" is not ...; write ...");
 * the caller adds "SOURCE:LINE:COLUMN: key: " or "--flag: " in front.
 */
#ifndef SHMETRICS_CONFIG_INTERNAL_H
#define SHMETRICS_CONFIG_INTERNAL_H

#include "config.h"

#include <stdarg.h>

#define CONFIG_INTERVAL_MIN_MS 100u
#define CONFIG_INTERVAL_MAX_MS 3600000u
#define CONFIG_MAX_SERIES_MAX  1000000u
#define CONFIG_FILE_MAX        (1024 * 1024)

/* ---- position index (pos.c) ----
 * A second, minimal scan of JSON text that jansson already accepted, recording
 * where each key and value starts.  Paths join object keys with '.' and array
 * indexes as "[i]": "collectors.cpu.interval", "a[2].b".  The root value has
 * path "".  Lines and columns count from 1; columns count characters (UTF-8 code
 * points), like jansson's.  Any input is safe: the scan stops at the first byte
 * it does not understand and keeps what it has recorded so far. */
struct config_pos {
	int key_line, key_col; /* 0 for the root and array elements */
	int val_line, val_col;
};

struct config_pos_entry {
	char *path;
	struct config_pos pos;
};

struct config_pos_index {
	struct config_pos_entry *entries;
	size_t n, cap;
};

/* 0, or -ENOMEM (the index then holds what was recorded before). */
int config_pos_build(struct config_pos_index *ix, const char *text, size_t len);
/* The entry for exactly path, or NULL. */
const struct config_pos *config_pos_find(const struct config_pos_index *ix, const char *path);
/* The entry for path or, failing that, for its nearest recorded parent; NULL if none. */
const struct config_pos *config_pos_find_nearest(const struct config_pos_index *ix,
						 const char *path);
void config_pos_free(struct config_pos_index *ix);

/* ---- collector options (config.c) ---- */

/* True when collector's options differ between a and b. */
bool config_options_differ(const struct shm_config *a, const struct shm_config *b,
			   const char *collector);

/* ---- custom collectors (custom.c) ----
 * load.c owns the positions: custom.c reports an error through fail(ctx, path,
 * at_key, fmt, ap), which prefixes "SOURCE:LINE:COLUMN: " and returns -EINVAL. */
struct json_t;
typedef int (*config_fail_fn)(void *ctx, const char *path, bool at_key, const char *fmt,
			      va_list ap);
/* Reads the "custom_collectors" object v (at path) into c. */
int config_custom_load(struct shm_config *c, const char *path, struct json_t *v, void *ctx,
		       config_fail_fn fail);
/* Once the whole file is read: effective intervals, and checks across keys. */
int config_custom_finish(struct shm_config *c, void *ctx, config_fail_fn fail);
/* True when custom collector name is configured differently in a and b. */
bool config_custom_differs(const struct shm_config *a, const struct shm_config *b,
			   const char *name);

/* ---- remote write (remote_write.c) ---- */
/* Reads the "remote_write" array v (at path) into c. */
int config_remote_write_load(struct shm_config *c, const char *path, struct json_t *v, void *ctx,
			     config_fail_fn fail);
/* A check of a URL for remote write; -EINVAL with an unprefixed reason. */
int config_rw_check_url(const char *url, char *err, size_t errlen);
/* "256MiB", "1GiB", "4096": bytes within [lo, hi]; -EINVAL with the reason. */
int config_parse_bytes(const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *err,
		       size_t errlen);

#endif
