/*
 * client.c - libshmetrics: attaching to a collector's segment, the publisher
 * thread, and the error message of the calling thread.
 */
#include "client_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "segment_layout.h"

#define ERROR_MAX 768

static _Thread_local char last_error[ERROR_MAX];

int client_fail(int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
	return rc;
}

SHMETRICS_API const char *shmetrics_last_error(void)
{
	return last_error;
}

/* ---- where the segment is ---- */

/* "10s", "500ms", "1m30s" (ms, s, m, h) into milliseconds; false if malformed. */
static bool parse_duration(const char *s, unsigned *out)
{
	static const struct {
		const char *unit;
		unsigned long long ms;
	} units[] = {
		{ "ms", 1 },
		{ "s", 1000 },
		{ "m", 60000 },
		{ "h", 3600000 },
	};
	unsigned long long total = 0;

	if (*s == '\0')
		return false;
	while (*s) {
		unsigned long long n = 0;
		size_t k;
		if (!isdigit((unsigned char)*s))
			return false;
		for (; isdigit((unsigned char)*s) && n < 100000000ull; s++)
			n = n * 10 + (unsigned long long)(*s - '0');
		for (k = 0; k < 4; k++) {
			size_t len = strlen(units[k].unit);
			if (strncmp(s, units[k].unit, len) == 0 && !isalpha((unsigned char)s[len]))
				break;
		}
		if (k == 4)
			return false;
		total += n * units[k].ms;
		s += strlen(units[k].unit);
		if (total > 86400000ull)
			return false;
	}
	*out = (unsigned)total;
	return true;
}

struct target {
	int fd;            /* >= 0: the descriptor the agent handed a "command" collector */
	struct segdir dir; /* else: the instance directory holding NAME.seg */
	char collector[SEGMENT_COLLECTOR_MAX + 1];
	char what[PATH_MAX + 80]; /* the segment, for messages */
	unsigned env_interval_ms; /* 0: not given */
};

/* A descriptor number from the environment: a small non-negative integer that is open. */
static int env_fd(const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || n < 0 || n > 65535 || fcntl((int)n, F_GETFD) < 0)
		return -1;
	return (int)n;
}

static int target_from_env(struct target *t)
{
	const char *fd = getenv("SHMETRICS_SEGMENT_FD"), *name = getenv("SHMETRICS_COLLECTOR");
	const char *iv = getenv("SHMETRICS_INTERVAL");

	if (fd == NULL || *fd == '\0')
		return client_fail(
		    -EINVAL, "shmetrics_open(NULL): SHMETRICS_SEGMENT_FD is not set; it is set "
			     "by shmetrics-agent for a \"command\" custom collector.  To "
			     "attach to an \"external\" one, pass its name");
	t->fd = env_fd(fd);
	if (t->fd < 0)
		return client_fail(
		    -EBADF, "SHMETRICS_SEGMENT_FD is not an open descriptor; was this process "
			    "started by shmetrics-agent (or did it close the descriptor)?");
	snprintf(t->collector, sizeof t->collector, "%s",
		 name && segment_part_valid(name) ? name : "command");
	snprintf(t->what, sizeof t->what, "the segment of collector %s (descriptor %d)",
		 t->collector, t->fd);
	if (iv != NULL && !parse_duration(iv, &t->env_interval_ms))
		return client_fail(-EINVAL,
				   "SHMETRICS_INTERVAL is not a duration such as \"10s\" or "
				   "\"500ms\"");
	return 0;
}

static int target_from_name(struct target *t, const char *name, const char *instance)
{
	char base[PATH_MAX], why[PATH_MAX + 256];

	if (instance == NULL)
		instance = getenv("SHMETRICS_INSTANCE");
	if (instance == NULL || *instance == '\0')
		instance = "main";
	if (!segment_part_valid(name))
		return client_fail(-EINVAL,
				   "shmetrics_open: \"%.80s\" is not a collector name (1 to 63 "
				   "characters of [a-zA-Z0-9_-])",
				   name);
	if (segdir_find_base(instance, base, sizeof base, why, sizeof why) < 0 ||
	    segdir_open(&t->dir, base, instance, (uid_t)-1, why, sizeof why) < 0)
		return client_fail(-ENOENT, "shmetrics_open(\"%s\"): %s", name, why);
	snprintf(t->collector, sizeof t->collector, "%s", name);
	snprintf(t->what, sizeof t->what, "segment %s/%s" SEGDIR_SUFFIX, t->dir.path, name);
	return 0;
}

/* The interval the agent wrote into the segment (pread: nothing here can
 * fault), 0 when there is none to read; seg_writer_attach reports the rest. */
static unsigned header_interval(int fd)
{
	struct seg_header h;

	if (seg_header_pread(fd, &h) < 0 || h.magic != SEGMENT_MAGIC)
		return 0;
	return h.interval_ms <= 86400000u ? (unsigned)h.interval_ms : 0;
}

/*
 * A descriptor of the segment holding its flock, or -1 (attach then reports
 * why).  An inherited descriptor is reopened through /proc/self/fd: flock
 * belongs to an open file description, which every process that inherited
 * the descriptor shares, so locking it would exclude no one.
 */
static int lock_segment(const struct target *t)
{
	char self[64];
	int fd;

	if (t->fd >= 0) {
		snprintf(self, sizeof self, "/proc/self/fd/%d", t->fd);
		fd = open(self, O_RDONLY | O_CLOEXEC);
	} else {
		char why[256];
		fd = segdir_open_segment(&t->dir, t->collector, O_RDONLY, NULL, why, sizeof why);
	}
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* ---- the publisher thread ---- */

static void publish_now(struct shmetrics *m)
{
	pthread_mutex_lock(&m->lock);
	client_publish_locked(m); /* a failure is retried at the next interval */
	pthread_mutex_unlock(&m->lock);
}

static void deadline_after(struct timespec *t, unsigned ms)
{
	struct timespec now;

	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (t->tv_sec < now.tv_sec || (t->tv_sec == now.tv_sec && t->tv_nsec < now.tv_nsec))
		*t = now; /* fell behind (a long stop): no burst of catch-up publishes */
}

static void *publisher_main(void *arg)
{
	struct shmetrics *m = arg;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&m->wake_lock);
	while (!m->stopping) {
		deadline_after(&next, m->interval_ms);
		while (!m->stopping &&
		       pthread_cond_timedwait(&m->wake, &m->wake_lock, &next) != ETIMEDOUT)
			;
		if (m->stopping)
			break;
		pthread_mutex_unlock(&m->wake_lock);
		publish_now(m);
		pthread_mutex_lock(&m->wake_lock);
	}
	pthread_mutex_unlock(&m->wake_lock);
	return NULL;
}

/* Starts the thread with every signal blocked, so the application's threads get them. */
static int start_publisher(struct shmetrics *m)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&m->thread, NULL, publisher_main, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return client_fail(-rc, "collector \"%s\": pthread_create failed: %s", m->collector,
				   strerror(rc));
	m->has_thread = true;
	return 0;
}

static void stop_publisher(struct shmetrics *m)
{
	if (!m->has_thread)
		return;
	pthread_mutex_lock(&m->wake_lock);
	m->stopping = true;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->wake_lock);
	pthread_join(m->thread, NULL);
	m->has_thread = false;
}

/* ---- open and close ---- */

static int init_sync(struct shmetrics *m)
{
	pthread_condattr_t ca;

	if (pthread_mutex_init(&m->lock, NULL) != 0)
		return -ENOMEM;
	if (pthread_mutex_init(&m->wake_lock, NULL) != 0) {
		pthread_mutex_destroy(&m->lock);
		return -ENOMEM;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(&m->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0) {
		pthread_mutex_destroy(&m->wake_lock);
		pthread_mutex_destroy(&m->lock);
		return -ENOMEM;
	}
	return 0;
}

static unsigned choose_interval(const struct shmetrics_options *o, const struct target *t,
				unsigned header_ms)
{
	unsigned ms = o && o->interval_ms  ? o->interval_ms
		      : t->env_interval_ms ? t->env_interval_ms
		      : header_ms          ? header_ms
					   : CLIENT_DEFAULT_INTERVAL_MS;

	return ms < CLIENT_MIN_INTERVAL_MS ? CLIENT_MIN_INTERVAL_MS : ms;
}

static int attach(struct shmetrics *m, const struct target *t, const struct shmetrics_options *o)
{
	char why[PATH_MAX + 256];
	/* The flock serialises attaching with the CLI's read-modify-publish. */
	int fd = lock_segment(t);
	unsigned header_ms = fd >= 0 ? header_interval(fd) : 0;
	int rc = t->fd >= 0 ? seg_writer_attach_fd(&m->writer, t->fd, t->what, why, sizeof why)
			    : seg_writer_attach(&m->writer, &t->dir, t->collector, why, sizeof why);

	if (fd >= 0)
		close(fd); /* releases the flock */
	if (rc < 0)
		return client_fail(rc, "collector \"%s\": %s%s", t->collector, why,
				   rc == -EACCES ? " (the segment's owner, group and mode decide "
						   "who may attach; see docs/custom-collectors.md)"
						 : "");
	m->lim = *seg_writer_limits(m->writer);
	m->batch = batch_new(&m->lim);
	if (m->batch == NULL)
		return client_fail(-ENOMEM, "collector \"%s\": out of memory", t->collector);
	m->interval_ms = choose_interval(o, t, header_ms);
	if (m->interval_ms != header_ms)
		seg_writer_set_interval(m->writer, m->interval_ms);
	return 0;
}

static void destroy(struct shmetrics *m, bool sync_ready)
{
	client_registry_free(m);
	batch_free(m->batch);
	seg_writer_detach(m->writer);
	if (sync_ready) {
		pthread_cond_destroy(&m->wake);
		pthread_mutex_destroy(&m->wake_lock);
		pthread_mutex_destroy(&m->lock);
	}
	free(m);
}

/* A new collector attached to t's segment, or NULL with the reason recorded. */
static struct shmetrics *open_target(const struct target *t,
				     const struct shmetrics_options *options)
{
	struct shmetrics *m = calloc(1, sizeof *m);

	if (m == NULL || init_sync(m) < 0) {
		free(m);
		client_fail(-ENOMEM, "shmetrics_open: out of memory");
		return NULL;
	}
	atomic_init(&m->dropped, 0);
	snprintf(m->what, sizeof m->what, "%s", t->what);
	snprintf(m->collector, sizeof m->collector, "%s", t->collector);
	client_reserve_self(m);
	int rc = attach(m, t, options);
	if (rc == 0)
		rc = shmetrics_publish(m);
	if (rc == 0 && !(options && (options->flags & SHMETRICS_NO_PUBLISHER)))
		rc = start_publisher(m);
	if (rc < 0) {
		destroy(m, true);
		return NULL;
	}
	return m;
}

SHMETRICS_API struct shmetrics *shmetrics_open(const char *name,
					       const struct shmetrics_options *options)
{
	struct target t = { .fd = -1, .dir = { .fd = -1 } };
	int rc = name ? target_from_name(&t, name, options ? options->instance : NULL)
		      : target_from_env(&t);
	struct shmetrics *m = rc == 0 ? open_target(&t, options) : NULL;

	segdir_close(&t.dir); /* the writer holds the segment's own descriptor */
	return m;
}

SHMETRICS_API void shmetrics_close(struct shmetrics *m)
{
	if (m == NULL)
		return;
	stop_publisher(m);
	shmetrics_publish(m);
	destroy(m, true);
}

SHMETRICS_API int shmetrics_publish(struct shmetrics *m)
{
	if (m == NULL)
		return client_fail(-EINVAL, "shmetrics_publish: the collector is NULL");
	pthread_mutex_lock(&m->lock);
	int rc = client_publish_locked(m);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

SHMETRICS_API const char *shmetrics_collector_name(const struct shmetrics *m)
{
	return m ? m->collector : "";
}

SHMETRICS_API unsigned shmetrics_interval_ms(const struct shmetrics *m)
{
	return m ? m->interval_ms : 0;
}
