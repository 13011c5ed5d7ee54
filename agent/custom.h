/*
 * custom.h - what the agent does for a custom collector beyond what it does for a
 * built-in one (docs/processes.md, "Custom collectors"): the SHMETRICS_*
 * environment, the user it runs as, and its segment's permissions.
 *
 * Everything is resolved in the agent before fork: the child only switches ids
 * and calls execve with what is prepared here.
 */
#ifndef SHMETRICS_AGENT_CUSTOM_H
#define SHMETRICS_AGENT_CUSTOM_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "process.h"
#include "segment.h"

/*
 * Fills x for custom collector cc: the agent's environment without SHMETRICS_*
 * variables, then cc's "env", then SHMETRICS_SEGMENT_FD (3: the sandbox hands a
 * "command" collector its segment as that descriptor), _COLLECTOR, _INSTANCE and
 * _INTERVAL; and, when cc has a "user", that user's uid, primary gid and
 * supplementary groups.  Returns 0, or a negative errno with the reason (an
 * unknown user, out of memory).  Free with child_exec_free.
 */
int custom_exec_prepare(struct child_exec *x, const struct shm_config *c,
			const struct custom_collector_config *cc, uint32_t interval_ms, char *err,
			size_t errlen);

/*
 * Adjusts segment options made from the [segments] settings for collector name
 * if it is a custom one: its max_series; its group ("group", else the primary
 * group of its "user", else unchanged); its mode ("mode", else 0660 with a
 * "user", else unchanged).  A built-in collector's options are left alone.
 */
int custom_segment_options(const struct shm_config *c, const char *name, struct segment_options *o,
			   char *err, size_t errlen);

#endif
