/* process_* figures from /proc (procstat.h). */
#include "procstat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FILE_MAX 4096

/* PROC/PID/what, or PROC/self/what for pid 0. */
static void proc_path(char *out, size_t n, const char *proc, pid_t pid, const char *what)
{
	if (pid > 0)
		snprintf(out, n, "%s/%ld/%s", proc, (long)pid, what);
	else
		snprintf(out, n, "%s/self/%s", proc, what);
}

/* Reads a small file whole into buf (NUL-terminated).  0 or -errno. */
static int read_small(const char *path, char *buf, size_t n, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t got = fd < 0 ? -1 : read(fd, buf, n - 1);
	int e = errno;

	if (fd >= 0)
		close(fd);
	if (got < 0) {
		snprintf(err, errlen, "%s(\"%s\") failed: %s", fd < 0 ? "open" : "read", path,
			 strerror(e));
		return -e;
	}
	buf[got] = '\0';
	return 0;
}

int proc_boot_time(const char *proc, double *btime, char *err, size_t errlen)
{
	char path[256], *buf = malloc(1 << 16);
	int rc = -ENOMEM;

	if (!buf)
		return rc;
	snprintf(path, sizeof path, "%s/stat", proc);
	rc = read_small(path, buf, 1 << 16, err, errlen);
	const char *line = rc == 0 ? strstr(buf, "\nbtime ") : NULL;
	unsigned long long v;
	if (rc == 0 && (!line || sscanf(line + 7, "%llu", &v) != 1)) {
		snprintf(err, errlen, "%s has no btime line", path);
		rc = -EINVAL;
	}
	if (rc == 0)
		*btime = (double)v;
	free(buf);
	return rc;
}

/* Fields 14 (utime), 15 (stime), 22 (starttime), 23 (vsize), 24 (rss) of
 * PROC/PID/stat, counted after the ')' that ends the command's name. */
static int read_stat(const char *proc, pid_t pid, double btime, struct proc_stats *st, char *err,
		     size_t errlen)
{
	char path[256], buf[FILE_MAX];
	unsigned long long utime, stime, start, vsize;
	long long rss;

	proc_path(path, sizeof path, proc, pid, "stat");
	int rc = read_small(path, buf, sizeof buf, err, errlen);
	if (rc < 0)
		return rc;
	const char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 1,
			 " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d"
			 " %*d %*d %llu %llu %lld",
			 &utime, &stime, &start, &vsize, &rss) != 5) {
		snprintf(err, errlen, "%s: not the layout of a stat file", path);
		return -EINVAL;
	}
	double tick = (double)sysconf(_SC_CLK_TCK);
	st->cpu_seconds = (double)(utime + stime) / tick;
	st->start_time_seconds = btime + (double)start / tick;
	st->virtual_bytes = (double)vsize;
	st->resident_bytes = (double)rss * (double)sysconf(_SC_PAGESIZE);
	return 0;
}

/* The soft limit of the line starting with label in a limits file. */
static double soft_limit(const char *buf, const char *label)
{
	const char *line = strstr(buf, label);
	char word[32];

	if (!line || sscanf(line + strlen(label), " %31s", word) != 1)
		return 0;
	if (strcmp(word, "unlimited") == 0)
		return (double)UINT64_MAX; /* what client libraries report: 2^64 */
	return strtod(word, NULL);
}

static int read_limits(const char *proc, pid_t pid, struct proc_stats *st, char *err, size_t errlen)
{
	char path[256], buf[FILE_MAX];

	proc_path(path, sizeof path, proc, pid, "limits");
	int rc = read_small(path, buf, sizeof buf, err, errlen);
	if (rc < 0)
		return rc;
	st->max_fds = soft_limit(buf, "Max open files");
	st->virtual_max_bytes = soft_limit(buf, "Max address space");
	return 0;
}

static int count_fds(const char *proc, pid_t pid, struct proc_stats *st, char *err, size_t errlen)
{
	char path[256];
	struct dirent *e;
	double n = 0;

	proc_path(path, sizeof path, proc, pid, "fd");
	DIR *d = opendir(path);
	if (!d) {
		int rc = -errno;
		snprintf(err, errlen, "opendir(\"%s\") failed: %s", path, strerror(-rc));
		return rc;
	}
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	st->open_fds = n;
	return 0;
}

int proc_stats_read(const char *proc, pid_t pid, double btime, struct proc_stats *st, char *err,
		    size_t errlen)
{
	int rc = read_stat(proc, pid, btime, st, err, errlen);

	if (rc == 0)
		rc = read_limits(proc, pid, st, err, errlen);
	if (rc == 0)
		rc = count_fds(proc, pid, st, err, errlen);
	return rc;
}

/* ---- the families ---- */

struct proc_family {
	const char *name; /* after the prefix */
	const char *help;
	enum metric_type type;
	size_t offset; /* in struct proc_stats */
};

static const struct proc_family families[PROC_STATS_FAMILIES] = {
	{ "process_cpu_seconds_total", "Total user and system CPU time of the process, in seconds.",
	  METRIC_COUNTER, offsetof(struct proc_stats, cpu_seconds) },
	{ "process_resident_memory_bytes", "Resident memory of the process, in bytes.",
	  METRIC_GAUGE, offsetof(struct proc_stats, resident_bytes) },
	{ "process_virtual_memory_bytes", "Virtual memory of the process, in bytes.", METRIC_GAUGE,
	  offsetof(struct proc_stats, virtual_bytes) },
	{ "process_virtual_memory_max_bytes",
	  "Most virtual memory the process may have, in bytes (its address space limit).",
	  METRIC_GAUGE, offsetof(struct proc_stats, virtual_max_bytes) },
	{ "process_open_fds", "File descriptors the process has open.", METRIC_GAUGE,
	  offsetof(struct proc_stats, open_fds) },
	{ "process_max_fds", "Most file descriptors the process may open.", METRIC_GAUGE,
	  offsetof(struct proc_stats, max_fds) },
	{ "process_start_time_seconds", "When the process started, in seconds since the epoch.",
	  METRIC_GAUGE, offsetof(struct proc_stats, start_time_seconds) },
};

int proc_stats_add(struct batch *b, const char *prefix, const char *const *names, size_t n_labels,
		   const char *const *values, const struct proc_stats *st, size_t n, char *err,
		   size_t errlen)
{
	char name[METRIC_NAME_MAX + 1];
	int rc = 0;

	for (size_t f = 0; rc == 0 && f < PROC_STATS_FAMILIES; f++) {
		snprintf(name, sizeof name, "%s%s", prefix, families[f].name);
		rc = batch_family(b, name, families[f].help, families[f].type, err, errlen);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			double v = *(const double *)((const char *)&st[i] + families[f].offset);
			const char *const *vals = n_labels ? values + i * n_labels : NULL;
			rc = batch_add(b, names, vals, n_labels, v, err, errlen);
		}
	}
	return rc;
}
