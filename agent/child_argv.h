/*
 * child_argv.h - the command lines of the agent's children: the child's job
 * (which collectors, which segments), then every setting of its role from
 * settings.def, "--flag=value" in table order (settings_argv).  The children
 * read the settings back with settings_parse_argv; docs/processes.md writes
 * the whole contract down.
 *
 * Built completely before fork (the child may not allocate between fork and
 * exec).  Every string is owned by the struct.
 */
#ifndef SHMETRICS_AGENT_CHILD_ARGV_H
#define SHMETRICS_AGENT_CHILD_ARGV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* The name of the agent's own segment, listed to the exporter like a collector's. */
#define AGENT_SEGMENT_COLLECTOR "agent"

/* The remote-write shipper's process, and its segment (its own metrics). */
#define SHIPPER_NAME "shipper"

/* The process that runs every enabled built-in collector not marked "isolated". */
#define CHILD_GROUP_NAME "host"

/* At most: a --run and options for every collector, the settings, and the fixed
 * flags (the words are allocated as they come). */
#define CHILD_ARGV_MAX                                                     \
	(CONFIG_MAX_COLLECTORS + CONFIG_MAX_OPTIONS + SETTING_COUNT + 16 + \
	 CONFIG_MAX_REMOTE_WRITE * (24 + 4 * CONFIG_RW_LIST_MAX))

struct child_argv {
	size_t argc, cap;
	char **argv; /* NULL-terminated; NULL while argc is 0 */
};

/* True when col runs in the group process: an enabled built-in, not isolated. */
bool child_in_group(const struct collector_config *col);

/* A set of built-in collectors: bit i stands for config_builtin_collectors[i]. */
struct member_set {
	uint64_t w[(CONFIG_MAX_COLLECTORS + 63) / 64];
};

bool member_set_has(const struct member_set *m, size_t i);
bool member_set_empty(const struct member_set *m);
unsigned member_set_count(const struct member_set *m);

/* The collectors of the group process in c. */
struct member_set child_group_members(const struct shm_config *c);

/*
 * The group process: shmetrics-collector --run=NAME:DURATION
 *     (one per collector of the group, in the order of c)
 *     --collector.NAME.OPTION=VALUE (each option of those collectors set in c)
 *     and the R_COLLECTOR settings (--log.level=L --path.procfs=P ...).
 * Returns 0, or a negative errno with the reason (an invalid segment name).
 */
int child_argv_group(struct child_argv *a, const char *program, const struct shm_config *c,
		     char *err, size_t errlen);

/*
 * One collector in a process of its own.  A built-in one: the group's command
 * line with col alone.  A custom one: its "command" words; for "exec",
 * shmetrics-collector --collector=NAME --interval=D --exec.timeout=D
 * [--exec.sandbox=false] --exec.command=W --exec.arg=W... and the R_COLLECTOR
 * settings; for "external", no words at all (argc 0: the agent runs nothing).
 * Returns 0, or a negative errno with the reason.
 */
int child_argv_collector(struct child_argv *a, const char *program, const struct shm_config *c,
			 const struct collector_config *col, char *err, size_t errlen);

/*
 * shmetrics-exporter --collector=NAME... (every enabled collector, then "agent")
 * and the R_EXPORTER settings (--instance=I --log.level=L ... --web.cache=D).
 */
int child_argv_exporter(struct child_argv *a, const char *program, const struct shm_config *c,
			char *err, size_t errlen);

/*
 * shmetrics-shipper --collector=NAME... (every enabled collector, then "agent"
 * and "shipper") --self-segment=/shmetrics.I.shipper, then for each endpoint
 * --remote-write.url=URL and its settings (docs/remote-write.md), then the
 * settings of the shipper's role.  Only when c configures remote write.
 */
int child_argv_shipper(struct child_argv *a, const char *program, const struct shm_config *c,
		       char *err, size_t errlen);

void child_argv_free(struct child_argv *a);

/* True when both command lines are the same, word for word. */
bool child_argv_equal(const struct child_argv *a, const struct child_argv *b);

#endif
