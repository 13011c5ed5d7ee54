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
	char shm_name[SEGMENT_NAME_MAX + 1];
	char collector[SEGMENT_COLLECTOR_MAX + 1];
	unsigned env_interval_ms; /* 0: not given */
};

static int target_from_env(struct target *t)
{
	const char *seg = getenv("SHMETRICS_SEGMENT"), *name = getenv("SHMETRICS_COLLECTOR");
	const char *iv = getenv("SHMETRICS_INTERVAL");

	if (seg == NULL || *seg == '\0')
		return client_fail(-EINVAL,
				   "shmetrics_open(NULL): SHMETRICS_SEGMENT is not set; it is set "
				   "by shmetrics-agent for a \"command\" custom collector.  To "
				   "attach to an \"external\" one, pass its name");
	if (seg[0] != '/' || strlen(seg) > SEGMENT_NAME_MAX)
		return client_fail(-EINVAL,
				   "SHMETRICS_SEGMENT=\"%.80s\" is not a segment name "
				   "(/shmetrics.INSTANCE.NAME)",
				   seg);
	snprintf(t->shm_name, sizeof t->shm_name, "%s", seg);
	const char *dot = strrchr(seg, '.');
	snprintf(t->collector, sizeof t->collector, "%s",
		 name && segment_part_valid(name) ? name
		 : dot                            ? dot + 1
						  : seg + 1);
	if (iv != NULL && !parse_duration(iv, &t->env_interval_ms))
		return client_fail(-EINVAL,
				   "SHMETRICS_INTERVAL=\"%.40s\" is not a duration such "
				   "as \"10s\" or \"500ms\"",
				   iv);
	return 0;
}

static int target_from_name(struct target *t, const char *name, const char *instance)
{
	char why[256];

	if (instance == NULL)
		instance = getenv("SHMETRICS_INSTANCE");
	if (instance == NULL || *instance == '\0')
		instance = "main";
	if (segment_name(t->shm_name, sizeof t->shm_name, instance, name, why, sizeof why) < 0)
		return client_fail(-EINVAL, "shmetrics_open(\"%.80s\"): %s", name, why);
	snprintf(t->collector, sizeof t->collector, "%s", name);
	return 0;
}

/*
 * Reads the interval the agent wrote into the segment and refuses a segment
 * another live process writes.  The caller holds the segment's flock, which the
 * CLI and other attaching libraries take too, so the check and the attach are
 * one step for all of them.
 */
static int inspect_header(int fd, const char *shm_name, unsigned *interval_ms)
{
	struct stat st;
	void *base = MAP_FAILED;

	if (fstat(fd, &st) == 0 && (size_t)st.st_size >= SEGMENT_HEADER_SIZE)
		base = mmap(NULL, SEGMENT_HEADER_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return 0; /* seg_writer_attach reports it with the reason */
	_Atomic uint64_t *w = base;
	uint64_t magic = atomic_load_explicit(&w[0], memory_order_acquire);
	uint64_t pid = atomic_load_explicit(&w[SEG_WORD(writer_pid)], memory_order_relaxed);
	uint64_t start = atomic_load_explicit(&w[SEG_WORD(writer_start)], memory_order_relaxed);
	uint64_t iv = atomic_load_explicit(&w[SEG_WORD(interval_ms)], memory_order_relaxed);
	munmap(base, SEGMENT_HEADER_SIZE);
	if (magic != SEGMENT_MAGIC)
		return 0;
	*interval_ms = iv <= 86400000u ? (unsigned)iv : 0;
	if (pid != 0 && pid != (uint64_t)getpid() && process_alive(pid, start))
		return client_fail(-EBUSY,
				   "segment %s already has a writer, process %llu; a "
				   "collector has exactly one writer process",
				   shm_name, (unsigned long long)pid);
	return 0;
}

/* An fd of the segment holding its flock, or -1 (attach then reports why). */
static int lock_segment(const char *shm_name)
{
	int fd = shm_open(shm_name, O_RDONLY | O_CLOEXEC, 0);

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
	char why[512];
	unsigned header_ms = 0;
	int fd = lock_segment(t->shm_name);
	int rc = fd >= 0 ? inspect_header(fd, t->shm_name, &header_ms) : 0;

	if (rc == 0)
		rc = seg_writer_attach(&m->writer, t->shm_name, why, sizeof why);
	else
		why[0] = '\0'; /* the message is already recorded */
	if (fd >= 0)
		close(fd); /* releases the flock */
	if (rc < 0 && why[0] == '\0')
		return rc;
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

SHMETRICS_API struct shmetrics *shmetrics_open(const char *name,
					       const struct shmetrics_options *options)
{
	struct target t = { .env_interval_ms = 0 };
	struct shmetrics *m;
	int rc = name ? target_from_name(&t, name, options ? options->instance : NULL)
		      : target_from_env(&t);

	if (rc < 0)
		return NULL;
	m = calloc(1, sizeof *m);
	if (m == NULL) {
		client_fail(-ENOMEM, "shmetrics_open: out of memory");
		return NULL;
	}
	atomic_init(&m->dropped, 0);
	snprintf(m->shm_name, sizeof m->shm_name, "%s", t.shm_name);
	snprintf(m->collector, sizeof m->collector, "%s", t.collector);
	if (init_sync(m) < 0) {
		free(m);
		client_fail(-ENOMEM, "shmetrics_open: out of memory");
		return NULL;
	}
	client_reserve_self(m);
	rc = attach(m, &t, options);
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
