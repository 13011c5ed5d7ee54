/*
 * child_argv.h - the command lines of the agent's children, exactly as
 * docs/processes.md writes them down.
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

#define CHILD_ARGV_MAX (CONFIG_MAX_COLLECTORS + 16)

struct child_argv {
	size_t argc;
	char *argv[CHILD_ARGV_MAX + 1]; /* NULL-terminated */
};

/*
 * shmetrics-collector --collector=NAME --segment=/shmetrics.INSTANCE.NAME
 *     --interval=DURATION --path.procfs=P --path.sysfs=P --path.rootfs=P --log.level=L
 * For a custom collector: its "command" words; for "exec", shmetrics-collector
 * with --exec.timeout, --exec.command and --exec.arg; for "external", no words
 * at all (argc 0: the agent runs nothing).
 * Returns 0, or a negative errno with the reason (an invalid segment name).
 */
int child_argv_collector(struct child_argv *a, const char *program, const struct shm_config *c,
			 const struct collector_config *col, char *err, size_t errlen);

/*
 * shmetrics-exporter --instance=I --web.listen-address=A --collector=NAME... (every
 * enabled collector, then "agent") --staleness-intervals=N --web.timeout=D
 * --web.max-connections=N --web.max-connections-per-ip=N --web.threads=N
 * [--web.config.file=FILE] [--web.openmetrics=false] --log.level=L
 */
int child_argv_exporter(struct child_argv *a, const char *program, const struct shm_config *c,
			char *err, size_t errlen);

void child_argv_free(struct child_argv *a);

/* True when both command lines are the same, word for word. */
bool child_argv_equal(const struct child_argv *a, const struct child_argv *b);

/* Writes ms the way config_parse_duration_ms reads it: "500ms", "5s", "2m", "1h". */
void format_duration_ms(uint32_t ms, char *out, size_t outlen);

#endif
