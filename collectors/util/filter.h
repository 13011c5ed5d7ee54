/*
 * filter.h - the regular-expression options of the collectors (include and
 * exclude filters, field selectors), compiled once at init.
 *
 * Values are POSIX extended regular expressions; like Go's MatchString in
 * node_exporter, a match anywhere in the subject counts unless the expression is
 * anchored.  An empty value means "no expression".
 */
#ifndef SHMETRICS_FILTER_H
#define SHMETRICS_FILTER_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "collector.h"

struct optregex_memo;

/*
 * The subjects a collector matches (field names, devices, mount points) are the
 * same few every cycle, so each answer is remembered: a cycle runs regexec only
 * for a subject it has not seen.  The memo is allocated at init; when it is full,
 * or a subject is long, regexec answers as before.
 */
struct optregex {
	regex_t re;
	bool set;
	struct optregex_memo *memo; /* NULL when unset (or out of memory: no memo) */
};

/* Compiles the collector's option key.  0, or -EINVAL with the reason. */
int optregex_init(struct optregex *r, const struct collector_env *env, const char *key, char *err,
		  size_t errlen);

/* True when r is set and matches s[0..n) (s need not be terminated). */
bool optregex_match(const struct optregex *r, const char *s, size_t n);

void optregex_fini(struct optregex *r);

/*
 * The device-include / device-exclude pair of diskstats and netdev (and the
 * other include/exclude pairs).  As in node_exporter they are mutually
 * exclusive, except that an include given alone replaces the default exclude.
 */
struct devfilter {
	struct optregex exclude, include;
};

int devfilter_init(struct devfilter *f, const struct collector_env *env, char *err, size_t errlen);

/* The same for another pair of option keys (mount-points-include/-exclude, ...). */
int devfilter_init_keys(struct devfilter *f, const struct collector_env *env, const char *inc_key,
			const char *exc_key, char *err, size_t errlen);

/* True when the device is filtered out. */
bool devfilter_ignored(const struct devfilter *f, const char *name, size_t n);

void devfilter_fini(struct devfilter *f);

#endif
