/*
 * filesystem - size and inode counts of each mounted filesystem, as node_exporter
 * reports them: node_filesystem_{size,free,avail}_bytes, _files, _files_free,
 * _readonly and _device_error, labelled {device, device_error, fstype,
 * mountpoint}, where device_error is "" or why the mount could not be asked
 * ("permission denied", "mountpoint timeout"); and node_filesystem_mount_info
 * {device, major, minor, mountpoint}.
 *
 * Mounts come from PROCFS/1/mountinfo (the host's init, when /proc is the host's),
 * or PROCFS/self/mountinfo when that is hidden (hidepid), as node_exporter reads
 * them.  Mount points under --path.rootfs are reported without that prefix, and
 * are asked for their sizes at rootfs + mount point.  A mount is read-only when
 * its own options or its superblock's say "ro".
 *
 * statfs(2) on a dead network mount blocks for a long time, so it runs on a
 * worker thread and the collector waits for it at most mount-timeout.  When the
 * deadline passes, the worker is left to its call (detached) and remembered as
 * stuck together with its mount point; that mount is reported with
 * node_filesystem_device_error 1 and not asked again until the abandoned call
 * returns.  A new worker serves the other mounts.  Threads exist only while calls
 * are stuck, plus one idle worker: steady state creates none.
 *
 *   collector                             worker (per live call)
 *   ---------                             ------
 *   lock; path = ...; busy = 1; signal    wait for busy
 *   timedwait(!busy, deadline)            unlock; fn(path); lock
 *                                         result; busy = 0; signal
 *   on timeout: move worker to stuck      (finishes whenever fn returns)
 *
 * The worker record is shared and reference-counted: the last of the collector
 * and the thread to let go frees it, so an abandoned call may outlive fini().
 */
#include "filesystem.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector.h"
#include "settings.h"
#include "filter.h"
#include "lazyfam.h"
#include "mountinfo.h"
#include "procfile.h"
#include "scan.h"

#define FS_STUCK_MAX 128 /* beyond this many hung calls, new mounts are not tried */

struct fs_worker {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* busy changed, or quit was set */
	pthread_t thread;
	int refs;  /* the collector's and the thread's */
	bool busy; /* a call is pending or running */
	bool quit;
	filesystem_statfs_fn fn;
	int rc;
	struct statfs st;
	char path[PATH_MAX];
	char mountpoint[PATH_MAX]; /* the label: the key of the stuck list */
};

struct fs_mount {
	const char *device, *mountpoint, *fstype, *options, *super_options;
	char major[12], minor[12];
	const char *error; /* "" when statfs answered */
	char errbuf[64];
	struct statfs st;
};

struct fs_state {
	struct procfile init_mounts, self_mounts;
	struct devfilter mountpoints, fstypes;
	char rootfs[PATH_MAX]; /* without trailing '/'; "" for "/" */
	uint64_t timeout_ms;
	filesystem_statfs_fn fn;
	struct fs_worker *worker;
	struct fs_worker *stuck[FS_STUCK_MAX];
	size_t n_stuck;
	struct fs_mount *mounts;
	size_t n_mounts, cap_mounts;
	char path[PATH_MAX];
};

static int real_statfs(const char *path, struct statfs *out)
{
	return statfs(path, out) == 0 ? 0 : -errno;
}

void filesystem_set_statfs(void *state, filesystem_statfs_fn fn)
{
	((struct fs_state *)state)->fn = fn;
}

/* ---- the worker ---- */

static void worker_unref_locked(struct fs_worker *w, bool *last)
{
	*last = --w->refs == 0;
}

static void worker_free(struct fs_worker *w)
{
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

static void *worker_main(void *arg)
{
	struct fs_worker *w = arg;
	struct statfs st;
	bool last;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->busy && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->busy)
			break;
		pthread_mutex_unlock(&w->mu);
		/* path is not touched by the collector while busy. */
		memset(&st, 0, sizeof st);
		int rc = w->fn(w->path, &st);
		pthread_mutex_lock(&w->mu);
		w->rc = rc;
		w->st = st;
		w->busy = false;
		pthread_cond_broadcast(&w->cv);
	}
	worker_unref_locked(w, &last);
	pthread_mutex_unlock(&w->mu);
	if (last)
		worker_free(w);
	return NULL;
}

static struct fs_worker *worker_new(filesystem_statfs_fn fn)
{
	struct fs_worker *w = calloc(1, sizeof *w);
	pthread_condattr_t ca;

	if (!w)
		return NULL;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	w->fn = fn;
	w->refs = 2;
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		worker_free(w);
		return NULL;
	}
	return w;
}

/* The collector lets go of w; the thread exits once it is idle. */
static void worker_release(struct fs_worker *w)
{
	bool last;
	pthread_mutex_lock(&w->mu);
	w->quit = true;
	pthread_cond_broadcast(&w->cv);
	worker_unref_locked(w, &last);
	pthread_mutex_unlock(&w->mu);
	if (last)
		worker_free(w);
}

static void deadline_after(struct timespec *ts, uint64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Runs one call on w.  0 when it answered in time (result in w->rc, w->st);
 * -ETIMEDOUT when it did not, and w stays busy with it. */
static int worker_call(struct fs_worker *w, const char *path, const char *mountpoint,
		       uint64_t timeout_ms)
{
	struct timespec deadline;
	int rc = 0;

	deadline_after(&deadline, timeout_ms);
	pthread_mutex_lock(&w->mu);
	snprintf(w->path, sizeof w->path, "%s", path);
	snprintf(w->mountpoint, sizeof w->mountpoint, "%s", mountpoint);
	w->busy = true;
	pthread_cond_broadcast(&w->cv);
	while (w->busy && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->cv, &w->mu, &deadline);
	rc = w->busy ? -ETIMEDOUT : 0;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static bool worker_busy(struct fs_worker *w)
{
	pthread_mutex_lock(&w->mu);
	bool busy = w->busy;
	pthread_mutex_unlock(&w->mu);
	return busy;
}

/* ---- stuck mounts ---- */

/* Forgets the stuck calls that have returned since: their mounts are asked again. */
static void stuck_reap(struct fs_state *s)
{
	size_t kept = 0;
	for (size_t i = 0; i < s->n_stuck; i++) {
		if (worker_busy(s->stuck[i]))
			s->stuck[kept++] = s->stuck[i];
		else
			worker_release(s->stuck[i]);
	}
	s->n_stuck = kept;
}

/* The mount point's stuck call is still out.  mountpoint is only written by the
 * collector, before the call, so it is read here without the lock. */
static bool stuck_has(const struct fs_state *s, const char *mountpoint)
{
	for (size_t i = 0; i < s->n_stuck; i++)
		if (strcmp(s->stuck[i]->mountpoint, mountpoint) == 0)
			return true;
	return false;
}

/* ---- init / fini ---- */

static void filesystem_fini(void *state)
{
	struct fs_state *s = state;
	if (!s)
		return;
	if (s->worker) {
		pthread_t t = s->worker->thread;
		worker_release(s->worker);
		/* Idle, so it exits at once (and frees the record); joining keeps its
		 * exit inside fini. */
		pthread_join(t, NULL);
	}
	for (size_t i = 0; i < s->n_stuck; i++)
		worker_release(s->stuck[i]);
	procfile_close(&s->init_mounts);
	procfile_close(&s->self_mounts);
	devfilter_fini(&s->mountpoints);
	devfilter_fini(&s->fstypes);
	free(s->mounts);
	free(s);
}

static int set_rootfs(struct fs_state *s, const char *rootfs, char *err, size_t errlen)
{
	size_t n = rootfs ? strlen(rootfs) : 0;
	while (n > 0 && rootfs[n - 1] == '/')
		n--;
	if (n >= sizeof s->rootfs) {
		snprintf(err, errlen, "--path.rootfs is longer than %zu bytes",
			 sizeof s->rootfs - 1);
		return -ENAMETOOLONG;
	}
	memcpy(s->rootfs, rootfs ? rootfs : "", n);
	s->rootfs[n] = '\0';
	return 0;
}

static int set_timeout(struct fs_state *s, const struct collector_env *env, char *err,
		       size_t errlen)
{
	const char *v = collector_option(env, "mount-timeout");
	char why[256];
	uint32_t ms;

	if (config_parse_duration_range(v ? v : "", 1, UINT32_MAX, &ms, why, sizeof why) < 0)
		return config_fail(err, errlen, "--collector.filesystem.mount-timeout: %s", why);
	s->timeout_ms = ms;
	return 0;
}

static int filesystem_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct fs_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->fn = real_statfs;
	int rc = procfile_init(&s->init_mounts, env->procfs, "1/mountinfo", err, errlen);
	if (rc == 0)
		rc = procfile_init(&s->self_mounts, env->procfs, "self/mountinfo", err, errlen);
	if (rc == 0)
		rc = devfilter_init_keys(&s->mountpoints, env, "mount-points-include",
					 "mount-points-exclude", err, errlen);
	if (rc == 0)
		rc = devfilter_init_keys(&s->fstypes, env, "fs-types-include", "fs-types-exclude",
					 err, errlen);
	if (rc == 0)
		rc = set_rootfs(s, env->rootfs, err, errlen);
	if (rc == 0)
		rc = set_timeout(s, env, err, errlen);
	if (rc) {
		filesystem_fini(s);
		return rc;
	}
	*state = s;
	return 0;
}

/* ---- the mount table ---- */

/* Mount points under the rootfs lose that prefix ("/host/home" -> "/home"). */
static const char *strip_rootfs(const struct fs_state *s, const char *mp)
{
	size_t n = strlen(s->rootfs);
	if (n == 0 || strncmp(mp, s->rootfs, n) != 0)
		return mp;
	if (mp[n] == '\0')
		return "/";
	return mp[n] == '/' ? mp + n : mp;
}

static bool mount_seen(const struct fs_state *s, const struct fs_mount *m)
{
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct fs_mount *o = &s->mounts[i];
		if (strcmp(o->mountpoint, m->mountpoint) == 0 &&
		    strcmp(o->device, m->device) == 0 && strcmp(o->fstype, m->fstype) == 0 &&
		    strcmp(o->major, m->major) == 0 && strcmp(o->minor, m->minor) == 0)
			return true;
	}
	return false;
}

static int mounts_grow(struct fs_state *s, char *err, size_t errlen)
{
	if (s->n_mounts < s->cap_mounts)
		return 0;
	size_t cap = s->cap_mounts ? s->cap_mounts * 2 : 16;
	struct fs_mount *m = realloc(s->mounts, cap * sizeof *m);
	if (!m) {
		snprintf(err, errlen, "out of memory for %zu mounts", cap);
		return -ENOMEM;
	}
	s->mounts = m;
	s->cap_mounts = cap;
	return 0;
}

/* "8:1" into major and minor; false unless two decimal numbers. */
static bool parse_devno(const char *w, struct fs_mount *m)
{
	const char *colon = strchr(w, ':');
	uint64_t maj, min;
	if (!colon || !parse_u64(w, (size_t)(colon - w), &maj) ||
	    !parse_u64(colon + 1, strlen(colon + 1), &min))
		return false;
	snprintf(m->major, sizeof m->major, "%llu", (unsigned long long)maj);
	snprintf(m->minor, sizeof m->minor, "%llu", (unsigned long long)min);
	return true;
}

/* A mountinfo line into m; false for lines of another shape. */
static bool mount_parse(const struct fs_state *s, struct scan line, struct fs_mount *m)
{
	struct mountinfo mi;
	if (!mountinfo_parse(line, &mi) || !parse_devno(mi.devno, m))
		return false;
	mountinfo_unescape(mi.mountpoint);
	m->device = mi.source;
	m->mountpoint = strip_rootfs(s, mi.mountpoint);
	m->fstype = mi.fstype;
	m->options = mi.options;
	m->super_options = mi.super_options;
	m->error = "";
	return true;
}

static int read_mounts(struct fs_state *s, struct procfile **used, char *err, size_t errlen)
{
	*used = &s->init_mounts;
	int rc = procfile_read(*used, err, errlen);
	if (rc == -ENOENT) {
		*used = &s->self_mounts;
		rc = procfile_read(*used, err, errlen);
	}
	return rc;
}

static int mounts_load(struct fs_state *s, char *err, size_t errlen)
{
	struct procfile *f;
	int rc = read_mounts(s, &f, err, errlen);

	s->n_mounts = 0;
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	struct scan text = scan_text(f->buf, f->len), line;
	while (scan_line(&text, &line)) {
		if ((rc = mounts_grow(s, err, errlen)) != 0)
			return rc;
		struct fs_mount *m = &s->mounts[s->n_mounts];
		/* Lines are cut up in place: a field's end becomes its NUL. */
		if (!mount_parse(s, line, m) ||
		    devfilter_ignored(&s->mountpoints, m->mountpoint, strlen(m->mountpoint)) ||
		    devfilter_ignored(&s->fstypes, m->fstype, strlen(m->fstype)) ||
		    mount_seen(s, m))
			continue;
		s->n_mounts++;
	}
	return 0;
}

/* ---- asking the mounts ---- */

static bool stat_path(struct fs_state *s, const char *mountpoint)
{
	/* filepath.Join(rootfs, mountpoint), as node_exporter: "/host" for "/". */
	bool root = strcmp(mountpoint, "/") == 0;
	int n = s->rootfs[0]
		    ? snprintf(s->path, sizeof s->path, "%s%s", s->rootfs, root ? "" : mountpoint)
		    : snprintf(s->path, sizeof s->path, "%s", mountpoint);
	return n >= 0 && (size_t)n < sizeof s->path;
}

/* An errno as node_exporter words it (Go's strings: strerror's, lower case). */
static const char *errno_text(struct fs_mount *m, int e)
{
	if (e == ESTALE)
		return "stale NFS file handle";
	snprintf(m->errbuf, sizeof m->errbuf, "%s", strerror(e));
	if (m->errbuf[0] >= 'A' && m->errbuf[0] <= 'Z' &&
	    !(m->errbuf[1] >= 'A' && m->errbuf[1] <= 'Z'))
		m->errbuf[0] = (char)(m->errbuf[0] - 'A' + 'a');
	return m->errbuf;
}

/* Asks one mount, under the deadline.  Sets m->error on failure or timeout. */
static void mount_stat(struct fs_state *s, struct fs_mount *m)
{
	static const char timeout[] = "mountpoint timeout";

	if (stuck_has(s, m->mountpoint)) {
		m->error = timeout;
		return;
	}
	if (!stat_path(s, m->mountpoint)) {
		m->error = errno_text(m, ENAMETOOLONG);
		return;
	}
	if (!s->worker && s->n_stuck < FS_STUCK_MAX)
		s->worker = worker_new(s->fn);
	if (!s->worker) {
		m->error = s->n_stuck < FS_STUCK_MAX ? errno_text(m, EAGAIN) : timeout;
		return;
	}
	if (worker_call(s->worker, s->path, m->mountpoint, s->timeout_ms) == -ETIMEDOUT) {
		pthread_detach(s->worker->thread);
		s->stuck[s->n_stuck++] = s->worker;
		s->worker = NULL;
		m->error = timeout;
		return;
	}
	if (s->worker->rc == 0)
		m->st = s->worker->st;
	else
		m->error = errno_text(m, -s->worker->rc);
}

static bool has_option(const char *options, const char *opt)
{
	size_t n = strlen(opt);
	for (const char *p = options; p; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, opt, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	}
	return false;
}

/* ---- emitting ---- */

enum fs_value { V_SIZE, V_FREE, V_AVAIL, V_FILES, V_FILES_FREE, V_RO, N_FS_VALUES };

static const struct {
	const char *name, *help;
} fs_families[N_FS_VALUES] = {
	{ "node_filesystem_size_bytes", "Filesystem size in bytes." },
	{ "node_filesystem_free_bytes", "Filesystem free space in bytes." },
	{ "node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes." },
	{ "node_filesystem_files", "Filesystem total file nodes." },
	{ "node_filesystem_files_free", "Filesystem total free file nodes." },
	{ "node_filesystem_readonly", "Filesystem read-only status." },
};

/* As node_exporter: block counts times f_bsize. */
static double fs_value(const struct fs_mount *m, enum fs_value v)
{
	double bsize = (double)m->st.f_bsize;
	switch (v) {
	case V_SIZE:
		return (double)m->st.f_blocks * bsize;
	case V_FREE:
		return (double)m->st.f_bfree * bsize;
	case V_AVAIL:
		return (double)m->st.f_bavail * bsize;
	case V_FILES:
		return (double)m->st.f_files;
	case V_FILES_FREE:
		return (double)m->st.f_ffree;
	case V_RO:
	case N_FS_VALUES:
		break;
	}
	return has_option(m->options, "ro") || has_option(m->super_options, "ro") ? 1 : 0;
}

static int fs_add(struct batch *b, const struct fs_mount *m, double v, char *err, size_t errlen)
{
	static const char *const names[] = { "device", "device_error", "fstype", "mountpoint" };
	const char *values[] = { m->device, m->error, m->fstype, m->mountpoint };
	int rc = batch_add(b, names, values, 4, v, err, errlen);
	/* A label that is not UTF-8 loses its series only. */
	return rc == -EINVAL || rc == -EEXIST ? 0 : rc;
}

static int emit_values(const struct fs_state *s, struct batch *b, char *err, size_t errlen)
{
	int rc = 0;
	for (int v = 0; rc == 0 && v < N_FS_VALUES; v++) {
		bool started = false;
		for (size_t i = 0; rc == 0 && i < s->n_mounts; i++) {
			const struct fs_mount *m = &s->mounts[i];
			/* A mount that could not be asked still has its mount options. */
			if (m->error[0] && v != V_RO)
				continue;
			if (!started) {
				rc = batch_family(b, fs_families[v].name, fs_families[v].help,
						  METRIC_GAUGE, err, errlen);
				started = true;
			}
			if (rc == 0)
				rc = fs_add(b, m, fs_value(m, (enum fs_value)v), err, errlen);
		}
	}
	return rc;
}

static int emit_errors(const struct fs_state *s, struct batch *b, char *err, size_t errlen)
{
	if (s->n_mounts == 0)
		return 0;
	int rc = batch_family(b, "node_filesystem_device_error",
			      "Whether an error occurred while getting statistics for the given "
			      "device.",
			      METRIC_GAUGE, err, errlen);
	for (size_t i = 0; rc == 0 && i < s->n_mounts; i++)
		rc = fs_add(b, &s->mounts[i], s->mounts[i].error[0] ? 1 : 0, err, errlen);
	return rc;
}

static int emit_mount_info(const struct fs_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device", "major", "minor", "mountpoint" };
	struct lazyfam fam = { "node_filesystem_mount_info", "Filesystem mount information.",
			       METRIC_GAUGE, false };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->n_mounts; i++) {
		const struct fs_mount *m = &s->mounts[i];
		const char *values[] = { m->device, m->major, m->minor, m->mountpoint };
		if (!m->error[0])
			rc = lazyfam_add(b, &fam, names, values, 4, 1.0, err, errlen);
	}
	return rc;
}

static int filesystem_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct fs_state *s = state;

	stuck_reap(s);
	int rc = mounts_load(s, err, errlen);
	for (size_t i = 0; rc == 0 && i < s->n_mounts; i++)
		mount_stat(s, &s->mounts[i]);
	if (rc == 0)
		rc = emit_values(s, b, err, errlen);
	if (rc == 0)
		rc = emit_errors(s, b, err, errlen);
	if (rc == 0)
		rc = emit_mount_info(s, b, err, errlen);
	return rc;
}

const struct collector_ops collector_filesystem_ops = {
	.init = filesystem_init,
	.collect = filesystem_collect,
	.fini = filesystem_fini,
};
