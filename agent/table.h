/*
 * table.h - the agent's process table (nginx's ngx_processes, ntpd's table): one
 * slot per child, and everything that is done to a child: adding it (with its
 * command line from the configuration), starting it, stopping it, recording how
 * it ended and when it starts again.  The supervisor (supervisor.c) runs the loop
 * and decides when; struct child itself is in process.h.
 *
 * Nothing here waits: starting is fork+exec, stopping is a signal, and an exit is
 * recorded when the supervisor reaps it.
 */
#ifndef SHMETRICS_AGENT_TABLE_H
#define SHMETRICS_AGENT_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "process.h"
#include "segdir.h"

/* At most: every collector of two configurations (one stopping, one starting
 * under a different name), the group, the exporter and the shipper.  The table
 * holds only the children there are. */
#define TABLE_MAX (2 * CONFIG_MAX_COLLECTORS + 3)

/* How long a child has to exit after SIGTERM before it gets SIGKILL. */
#define TABLE_STOP_TIMEOUT_MS 5000u

/* What the children's command lines are made from. */
struct table_env {
	const struct shm_config *cfg;
	const char *collector_prog, *exporter_prog;
	const char *shipper_prog; /* "" when not installed */
};

struct process_table {
	struct child **slots; /* n of them, NULL where a child was removed */
	size_t n, cap;
	bool dirty; /* set when something the agent's metrics show changed */
	/* Where a sandboxed plugin's segment is opened (it gets the descriptor, never
	 * the path), and the directory its sandbox hides; set before the first start. */
	const struct segdir *dir;
	const char *hide;
};

/* The child of that kind and name, or the one with that pid; NULL if none. */
struct child *table_find(struct process_table *t, enum child_kind kind, const char *name);
struct child *table_by_pid(struct process_table *t, pid_t pid);

/* A new child, its command line built from env, to be started at now.  NULL (logged)
 * when the table is full, out of memory, or the command line cannot be built.
 * A child's address stays the same while it is in the table. */
struct child *table_add(struct process_table *t, const struct table_env *env, enum child_kind kind,
			const char *name, uint64_t now);

/* Builds c's command line (and a custom collector's environment and user) again
 * from env.  0, or a negative errno (logged); c keeps the old one then. */
int table_rebuild(const struct table_env *env, struct child *c);

/* Sends SIGTERM (or, when c is not running, does `after` at once); `after` is done
 * once it has exited. */
void table_stop(struct process_table *t, struct child *c, enum child_after_stop after,
		uint64_t now);
/* Stops every child, to do nothing more once it exited. */
void table_stop_all(struct process_table *t, uint64_t now);

/* Records that c exited with status (as from waitpid): done with it when it was
 * being stopped, failed for good on a configuration error, restarted with backoff
 * otherwise. */
void table_exited(struct process_table *t, struct child *c, int status, uint64_t now);

/* Starts every child whose start time has come. */
void table_start_due(struct process_table *t, uint64_t now);
/* SIGKILL for every child still running TABLE_STOP_TIMEOUT_MS after its SIGTERM. */
void table_kill_overdue(struct process_table *t, uint64_t now);
/* The earliest start or kill deadline before until, else until. */
uint64_t table_next_deadline(const struct process_table *t, uint64_t until);
/* True when some child is running. */
bool table_any_alive(const struct process_table *t);

/* Frees every child and the table (the children must have been reaped). */
void table_release_all(struct process_table *t);

/* For each child in the table: for (c = table_next(t, &i); c; c = table_next(t, &i))
 * with i starting at 0. */
struct child *table_next(const struct process_table *t, size_t *i);

#endif
