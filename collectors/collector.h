/*
 * collector.h - the built-in host collectors and the table that names them.
 *
 * A collector is three functions.  init() prepares a private state (it may open
 * files, but a file that is missing now is not an error: it is looked for again
 * on every cycle).  collect() fills a batch that the caller has reset, reading
 * each kernel file once; it returns 0, or a negative errno with a message in err
 * when a file it needs could not be read or the batch is full.  Whatever series it
 * added before failing stay in the batch.  It may also return 0 with a message in
 * err: a warning (a textfile that was refused) that does not fail the collection;
 * it is logged once per change and shown as the collector's error.  fini() releases the state (NULL is
 * fine).  Nothing here logs: the collector process does.
 */
#ifndef SHMETRICS_COLLECTOR_H
#define SHMETRICS_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"

/* Where the host's filesystems are mounted ("/proc", "/sys", "/" on a host;
 * "/host/proc"... in a container).  The strings must outlive the state. */
struct collector_env {
	const char *procfs;
	const char *sysfs;
	const char *rootfs;
	const char *udev_data;
	const char *name; /* the collector's name, for its options */
	size_t n_options; /* options given on the command line */
	const char *const *option_keys;
	const char *const *option_values;
};

/* The value of the collector's option key (collectors/options.def): the one
 * given, else the default.  NULL for an option the collector does not have. */
const char *collector_option(const struct collector_env *env, const char *key);
/* A BOOL option as a bool (false for an unknown option). */
bool collector_option_bool(const struct collector_env *env, const char *key);

struct collector_ops {
	int (*init)(void **state, const struct collector_env *env, char *err, size_t errlen);
	int (*collect)(void *state, struct batch *b, char *err, size_t errlen);
	void (*fini)(void *state);
};

struct collector_def {
	const char *name;
	bool enabled_by_default; /* as in node_exporter */
	const struct collector_ops *ops;
};

/* The collector called name, or NULL when this build has none of that name. */
const struct collector_def *collector_find(const char *name);

/* All built-in collectors, in the order of COMPAT.md; *n receives the count. */
const struct collector_def *collector_list(size_t *n);

#define COLLECTOR(name, on) extern const struct collector_ops collector_##name##_ops;
#include "list.def"
#undef COLLECTOR

#endif
