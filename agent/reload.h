/*
 * reload.h - what a SIGHUP changes: for a pair of configurations, which segments
 * are created, removed or re-created, and which processes start, stop, restart or
 * keep running.
 *
 * Pure: no process or segment is touched here; the supervisor applies the plan.
 */
#ifndef SHMETRICS_AGENT_RELOAD_H
#define SHMETRICS_AGENT_RELOAD_H

#include <stddef.h>

#include "child_argv.h"
#include "config.h"

#define RELOAD_EXPORTER "exporter"

enum reload_action {
	RELOAD_KEEP,    /* unchanged: the segment stays, the process keeps its pid */
	RELOAD_START,   /* newly enabled: create the segment, start the process */
	RELOAD_STOP,    /* removed or disabled: remove the segment, stop the process */
	RELOAD_RESTART, /* changed: re-create the segment, restart the process */
};

struct reload_item {
	char name[CONFIG_NAME_MAX]; /* a collector, CHILD_GROUP_NAME, RELOAD_EXPORTER or
				       SHIPPER_NAME */
	enum reload_action action;
};

struct reload_plan {
	/* One per collector enabled in old or new: what happens to its segment. */
	size_t n_segments;
	struct reload_item segments[2 * CONFIG_MAX_COLLECTORS];
	/* One per process of old or new: the group, each collector with a process of
	 * its own, the exporter, the shipper. */
	size_t n_processes;
	struct reload_item processes[2 * CONFIG_MAX_COLLECTORS + 3];
};

/*
 * Fills plan.  Segments, in the order of old and then the new ones in the order
 * of new: a collector's segment is re-created when config_collector_changed says
 * so (which includes moving in or out of the group), when its command line or the
 * segment settings (mode, group, size) differ.
 *
 * Processes: first the group (CHILD_GROUP_NAME), when old or new has one; it
 * restarts once when the set of its collectors, any of their segments or its
 * command line changed.  Then every collector with a process of its own (isolated
 * built-in ones, custom ones), which follows its segment; a collector moving into
 * the group stops its own process, one moving out starts one.  Last the exporter,
 * restarted when config_collector_changed(old, new, "exporter") or its command
 * line (which lists the enabled collectors) differs.  Then the shipper, when old
 * or new configures remote write: started, stopped, or restarted when its
 * command line (endpoints, queue, the enabled collectors) differs.
 *
 * Returns 0, or -EINVAL when the change cannot be applied by a reload (the
 * instance name), with the reason in err.
 */
int reload_plan_make(const struct shm_config *old, const struct shm_config *new_cfg,
		     struct reload_plan *plan, char *err, size_t errlen);

const char *reload_action_name(enum reload_action a);

#endif
