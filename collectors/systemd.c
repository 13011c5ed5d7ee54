/*
 * systemd - node_exporter's opt-in systemd collector: the state of systemd's
 * units over D-Bus (sd-bus, from libsystemd), with node_exporter's names,
 * labels and options:
 *
 *   node_systemd_unit_state{name,state,type}        1 for the unit's ActiveState
 *   node_systemd_units{state}                       units per ActiveState (all units)
 *   node_systemd_system_running                     SystemState is "running"
 *   node_systemd_version{version}                   the version, as a number
 *   node_systemd_virtualization_info{virtualization_type}
 *   node_systemd_timer_last_trigger_seconds{name}
 *   node_systemd_socket_accepted_connections_total{name}, _current_connections,
 *   node_systemd_socket_refused_connections_total{name}
 *   node_systemd_service_restart_total{name}        (enable-restarts-metrics)
 *   node_systemd_unit_tasks_current{name}, _max     (enable-task-metrics)
 *   node_systemd_unit_start_time_seconds{name}      (enable-start-time-metrics)
 *
 * unit-include and unit-exclude are anchored at both ends, as in node_exporter,
 * and only loaded units are reported one by one.
 *
 * A hung or missing bus must not stall the collector process, which runs the
 * other collectors too: the D-Bus conversation runs on a worker thread, every
 * call carries the timeout, and collect() waits for the worker at most the
 * timeout.  When the worker has not answered, the collection fails with the
 * reason and the worker finishes on its own (its calls time out); until it has,
 * later collections fail at once instead of waiting again.  After an error the
 * connection is closed and opened again on the next collection.
 *
 *   collector                                 worker
 *   ---------                                 ------
 *   lock; busy = 1; signal                    wait for busy
 *   timedwait(!busy, now + timeout)           unlock; query(); lock
 *   on time out: fail, leave it working       busy = 0; signal
 *
 * The shared record is reference-counted, so a worker still in a call when
 * fini() runs frees it when it returns.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "collector.h"
#include "settings.h"
#include "emit.h"
#include "lazyfam.h"

#define SD_DEST                  "org.freedesktop.systemd1"
#define SD_PATH                  "/org/freedesktop/systemd1"
#define SD_MANAGER               "org.freedesktop.systemd1.Manager"
#define SD_UNIT                  "org.freedesktop.systemd1.Unit"
#define ERR_LEN                  512
#define STATE_MAX                16 /* distinct ActiveStates counted */
#define WAIT_MARGIN_US           250000
#define MIN_VERSION_SYSTEM_STATE 212 /* SystemState and LastTriggerUSec */

static const char *const unit_states[] = { "active", "activating", "deactivating", "inactive",
					   "failed" };
#define N_UNIT_STATES (sizeof unit_states / sizeof unit_states[0])

/* What the query learnt of one unit. */
struct unit {
	uint32_t name, active, type; /* offsets in the result's text */
	bool has_restarts, has_tasks_current, has_tasks_max, has_start, has_trigger;
	bool has_accepted, has_connections, has_refused;
	uint32_t restarts, accepted, connections, refused;
	uint64_t tasks_current, tasks_max, start_us, trigger_us;
};

struct result {
	int rc;
	char err[ERR_LEN];
	char version[64];
	double version_num;
	char virtualization[64];
	bool have_state, running;
	struct {
		char name[32];
		uint32_t count;
	} states[STATE_MAX];
	size_t n_states;
	struct unit *units;
	size_t n_units, cap_units;
	char *text; /* unit names and states, NUL-terminated */
	size_t text_len, text_cap;
};

struct options {
	regex_t include, exclude;
	bool tasks, restarts, start_time, private_bus;
	char address[512];
	uint64_t timeout_us;
};

/* Shared by the collector and its worker thread. */
struct shared {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;
	bool busy, quit;
	struct options opt;
	sd_bus *bus;       /* the worker's alone */
	uint64_t deadline; /* of the query running, CLOCK_MONOTONIC microseconds */
	struct result res;
};

struct systemd_state {
	struct shared *sh;
	pthread_t thread;
};

/* ---- libsystemd, loaded when the collector starts ----
 *
 * The collector process runs every built-in collector, and this one is
 * opt-in: libsystemd (and the libraries it pulls in) is loaded with dlopen when
 * the systemd collector starts, so that a process without it does not carry it
 * (about 0.7 MiB of PSS measured).  The calls are typed from sd-bus.h. */

/* clang-format off */
#define SDBUS_FUNCS(X)                                                    \
	X(call_method) X(error_free) X(error_is_set) X(flush_close_unref) \
	X(get_property_string) X(get_property_trivial)                    \
	X(message_enter_container) X(message_read) X(message_unref)       \
	X(new) X(open_system) X(set_address) X(set_bus_client)            \
	X(set_method_call_timeout) X(start) X(unref)
/* clang-format on */

static struct {
#define FIELD(f) __typeof__(sd_bus_##f) *f;
	SDBUS_FUNCS(FIELD)
#undef FIELD
} sd;

static pthread_once_t sd_once = PTHREAD_ONCE_INIT;
static char sd_error[256];

static void sd_load(void)
{
	void *h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(sd_error, sizeof sd_error, "dlopen(\"libsystemd.so.0\") failed: %s",
			 dlerror());
		return;
	}
#define LOAD(f)                                                          \
	if (!sd_error[0] && !(*(void **)&sd.f = dlsym(h, "sd_bus_" #f))) \
		snprintf(sd_error, sizeof sd_error, "libsystemd.so.0 has no sd_bus_" #f);
	SDBUS_FUNCS(LOAD)
#undef LOAD
}

/* 0 when sd-bus can be called, else -ENOENT with the reason. */
static int sd_ready(char *err, size_t errlen)
{
	pthread_once(&sd_once, sd_load);
	if (!sd_error[0])
		return 0;
	snprintf(err, errlen, "%s (the systemd collector needs libsystemd0)", sd_error);
	return -ENOENT;
}

/* ---- the result ---- */

static void result_reset(struct result *r)
{
	r->rc = 0;
	r->err[0] = r->version[0] = r->virtualization[0] = '\0';
	r->version_num = 0;
	r->have_state = r->running = false;
	r->n_states = 0;
	r->n_units = 0;
	r->text_len = 0;
}

static void result_free(struct result *r)
{
	free(r->units);
	free(r->text);
}

/* Keeps s in the result's text; its offset, or -ENOMEM. */
static int64_t text_put(struct result *r, const char *s)
{
	size_t n = strlen(s) + 1;
	if (r->text_len + n > r->text_cap) {
		size_t cap = r->text_cap ? r->text_cap : 16384;
		while (cap < r->text_len + n)
			cap *= 2;
		char *t = realloc(r->text, cap);
		if (!t)
			return -ENOMEM;
		r->text = t;
		r->text_cap = cap;
	}
	memcpy(r->text + r->text_len, s, n);
	r->text_len += n;
	return (int64_t)(r->text_len - n);
}

static const char *text_at(const struct result *r, uint32_t off)
{
	return r->text + off;
}

static void count_state(struct result *r, const char *state)
{
	for (size_t i = 0; i < r->n_states; i++)
		if (strcmp(r->states[i].name, state) == 0) {
			r->states[i].count++;
			return;
		}
	if (r->n_states < STATE_MAX && strlen(state) < sizeof r->states[0].name) {
		snprintf(r->states[r->n_states].name, sizeof r->states[0].name, "%s", state);
		r->states[r->n_states++].count = 1;
	}
}

static int fail(struct result *r, int rc, const char *what, const sd_bus_error *e)
{
	if (r->rc)
		return r->rc;
	r->rc = rc;
	snprintf(r->err, sizeof r->err, "%.300s: %.180s", what,
		 e && sd.error_is_set(e) && e->message ? e->message : strerror(-rc));
	return rc;
}

/* ---- the conversation with systemd (worker thread) ---- */

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int connect_bus(struct shared *sh)
{
	const struct options *o = &sh->opt;
	const char *address = o->private_bus ? "unix:path=/run/systemd/private" : o->address;
	sd_bus *bus = NULL;
	int rc;

	if (!address[0]) {
		rc = sd.open_system(&bus);
	} else {
		rc = sd.new(&bus);
		if (rc >= 0)
			rc = sd.set_address(bus, address);
		if (rc >= 0)
			rc = sd.set_bus_client(bus, !o->private_bus);
		if (rc >= 0)
			rc = sd.start(bus);
	}
	if (rc < 0) {
		char what[600];
		snprintf(what, sizeof what, "connecting to %s",
			 address[0] ? address : "the system bus");
		sd.unref(bus);
		return fail(&sh->res, rc, what, NULL);
	}
	sh->bus = bus;
	return 0;
}

/* Every call may take what is left of the query's time, at least 1 ms: the
 * whole query ends by its deadline. */
static void call_budget(struct shared *sh)
{
	uint64_t now = mono_us();
	sd.set_method_call_timeout(sh->bus, sh->deadline > now + 1000 ? sh->deadline - now : 1000);
}

static int get_string(struct shared *sh, const char *path, const char *iface, const char *prop,
		      char *out, size_t cap)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	call_budget(sh);
	char *v = NULL;
	int rc = sd.get_property_string(sh->bus, SD_DEST, path, iface, prop, &e, &v);
	if (rc >= 0)
		snprintf(out, cap, "%s", v);
	free(v);
	sd.error_free(&e);
	return rc;
}

static int get_trivial(struct shared *sh, const char *path, const char *iface, const char *prop,
		       char type, void *out)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	call_budget(sh);
	int rc = sd.get_property_trivial(sh->bus, SD_DEST, path, iface, prop, &e, type, out);
	sd.error_free(&e);
	return rc;
}

/* A timed-out or broken connection ends the query; a unit that does not have
 * a property (an old systemd) costs only that property. */
static bool fatal_bus_error(int rc)
{
	return rc == -ETIMEDOUT || rc == -ECONNRESET || rc == -ENOTCONN || rc == -EPIPE ||
	       rc == -ECONNREFUSED;
}

/* "252.38-1~deb12u1" is 252.38, as node_exporter reads it: the first run of
 * three or more digits, with its decimals. */
static double parse_version(const char *v)
{
	for (const char *p = v; *p; p++) {
		size_t digits = strspn(p, "0123456789");
		if (digits >= 3)
			return strtod(p, NULL);
		p += digits ? digits - 1 : 0;
	}
	return 0;
}

static int query_manager(struct shared *sh)
{
	struct result *r = &sh->res;
	char state[64];

	int rc = get_string(sh, SD_PATH, SD_MANAGER, "Version", r->version, sizeof r->version);
	if (fatal_bus_error(rc))
		return fail(r, rc, "Manager.Version", NULL);
	r->version_num = rc >= 0 ? parse_version(r->version) : 0;
	if (rc < 0)
		r->version[0] = '\0';
	rc = get_string(sh, SD_PATH, SD_MANAGER, "Virtualization", r->virtualization,
			sizeof r->virtualization);
	if (fatal_bus_error(rc))
		return fail(r, rc, "Manager.Virtualization", NULL);
	if (rc < 0)
		snprintf(r->virtualization, sizeof r->virtualization, "unknown");
	else if (!r->virtualization[0])
		snprintf(r->virtualization, sizeof r->virtualization, "none");
	if (r->version_num < MIN_VERSION_SYSTEM_STATE)
		return 0;
	rc = get_string(sh, SD_PATH, SD_MANAGER, "SystemState", state, sizeof state);
	if (rc < 0)
		return fail(r, rc, "Manager.SystemState", NULL);
	r->have_state = true;
	r->running = strcmp(state, "running") == 0;
	return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Properties of a service: its type, restarts and tasks (as asked). */
static int query_service(struct shared *sh, const char *path, struct unit *u, char *type,
			 size_t cap)
{
	static const char iface[] = "org.freedesktop.systemd1.Service";
	const struct options *o = &sh->opt;
	int rc = get_string(sh, path, iface, "Type", type, cap);

	if (!fatal_bus_error(rc) && o->restarts) {
		rc = get_trivial(sh, path, iface, "NRestarts", 'u', &u->restarts);
		u->has_restarts = rc >= 0;
	}
	if (!fatal_bus_error(rc) && o->tasks) {
		rc = get_trivial(sh, path, iface, "TasksCurrent", 't', &u->tasks_current);
		u->has_tasks_current = rc >= 0 && u->tasks_current != UINT64_MAX;
		if (!fatal_bus_error(rc)) {
			rc = get_trivial(sh, path, iface, "TasksMax", 't', &u->tasks_max);
			u->has_tasks_max = rc >= 0 && u->tasks_max != UINT64_MAX;
		}
	}
	return fatal_bus_error(rc) ? rc : 0;
}

static int query_socket(struct shared *sh, const char *path, struct unit *u)
{
	static const char iface[] = "org.freedesktop.systemd1.Socket";
	int rc = get_trivial(sh, path, iface, "NAccepted", 'u', &u->accepted);

	u->has_accepted = rc >= 0;
	if (rc >= 0) {
		rc = get_trivial(sh, path, iface, "NConnections", 'u', &u->connections);
		u->has_connections = rc >= 0;
	}
	if (rc >= 0) {
		/* Since systemd 239. */
		rc = get_trivial(sh, path, iface, "NRefused", 'u', &u->refused);
		u->has_refused = rc >= 0;
	}
	return fatal_bus_error(rc) ? rc : 0;
}

/* The properties of one reported unit, by its type. */
static int query_unit(struct shared *sh, const char *name, const char *active, const char *path,
		      struct unit *u)
{
	struct result *r = &sh->res;
	char type[64] = "";
	int rc = 0;

	if (has_suffix(name, ".service")) {
		rc = query_service(sh, path, u, type, sizeof type);
	} else if (has_suffix(name, ".mount")) {
		rc = get_string(sh, path, "org.freedesktop.systemd1.Mount", "Type", type,
				sizeof type);
	} else if (has_suffix(name, ".socket")) {
		rc = query_socket(sh, path, u);
	} else if (has_suffix(name, ".timer") && r->version_num >= MIN_VERSION_SYSTEM_STATE) {
		rc = get_trivial(sh, path, "org.freedesktop.systemd1.Timer", "LastTriggerUSec", 't',
				 &u->trigger_us);
		u->has_trigger = rc >= 0;
	}
	if (!fatal_bus_error(rc) && sh->opt.start_time) {
		/* node_exporter reports 0 for a unit that is not active. */
		u->start_us = 0;
		rc = strcmp(active, "active") != 0
			 ? 0
			 : get_trivial(sh, path, SD_UNIT, "ActiveEnterTimestamp", 't',
				       &u->start_us);
		u->has_start = rc >= 0;
	}
	if (fatal_bus_error(rc))
		return fail(r, rc, name, NULL);
	int64_t t = text_put(r, type);
	if (t < 0)
		return fail(r, -ENOMEM, "keeping unit types", NULL);
	u->type = (uint32_t)t;
	return 0;
}

static bool wanted(const struct options *o, const char *name, const char *load)
{
	return strcmp(load, "loaded") == 0 && regexec(&o->include, name, 0, NULL, 0) == 0 &&
	       regexec(&o->exclude, name, 0, NULL, 0) != 0;
}

static int add_unit(struct shared *sh, const char *name, const char *active, const char *path)
{
	struct result *r = &sh->res;

	if (r->n_units == r->cap_units) {
		size_t cap = r->cap_units ? r->cap_units * 2 : 256;
		struct unit *u = realloc(r->units, cap * sizeof *u);
		if (!u)
			return fail(r, -ENOMEM, "keeping units", NULL);
		r->units = u;
		r->cap_units = cap;
	}
	struct unit *u = &r->units[r->n_units];
	memset(u, 0, sizeof *u);
	int64_t n = text_put(r, name), a = text_put(r, active);
	if (n < 0 || a < 0)
		return fail(r, -ENOMEM, "keeping unit names", NULL);
	u->name = (uint32_t)n;
	u->active = (uint32_t)a;
	int rc = query_unit(sh, name, active, path, u);
	if (rc == 0)
		r->n_units++;
	return rc;
}

static int query_units(struct shared *sh)
{
	struct result *r = &sh->res;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *name, *desc, *load, *active, *sub, *follow, *path, *jtype, *jpath;
	uint32_t job;

	call_budget(sh);
	int rc = sd.call_method(sh->bus, SD_DEST, SD_PATH, SD_MANAGER, "ListUnits", &e, &reply,
				NULL);
	if (rc < 0) {
		fail(r, rc, "Manager.ListUnits", &e);
		sd.error_free(&e);
		return rc;
	}
	rc = sd.message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(ssssssouso)");
	while (rc >= 0 && (rc = sd.message_read(reply, "(ssssssouso)", &name, &desc, &load, &active,
						&sub, &follow, &path, &job, &jtype, &jpath)) > 0) {
		count_state(r, active);
		if (wanted(&sh->opt, name, load))
			rc = add_unit(sh, name, active, path);
		if (rc >= 0 && mono_us() > sh->deadline)
			rc = fail(r, -ETIMEDOUT, "listing the units took longer than the timeout",
				  NULL);
	}
	if (rc < 0)
		fail(r, rc, "reading the reply of Manager.ListUnits", NULL);
	sd.message_unref(reply);
	return rc < 0 ? rc : 0;
}

static void run_query(struct shared *sh)
{
	sh->deadline = mono_us() + sh->opt.timeout_us;
	result_reset(&sh->res);
	if (!sh->bus && connect_bus(sh) < 0)
		return;
	if (query_manager(sh) == 0)
		query_units(sh);
	if (sh->res.rc) {
		/* Whatever went wrong, the next query starts on a new connection. */
		sh->bus = sd.flush_close_unref(sh->bus);
	}
}

/* ---- the worker ---- */

static void shared_free(struct shared *sh)
{
	sd.flush_close_unref(sh->bus);
	regfree(&sh->opt.include);
	regfree(&sh->opt.exclude);
	result_free(&sh->res);
	pthread_cond_destroy(&sh->cv);
	pthread_mutex_destroy(&sh->mu);
	free(sh);
}

/* Drops one reference; the last one frees.  Called with mu held, returns with it
 * released. */
static void shared_unref_unlock(struct shared *sh)
{
	bool last = --sh->refs == 0;
	pthread_mutex_unlock(&sh->mu);
	if (last)
		shared_free(sh);
}

static void *worker_main(void *arg)
{
	struct shared *sh = arg;

	pthread_mutex_lock(&sh->mu);
	for (;;) {
		while (!sh->busy && !sh->quit)
			pthread_cond_wait(&sh->cv, &sh->mu);
		if (!sh->busy)
			break;
		/* res and bus are the worker's while busy: the collector waits. */
		pthread_mutex_unlock(&sh->mu);
		run_query(sh);
		pthread_mutex_lock(&sh->mu);
		sh->busy = false;
		pthread_cond_broadcast(&sh->cv);
	}
	shared_unref_unlock(sh);
	return NULL;
}

/* One message for a call that timed out and a worker that did not come back in
 * time, so that a hung systemd is logged once. */
static void timeout_message(const struct shared *sh, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "systemd did not answer over D-Bus within the timeout of %" PRIu64 " ms",
		 sh->opt.timeout_us / 1000);
}

/* Starts a query and waits for it at most the timeout.  0 when it ended (its
 * own outcome is in res), -ETIMEDOUT or -EBUSY otherwise. */
static int ask_worker(struct shared *sh, char *err, size_t errlen)
{
	struct timespec until;
	int rc = 0;

	/* The worker's own calls end by the timeout; the margin lets it say so
	 * itself, so that the next collection finds it idle. */
	uint64_t wait_us = sh->opt.timeout_us + WAIT_MARGIN_US;
	clock_gettime(CLOCK_MONOTONIC, &until);
	uint64_t ns = (uint64_t)until.tv_nsec + (wait_us % 1000000u) * 1000u;
	until.tv_sec += (time_t)(wait_us / 1000000u + ns / 1000000000u);
	until.tv_nsec = (long)(ns % 1000000000u);
	pthread_mutex_lock(&sh->mu);
	if (sh->busy) {
		snprintf(err, errlen,
			 "the previous query to systemd has not returned yet (D-Bus calls time "
			 "out after the collector's timeout)");
		pthread_mutex_unlock(&sh->mu);
		return -EBUSY;
	}
	sh->busy = true;
	pthread_cond_broadcast(&sh->cv);
	while (sh->busy && rc == 0)
		rc = pthread_cond_timedwait(&sh->cv, &sh->mu, &until);
	if (sh->busy) {
		timeout_message(sh, err, errlen);
		rc = -ETIMEDOUT;
	} else {
		rc = 0;
	}
	pthread_mutex_unlock(&sh->mu);
	return rc;
}

/* ---- publishing ---- */

static int emit_labelled(struct batch *b, const char *name, const char *help, enum metric_type type,
			 const char *label, const char *value, double v, char *err, size_t errlen)
{
	const char *names[1] = { label }, *values[1] = { value };
	int rc = batch_family(b, name, help, type, err, errlen);
	return rc ? rc : batch_add(b, names, values, 1, v, err, errlen);
}

static int emit_summary(const struct result *r, struct batch *b, char *err, size_t errlen)
{
	struct lazyfam f = { "node_systemd_units", "Summary of systemd unit states", METRIC_GAUGE,
			     false };
	const char *names[1] = { "state" };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < N_UNIT_STATES; i++) {
		double n = 0;
		for (size_t k = 0; k < r->n_states; k++)
			if (strcmp(r->states[k].name, unit_states[i]) == 0)
				n = r->states[k].count;
		const char *values[1] = { unit_states[i] };
		rc = lazyfam_add(b, &f, names, values, 1, n, err, errlen);
	}
	/* States node_exporter does not know ("reloading", "maintenance") too. */
	for (size_t k = 0; rc == 0 && k < r->n_states; k++) {
		const char *values[1] = { r->states[k].name };
		bool known = false;
		for (size_t i = 0; i < N_UNIT_STATES; i++)
			known |= strcmp(r->states[k].name, unit_states[i]) == 0;
		if (!known)
			rc = lazyfam_add(b, &f, names, values, 1, r->states[k].count, err, errlen);
	}
	return rc;
}

static int emit_unit_states(const struct result *r, struct batch *b, char *err, size_t errlen)
{
	const char *names[3] = { "name", "state", "type" };
	int rc = batch_family(b, "node_systemd_unit_state", "Systemd unit", METRIC_GAUGE, err,
			      errlen);

	for (size_t i = 0; rc == 0 && i < r->n_units; i++) {
		const struct unit *u = &r->units[i];
		for (size_t k = 0; rc == 0 && k < N_UNIT_STATES; k++) {
			const char *values[3] = { text_at(r, u->name), unit_states[k],
						  text_at(r, u->type) };
			bool on = strcmp(text_at(r, u->active), unit_states[k]) == 0;
			rc = batch_add(b, names, values, 3, on ? 1 : 0, err, errlen);
			if (rc == -EEXIST || rc == -EINVAL)
				rc = 0; /* a unit listed twice, or a name that is not UTF-8 */
		}
	}
	return rc;
}

enum per_unit {
	P_RESTARTS,
	P_START,
	P_TASKS_CUR,
	P_TASKS_MAX,
	P_TRIGGER,
	P_ACCEPTED,
	P_CONNECTIONS,
	P_REFUSED,
	N_PER_UNIT
};

static const struct {
	const char *name, *help;
	enum metric_type type;
} per_unit[N_PER_UNIT] = {
	[P_RESTARTS] = { "node_systemd_service_restart_total",
			 "Service unit count of Restart triggers", METRIC_COUNTER },
	[P_START] = { "node_systemd_unit_start_time_seconds",
		      "Start time of the unit since unix epoch in seconds.", METRIC_GAUGE },
	[P_TASKS_CUR] = { "node_systemd_unit_tasks_current",
			  "Current number of tasks per Systemd unit", METRIC_GAUGE },
	[P_TASKS_MAX] = { "node_systemd_unit_tasks_max", "Maximum number of tasks per Systemd unit",
			  METRIC_GAUGE },
	[P_TRIGGER] = { "node_systemd_timer_last_trigger_seconds",
			"Seconds since epoch of last trigger.", METRIC_GAUGE },
	[P_ACCEPTED] = { "node_systemd_socket_accepted_connections_total",
			 "Total number of accepted socket connections", METRIC_COUNTER },
	[P_CONNECTIONS] = { "node_systemd_socket_current_connections",
			    "Current number of socket connections", METRIC_GAUGE },
	[P_REFUSED] = { "node_systemd_socket_refused_connections_total",
			"Total number of refused socket connections", METRIC_COUNTER },
};

static bool unit_value(const struct unit *u, enum per_unit p, double *v)
{
	switch (p) {
	case P_RESTARTS:
		*v = u->restarts;
		return u->has_restarts;
	case P_START:
		*v = (double)u->start_us / 1e6;
		return u->has_start;
	case P_TASKS_CUR:
		*v = (double)u->tasks_current;
		return u->has_tasks_current;
	case P_TASKS_MAX:
		*v = (double)u->tasks_max;
		return u->has_tasks_max;
	case P_TRIGGER:
		*v = (double)u->trigger_us / 1e6;
		return u->has_trigger;
	case P_ACCEPTED:
		*v = u->accepted;
		return u->has_accepted;
	case P_CONNECTIONS:
		*v = u->connections;
		return u->has_connections;
	case P_REFUSED:
		*v = u->refused;
		return u->has_refused;
	case N_PER_UNIT:
		break;
	}
	return false;
}

static int emit_per_unit(const struct result *r, struct batch *b, char *err, size_t errlen)
{
	const char *names[1] = { "name" };
	int rc = 0;

	for (int p = 0; rc == 0 && p < N_PER_UNIT; p++) {
		struct lazyfam f = { per_unit[p].name, per_unit[p].help, per_unit[p].type, false };
		for (size_t i = 0; rc == 0 && i < r->n_units; i++) {
			const char *values[1] = { text_at(r, r->units[i].name) };
			double v;
			if (unit_value(&r->units[i], (enum per_unit)p, &v))
				rc = lazyfam_add(b, &f, names, values, 1, v, err, errlen);
		}
	}
	return rc;
}

static int emit_result(const struct result *r, struct batch *b, char *err, size_t errlen)
{
	int rc = emit_labelled(b, "node_systemd_version", "Detected systemd version", METRIC_GAUGE,
			       "version", r->version, r->version_num, err, errlen);
	if (rc == 0)
		rc = emit_labelled(b, "node_systemd_virtualization_info",
				   "Detected virtualization technology", METRIC_GAUGE,
				   "virtualization_type", r->virtualization, 1, err, errlen);
	if (rc == 0)
		rc = emit_summary(r, b, err, errlen);
	if (rc == 0)
		rc = emit_unit_states(r, b, err, errlen);
	if (rc == 0)
		rc = emit_per_unit(r, b, err, errlen);
	if (rc == 0 && r->have_state)
		rc = emit_single(
		    b, "node_systemd_system_running",
		    "Whether the system is operational (see 'systemctl is-system-running')",
		    METRIC_GAUGE, r->running ? 1 : 0, err, errlen);
	return rc;
}

static int systemd_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct systemd_state *s = state;
	int rc = ask_worker(s->sh, err, errlen);

	if (rc)
		return rc;
	/* The worker is idle: the result is ours until the next ask_worker. */
	if (s->sh->res.rc == -ETIMEDOUT) {
		timeout_message(s->sh, err, errlen);
		return -ETIMEDOUT;
	}
	if (s->sh->res.rc) {
		snprintf(err, errlen, "systemd over D-Bus: %s", s->sh->res.err);
		return s->sh->res.rc;
	}
	return emit_result(&s->sh->res, b, err, errlen);
}

/* ---- setting up ---- */

/* node_exporter anchors both ends: "^(?:VALUE)$". */
static int anchored(regex_t *re, const struct collector_env *env, const char *key, char *err,
		    size_t errlen)
{
	const char *v = collector_option(env, key);
	size_t n = strlen(v ? v : "") + 8;
	char *pattern = malloc(n);
	if (!pattern)
		return -ENOMEM;
	snprintf(pattern, n, "^(%s)$", v ? v : "");
	int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
	free(pattern);
	if (rc) {
		char why[128];
		regerror(rc, re, why, sizeof why);
		snprintf(err, errlen, "--collector.systemd.%s: %s", key, why);
		return -EINVAL;
	}
	return 0;
}

static int systemd_options(struct options *o, const struct collector_env *env, char *err,
			   size_t errlen)
{
	const char *addr = collector_option(env, "bus-address"),
		   *timeout = collector_option(env, "timeout");
	uint32_t ms = 0;
	char why[256];

	o->tasks = collector_option_bool(env, "enable-task-metrics");
	o->restarts = collector_option_bool(env, "enable-restarts-metrics");
	o->start_time = collector_option_bool(env, "enable-start-time-metrics");
	o->private_bus = collector_option_bool(env, "private");
	if (snprintf(o->address, sizeof o->address, "%s", addr ? addr : "") >=
	    (int)sizeof o->address) {
		snprintf(err, errlen, "--collector.systemd.bus-address is too long");
		return -EINVAL;
	}
	if (config_parse_duration_range(timeout ? timeout : "", 1, UINT32_MAX, &ms, why,
					sizeof why) < 0)
		return config_fail(err, errlen, "--collector.systemd.timeout: %s", why);
	o->timeout_us = (uint64_t)ms * 1000;
	int rc = anchored(&o->include, env, "unit-include", err, errlen);
	if (rc)
		return rc;
	rc = anchored(&o->exclude, env, "unit-exclude", err, errlen);
	if (rc)
		regfree(&o->include);
	return rc;
}

static void systemd_fini(void *state)
{
	struct systemd_state *s = state;
	if (!s)
		return;
	pthread_mutex_lock(&s->sh->mu);
	s->sh->quit = true;
	bool busy = s->sh->busy;
	pthread_cond_broadcast(&s->sh->cv);
	pthread_mutex_unlock(&s->sh->mu);
	if (busy) {
		/* Stuck in a call: it lets go of the record when the call returns. */
		pthread_detach(s->thread);
	} else {
		pthread_join(s->thread, NULL);
	}
	pthread_mutex_lock(&s->sh->mu);
	shared_unref_unlock(s->sh);
	free(s);
}

static int systemd_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct systemd_state *s = NULL;
	struct shared *sh = NULL;
	pthread_condattr_t ca;
	int rc = sd_ready(err, errlen);

	if (rc)
		return rc;
	s = calloc(1, sizeof *s);
	sh = calloc(1, sizeof *sh);
	if (!s || !sh) {
		free(s);
		free(sh);
		return -ENOMEM;
	}
	rc = systemd_options(&sh->opt, env, err, errlen);
	if (rc) {
		free(s);
		free(sh);
		return rc;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&sh->mu, NULL);
	pthread_cond_init(&sh->cv, &ca);
	pthread_condattr_destroy(&ca);
	sh->refs = 2;
	s->sh = sh;
	if (pthread_create(&s->thread, NULL, worker_main, sh) != 0) {
		snprintf(err, errlen, "pthread_create failed");
		sh->refs = 1;
		pthread_mutex_lock(&sh->mu);
		shared_unref_unlock(sh);
		free(s);
		return -EAGAIN;
	}
	*state = s;
	return 0;
}

const struct collector_ops collector_systemd_ops = {
	.init = systemd_init,
	.collect = systemd_collect,
	.fini = systemd_fini,
};
