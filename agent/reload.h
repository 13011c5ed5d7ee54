/*
 * reload.h - what a SIGHUP changes: for a pair of configurations, which children
 * start, stop, restart or keep running.
 *
 * Pure: no process or segment is touched here; the supervisor applies the plan.
 */
#ifndef SHMETRICS_AGENT_RELOAD_H
#define SHMETRICS_AGENT_RELOAD_H

#include <stddef.h>

#include "config.h"

#define RELOAD_EXPORTER "exporter"

enum reload_action {
	RELOAD_KEEP,    /* unchanged: the running process stays (same pid) */
	RELOAD_START,   /* newly enabled: create its segment, start it */
	RELOAD_STOP,    /* removed or disabled: stop it, remove its segment */
	RELOAD_RESTART, /* changed: stop it, recreate its segment, start it again */
};

struct reload_item {
	char name[CONFIG_NAME_MAX]; /* a collector's name, or RELOAD_EXPORTER */
	enum reload_action action;
};

struct reload_plan {
	size_t n;
	struct reload_item items[2 * CONFIG_MAX_COLLECTORS + 1];
};

/*
 * Fills plan with one item per collector enabled in old or new (in the order of
 * old, then the new ones in the order of new) and a last one for the exporter.
 * A collector restarts when config_collector_changed says so, when its command
 * line or its segment's options (mode, group, size) differ; the exporter when
 * config_collector_changed(old, new, "exporter") or its command line (which lists
 * the enabled collectors) differs.  Returns 0, or -EINVAL when the change cannot
 * be applied by a reload (the instance name), with the reason in err.
 */
int reload_plan_make(const struct shm_config *old, const struct shm_config *new_cfg,
		     struct reload_plan *plan, char *err, size_t errlen);

const char *reload_action_name(enum reload_action a);

#endif
