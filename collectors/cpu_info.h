/*
 * cpu_info.h - the parts of the cpu collector that node_exporter added after
 * 1.5 or keeps behind options: /proc/cpuinfo as info series (--collector.cpu.info
 * and the flag and bug include filters) and the online state of each CPU from
 * sysfs.  cpu.c owns the state and calls these once per cycle.
 */
#ifndef SHMETRICS_CPU_INFO_H
#define SHMETRICS_CPU_INFO_H

#include <limits.h>
#include <stdbool.h>

#include "collector.h"
#include "dirents.h"
#include "filter.h"
#include "procfile.h"

struct cpu_info {
	bool enabled;        /* cpu.info, or one of the include filters set (which implies it) */
	bool cpufreq_serves; /* a cpuN/cpufreq/cpuinfo_cur_freq is readable: the
				cpufreq collector's node_cpu_frequency_hertz, not ours */
	struct procfile file;
	struct optregex flags, bugs; /* unset: that family is not reported */
};

/* Reads the options; opens nothing.  0, or -EINVAL for a bad expression. */
int cpu_info_init(struct cpu_info *ci, const struct collector_env *env, char *err, size_t errlen);
void cpu_info_fini(struct cpu_info *ci);

/*
 * node_cpu_info, node_cpu_frequency_hertz (from "cpu MHz", unless cpufreq_serves),
 * and node_cpu_flag_info
 * / node_cpu_bug_info for the first processor's flags and bugs that match the
 * filters.  Nothing when disabled or when cpuinfo does not exist.
 */
int cpu_info_emit(struct cpu_info *ci, struct batch *b, char *err, size_t errlen);

struct cpu_online {
	bool supported; /* cpu0/online existed at init; else no family at all */
	char dir[PATH_MAX];
	struct dirents cpus;
};

int cpu_online_init(struct cpu_online *co, const char *sysfs, char *err, size_t errlen);
void cpu_online_fini(struct cpu_online *co);

/* node_cpu_online{cpu}: 1 when cpuN/online says 1, else 0, for each cpuN. */
int cpu_online_emit(struct cpu_online *co, struct batch *b, char *err, size_t errlen);

#endif
