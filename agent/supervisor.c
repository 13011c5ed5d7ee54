/* The agent's supervision loop (nginx's master, ntpd's parent). */
#include "supervisor.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "backoff.h"
#include "custom.h"
#include "log.h"
#include "process.h"
#include "reload.h"
#include "self_metrics.h"

#define COLLECTOR_PROGRAM "shmetrics-collector"
#define EXPORTER_PROGRAM  "shmetrics-exporter"
/* Room for every collector of two configurations (one stopping, one starting
 * under a different name), the group and the exporter. */
#define TABLE_SIZE        (2 * CONFIG_MAX_COLLECTORS + 2)

struct segment_slot {
	char collector[CONFIG_NAME_MAX];
	char shm_name[SEGMENT_NAME_MAX + 1];
};

struct supervisor {
	/* The running configuration: the caller's until a reload succeeds, then the
	 * one loaded (owned; a configuration is large, so it is never copied). */
	const struct shm_config *cfg;
	struct shm_config *loaded;
	const struct cli_args *args;
	char collector_prog[PATH_MAX], exporter_prog[PATH_MAX];
	char agent_segment[SEGMENT_NAME_MAX + 1];
	bool agent_segment_created;
	struct self_metrics *self;
	struct agent_status status;
	bool dirty, publish_failed;
	uint64_t next_publish_ms;
	sigset_t wait_mask;
	struct child table[TABLE_SIZE];
	/* The segments the agent created, one per enabled collector.  They belong to
	 * the collectors, not to the processes that write them, so a reload can move
	 * a collector between processes. */
	size_t n_segments;
	struct segment_slot segments[CONFIG_MAX_COLLECTORS];
};

static volatile sig_atomic_t got_term, got_hup, got_chld;

static void on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = sig;
}

/* ---- time ---- */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static double real_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- signals ---- */

/* Blocks the signals we handle everywhere except inside ppoll (wait_mask). */
static int signals_setup(struct supervisor *s)
{
	static const int handled[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	struct sigaction sa;
	sigset_t block;

	sigemptyset(&block);
	for (size_t i = 0; i < 4; i++)
		sigaddset(&block, handled[i]);
	if (sigprocmask(SIG_BLOCK, &block, &s->wait_mask) < 0)
		return -errno;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < 4; i++) {
		sigdelset(&s->wait_mask, handled[i]);
		sa.sa_flags = handled[i] == SIGCHLD ? SA_NOCLDSTOP : 0;
		if (sigaction(handled[i], &sa, NULL) < 0)
			return -errno;
	}
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* Sleeps until a signal arrives or timeout_ms passes. */
static void wait_for_event(struct supervisor *s, uint64_t timeout_ms)
{
	struct timespec ts = { .tv_sec = (time_t)(timeout_ms / 1000),
			       .tv_nsec = (long)(timeout_ms % 1000) * 1000000L };

	ppoll(NULL, 0, &ts, &s->wait_mask);
}

/* ---- segments ---- */

static int segment_options_for(const struct shm_config *c, uint32_t interval_ms,
			       struct segment_options *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof *o);
	batch_limits_default(&o->limits);
	if (c->segments.max_series) {
		o->limits.max_series = c->segments.max_series;
		if (o->limits.max_values < o->limits.max_series)
			o->limits.max_values = o->limits.max_series;
	}
	o->interval_ms = interval_ms;
	o->mode = c->segments.mode;
	o->gid = (gid_t)-1;
	if (c->segments.group[0]) {
		struct group *g = getgrnam(c->segments.group);
		if (!g) {
			snprintf(err, errlen, "segments.group \"%s\": no such group",
				 c->segments.group);
			return -ENOENT;
		}
		o->gid = g->gr_gid;
	}
	return 0;
}

static int segment_make(const struct shm_config *c, const char *shm_name, const char *collector,
			uint32_t interval_ms)
{
	struct segment_options o;
	char err[512];

	if (segment_options_for(c, interval_ms, &o, err, sizeof err) < 0 ||
	    custom_segment_options(c, collector, &o, err, sizeof err) < 0 ||
	    segment_create(shm_name, collector, &o, err, sizeof err) < 0) {
		log_error("cannot create segment %s: %s", shm_name, err);
		return -1;
	}
	log_debug("created segment %s", shm_name);
	return 0;
}

static void segment_drop(const char *shm_name)
{
	char err[512];

	if (segment_remove(shm_name, err, sizeof err) < 0)
		log_warnx("cannot remove segment %s: %s", shm_name, err);
	else
		log_debug("removed segment %s", shm_name);
}

static const struct collector_config *enabled_collector(const struct shm_config *c,
							const char *name)
{
	for (size_t i = 0; i < c->n_collectors; i++)
		if (c->collectors[i].enabled && strcmp(c->collectors[i].name, name) == 0)
			return &c->collectors[i];
	return NULL;
}

static struct segment_slot *collector_segment(struct supervisor *s, const char *collector)
{
	for (size_t i = 0; i < s->n_segments; i++)
		if (strcmp(s->segments[i].collector, collector) == 0)
			return &s->segments[i];
	return NULL;
}

/* Creates the segment of enabled collector name from the current configuration. */
static int collector_segment_create(struct supervisor *s, const char *name)
{
	const struct collector_config *col = enabled_collector(s->cfg, name);
	struct segment_slot *slot = &s->segments[s->n_segments];
	char err[512];

	if (!col || s->n_segments == CONFIG_MAX_COLLECTORS)
		return -1;
	if (segment_name(slot->shm_name, sizeof slot->shm_name, s->cfg->instance, name, err,
			 sizeof err) < 0) {
		log_error("collector %s: %s", name, err);
		return -1;
	}
	if (segment_make(s->cfg, slot->shm_name, name, col->interval_ms) < 0)
		return -1;
	snprintf(slot->collector, sizeof slot->collector, "%s", name);
	s->n_segments++;
	return 0;
}

/*
 * Removes the segment of collector name.  A writer still running keeps its now
 * nameless mapping until it exits; readers follow the name (seg_reader), so they
 * see the re-created segment, never the old one.
 */
static void collector_segment_remove(struct supervisor *s, const char *name)
{
	struct segment_slot *slot = collector_segment(s, name);

	if (!slot)
		return;
	segment_drop(slot->shm_name);
	*slot = s->segments[--s->n_segments];
}

/* ---- the process table ---- */

static struct child *child_find(struct supervisor *s, enum child_kind kind, const char *name)
{
	for (size_t i = 0; i < TABLE_SIZE; i++) {
		struct child *c = &s->table[i];
		if (c->in_use && c->kind == kind && strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

static struct child *child_by_pid(struct supervisor *s, pid_t pid)
{
	for (size_t i = 0; i < TABLE_SIZE; i++)
		if (s->table[i].in_use && s->table[i].pid == pid)
			return &s->table[i];
	return NULL;
}

static void child_release(struct child *c)
{
	child_argv_free(&c->argv);
	child_exec_free(&c->exec);
	memset(c, 0, sizeof *c);
}

/* A custom collector's environment and user, resolved now, before any fork. */
static int child_prepare_exec(struct supervisor *s, struct child *c)
{
	const struct custom_collector_config *cc = config_find_custom(s->cfg, c->name);
	const struct collector_config *col = enabled_collector(s->cfg, c->name);
	char err[512];

	child_exec_free(&c->exec);
	if (c->kind != CHILD_COLLECTOR || !cc || !col || c->argv.argc == 0)
		return 0;
	int rc = custom_exec_prepare(&c->exec, s->cfg, cc, col->interval_ms, err, sizeof err);
	if (rc < 0)
		log_error("collector %s: %s", c->name, err);
	return rc;
}

/* (Re)builds c's command line from the current configuration. */
static int child_build_argv(struct supervisor *s, struct child *c)
{
	const struct collector_config *col;
	struct child_argv a;
	char err[512];
	int rc;

	if (c->kind == CHILD_EXPORTER) {
		rc = child_argv_exporter(&a, s->exporter_prog, s->cfg, err, sizeof err);
	} else if (c->kind == CHILD_GROUP) {
		rc = child_argv_group(&a, s->collector_prog, s->cfg, err, sizeof err);
		c->members = child_group_members(s->cfg);
	} else {
		col = enabled_collector(s->cfg, c->name);
		rc = col ? child_argv_collector(&a, s->collector_prog, s->cfg, col, err, sizeof err)
			 : -ENOENT;
		if (!col)
			snprintf(err, sizeof err, "not in the configuration");
	}
	if (rc < 0) {
		log_error("cannot build the command line of %s: %s", c->name, err);
		return rc;
	}
	child_argv_free(&c->argv);
	c->argv = a;
	return child_prepare_exec(s, c);
}

/* A new table entry, to be started at now. */
static struct child *child_add(struct supervisor *s, enum child_kind kind, const char *name,
			       uint64_t now)
{
	for (size_t i = 0; i < TABLE_SIZE; i++) {
		struct child *c = &s->table[i];
		if (c->in_use)
			continue;
		memset(c, 0, sizeof *c);
		c->in_use = true;
		c->kind = kind;
		snprintf(c->name, sizeof c->name, "%s", name);
		c->state = CHILD_PENDING;
		c->next_start_ms = now;
		if (child_build_argv(s, c) < 0) {
			child_release(c);
			return NULL;
		}
		s->dirty = true;
		return c;
	}
	log_error("process table full; cannot add %s", name);
	return NULL;
}

/* ---- starting, stopping, reaping ---- */

static void child_launch(struct supervisor *s, struct child *c, uint64_t now)
{
	char label[128];

	if (c->argv.argc == 0) { /* an external collector: the agent only keeps its segment */
		c->state = CHILD_STOPPED;
		return;
	}
	pid_t pid = child_spawn_exec(&c->argv, &c->exec);

	if (pid < 0) {
		uint32_t delay = backoff_after_failure(&c->fast_failures, 0);
		errno = (int)-pid;
		log_warn("cannot start %s: fork failed, retrying in %ums", c->name, delay);
		c->next_start_ms = now + delay;
		return;
	}
	c->pid = pid;
	c->state = CHILD_RUNNING;
	c->started_ms = now;
	c->killed = false;
	if (c->count_restart) {
		c->restarts++;
		c->count_restart = false;
	}
	s->dirty = true;
	child_label(c, label, sizeof label);
	if (c->kind == CHILD_GROUP)
		log_info("starting %s, %u collectors", label, member_set_count(&c->members));
	else
		log_info("starting %s", label);
}

/* What happens once a child we stopped has exited (or right away when it was not
 * running). */
static void after_stop(struct supervisor *s, struct child *c, uint64_t now)
{
	s->dirty = true;
	switch (c->after_stop) {
	case AFTER_STOP_REMOVE:
		child_release(c);
		return;
	case AFTER_STOP_RESPAWN:
		c->state = CHILD_PENDING;
		c->next_start_ms = now;
		c->fast_failures = 0;
		c->count_restart = false;
		return;
	case AFTER_STOP_NOTHING:
		c->state = CHILD_STOPPED;
		return;
	}
}

static void child_stop(struct supervisor *s, struct child *c, enum child_after_stop after,
		       uint64_t now)
{
	char label[128];

	c->after_stop = after;
	if (c->state == CHILD_STOPPING)
		return;
	if (c->state != CHILD_RUNNING) {
		after_stop(s, c, now);
		return;
	}
	child_label(c, label, sizeof label);
	log_info("stopping %s", label);
	kill(c->pid, SIGTERM);
	c->state = CHILD_STOPPING;
	c->stop_deadline_ms = now + SUPERVISOR_STOP_TIMEOUT_MS;
	c->killed = false;
}

static void child_exited(struct supervisor *s, struct child *c, int status, uint64_t now)
{
	char label[128], how[96], delay_s[32];

	child_label(c, label, sizeof label);
	exit_status_describe(status, how, sizeof how);
	c->pid = 0;
	c->has_status = true;
	c->last_status = status;
	s->dirty = true;
	if (c->state == CHILD_STOPPING) {
		log_info("%s %s", label, how);
		after_stop(s, c, now);
		return;
	}
	if (exit_status_is_config_error(status)) {
		log_error("%s %s, not restarting", label, how);
		c->state = CHILD_FAILED;
		return;
	}
	uint32_t delay = backoff_after_failure(&c->fast_failures, now - c->started_ms);
	format_duration_ms(delay, delay_s, sizeof delay_s);
	log_warnx("%s %s%s, restarting in %s", label, how,
		  WIFEXITED(status) && WEXITSTATUS(status) == 0 ? " (unexpectedly)" : "", delay_s);
	c->state = CHILD_PENDING;
	c->next_start_ms = now + delay;
	c->count_restart = true;
}

static void reap(struct supervisor *s)
{
	pid_t pid;
	int status;

	got_chld = 0;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct child *c = child_by_pid(s, pid);
		if (c)
			child_exited(s, c, status, mono_ms());
	}
}

static void start_due(struct supervisor *s, uint64_t now)
{
	for (size_t i = 0; i < TABLE_SIZE; i++) {
		struct child *c = &s->table[i];
		if (c->in_use && c->state == CHILD_PENDING && c->next_start_ms <= now)
			child_launch(s, c, now);
	}
}

static void kill_overdue(struct supervisor *s, uint64_t now)
{
	char label[128];

	for (size_t i = 0; i < TABLE_SIZE; i++) {
		struct child *c = &s->table[i];
		if (!c->in_use || c->state != CHILD_STOPPING || c->killed ||
		    now < c->stop_deadline_ms)
			continue;
		child_label(c, label, sizeof label);
		log_warnx("%s did not exit within %us of SIGTERM, sending SIGKILL", label,
			  SUPERVISOR_STOP_TIMEOUT_MS / 1000);
		kill(c->pid, SIGKILL);
		c->killed = true;
	}
}

/* Milliseconds until the next scheduled thing, at most SUPERVISOR_MAX_WAIT_MS. */
static uint64_t next_timeout(const struct supervisor *s, uint64_t now)
{
	uint64_t next = now + SUPERVISOR_MAX_WAIT_MS;

	if (s->next_publish_ms < next)
		next = s->next_publish_ms;
	for (size_t i = 0; i < TABLE_SIZE; i++) {
		const struct child *c = &s->table[i];
		if (c->in_use && c->state == CHILD_PENDING && c->next_start_ms < next)
			next = c->next_start_ms;
		if (c->in_use && c->state == CHILD_STOPPING && !c->killed &&
		    c->stop_deadline_ms < next)
			next = c->stop_deadline_ms;
	}
	return next > now ? next - now : 0;
}

static void publish(struct supervisor *s, uint64_t now)
{
	char err[512];

	if (!s->dirty && now < s->next_publish_ms)
		return;
	int rc = self_metrics_publish(s->self, s->table, TABLE_SIZE, &s->status, err, sizeof err);
	if (rc < 0 && !s->publish_failed)
		log_warnx("cannot publish the agent's metrics: %s", err);
	s->publish_failed = rc < 0;
	s->dirty = false;
	s->next_publish_ms = now + SELF_METRICS_INTERVAL_MS;
}

/* ---- reload ---- */

/* Segments change at once: a process being stopped writes on into the old,
 * nameless one, and the one that replaces it attaches to the new one. */
static bool apply_segment(struct supervisor *s, const struct reload_item *it)
{
	if (it->action == RELOAD_STOP || it->action == RELOAD_RESTART)
		collector_segment_remove(s, it->name);
	if (it->action == RELOAD_START || it->action == RELOAD_RESTART)
		return collector_segment_create(s, it->name) == 0;
	return true;
}

static enum child_kind process_kind(const char *name)
{
	return strcmp(name, RELOAD_EXPORTER) == 0    ? CHILD_EXPORTER
	       : strcmp(name, CHILD_GROUP_NAME) == 0 ? CHILD_GROUP
						     : CHILD_COLLECTOR;
}

static bool apply_process(struct supervisor *s, const struct reload_item *it, uint64_t now)
{
	enum child_kind kind = process_kind(it->name);
	struct child *c = child_find(s, kind, it->name);

	if (it->action == RELOAD_STOP) {
		if (c)
			child_stop(s, c, AFTER_STOP_REMOVE, now);
		return true;
	}
	if (!c)
		return child_add(s, kind, it->name, now) != NULL;
	if (it->action == RELOAD_KEEP && c->after_stop != AFTER_STOP_REMOVE)
		return true;
	/* RESTART, or START/KEEP of one still being stopped for removal. */
	if (child_build_argv(s, c) < 0)
		return false;
	child_stop(s, c, AFTER_STOP_RESPAWN, now);
	return true;
}

static bool apply_plan(struct supervisor *s, const struct reload_plan *p, uint64_t now)
{
	unsigned seg[4] = { 0 }, proc[4] = { 0 };
	bool ok = true;

	for (size_t i = 0; i < p->n_segments; i++) {
		const struct reload_item *it = &p->segments[i];
		log_debug("reload: collector %s: %s", it->name, reload_action_name(it->action));
		seg[it->action]++;
		ok = apply_segment(s, it) && ok;
	}
	for (size_t i = 0; i < p->n_processes; i++) {
		const struct reload_item *it = &p->processes[i];
		log_debug("reload: process %s: %s", it->name, reload_action_name(it->action));
		proc[it->action]++;
		ok = apply_process(s, it, now) && ok;
	}
	log_info("configuration reloaded from %s: collectors %u started, %u stopped, "
		 "%u restarted, %u unchanged; processes %u started, %u stopped, %u restarted, "
		 "%u unchanged",
		 s->cfg->source, seg[RELOAD_START], seg[RELOAD_STOP], seg[RELOAD_RESTART],
		 seg[RELOAD_KEEP], proc[RELOAD_START], proc[RELOAD_STOP], proc[RELOAD_RESTART],
		 proc[RELOAD_KEEP]);
	return ok;
}

static void reload(struct supervisor *s, uint64_t now)
{
	struct shm_config *nc = malloc(sizeof *nc);
	struct reload_plan *plan = malloc(sizeof *plan);
	char err[1024];

	got_hup = 0;
	log_info("SIGHUP: reloading the configuration");
	s->dirty = true;
	if (!nc || !plan) {
		log_error("reload failed, keeping the running configuration: out of memory");
		s->status.last_reload_ok = false;
		goto out;
	}
	if (cli_load_config(s->args, nc, err, sizeof err) != CLI_LOAD_OK ||
	    reload_plan_make(s->cfg, nc, plan, err, sizeof err) < 0) {
		log_error("reload failed, keeping the running configuration: %s", err);
		s->status.last_reload_ok = false;
		goto out;
	}
	free(s->loaded);
	s->cfg = s->loaded = nc;
	nc = NULL;
	log_threshold = (enum log_level)log_level_parse(s->cfg->log_level);
	s->status.last_reload_ok = apply_plan(s, plan, now);
	if (s->status.last_reload_ok)
		s->status.last_reload_success_s = real_s();
out:
	free(plan);
	free(nc);
}

/* ---- startup and shutdown ---- */

static int locate_programs(struct supervisor *s)
{
	char dir[PATH_MAX], err[PATH_MAX * 3];

	if (self_exe_dir(dir, sizeof dir, err, sizeof err) < 0 ||
	    program_locate(dir, COLLECTOR_PROGRAM, s->collector_prog, sizeof s->collector_prog, err,
			   sizeof err) < 0 ||
	    program_locate(dir, EXPORTER_PROGRAM, s->exporter_prog, sizeof s->exporter_prog, err,
			   sizeof err) < 0) {
		log_error("%s", err);
		return -1;
	}
	log_debug("child programs: %s, %s", s->collector_prog, s->exporter_prog);
	return 0;
}

static int agent_segment_open(struct supervisor *s)
{
	char err[512];

	if (segment_name(s->agent_segment, sizeof s->agent_segment, s->cfg->instance,
			 AGENT_SEGMENT_COLLECTOR, err, sizeof err) < 0) {
		log_error("%s", err);
		return -1;
	}
	if (segment_make(s->cfg, s->agent_segment, AGENT_SEGMENT_COLLECTOR,
			 SELF_METRICS_INTERVAL_MS) < 0)
		return -1;
	s->agent_segment_created = true;
	if (self_metrics_open(&s->self, s->agent_segment, err, sizeof err) < 0) {
		log_error("cannot attach to segment %s: %s", s->agent_segment, err);
		return -1;
	}
	return 0;
}

/* Segments for every enabled collector; the group process, when it has
 * collectors; a process for each of the others; the exporter. */
static int startup(struct supervisor *s, uint64_t now)
{
	if (locate_programs(s) < 0 || agent_segment_open(s) < 0)
		return -1;
	for (size_t i = 0; i < s->cfg->n_collectors; i++) {
		const struct collector_config *col = &s->cfg->collectors[i];
		if (col->enabled && collector_segment_create(s, col->name) < 0)
			return -1;
	}
	struct member_set group = child_group_members(s->cfg);
	if (!member_set_empty(&group) && !child_add(s, CHILD_GROUP, CHILD_GROUP_NAME, now))
		return -1;
	for (size_t i = 0; i < s->cfg->n_collectors; i++) {
		const struct collector_config *col = &s->cfg->collectors[i];
		if (col->enabled && !child_in_group(col) &&
		    !child_add(s, CHILD_COLLECTOR, col->name, now))
			return -1;
	}
	if (!child_add(s, CHILD_EXPORTER, RELOAD_EXPORTER, now))
		return -1;
	return 0;
}

static bool any_alive(const struct supervisor *s)
{
	for (size_t i = 0; i < TABLE_SIZE; i++)
		if (s->table[i].in_use && s->table[i].pid > 0)
			return true;
	return false;
}

/* SIGTERM to every child, a bounded wait, SIGKILL for the rest, reap them all. */
static void stop_all(struct supervisor *s)
{
	uint64_t now = mono_ms(), deadline = now + SUPERVISOR_STOP_TIMEOUT_MS;

	for (size_t i = 0; i < TABLE_SIZE; i++)
		if (s->table[i].in_use)
			child_stop(s, &s->table[i], AFTER_STOP_NOTHING, now);
	for (reap(s); any_alive(s) && (now = mono_ms()) < deadline; reap(s))
		wait_for_event(s, deadline - now < 100 ? deadline - now : 100);
	kill_overdue(s, deadline);
	for (size_t i = 0; i < TABLE_SIZE; i++) {
		struct child *c = &s->table[i];
		int status;
		if (c->in_use && c->pid > 0 && waitpid(c->pid, &status, 0) == c->pid)
			child_exited(s, c, status, mono_ms());
	}
}

static void teardown(struct supervisor *s)
{
	for (size_t i = 0; i < TABLE_SIZE; i++)
		if (s->table[i].in_use)
			child_release(&s->table[i]);
	while (s->n_segments > 0)
		collector_segment_remove(s, s->segments[0].collector);
	self_metrics_close(s->self);
	s->self = NULL;
	if (s->agent_segment_created)
		segment_drop(s->agent_segment);
	s->agent_segment_created = false;
}

static void main_loop(struct supervisor *s)
{
	while (!got_term) {
		if (got_hup)
			reload(s, mono_ms());
		reap(s);
		uint64_t now = mono_ms();
		start_due(s, now);
		kill_overdue(s, now);
		publish(s, now);
		if (!got_term && !got_hup && !got_chld)
			wait_for_event(s, next_timeout(s, mono_ms()));
	}
	log_info("received %s, stopping", got_term == SIGINT ? "SIGINT" : "SIGTERM");
}

int supervisor_run(const struct shm_config *cfg, const struct cli_args *args)
{
	struct supervisor *s = calloc(1, sizeof *s);
	int rc = AGENT_EXIT_FAILURE;

	if (!s) {
		log_error("out of memory");
		return AGENT_EXIT_FAILURE;
	}
	s->cfg = cfg;
	s->args = args;
	s->status.start_time_s = real_s();
	s->status.last_reload_ok = true;
	s->status.last_reload_success_s = s->status.start_time_s;
	s->dirty = true;
	if (signals_setup(s) < 0) {
		log_warn("cannot install signal handlers");
		goto out;
	}
	if (startup(s, mono_ms()) < 0)
		goto out;
	log_info("instance %s: %s, supervising the collectors and the exporter", s->cfg->instance,
		 s->cfg->source);
	main_loop(s);
	stop_all(s);
	rc = AGENT_EXIT_OK;
out:
	teardown(s);
	free(s->loaded);
	free(s);
	return rc;
}
