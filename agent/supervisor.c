/* The agent's supervision loop (nginx's master, ntpd's parent). */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "custom.h"
#include "log.h"
#include "process.h"
#include "table.h"
#include "reload.h"
#include "sandbox.h"
#include "self_metrics.h"
#include "webcheck.h"
#include "signals.h"

#define COLLECTOR_PROGRAM           "shmetrics-collector"
#define EXPORTER_PROGRAM            "shmetrics-exporter"
#define SHIPPER_PROGRAM             "shmetrics-shipper"
/* The shipper's segment holds its own metrics; it publishes them this often. */
#define SHIPPER_SEGMENT_INTERVAL_MS 5000u

struct segment_slot {
	char collector[CONFIG_NAME_MAX];
};

struct supervisor {
	/* The running configuration: the caller's until a reload succeeds, then the
	 * one loaded (owned; a configuration is large, so it is never copied). */
	const struct shm_config *cfg;
	struct shm_config *loaded;
	const struct cli_args *args;
	char collector_prog[PATH_MAX], exporter_prog[PATH_MAX];
	char shipper_prog[PATH_MAX];  /* "" when not installed */
	struct segdir dir;            /* the instance's private segment directory */
	char segments_base[PATH_MAX]; /* its parent, hidden from plugins; never reloaded */
	bool agent_segment_created;
	bool shipper_segment_created;
	struct self_metrics *self;
	struct agent_status status;
	bool dirty, publish_failed;
	uint64_t next_publish_ms;
	sigset_t wait_mask;
	struct table_env env; /* cfg and the programs, for the table's command lines */
	struct process_table table;
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
	int rc = signals_for_ppoll(handled, 4, on_signal, &s->wait_mask);

	if (rc < 0)
		return rc;
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
	segment_limits(c->set.max_series, &o->limits);
	o->interval_ms = interval_ms;
	o->mode = c->set.segment_mode;
	o->gid = (gid_t)-1;
	if (c->set.segment_group[0]) {
		int rc = config_lookup_group(c->set.segment_group, &o->gid);
		if (rc <= 0) {
			snprintf(err, errlen, "segments.group \"%s\": %s", c->set.segment_group,
				 rc == 0 ? "no such group" : strerror(-rc));
			return rc == 0 ? -ENOENT : rc;
		}
	}
	return 0;
}

static int segment_make(struct supervisor *s, const char *collector, uint32_t interval_ms)
{
	struct segment_options o;
	char err[PATH_MAX + 512];

	if (segment_options_for(s->cfg, interval_ms, &o, err, sizeof err) < 0 ||
	    custom_segment_options(s->cfg, collector, &o, err, sizeof err) < 0 ||
	    segment_create(&s->dir, collector, &o, err, sizeof err) < 0) {
		log_error("cannot create the segment of %s: %s", collector, err);
		return -1;
	}
	log_debug("created segment %s/%s" SEGDIR_SUFFIX, s->dir.path, collector);
	return 0;
}

static void segment_drop(struct supervisor *s, const char *collector)
{
	char err[PATH_MAX + 512];

	if (segment_remove(&s->dir, collector, err, sizeof err) < 0)
		log_warnx("cannot remove the segment of %s: %s", collector, err);
	else
		log_debug("removed the segment of %s", collector);
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

	if (!col || s->n_segments == CONFIG_MAX_COLLECTORS)
		return -1;
	if (segment_make(s, name, col->interval_ms) < 0)
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
	segment_drop(s, slot->collector);
	*slot = s->segments[--s->n_segments];
}

/* ---- the loop's steps ---- */

/*
 * The agent is a child subreaper: whatever a child started and left behind
 * (a plugin run without its sandbox, a daemon it forked) becomes the agent's
 * child when its parent ends.  Such strays are killed at once: nothing a child
 * starts may outlive it.  Returns how many were signalled.
 */
static bool in_table(pid_t pid, void *arg)
{
	return table_by_pid(arg, pid) != NULL;
}

static int kill_strays(struct supervisor *s)
{
	int n = sandbox_kill_strays(in_table, &s->table, 1000);

	if (n > 0)
		log_warnx("killed %d process%s left behind by a stopped child", n,
			  n == 1 ? "" : "es");
	return n;
}

static void reap(struct supervisor *s)
{
	pid_t pid;
	int status;

	got_chld = 0;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct child *c = table_by_pid(&s->table, pid);
		if (c) /* else a stray, reaped: nothing to do */
			table_exited(&s->table, c, status, mono_ms());
	}
	kill_strays(s);
}

/* Milliseconds until the next scheduled thing, at most SUPERVISOR_MAX_WAIT_MS. */
static uint64_t next_timeout(const struct supervisor *s, uint64_t now)
{
	uint64_t next = now + SUPERVISOR_MAX_WAIT_MS;

	if (s->next_publish_ms < next)
		next = s->next_publish_ms;
	next = table_next_deadline(&s->table, next);
	return next > now ? next - now : 0;
}

static void publish(struct supervisor *s, uint64_t now)
{
	char err[512];

	if (!s->dirty && !s->table.dirty && now < s->next_publish_ms)
		return;
	int rc = self_metrics_publish(s->self, &s->table, &s->status, err, sizeof err);
	if (rc < 0 && !s->publish_failed)
		log_warnx("cannot publish the agent's metrics: %s", err);
	s->publish_failed = rc < 0;
	s->dirty = s->table.dirty = false;
	s->next_publish_ms = now + SELF_METRICS_INTERVAL_MS;
}

/* ---- reload ---- */

/* Segments change at once: a process being stopped writes on into the old,
 * nameless one, and the one that replaces it attaches to the new one.  A
 * collector whose segment cannot be created is disabled in the running
 * configuration: no process is started for it and the exporter never reads it. */
static bool apply_segment(struct supervisor *s, const struct reload_item *it)
{
	if (it->action == RELOAD_STOP || it->action == RELOAD_RESTART)
		collector_segment_remove(s, it->name);
	if (it->action != RELOAD_START && it->action != RELOAD_RESTART)
		return true;
	if (collector_segment_create(s, it->name) == 0)
		return true;
	struct collector_config *col = config_find_collector(s->loaded, it->name);
	if (col)
		col->enabled = false;
	log_error("collector %s stays off until the next reload", it->name);
	return false;
}

static enum child_kind process_kind(const char *name)
{
	return strcmp(name, RELOAD_EXPORTER) == 0    ? CHILD_EXPORTER
	       : strcmp(name, CHILD_GROUP_NAME) == 0 ? CHILD_GROUP
	       : strcmp(name, SHIPPER_NAME) == 0     ? CHILD_SHIPPER
						     : CHILD_COLLECTOR;
}

/* ---- the shipper's segment ---- */

/* What the shipper needs before it starts: its program and its segment. */
static int shipper_prepare(struct supervisor *s)
{
	if (!s->shipper_prog[0]) {
		log_error("remote write is configured but %s is not installed beside the agent "
			  "(in ../libexec/shmetrics/ or the agent's own directory)",
			  SHIPPER_PROGRAM);
		return -1;
	}
	if (s->shipper_segment_created)
		return 0;
	if (segment_make(s, SHIPPER_NAME, SHIPPER_SEGMENT_INTERVAL_MS) < 0)
		return -1;
	s->shipper_segment_created = true;
	return 0;
}

static void shipper_segment_drop(struct supervisor *s)
{
	if (s->shipper_segment_created)
		segment_drop(s, SHIPPER_NAME);
	s->shipper_segment_created = false;
}

static bool apply_process(struct supervisor *s, const struct reload_item *it, uint64_t now)
{
	enum child_kind kind = process_kind(it->name);
	struct child *c = table_find(&s->table, kind, it->name);

	if (kind == CHILD_SHIPPER && it->action == RELOAD_STOP)
		shipper_segment_drop(s);
	else if (kind == CHILD_SHIPPER && shipper_prepare(s) < 0)
		return false;
	if (it->action == RELOAD_STOP) {
		if (c)
			table_stop(&s->table, c, AFTER_STOP_REMOVE, now);
		return true;
	}
	if (!c)
		return table_add(&s->table, &s->env, kind, it->name, now) != NULL;
	if (it->action == RELOAD_KEEP && c->after_stop != AFTER_STOP_REMOVE)
		return true;
	/* RESTART, or START/KEEP of one still being stopped for removal. */
	if (table_rebuild(&s->env, c) < 0)
		return false;
	table_stop(&s->table, c, AFTER_STOP_RESPAWN, now);
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
	struct shm_config *nc = calloc(1, sizeof *nc);
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
	    (nc->set.web_config_file[0] &&
	     web_config_check_here(nc->set.web_config_file, err, sizeof err) < 0) ||
	    reload_plan_make(s->cfg, nc, plan, err, sizeof err) < 0) {
		log_error("reload failed, keeping the running configuration: %s", err);
		s->status.last_reload_ok = false;
		goto out;
	}
	if (s->loaded)
		config_free(s->loaded);
	free(s->loaded);
	s->cfg = s->env.cfg = s->loaded = nc;
	nc = NULL;
	log_threshold = (enum log_level)log_level_parse(s->cfg->set.log_level);
	s->status.last_reload_ok = apply_plan(s, plan, now);
	if (s->status.last_reload_ok)
		s->status.last_reload_success_s = real_s();
out:
	free(plan);
	if (nc)
		config_free(nc);
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
	/* Needed only with remote write; shipper_prepare says so then. */
	if (program_locate(dir, SHIPPER_PROGRAM, s->shipper_prog, sizeof s->shipper_prog, err,
			   sizeof err) < 0)
		s->shipper_prog[0] = '\0';
	log_debug("child programs: %s, %s, %s", s->collector_prog, s->exporter_prog,
		  s->shipper_prog[0] ? s->shipper_prog : "(no shipper)");
	return 0;
}

/* The instance's private directory, then the agent's own segment in it. */
static int agent_segment_open(struct supervisor *s)
{
	struct segment_options o;
	char err[PATH_MAX + 512];

	if (segment_options_for(s->cfg, SELF_METRICS_INTERVAL_MS, &o, err, sizeof err) < 0 ||
	    segdir_create(&s->dir, s->cfg->set.segments_directory, s->cfg->set.instance, 0751,
			  o.gid, err, sizeof err) < 0) {
		log_error("%s", err);
		return -1;
	}
	log_info("segments in %s", s->dir.path);
	snprintf(s->segments_base, sizeof s->segments_base, "%s", s->cfg->set.segments_directory);
	s->table.dir = &s->dir;
	s->table.hide = s->segments_base;

	if (segment_make(s, AGENT_SEGMENT_COLLECTOR, SELF_METRICS_INTERVAL_MS) < 0)
		return -1;
	s->agent_segment_created = true;
	if (self_metrics_open(&s->self, &s->dir, AGENT_SEGMENT_COLLECTOR, err, sizeof err) < 0) {
		log_error("cannot attach to the agent's segment: %s", err);
		return -1;
	}
	return 0;
}

/* Segments for every enabled collector; the group process, when it has
 * collectors; a process for each of the others; the exporter; the shipper when
 * remote write is configured. */
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
	if (!member_set_empty(&group) &&
	    !table_add(&s->table, &s->env, CHILD_GROUP, CHILD_GROUP_NAME, now))
		return -1;
	for (size_t i = 0; i < s->cfg->n_collectors; i++) {
		const struct collector_config *col = &s->cfg->collectors[i];
		if (col->enabled && !child_in_group(col) &&
		    !table_add(&s->table, &s->env, CHILD_COLLECTOR, col->name, now))
			return -1;
	}
	if (!table_add(&s->table, &s->env, CHILD_EXPORTER, RELOAD_EXPORTER, now))
		return -1;
	if (config_rw_count(s->cfg) &&
	    (shipper_prepare(s) < 0 ||
	     !table_add(&s->table, &s->env, CHILD_SHIPPER, SHIPPER_NAME, now)))
		return -1;
	return 0;
}

/* SIGTERM to every child, a bounded wait, SIGKILL for the rest, reap them all. */
static void stop_all(struct supervisor *s)
{
	uint64_t now = mono_ms(), deadline = now + TABLE_STOP_TIMEOUT_MS;

	table_stop_all(&s->table, now);
	for (reap(s); table_any_alive(&s->table) && (now = mono_ms()) < deadline; reap(s))
		wait_for_event(s, deadline - now < 100 ? deadline - now : 100);
	table_kill_overdue(&s->table, deadline);
	size_t i = 0;
	for (struct child *c; (c = table_next(&s->table, &i)) != NULL;) {
		int status;
		if (c->pid > 0 && waitpid(c->pid, &status, 0) == c->pid)
			table_exited(&s->table, c, status, mono_ms());
	}
	kill_strays(s); /* within a bounded second */
}

static void teardown(struct supervisor *s)
{
	table_release_all(&s->table);
	while (s->n_segments > 0)
		collector_segment_remove(s, s->segments[0].collector);
	self_metrics_close(s->self);
	s->self = NULL;
	if (s->agent_segment_created)
		segment_drop(s, AGENT_SEGMENT_COLLECTOR);
	s->agent_segment_created = false;
	shipper_segment_drop(s);
	if (s->dir.fd >= 0)
		segdir_remove_if_empty(&s->dir, s->cfg->set.segments_directory,
				       s->cfg->set.instance);
	segdir_close(&s->dir);
}

static void main_loop(struct supervisor *s)
{
	while (!got_term) {
		if (got_hup)
			reload(s, mono_ms());
		reap(s);
		uint64_t now = mono_ms();
		table_start_due(&s->table, now);
		table_kill_overdue(&s->table, now);
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
	s->cfg = s->env.cfg = cfg;
	s->env.collector_prog = s->collector_prog;
	s->env.exporter_prog = s->exporter_prog;
	s->env.shipper_prog = s->shipper_prog;
	s->args = args;
	s->status.start_time_s = real_s();
	s->status.last_reload_ok = true;
	s->status.last_reload_success_s = s->status.start_time_s;
	s->dirty = true;
	s->dir.fd = -1;
	/* Not dumpable: a plugin running as the agent's user cannot trace the agent
	 * or open its descriptors through /proc.  A subreaper: see kill_strays. */
	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (signals_setup(s) < 0) {
		log_warn("cannot install signal handlers");
		goto out;
	}
	if (startup(s, mono_ms()) < 0)
		goto out;
	log_info("instance %s: %s, supervising the collectors and the exporter",
		 s->cfg->set.instance, s->cfg->source);
	main_loop(s);
	stop_all(s);
	rc = AGENT_EXIT_OK;
out:
	teardown(s);
	if (s->loaded)
		config_free(s->loaded);
	free(s->loaded);
	free(s);
	return rc;
}
