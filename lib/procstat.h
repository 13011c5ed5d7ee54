/*
 * procstat.h - what every Prometheus client library exports about its process
 * (process_cpu_seconds_total, process_resident_memory_bytes, ...), read from
 * /proc for the calling process or any other the caller may see: the exporter
 * serves its own under the standard names, the agent publishes its own and its
 * children's under shmetrics_process_* with role and name labels.
 *
 * Nothing here logs; errors are returned with a message in err.
 */
#ifndef SHMETRICS_LIB_PROCSTAT_H
#define SHMETRICS_LIB_PROCSTAT_H

#include <stddef.h>
#include <sys/types.h>

#include "metrics.h"

struct proc_stats {
	double cpu_seconds; /* user + system */
	double resident_bytes;
	double virtual_bytes;
	double virtual_max_bytes; /* RLIMIT_AS soft limit; 2^64 when unlimited */
	double open_fds;
	double max_fds;            /* RLIMIT_NOFILE soft limit */
	double start_time_seconds; /* Unix time */
};

/* The boot time (Unix seconds) from PROC/stat's btime line.  0 or -errno. */
int proc_boot_time(const char *proc, double *btime, char *err, size_t errlen);

/*
 * Reads the figures of process pid (0: the caller) from PROC/PID/{stat,limits,fd};
 * btime from proc_boot_time turns its start into Unix time.  0, or -errno (-ENOENT
 * when the process is gone) with the file and the reason in err.
 */
int proc_stats_read(const char *proc, pid_t pid, double btime, struct proc_stats *st, char *err,
		    size_t errlen);

/*
 * Adds the seven families, named prefix + "process_..." ("process_cpu_seconds_total"
 * with prefix ""), with one series per process: st[i] labelled with
 * values[i * n_labels .. + n_labels) for label names names[0..n_labels).
 * 0, or a negative errno from the batch with the reason in err.
 */
int proc_stats_add(struct batch *b, const char *prefix, const char *const *names, size_t n_labels,
		   const char *const *values, const struct proc_stats *st, size_t n, char *err,
		   size_t errlen);

/* The families proc_stats_add adds: one series each per process. */
#define PROC_STATS_FAMILIES 7

#endif
