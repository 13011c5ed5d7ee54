/* The process table: a slot per child and what is done to one (table.h). */
#include "table.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backoff.h"
#include "child_argv.h"
#include "custom.h"
#include "log.h"

/* ---- finding ---- */

struct child *table_next(const struct process_table *t, size_t *i)
{
	while (*i < t->n) {
		struct child *c = t->slots[(*i)++];
		if (c)
			return c;
	}
	return NULL;
}

struct child *table_find(struct process_table *t, enum child_kind kind, const char *name)
{
	size_t i = 0;

	for (struct child *c; (c = table_next(t, &i)) != NULL;)
		if (c->kind == kind && strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

struct child *table_by_pid(struct process_table *t, pid_t pid)
{
	size_t i = 0;

	for (struct child *c; (c = table_next(t, &i)) != NULL;)
		if (c->pid == pid)
			return c;
	return NULL;
}

/* Takes c out of the table and frees it. */
static void release(struct process_table *t, struct child *c)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->slots[i] == c)
			t->slots[i] = NULL;
	child_argv_free(&c->argv);
	child_exec_free(&c->exec);
	free(c);
}

void table_release_all(struct process_table *t)
{
	size_t i = 0;

	for (struct child *c; (c = table_next(t, &i)) != NULL;)
		release(t, c);
	free(t->slots);
	t->slots = NULL;
	t->n = t->cap = 0;
}

/* A free slot for a new child: a hole, or one more at the end.  NULL when full. */
static struct child **free_slot(struct process_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (!t->slots[i])
			return &t->slots[i];
	if (t->n == TABLE_MAX)
		return NULL;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct child **grown = realloc(t->slots, cap * sizeof *grown);
		if (!grown)
			return NULL;
		t->slots = grown;
		t->cap = cap;
	}
	t->slots[t->n] = NULL;
	return &t->slots[t->n++];
}

/* ---- command lines ---- */

static const struct collector_config *enabled_collector(const struct shm_config *c,
							const char *name)
{
	for (size_t i = 0; i < c->n_collectors; i++)
		if (c->collectors[i].enabled && strcmp(c->collectors[i].name, name) == 0)
			return &c->collectors[i];
	return NULL;
}

/* A custom collector's environment and user, resolved now, before any fork. */
static int prepare_exec(const struct table_env *env, struct child *c)
{
	const struct custom_collector_config *cc = config_find_custom(env->cfg, c->name);
	const struct collector_config *col = enabled_collector(env->cfg, c->name);
	char err[512];

	child_exec_free(&c->exec);
	if (c->kind != CHILD_COLLECTOR || !cc || !col || c->argv.argc == 0)
		return 0;
	int rc = custom_exec_prepare(&c->exec, env->cfg, cc, col->interval_ms, err, sizeof err);
	if (rc < 0)
		log_error("collector %s: %s", c->name, err);
	return rc;
}

int table_rebuild(const struct table_env *env, struct child *c)
{
	const struct collector_config *col;
	struct child_argv a;
	char err[512];
	int rc;

	if (c->kind == CHILD_EXPORTER) {
		rc = child_argv_exporter(&a, env->exporter_prog, env->cfg, err, sizeof err);
	} else if (c->kind == CHILD_SHIPPER) {
		rc = child_argv_shipper(&a, env->shipper_prog, env->cfg, err, sizeof err);
	} else if (c->kind == CHILD_GROUP) {
		rc = child_argv_group(&a, env->collector_prog, env->cfg, err, sizeof err);
		c->members = child_group_members(env->cfg);
	} else {
		col = enabled_collector(env->cfg, c->name);
		rc = col ? child_argv_collector(&a, env->collector_prog, env->cfg, col, err,
						sizeof err)
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
	return prepare_exec(env, c);
}

struct child *table_add(struct process_table *t, const struct table_env *env, enum child_kind kind,
			const char *name, uint64_t now)
{
	struct child **slot = free_slot(t);
	struct child *c = slot ? calloc(1, sizeof *c) : NULL;

	if (!c) {
		log_error("process table full or out of memory; cannot add %s", name);
		return NULL;
	}
	*slot = c;
	c->in_use = true;
	c->kind = kind;
	snprintf(c->name, sizeof c->name, "%s", name);
	c->state = CHILD_PENDING;
	c->next_start_ms = now;
	if (table_rebuild(env, c) < 0) {
		release(t, c);
		return NULL;
	}
	t->dirty = true;
	return c;
}

/* ---- starting ---- */

/* A "command" collector in its sandbox, holding its own segment and nothing else
 * of ours; the segment directory is hidden from it. */
static pid_t launch_plugin(struct process_table *t, struct child *c, char *err, size_t errlen)
{
	const char *hide[] = { t->hide, NULL };
	int fd = segdir_open_segment(t->dir, c->name, O_RDWR, NULL, err, errlen);

	if (fd < 0)
		return fd;
	pid_t pid = child_spawn_plugin(&c->argv, &c->exec, fd, hide, err, errlen);
	close(fd);
	return pid;
}

/* A plugin that cannot be started for want of a sandbox or its segment has failed:
 * retrying cannot help until the configuration changes.  Anything else (a fork
 * that failed) is retried with backoff. */
static void launch_failed(struct process_table *t, struct child *c, pid_t pid, const char *err,
			  uint64_t now)
{
	if (c->exec.plugin && pid != -ENOMEM && pid != -EAGAIN) {
		log_error("cannot start collector %s, not retrying until a reload: %s", c->name,
			  err);
		c->state = CHILD_FAILED;
		t->dirty = true;
		return;
	}
	uint32_t delay = backoff_after_failure(&c->fast_failures, 0);
	if (c->exec.plugin)
		log_warnx("cannot start %s: %s; retrying in %ums", c->name, err, delay);
	else
		log_warnx("cannot start %s: fork failed: %s; retrying in %ums", c->name,
			  strerror((int)-pid), delay);
	c->next_start_ms = now + delay;
}

static void launch(struct process_table *t, struct child *c, uint64_t now)
{
	char label[128], err[PATH_MAX + 512] = "";

	if (c->argv.argc == 0) { /* an external collector: the agent only keeps its segment */
		c->state = CHILD_STOPPED;
		return;
	}
	pid_t pid = c->exec.plugin ? launch_plugin(t, c, err, sizeof err)
				   : child_spawn_exec(&c->argv, &c->exec);

	if (pid < 0) {
		launch_failed(t, c, pid, err, now);
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
	t->dirty = true;
	child_label(c, label, sizeof label);
	if (c->kind == CHILD_GROUP)
		log_info("starting %s, %u collectors", label, member_set_count(&c->members));
	else
		log_info("starting %s", label);
}

void table_start_due(struct process_table *t, uint64_t now)
{
	size_t i = 0;

	for (struct child *c; (c = table_next(t, &i)) != NULL;)
		if (c->state == CHILD_PENDING && c->next_start_ms <= now)
			launch(t, c, now);
}

/* ---- stopping ---- */

/* What happens once a child we stopped has exited (or right away when it was not
 * running). */
static void after_stop(struct process_table *t, struct child *c, uint64_t now)
{
	t->dirty = true;
	switch (c->after_stop) {
	case AFTER_STOP_REMOVE:
		release(t, c);
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

void table_stop(struct process_table *t, struct child *c, enum child_after_stop after, uint64_t now)
{
	char label[128];

	c->after_stop = after;
	if (c->state == CHILD_STOPPING)
		return;
	if (c->state != CHILD_RUNNING) {
		after_stop(t, c, now);
		return;
	}
	child_label(c, label, sizeof label);
	log_info("stopping %s", label);
	kill(c->pid, SIGTERM);
	c->state = CHILD_STOPPING;
	c->stop_deadline_ms = now + TABLE_STOP_TIMEOUT_MS;
	c->killed = false;
}

void table_stop_all(struct process_table *t, uint64_t now)
{
	size_t i = 0;

	for (struct child *c; (c = table_next(t, &i)) != NULL;)
		table_stop(t, c, AFTER_STOP_NOTHING, now);
}

void table_kill_overdue(struct process_table *t, uint64_t now)
{
	char label[128];
	size_t i = 0;

	for (struct child *c; (c = table_next(t, &i)) != NULL;) {
		if (c->state != CHILD_STOPPING || c->killed || now < c->stop_deadline_ms)
			continue;
		child_label(c, label, sizeof label);
		log_warnx("%s did not exit within %us of SIGTERM, sending SIGKILL", label,
			  TABLE_STOP_TIMEOUT_MS / 1000);
		kill(c->pid, SIGKILL);
		c->killed = true;
	}
}

/* ---- exits ---- */

void table_exited(struct process_table *t, struct child *c, int status, uint64_t now)
{
	char label[128], how[96], delay_s[32];

	child_label(c, label, sizeof label);
	child_describe_exit(c, status, how, sizeof how);

	c->pid = 0;
	c->has_status = true;
	c->last_status = status;
	t->dirty = true;
	if (c->state == CHILD_STOPPING) {
		log_info("%s %s", label, how);
		after_stop(t, c, now);
		return;
	}
	if (exit_status_is_config_error(status)) {
		log_error("%s %s, not restarting", label, how);
		c->state = CHILD_FAILED;
		return;
	}
	uint32_t delay = backoff_after_failure(&c->fast_failures, now - c->started_ms);
	config_format_duration_ms(delay, delay_s, sizeof delay_s);
	log_warnx("%s %s%s, restarting in %s", label, how,
		  WIFEXITED(status) && WEXITSTATUS(status) == 0 ? " (unexpectedly)" : "", delay_s);
	c->state = CHILD_PENDING;
	c->next_start_ms = now + delay;
	c->count_restart = true;
}

/* ---- time ---- */

uint64_t table_next_deadline(const struct process_table *t, uint64_t until)
{
	uint64_t next = until;
	size_t i = 0;

	for (const struct child *c; (c = table_next(t, &i)) != NULL;) {
		if (c->state == CHILD_PENDING && c->next_start_ms < next)
			next = c->next_start_ms;
		if (c->state == CHILD_STOPPING && !c->killed && c->stop_deadline_ms < next)
			next = c->stop_deadline_ms;
	}
	return next;
}

bool table_any_alive(const struct process_table *t)
{
	size_t i = 0;

	for (const struct child *c; (c = table_next(t, &i)) != NULL;)
		if (c->pid > 0)
			return true;
	return false;
}
