/*
 * logind - the sessions systemd-logind has registered, over D-Bus
 * (org.freedesktop.login1 on the system bus), as node_exporter's opt-in logind
 * collector reports them:
 *
 *   node_logind_sessions{class, remote, seat, type}
 *
 * one gauge for every combination of remote (true, false), type (other,
 * unspecified, tty, x11, wayland, mir, web), class (other, user, greeter,
 * lock-screen, background) and seat (each seat logind lists, and "" for
 * sessions without one, such as SSH logins): 70 series per seat, most of them
 * 0.  A type or class logind may add later counts as "other"; a session on a
 * seat that ListSeats did not name is not counted; a session whose properties
 * cannot be read is skipped, as node_exporter does.
 *
 * Calls: Manager.ListSeats, Manager.ListSessions, and Remote, Type and Class of
 * each session (Properties.Get).  They run on a worker thread (worker.h) over
 * one connection kept between collections, each with the timeout, and collect()
 * waits for the worker at most the timeout: a hung or missing bus fails this
 * collection with the reason, never the collector process.  libsystemd is loaded
 * when the collector starts (sdbus.h).
 *
 * Options beyond node_exporter's (which has none): --collector.logind.bus-address
 * ("unix:path=..."; default the system bus, $DBUS_SYSTEM_BUS_ADDRESS or
 * /run/dbus/system_bus_socket) and --collector.logind.timeout (default 2s).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector.h"
#include "settings.h"
#include "lazyfam.h"
#include "sdbus.h"
#include "worker.h"

#define LOGIN_DEST    "org.freedesktop.login1"
#define LOGIN_PATH    "/org/freedesktop/login1"
#define LOGIN_MANAGER "org.freedesktop.login1.Manager"
#define LOGIN_SESSION "org.freedesktop.login1.Session"
#define ID_MAX        64

static const char *const remotes[] = { "true", "false" };
static const char *const types[] = {
	"other", "unspecified", "tty", "x11", "wayland", "mir", "web"
};
static const char *const classes[] = { "other", "user", "greeter", "lock-screen", "background" };
#define N_OF(a) (sizeof(a) / sizeof(a)[0])

struct session {
	char seat[ID_MAX];
	unsigned remote, type, class; /* indexes into remotes, types, classes */
};

/* The worker's: the connection, and the answer of the last query. */
struct job {
	char address[512];
	uint64_t timeout_us;
	sd_bus *bus;
	int rc;
	char err[512];
	char (*seats)[ID_MAX];
	size_t n_seats, cap_seats;
	struct session *sessions;
	size_t n_sessions, cap_sessions;
};

struct logind_state {
	struct worker *w;
	struct job *job; /* read only while the worker is idle */
	uint64_t timeout_ms;
};

static void job_free(void *ctx)
{
	struct job *j = ctx;
	if (j->bus)
		sdbus.flush_close_unref(j->bus);
	free(j->seats);
	free(j->sessions);
	free(j);
}

/* ---- the query (worker thread) ---- */

static int job_fail(struct job *j, int rc, const char *what, const sd_bus_error *e)
{
	if (j->rc)
		return j->rc;
	j->rc = rc;
	snprintf(j->err, sizeof j->err, "%.200s: %.250s", what,
		 e && sdbus.error_is_set(e) && e->message ? e->message : strerror(-rc));
	return rc;
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int add_seat(struct job *j, const char *id)
{
	if (j->n_seats == j->cap_seats) {
		size_t cap = j->cap_seats ? j->cap_seats * 2 : 4;
		void *v = realloc(j->seats, cap * sizeof *j->seats);
		if (!v)
			return job_fail(j, -ENOMEM, "keeping the seats", NULL);
		j->seats = v;
		j->cap_seats = cap;
	}
	snprintf(j->seats[j->n_seats++], ID_MAX, "%s", id);
	return 0;
}

/* Calls a Manager method whose answer is an array of structs of signature sig. */
static int list_call(struct job *j, const char *method, const char *sig, sd_bus_message **reply)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char what[64];
	int rc = sdbus.call_method(j->bus, LOGIN_DEST, LOGIN_PATH, LOGIN_MANAGER, method, &e, reply,
				   NULL);

	snprintf(what, sizeof what, "Manager.%s", method);
	if (rc < 0) {
		job_fail(j, rc, what, &e);
		sdbus.error_free(&e);
		return rc;
	}
	rc = sdbus.message_enter_container(*reply, SD_BUS_TYPE_ARRAY, sig);
	return rc < 0 ? job_fail(j, rc, what, NULL) : 0;
}

static int list_seats(struct job *j)
{
	sd_bus_message *reply = NULL;
	const char *id, *path;
	int rc = list_call(j, "ListSeats", "(so)", &reply);

	while (rc >= 0 && (rc = sdbus.message_read(reply, "(so)", &id, &path)) > 0)
		rc = add_seat(j, id);
	if (rc < 0)
		job_fail(j, rc, "reading the seats", NULL);
	sdbus.message_unref(reply);
	return rc < 0 ? rc : add_seat(j, ""); /* the seat of seatless sessions */
}

static unsigned known_or_other(const char *v, const char *const *known, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v, known[i]) == 0)
			return (unsigned)i;
	return 0; /* "other" */
}

/* Remote, Type and Class of one session; 1 when read, 0 when the session is to
 * be skipped, or a fatal bus error. */
static int read_session(struct job *j, const char *path, struct session *s)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *type = NULL, *class = NULL;
	int remote = 0;

	int rc = sdbus.get_property_trivial(j->bus, LOGIN_DEST, path, LOGIN_SESSION, "Remote", &e,
					    'b', &remote);
	if (rc >= 0)
		rc = sdbus.get_property_string(j->bus, LOGIN_DEST, path, LOGIN_SESSION, "Type", &e,
					       &type);
	if (rc >= 0)
		rc = sdbus.get_property_string(j->bus, LOGIN_DEST, path, LOGIN_SESSION, "Class", &e,
					       &class);
	if (rc >= 0) {
		s->remote = remote ? 0 : 1;
		s->type = known_or_other(type, types, N_OF(types));
		s->class = known_or_other(class, classes, N_OF(classes));
	}
	free(type);
	free(class);
	if (rc < 0 && sdbus_fatal(rc))
		job_fail(j, rc, path, &e);
	sdbus.error_free(&e);
	return rc >= 0 ? 1 : sdbus_fatal(rc) ? rc : 0;
}

static int add_session(struct job *j, const struct session *s)
{
	if (j->n_sessions == j->cap_sessions) {
		size_t cap = j->cap_sessions ? j->cap_sessions * 2 : 16;
		void *v = realloc(j->sessions, cap * sizeof *j->sessions);
		if (!v)
			return job_fail(j, -ENOMEM, "keeping the sessions", NULL);
		j->sessions = v;
		j->cap_sessions = cap;
	}
	j->sessions[j->n_sessions++] = *s;
	return 0;
}

static int list_sessions(struct job *j, uint64_t deadline)
{
	sd_bus_message *reply = NULL;
	const char *id, *user, *seat, *path;
	uint32_t uid;
	int rc = list_call(j, "ListSessions", "(susso)", &reply);

	while (rc >= 0 &&
	       (rc = sdbus.message_read(reply, "(susso)", &id, &uid, &user, &seat, &path)) > 0) {
		struct session s;
		memset(&s, 0, sizeof s);
		snprintf(s.seat, sizeof s.seat, "%s", seat);
		rc = read_session(j, path, &s);
		if (rc > 0)
			rc = add_session(j, &s);
		if (rc >= 0 && mono_us() > deadline)
			rc = job_fail(j, -ETIMEDOUT,
				      "reading the sessions took longer than the timeout", NULL);
	}
	if (rc < 0)
		job_fail(j, rc, "reading the sessions", NULL);
	sdbus.message_unref(reply);
	return rc < 0 ? rc : 0;
}

static void query(void *ctx)
{
	struct job *j = ctx;
	uint64_t deadline = mono_us() + j->timeout_us;

	j->rc = 0;
	j->err[0] = '\0';
	j->n_seats = j->n_sessions = 0;
	if (!j->bus) {
		int rc = sdbus_connect(&j->bus, j->address, j->timeout_us, j->err, sizeof j->err);
		if (rc < 0) {
			j->rc = rc;
			return;
		}
	}
	if (list_seats(j) == 0)
		list_sessions(j, deadline);
	if (j->rc && j->bus) {
		/* Whatever went wrong, the next query starts on a new connection. */
		j->bus = sdbus.flush_close_unref(j->bus);
	}
}

/* ---- the collector ---- */

static void logind_fini(void *state)
{
	struct logind_state *s = state;
	if (!s)
		return;
	worker_stop(s->w); /* frees the job, now or when its call returns */
	free(s);
}

static int logind_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct logind_state *s = calloc(1, sizeof *s);
	struct job *j = calloc(1, sizeof *j);
	const char *address = collector_option(env, "bus-address");
	const char *timeout = collector_option(env, "timeout");
	int rc = s && j ? sdbus_load(err, errlen) : -ENOMEM;

	uint32_t ms = 0;
	char why[256];

	if (rc == 0 && config_parse_duration_range(timeout ? timeout : "2s", 1, UINT32_MAX, &ms,
						   why, sizeof why) < 0)
		rc = config_fail(err, errlen, "--collector.logind.timeout: %s", why);
	if (rc == 0)
		s->timeout_ms = ms;
	if (rc == 0) {
		snprintf(j->address, sizeof j->address, "%s", address ? address : "");
		j->timeout_us = s->timeout_ms * 1000u;
		rc = worker_start(&s->w, query, j, job_free, err, errlen);
	}
	if (rc) {
		if (rc == -ENOMEM && !err[0])
			snprintf(err, errlen, "out of memory");
		free(j);
		free(s);
		return rc;
	}
	s->job = j;
	*state = s;
	return 0;
}

static double count(const struct job *j, unsigned remote, unsigned type, unsigned class,
		    const char *seat)
{
	double n = 0;
	for (size_t i = 0; i < j->n_sessions; i++) {
		const struct session *s = &j->sessions[i];
		n += s->remote == remote && s->type == type && s->class == class &&
		     strcmp(s->seat, seat) == 0;
	}
	return n;
}

static int emit(const struct job *j, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "class", "remote", "seat", "type" };
	struct lazyfam fam = { "node_logind_sessions", "Number of sessions registered in logind.",
			       METRIC_GAUGE, false };
	int rc = 0;

	for (unsigned r = 0; r < N_OF(remotes); r++)
		for (unsigned t = 0; t < N_OF(types); t++)
			for (unsigned c = 0; c < N_OF(classes); c++)
				for (size_t s = 0; rc == 0 && s < j->n_seats; s++) {
					const char *v[] = { classes[c], remotes[r], j->seats[s],
							    types[t] };
					rc = lazyfam_add(b, &fam, names, v, 4,
							 count(j, r, t, c, j->seats[s]), err,
							 errlen);
				}
	return rc;
}

static int logind_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct logind_state *s = state;
	int rc = worker_run(s->w, s->timeout_ms);

	if (rc == -ETIMEDOUT) {
		snprintf(err, errlen, "logind did not answer over D-Bus within %llu ms",
			 (unsigned long long)s->timeout_ms);
		return rc;
	}
	if (rc == -EBUSY) {
		snprintf(err, errlen,
			 "the previous query to logind has not returned yet (its "
			 "D-Bus calls time out after %llu ms)",
			 (unsigned long long)s->timeout_ms);
		return rc;
	}
	if (s->job->rc) {
		snprintf(err, errlen, "%s", s->job->err);
		return s->job->rc;
	}
	return emit(s->job, b, err, errlen);
}

const struct collector_ops collector_logind_ops = {
	.init = logind_init,
	.collect = logind_collect,
	.fini = logind_fini,
};
