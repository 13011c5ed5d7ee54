/*
 * pidstat.h - the processes of PROCFS: listing the numeric entries of a /proc
 * directory without allocating per cycle, and parsing PROCFS/PID/stat.
 *
 * A process can vanish at any moment between the listing and the reading of its
 * files: callers skip it quietly (ENOENT, ESRCH), as node_exporter does.
 */
#ifndef SHMETRICS_PIDSTAT_H
#define SHMETRICS_PIDSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pidlist {
	int32_t *pids; /* in directory order */
	size_t n, cap;
	char buf[16384]; /* getdents64 */
};

/*
 * Lists the numeric entries of the directory dirfd (a /proc or a
 * /proc/PID/task), rewinding it first.  0, -ENOMEM, or the -errno of
 * getdents64; l keeps what was read before an error.
 */
int pidlist_read(struct pidlist *l, int dirfd);

void pidlist_free(struct pidlist *l);

/* What the collectors take from PROCFS/PID/stat (proc(5) numbers the fields). */
struct pid_stat {
	char comm[64];   /* field 2, without the parentheses; at most 15 bytes from the kernel */
	char state;      /* field 3: R, S, D, Z, T, t, X, I, ... */
	int64_t ppid;    /* field 4 */
	uint64_t utime;  /* field 14, clock ticks */
	uint64_t stime;  /* field 15 */
	int64_t threads; /* field 20 */
	uint64_t start;  /* field 22, clock ticks after boot */
	uint64_t vsize;  /* field 23, bytes */
	int64_t rss;     /* field 24, pages */
};

/*
 * Parses the text of a stat file.  The command name may hold spaces and
 * parentheses, so it ends at the last ')'.  False when the text is cut short or
 * a field does not parse.
 */
bool pidstat_parse(const char *text, size_t len, struct pid_stat *out);

#endif
