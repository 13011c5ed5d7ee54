/*
 * top - the processes eating the machine, grouped and bounded: shmetrics_top_*
 * per group of processes (docs/collectors.md lists the families).
 *
 * Groups: processes are grouped by command name (comm), or, when cmdline-regex
 * is set and matches a process's command line (arguments joined by spaces), by
 * the text of the first capture group that took part in the match (the whole
 * match when the expression has none), as process-exporter's name groups do.
 * A process stays in its group until its comm changes (an exec).
 *
 * Which groups are reported: the top-cpu groups that used the most CPU since the
 * last collection, the top-memory groups with the most resident memory, and the
 * groups named in include that have processes.  That is at most top-cpu +
 * top-memory + the include list, whatever the host runs, so the series count is
 * bounded by the options; shmetrics_top_groups says how many groups there were.
 *
 * Counters stay counters when processes come and go: each group adds the CPU
 * time and IO of its processes as deltas from one collection to the next, so a
 * process that exits takes nothing away (what it did after the last collection
 * is not seen).  A process seen for the first time brings everything it did
 * since it started.  A group with no process left is forgotten, with its
 * counters.  A pid that is reused is told apart by its start time.
 *
 * Cost: every process's stat and io are read each cycle, from descriptors kept
 * open (a pread each) while the budget allows (half of RLIMIT_NOFILE, whose soft
 * limit init raises to the hard limit, at most 65536); status (swap) and the fd
 * count only for the processes of the reported groups.  The command line is
 * read once per process, when cmdline-regex is set.  bench/top_cost.sh measures
 * a cycle next to process-exporter.
 *
 * Processes vanish between the listing and the reading of their files: they
 * are skipped without a word.  /proc/PID/io of other users' processes needs
 * CAP_SYS_PTRACE: without it those processes add no IO (read and write bytes
 * are then the IO of the processes that could be read).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "array.h"
#include "collector.h"
#include "settings.h"
#include "dirents.h"
#include "emit.h"
#include "hsort.h"
#include "lazyfam.h"
#include "pidstat.h"
#include "scan.h"
#include "sysattr.h"

#define GROUP_NAME_MAX   128
#define INCLUDE_MAX      64
#define CMDLINE_MAX      4096
#define NOFILE_WANTED    65536
#define PROC_SUPER_MAGIC 0x9fa0

struct proc {
	int32_t pid;
	uint32_t group;
	uint64_t start;                        /* clock ticks after boot */
	uint64_t utime, stime, rbytes, wbytes; /* as last read */
	int stat_fd, io_fd;                    /* kept open within the budget, or -1 */
	bool io_denied;
	char comm[64]; /* as in struct pid_stat: an exec changes it */
};

struct group {
	char name[GROUP_NAME_MAX];
	/* kept from cycle to cycle */
	double user_ticks, system_ticks, rbytes, wbytes;
	bool io_known;
	/* this cycle */
	bool seen, selected, swap_known, fds_known;
	uint64_t cpu_ticks; /* used since the last collection: the CPU ranking */
	uint64_t procs, rss, vsize, swap, fds;
	int64_t threads;
	uint64_t oldest; /* start ticks of the oldest process */
};

struct top_state {
	char procfs[PATH_MAX];
	int procfd;
	bool real_procfs; /* PROCFS is a proc filesystem, not a copy (tests) */
	unsigned top_cpu, top_memory;
	char include[INCLUDE_MAX][GROUP_NAME_MAX];
	size_t n_include;
	regex_t cmdline_re;
	bool have_re;
	long clk_tck, page_size;
	double boot_time;
	struct fd_budget budget;
	struct pidlist pids;
	struct proc *procs, *next; /* by pid; next is built from procs each cycle */
	size_t n_procs, cap_procs;
	struct group *groups;
	size_t n_groups, cap_groups;
	uint32_t *hash; /* group index + 1, 0 empty */
	size_t hash_cap;
	uint32_t *remap; /* old group index to new, while forgetting groups */
	size_t cap_remap;
	struct group **rank; /* sorting */
	size_t cap_rank;
	char buf[CMDLINE_MAX + 1];
};

/* ---- files ---- */

/* Reads PROCFS/PID/name into s->buf through *fd (kept when the budget allows;
 * fd NULL: opened and closed).  The length, or -errno. */
static long read_proc_file(struct top_state *s, int32_t pid, const char *name, int *fd, size_t cap)
{
	char path[48];
	int f = fd ? *fd : -1;
	bool keep = false;

	if (f < 0) {
		snprintf(path, sizeof path, "%d/%s", (int)pid, name);
		f = openat(s->procfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (f < 0)
			return -errno;
		keep = fd && s->budget.open < s->budget.max;
		if (keep) {
			*fd = f;
			s->budget.open++;
		}
	}
	ssize_t n = pread(f, s->buf, cap, 0);
	int e = errno;
	if (!fd || (!keep && *fd != f))
		close(f);
	if (n < 0)
		return -e;
	s->buf[n] = '\0';
	return n;
}

static void close_kept(struct top_state *s, int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
		s->budget.open--;
	}
}

/* "read_bytes: N" and "write_bytes: N" of PROCFS/PID/io. */
static bool parse_io(const char *text, size_t len, uint64_t *rd, uint64_t *wr)
{
	struct scan s = scan_text(text, len), line;
	int found = 0;

	while (scan_line(&s, &line)) {
		const char *k, *v;
		size_t kn, vn;
		if (!scan_word(&line, &k, &kn) || !scan_word(&line, &v, &vn))
			continue;
		if (word_is(k, kn, "read_bytes:") && parse_u64(v, vn, rd))
			found |= 1;
		else if (word_is(k, kn, "write_bytes:") && parse_u64(v, vn, wr))
			found |= 2;
	}
	return found == 3;
}

/* ---- groups ---- */

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Rebuilds the hash for the groups there are (it is kept at most half full). */
static int rehash(struct top_state *s)
{
	size_t cap = 64;
	while (cap < 2 * (s->n_groups + 1))
		cap *= 2;
	if (cap != s->hash_cap) {
		uint32_t *h = realloc(s->hash, cap * sizeof *h);
		if (!h)
			return -ENOMEM;
		s->hash = h;
		s->hash_cap = cap;
	}
	memset(s->hash, 0, s->hash_cap * sizeof *s->hash);
	for (size_t g = 0; g < s->n_groups; g++) {
		size_t i = name_hash(s->groups[g].name) & (s->hash_cap - 1);
		while (s->hash[i])
			i = (i + 1) & (s->hash_cap - 1);
		s->hash[i] = (uint32_t)g + 1;
	}
	return 0;
}

/* The index of the group called name, created when new; -ENOMEM. */
static int64_t group_find(struct top_state *s, const char *name)
{
	if (2 * (s->n_groups + 1) > s->hash_cap && rehash(s) < 0)
		return -ENOMEM;
	size_t i = name_hash(name) & (s->hash_cap - 1);
	for (; s->hash[i]; i = (i + 1) & (s->hash_cap - 1))
		if (strcmp(s->groups[s->hash[i] - 1].name, name) == 0)
			return (int64_t)s->hash[i] - 1;
	if (array_reserve(&s->groups, &s->cap_groups, s->n_groups + 1, sizeof *s->groups) < 0)
		return -ENOMEM;
	struct group *g = &s->groups[s->n_groups];
	memset(g, 0, sizeof *g);
	snprintf(g->name, sizeof g->name, "%s", name);
	s->hash[i] = (uint32_t)++s->n_groups;
	return (int64_t)s->n_groups - 1;
}

/* Group names become label values: bytes that are not UTF-8 become '?'. */
static void sanitize(char *name)
{
	size_t n = strlen(name);
	if (utf8_valid(name, n))
		return;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] >= 0x80)
			name[i] = '?';
}

/* The command line, arguments joined by spaces, into s->buf; false when empty
 * (kernel threads, zombies) or unreadable. */
static bool read_cmdline(struct top_state *s, int32_t pid, size_t *len)
{
	long n = read_proc_file(s, pid, "cmdline", NULL, CMDLINE_MAX);
	if (n <= 0)
		return false;
	while (n > 0 && s->buf[n - 1] == '\0')
		n--;
	for (long i = 0; i < n; i++)
		if (s->buf[i] == '\0')
			s->buf[i] = ' ';
	s->buf[n] = '\0';
	*len = (size_t)n;
	return n > 0;
}

/* The group name cmdline-regex gives the command line in s->buf, or false. */
static bool name_by_cmdline(struct top_state *s, size_t len, char *name, size_t cap)
{
	regmatch_t m[10];
	size_t nm = s->cmdline_re.re_nsub + 1 < 10 ? s->cmdline_re.re_nsub + 1 : 10;

	m[0].rm_so = 0;
	m[0].rm_eo = (regoff_t)len;
	if (regexec(&s->cmdline_re, s->buf, nm, m, REG_STARTEND) != 0)
		return false;
	size_t k = 0;
	for (size_t i = 1; i < nm && k == 0; i++)
		if (m[i].rm_so >= 0 && m[i].rm_eo > m[i].rm_so)
			k = i;
	size_t n = (size_t)(m[k].rm_eo - m[k].rm_so);
	if (n == 0)
		return false;
	if (n >= cap)
		n = cap - 1;
	memcpy(name, s->buf + m[k].rm_so, n);
	name[n] = '\0';
	return true;
}

static int64_t classify(struct top_state *s, const struct proc *p)
{
	char name[GROUP_NAME_MAX];
	size_t len;

	if (!s->have_re || !read_cmdline(s, p->pid, &len) ||
	    !name_by_cmdline(s, len, name, sizeof name))
		snprintf(name, sizeof name, "%s", p->comm);
	sanitize(name);
	return group_find(s, name);
}

/* ---- processes ---- */

static void proc_drop(struct top_state *s, struct proc *p)
{
	close_kept(s, &p->stat_fd);
	close_kept(s, &p->io_fd);
}

static void proc_fresh(struct top_state *s, struct proc *p, int32_t pid)
{
	proc_drop(s, p);
	memset(p, 0, sizeof *p);
	p->pid = pid;
	p->stat_fd = p->io_fd = -1;
}

static uint64_t delta(uint64_t now, uint64_t before, bool known)
{
	if (!known)
		return now;
	return now > before ? now - before : 0;
}

/* Adds the process's IO since it was last read to its group. */
static void proc_io(struct top_state *s, struct proc *p, struct group *g, bool known)
{
	uint64_t rd, wr;

	if (p->io_denied)
		return;
	long n = read_proc_file(s, p->pid, "io", &p->io_fd, CMDLINE_MAX);
	if (n < 0) {
		close_kept(s, &p->io_fd);
		p->io_denied = n == -EACCES || n == -EPERM;
		return;
	}
	if (!parse_io(s->buf, (size_t)n, &rd, &wr))
		return;
	g->rbytes += (double)delta(rd, p->rbytes, known);
	g->wbytes += (double)delta(wr, p->wbytes, known);
	g->io_known = true;
	p->rbytes = rd;
	p->wbytes = wr;
}

static void group_add(struct top_state *s, struct group *g, const struct pid_stat *st)
{
	if (!g->seen || st->start < g->oldest)
		g->oldest = st->start;
	g->seen = true;
	g->procs++;
	g->threads += st->threads > 0 ? st->threads : 0;
	g->rss += st->rss > 0 ? (uint64_t)st->rss * (uint64_t)s->page_size : 0;
	g->vsize += st->vsize;
}

/*
 * Reads one process and adds it to its group.  known: p holds what was read of
 * this pid before.  False when the process is gone (or unreadable): drop it.
 */
static bool proc_update(struct top_state *s, struct proc *p, bool known)
{
	struct pid_stat st;
	long n = read_proc_file(s, p->pid, "stat", &p->stat_fd, CMDLINE_MAX);

	if (n < 0 && p->stat_fd >= 0) {
		/* The descriptor may be the one of an exited process whose pid was
		 * reused: the new process is read through a new one. */
		close_kept(s, &p->stat_fd);
		n = read_proc_file(s, p->pid, "stat", &p->stat_fd, CMDLINE_MAX);
	}
	if (n <= 0 || !pidstat_parse(s->buf, (size_t)n, &st))
		return false;
	if (known && st.start != p->start) { /* the pid was reused */
		int32_t pid = p->pid;
		int fd = p->stat_fd;
		p->stat_fd = -1; /* the new descriptor reads the new process */
		proc_fresh(s, p, pid);
		p->stat_fd = fd;
		known = false;
	}
	if (!known || strncmp(p->comm, st.comm, sizeof p->comm) != 0) {
		snprintf(p->comm, sizeof p->comm, "%s", st.comm);
		int64_t g = classify(s, p);
		if (g < 0)
			return false;
		p->group = (uint32_t)g;
	}
	p->start = st.start;
	struct group *g = &s->groups[p->group];
	uint64_t du = delta(st.utime, p->utime, known), ds = delta(st.stime, p->stime, known);
	g->user_ticks += (double)du;
	g->system_ticks += (double)ds;
	g->cpu_ticks += du + ds;
	p->utime = st.utime;
	p->stime = st.stime;
	group_add(s, g, &st);
	proc_io(s, p, g, known);
	return true;
}

static int pid_cmp(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* Walks the sorted pid list beside the table of the last cycle. */
static int scan_processes(struct top_state *s)
{
	size_t old = 0, n = 0;

	if (s->pids.n > s->cap_procs) {
		size_t cap = s->pids.n + s->pids.n / 4 + 64;
		struct proc *a = realloc(s->procs, cap * sizeof *a);
		if (a)
			s->procs = a;
		struct proc *b = a ? realloc(s->next, cap * sizeof *b) : NULL;
		if (!b)
			return -ENOMEM;
		s->next = b;
		s->cap_procs = cap;
	}
	hsort(s->pids.pids, s->pids.n, sizeof *s->pids.pids, pid_cmp);
	for (size_t i = 0; i < s->pids.n; i++) {
		int32_t pid = s->pids.pids[i];
		while (old < s->n_procs && s->procs[old].pid < pid)
			proc_drop(s, &s->procs[old++]);
		struct proc p = { .pid = pid, .stat_fd = -1, .io_fd = -1 };
		bool known = old < s->n_procs && s->procs[old].pid == pid;
		if (known)
			p = s->procs[old++];
		if (proc_update(s, &p, known))
			s->next[n++] = p;
		else
			proc_drop(s, &p);
	}
	while (old < s->n_procs)
		proc_drop(s, &s->procs[old++]);
	struct proc *t = s->procs;
	s->procs = s->next;
	s->next = t;
	s->n_procs = n;
	return 0;
}

/* ---- choosing the groups ---- */

static void groups_begin(struct top_state *s)
{
	for (size_t i = 0; i < s->n_groups; i++) {
		struct group *g = &s->groups[i];
		g->seen = g->selected = g->swap_known = g->fds_known = false;
		g->cpu_ticks = g->procs = g->rss = g->vsize = g->swap = g->fds = 0;
		g->threads = 0;
	}
}

/* Forgets the groups that have no process left, and renumbers the rest. */
static int groups_end(struct top_state *s)
{
	size_t n = 0;

	if (array_reserve(&s->remap, &s->cap_remap, s->n_groups, sizeof *s->remap) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_groups; i++) {
		s->remap[i] = (uint32_t)n;
		if (s->groups[i].seen)
			s->groups[n++] = s->groups[i];
	}
	for (size_t i = 0; i < s->n_procs; i++)
		s->procs[i].group = s->remap[s->procs[i].group];
	s->n_groups = n;
	return rehash(s);
}

static int by_cpu(const void *a, const void *b)
{
	const struct group *x = *(struct group *const *)a, *y = *(struct group *const *)b;
	if (x->cpu_ticks != y->cpu_ticks)
		return x->cpu_ticks > y->cpu_ticks ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int by_memory(const void *a, const void *b)
{
	const struct group *x = *(struct group *const *)a, *y = *(struct group *const *)b;
	if (x->rss != y->rss)
		return x->rss > y->rss ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int by_name(const void *a, const void *b)
{
	const struct group *x = *(struct group *const *)a, *y = *(struct group *const *)b;
	return strcmp(x->name, y->name);
}

/* The first n groups by cmp among those whose key is not 0 (an idle host's
 * kernel threads are no "top"). */
static void select_top(struct top_state *s, int (*cmp)(const void *, const void *), unsigned n,
		       size_t key_offset)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n_groups; i++)
		if (*(const uint64_t *)(const void *)((const char *)&s->groups[i] + key_offset))
			s->rank[k++] = &s->groups[i];
	hsort(s->rank, k, sizeof *s->rank, cmp);
	for (size_t i = 0; i < k && i < n; i++)
		s->rank[i]->selected = true;
}

/* Marks the reported groups and leaves them in s->rank by name; their count. */
static size_t select_groups(struct top_state *s)
{
	size_t n = 0;

	select_top(s, by_cpu, s->top_cpu, offsetof(struct group, cpu_ticks));
	select_top(s, by_memory, s->top_memory, offsetof(struct group, rss));
	for (size_t i = 0; i < s->n_include; i++) {
		size_t k = name_hash(s->include[i]) & (s->hash_cap - 1);
		for (; s->hash[k]; k = (k + 1) & (s->hash_cap - 1))
			if (strcmp(s->groups[s->hash[k] - 1].name, s->include[i]) == 0)
				s->groups[s->hash[k] - 1].selected = true;
	}
	for (size_t i = 0; i < s->n_groups; i++)
		if (s->groups[i].selected)
			s->rank[n++] = &s->groups[i];
	hsort(s->rank, n, sizeof *s->rank, by_name);
	return n;
}

/* ---- what only the reported groups need ---- */

/* "VmSwap:   123 kB" of PROCFS/PID/status, in bytes; false when absent. */
static bool read_swap(struct top_state *s, int32_t pid, uint64_t *bytes)
{
	long n = read_proc_file(s, pid, "status", NULL, CMDLINE_MAX);
	const char *at = n > 0 ? strstr(s->buf, "\nVmSwap:") : NULL;
	if (!at)
		return false;
	struct scan line = scan_text(at + 8, strcspn(at + 8, "\n"));
	const char *w;
	size_t wn;
	uint64_t kb;
	if (!scan_word(&line, &w, &wn) || !parse_u64(w, wn, &kb))
		return false;
	*bytes = kb * 1024;
	return true;
}

/* Open descriptors: the size of PROCFS/PID/fd (Linux 6.2+), else its entries. */
static bool count_fds(struct top_state *s, int32_t pid, uint64_t *fds)
{
	char path[32];
	struct stat st;

	snprintf(path, sizeof path, "%d/fd", (int)pid);
	if (fstatat(s->procfd, path, &st, 0) != 0)
		return false;
	if (s->real_procfs && st.st_size > 0) {
		*fds = (uint64_t)st.st_size;
		return true;
	}
	int fd = openat(s->procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	long got;
	*fds = 0;
	while ((got = syscall(SYS_getdents64, fd, s->buf, sizeof s->buf)) > 0)
		for (long off = 0; off < got;) {
			const struct dirent64 *e = (const void *)(s->buf + off);
			off += e->d_reclen;
			*fds += e->d_name[0] != '.';
		}
	close(fd);
	return got == 0;
}

static void read_selected(struct top_state *s)
{
	for (size_t i = 0; i < s->n_procs; i++) {
		struct proc *p = &s->procs[i];
		struct group *g = &s->groups[p->group];
		uint64_t v;
		if (!g->selected)
			continue;
		if (read_swap(s, p->pid, &v)) {
			g->swap += v;
			g->swap_known = true;
		}
		if (count_fds(s, p->pid, &v)) {
			g->fds += v;
			g->fds_known = true;
		}
	}
}

/* ---- publishing ---- */

enum top_val { T_PROCS, T_THREADS, T_FDS, T_OLDEST, T_READ, T_WRITE, N_TOP_VALS };

static const struct {
	const char *name, *help;
	enum metric_type type;
} top_families[N_TOP_VALS] = {
	[T_PROCS] = { "shmetrics_top_processes", "Processes in the group.", METRIC_GAUGE },
	[T_THREADS] = { "shmetrics_top_threads", "Threads of the group's processes.",
			METRIC_GAUGE },
	[T_FDS] = { "shmetrics_top_open_fds", "Open file descriptors of the group's processes.",
		    METRIC_GAUGE },
	[T_OLDEST] = { "shmetrics_top_oldest_start_time_seconds",
		       "Start time of the group's oldest process, in seconds since the epoch.",
		       METRIC_GAUGE },
	[T_READ] = { "shmetrics_top_read_bytes_total",
		     "Bytes the group's processes read from storage (/proc/PID/io read_bytes, where readable).",
		     METRIC_COUNTER },
	[T_WRITE] = { "shmetrics_top_write_bytes_total",
		      "Bytes the group's processes wrote to storage (/proc/PID/io write_bytes, where readable).",
		      METRIC_COUNTER },
};

/* The value of family v for g; false when it is not known. */
static bool top_value(const struct top_state *s, const struct group *g, enum top_val v, double *out)
{
	switch (v) {
	case T_PROCS:
		*out = (double)g->procs;
		return true;
	case T_THREADS:
		*out = (double)g->threads;
		return true;
	case T_FDS:
		*out = (double)g->fds;
		return g->fds_known;
	case T_OLDEST:
		*out = s->boot_time + (double)g->oldest / (double)s->clk_tck;
		return s->boot_time > 0;
	case T_READ:
		*out = g->rbytes;
		return g->io_known;
	case T_WRITE:
		*out = g->wbytes;
		return g->io_known;
	case N_TOP_VALS:
		break;
	}
	return false;
}

static int emit_cpu_memory(struct top_state *s, struct batch *b, size_t n, char *err, size_t errlen)
{
	struct lazyfam cpu = { "shmetrics_top_cpu_seconds_total",
			       "CPU time of the group's processes, in seconds, by mode.",
			       METRIC_COUNTER, false };
	struct lazyfam mem = {
		"shmetrics_top_memory_bytes",
		"Memory of the group's processes: resident, virtual and swapped out.", METRIC_GAUGE,
		false
	};
	const char *names[2] = { "group", "mode" }, *values[2];
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct group *g = s->rank[i];
		values[0] = g->name;
		values[1] = "user";
		rc = lazyfam_add(b, &cpu, names, values, 2, g->user_ticks / (double)s->clk_tck, err,
				 errlen);
		values[1] = "system";
		if (rc == 0)
			rc = lazyfam_add(b, &cpu, names, values, 2,
					 g->system_ticks / (double)s->clk_tck, err, errlen);
	}
	names[1] = "type";
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct group *g = s->rank[i];
		const double v[3] = { (double)g->rss, (double)g->vsize, (double)g->swap };
		static const char *const types[3] = { "resident", "virtual", "swap" };
		values[0] = g->name;
		for (int t = 0; rc == 0 && t < 3; t++) {
			values[1] = types[t];
			if (t < 2 || g->swap_known)
				rc = lazyfam_add(b, &mem, names, values, 2, v[t], err, errlen);
		}
	}
	return rc;
}

static int top_publish(struct top_state *s, struct batch *b, size_t n, char *err, size_t errlen)
{
	int rc = emit_cpu_memory(s, b, n, err, errlen);

	for (int v = 0; rc == 0 && v < N_TOP_VALS; v++) {
		struct lazyfam f = { top_families[v].name, top_families[v].help,
				     top_families[v].type, false };
		for (size_t i = 0; rc == 0 && i < n; i++) {
			const char *names[1] = { "group" }, *values[1] = { s->rank[i]->name };
			double x;
			if (top_value(s, s->rank[i], (enum top_val)v, &x))
				rc = lazyfam_add(b, &f, names, values, 1, x, err, errlen);
		}
	}
	if (rc == 0)
		rc = emit_single(b, "shmetrics_top_groups",
				 "Process groups on the host, reported or not.", METRIC_GAUGE,
				 (double)s->n_groups, err, errlen);
	return rc;
}

static int top_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct top_state *s = state;

	if (s->procfd < 0) {
		struct statfs fs;
		s->procfd = open(s->procfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		s->real_procfs = s->procfd >= 0 && fstatfs(s->procfd, &fs) == 0 &&
				 fs.f_type == PROC_SUPER_MAGIC;
	}
	if (s->procfd < 0) {
		snprintf(err, errlen, "open(\"%s\") failed: %s", s->procfs, strerror(errno));
		return -errno;
	}
	int rc = pidlist_read(&s->pids, s->procfd);
	if (rc) {
		snprintf(err, errlen, "listing \"%s\" failed: %s", s->procfs, strerror(-rc));
		return rc;
	}
	groups_begin(s);
	rc = scan_processes(s);
	if (rc == 0)
		rc = groups_end(s);
	if (rc == 0)
		rc = array_reserve(&s->rank, &s->cap_rank, s->n_groups, sizeof *s->rank);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	size_t n = select_groups(s);
	read_selected(s);
	return top_publish(s, b, n, err, errlen);
}

/* ---- setting up ---- */

/* "btime N" of PROCFS/stat: the boot time, to turn start ticks into a date. */
static double read_boot_time(const char *procfs)
{
	char path[PATH_MAX + 8], *text = NULL;
	size_t cap = 0;
	double bt = 0;

	snprintf(path, sizeof path, "%s/stat", procfs);
	long n = sysfile_slurp(path, &text, &cap);
	const char *at = n > 0 ? strstr(text, "btime ") : NULL;
	uint64_t v;
	if (at && (at == text || at[-1] == '\n') && parse_u64(at + 6, strcspn(at + 6, "\n"), &v))
		bt = (double)v;
	free(text);
	return bt;
}

/* Raises the soft limit on descriptors towards the hard one, so that a cycle
 * can keep each process's files open (the budget is half the soft limit). */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= NOFILE_WANTED)
		return;
	rlim_t want = rl.rlim_max < NOFILE_WANTED ? rl.rlim_max : NOFILE_WANTED;
	if (want > rl.rlim_cur) {
		rl.rlim_cur = want;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* "a,b,c": the group names that are always reported. */
static int parse_include(struct top_state *s, const char *list, char *err, size_t errlen)
{
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ",");
		if (n > 0) {
			if (s->n_include == INCLUDE_MAX || n >= GROUP_NAME_MAX) {
				snprintf(err, errlen,
					 "--collector.top.include: at most %d names of at most %d "
					 "bytes",
					 INCLUDE_MAX, GROUP_NAME_MAX - 1);
				return -EINVAL;
			}
			memcpy(s->include[s->n_include], p, n);
			s->include[s->n_include++][n] = '\0';
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

static int top_options(struct top_state *s, const struct collector_env *env, char *err,
		       size_t errlen)
{
	const char *cpu = collector_option(env, "top-cpu"),
		   *mem = collector_option(env, "top-memory");
	const char *re = collector_option(env, "cmdline-regex");

	s->top_cpu = cpu ? (unsigned)strtoul(cpu, NULL, 10) : 10;
	s->top_memory = mem ? (unsigned)strtoul(mem, NULL, 10) : 10;
	if (re && re[0]) {
		int rc = regcomp(&s->cmdline_re, re, REG_EXTENDED);
		if (rc) {
			char why[128];
			regerror(rc, &s->cmdline_re, why, sizeof why);
			snprintf(err, errlen, "--collector.top.cmdline-regex: %s", why);
			return -EINVAL;
		}
		s->have_re = true;
	}
	return parse_include(s, collector_option(env, "include"), err, errlen);
}

static void top_fini(void *state)
{
	struct top_state *s = state;
	if (!s)
		return;
	for (size_t i = 0; i < s->n_procs; i++)
		proc_drop(s, &s->procs[i]);
	if (s->procfd >= 0)
		close(s->procfd);
	if (s->have_re)
		regfree(&s->cmdline_re);
	pidlist_free(&s->pids);
	free(s->procs);
	free(s->next);
	free(s->groups);
	free(s->hash);
	free(s->remap);
	free(s->rank);
	free(s);
}

static int top_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct top_state *s = calloc(1, sizeof *s);

	if (!s)
		return -ENOMEM;
	s->procfd = -1;
	if (snprintf(s->procfs, sizeof s->procfs, "%s", env->procfs) >= (int)sizeof s->procfs) {
		snprintf(err, errlen, "--path.procfs is too long");
		free(s);
		return -ENAMETOOLONG;
	}
	int rc = top_options(s, env, err, errlen);
	if (rc == 0)
		rc = rehash(s);
	if (rc) {
		top_fini(s);
		return rc;
	}
	s->clk_tck = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
	s->page_size = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
	s->boot_time = read_boot_time(env->procfs);
	raise_nofile();
	fd_budget_init(&s->budget);
	*state = s;
	return 0;
}

const struct collector_ops collector_top_ops = {
	.init = top_init,
	.collect = top_collect,
	.fini = top_fini,
};
