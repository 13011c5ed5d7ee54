/*
 * processes - what node_exporter's opt-in processes collector reports, from
 * PROCFS/PID/stat of every process and PROCFS/PID/task/TID/stat of every thread:
 *
 *   node_processes_pids             processes
 *   node_processes_threads          threads (the sum of each process's count)
 *   node_processes_state{state}     processes per state letter (R, S, D, Z, ...)
 *   node_processes_threads_state{thread_state}   threads per state letter
 *   node_processes_max_processes    PROCFS/sys/kernel/pid_max
 *   node_processes_max_threads      PROCFS/sys/kernel/threads-max
 *
 * As in node_exporter a process's main thread counts with the process's own
 * state, a process or thread that exits while it is read is skipped, and only
 * the states seen have a series.  Reading every thread's stat makes this the
 * costly part on a host with many threads, which is why it is opt-in.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "emit.h"
#include "lazyfam.h"
#include "pidstat.h"
#include "procfile.h"

#define N_STATES 128 /* one counter per state letter */

struct processes_state {
	char procfs[PATH_MAX];
	int procfd; /* -1 until PROCFS can be opened */
	struct pidlist pids, tids;
	char buf[1024];
	uint64_t proc_states[N_STATES], thread_states[N_STATES];
	uint64_t n_pids, n_threads;
};

/* Reads the small file name under dirfd into s->buf: its length, or -errno. */
static long read_small(struct processes_state *s, int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, s->buf, sizeof s->buf - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	s->buf[n] = '\0';
	return n;
}

static bool vanished(long rc)
{
	return rc == -ENOENT || rc == -ESRCH;
}

/* The thread states of process pid, its main thread counted as the process. */
static int count_threads(struct processes_state *s, int32_t pid, char state, char *err,
			 size_t errlen)
{
	char path[48];
	struct pid_stat st;

	snprintf(path, sizeof path, "%d/task", (int)pid);
	int taskfd = openat(s->procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (taskfd < 0)
		return vanished(-errno) ? 0 : -errno;
	int rc = pidlist_read(&s->tids, taskfd);
	for (size_t i = 0; rc == 0 && i < s->tids.n; i++) {
		int32_t tid = s->tids.pids[i];
		if (tid == pid) {
			s->thread_states[(unsigned char)state % N_STATES]++;
			continue;
		}
		snprintf(path, sizeof path, "%d/stat", (int)tid);
		long len = read_small(s, taskfd, path);
		if (len >= 0 && pidstat_parse(s->buf, (size_t)len, &st))
			s->thread_states[(unsigned char)st.state % N_STATES]++;
		else if (len < 0 && !vanished(len))
			snprintf(err, errlen, "read(\"%s/%d/task/%d/stat\") failed: %s", s->procfs,
				 (int)pid, (int)tid, strerror((int)-len));
	}
	close(taskfd);
	return vanished(rc) ? 0 : rc;
}

static int count_process(struct processes_state *s, int32_t pid, char *err, size_t errlen)
{
	char path[32];
	struct pid_stat st;

	snprintf(path, sizeof path, "%d/stat", (int)pid);
	long len = read_small(s, s->procfd, path);
	if (vanished(len))
		return 0;
	if (len < 0) {
		snprintf(err, errlen, "read(\"%s/%d/stat\") failed: %s", s->procfs, (int)pid,
			 strerror((int)-len));
		return (int)len;
	}
	if (!pidstat_parse(s->buf, (size_t)len, &st))
		return 0; /* a format this parser does not know: skipped, not fatal */
	s->n_pids++;
	s->n_threads += st.threads > 0 ? (uint64_t)st.threads : 0;
	s->proc_states[(unsigned char)st.state % N_STATES]++;
	return count_threads(s, pid, st.state, err, errlen);
}

static int emit_states(struct batch *b, const char *name, const char *help, const char *label,
		       const uint64_t *counts, char *err, size_t errlen)
{
	struct lazyfam f = { name, help, METRIC_GAUGE, false };
	int rc = 0;

	for (int c = 1; rc == 0 && c < N_STATES; c++) {
		char value[2] = { (char)c, '\0' };
		const char *names[] = { label }, *values[] = { value };
		if (counts[c])
			rc = lazyfam_add(b, &f, names, values, 1, (double)counts[c], err, errlen);
	}
	return rc;
}

/* PROCFS/sys/kernel/NAME as one gauge; a missing file gives no series. */
static int emit_limit(struct processes_state *s, struct batch *b, const char *file,
		      const char *name, const char *help, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	unsigned long long v;

	snprintf(path, sizeof path, "%s/sys/kernel/%s", s->procfs, file);
	int rc = read_u64_file(path, &v);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		snprintf(err, errlen, "read(\"%s\") failed: %s", path, strerror(-rc));
		return rc;
	}
	return emit_single(b, name, help, METRIC_GAUGE, (double)v, err, errlen);
}

static int processes_emit(struct processes_state *s, struct batch *b, char *err, size_t errlen)
{
	int rc = emit_single(b, "node_processes_threads", "Allocated threads in system",
			     METRIC_GAUGE, (double)s->n_threads, err, errlen);
	if (rc == 0)
		rc = emit_limit(s, b, "threads-max", "node_processes_max_threads",
				"Limit of threads in the system", err, errlen);
	if (rc == 0)
		rc = emit_states(b, "node_processes_state", "Number of processes in each state.",
				 "state", s->proc_states, err, errlen);
	if (rc == 0)
		rc = emit_states(b, "node_processes_threads_state",
				 "Number of threads in each state.", "thread_state",
				 s->thread_states, err, errlen);
	if (rc == 0)
		rc = emit_single(b, "node_processes_pids", "Number of PIDs", METRIC_GAUGE,
				 (double)s->n_pids, err, errlen);
	if (rc == 0)
		rc = emit_limit(s, b, "pid_max", "node_processes_max_processes",
				"Number of max PIDs limit", err, errlen);
	return rc;
}

static int processes_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct processes_state *s = state;

	if (s->procfd < 0) {
		s->procfd = open(s->procfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->procfd < 0) {
			snprintf(err, errlen, "open(\"%s\") failed: %s", s->procfs,
				 strerror(errno));
			return -errno;
		}
	}
	memset(s->proc_states, 0, sizeof s->proc_states);
	memset(s->thread_states, 0, sizeof s->thread_states);
	s->n_pids = s->n_threads = 0;
	int rc = pidlist_read(&s->pids, s->procfd);
	if (rc) {
		snprintf(err, errlen, "listing \"%s\" failed: %s", s->procfs, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < s->pids.n; i++)
		rc = count_process(s, s->pids.pids[i], err, errlen);
	return rc ? rc : processes_emit(s, b, err, errlen);
}

static void processes_fini(void *state)
{
	struct processes_state *s = state;
	if (!s)
		return;
	if (s->procfd >= 0)
		close(s->procfd);
	pidlist_free(&s->pids);
	pidlist_free(&s->tids);
	free(s);
}

static int processes_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct processes_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->procfd = -1;
	if (snprintf(s->procfs, sizeof s->procfs, "%s", env->procfs) >= (int)sizeof s->procfs) {
		snprintf(err, errlen, "--path.procfs is too long");
		free(s);
		return -ENAMETOOLONG;
	}
	*state = s;
	return 0;
}

const struct collector_ops collector_processes_ops = {
	.init = processes_init,
	.collect = processes_collect,
	.fini = processes_fini,
};
