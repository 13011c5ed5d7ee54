/*
 * process.h - one supervised child (nginx's ngx_process_t, ntpd's table): its
 * identity, state, and history; starting it; describing how it ended.
 */
#ifndef SHMETRICS_AGENT_PROCESS_H
#define SHMETRICS_AGENT_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "child_argv.h"
#include "config.h"
#include "segment.h"

/* EX_CONFIG: the child's configuration is wrong; starting it again cannot help. */
#define CHILD_EXIT_CONFIG      78
/* What a child exits with when execv fails. */
#define CHILD_EXIT_EXEC_FAILED 127

enum child_kind {
	CHILD_COLLECTOR, /* one collector: an isolated built-in one or a custom one */
	CHILD_GROUP,     /* CHILD_GROUP_NAME: the built-in collectors in members */
	CHILD_EXPORTER,
	CHILD_SHIPPER, /* SHIPPER_NAME: remote write, when configured */
};

/* How a custom collector's program is started (resolved before fork; custom.h). */
struct child_exec {
	bool plugin;  /* a "command" collector: started in a sandbox (sandbox.h) with
			 its segment as descriptor 3 */
	bool isolate; /* the sandbox's namespaces ("sandbox": true, the default) */
	char **envp;  /* NULL: inherit the agent's environment */
	bool set_ids; /* switch to uid/gid/groups before exec */
	uid_t uid;
	gid_t gid;
	size_t ngroups;
	gid_t *groups;
};

enum child_state {
	CHILD_PENDING, /* to be started at next_start_ms (first start or backoff) */
	CHILD_RUNNING,
	CHILD_STOPPING, /* sent SIGTERM; SIGKILL at stop_deadline_ms */
	CHILD_FAILED,   /* exited with CHILD_EXIT_CONFIG: not restarted until a reload */
	CHILD_STOPPED,  /* stopped on request (shutdown) */
};

/* What to do once a child being stopped has exited. */
enum child_after_stop { AFTER_STOP_NOTHING, AFTER_STOP_REMOVE, AFTER_STOP_RESPAWN };

struct child {
	bool in_use;
	enum child_kind kind;
	char name[CONFIG_NAME_MAX]; /* "cpu", "host" or "exporter" */
	struct member_set members;  /* CHILD_GROUP: see child_group_members */
	struct child_argv argv;     /* argc 0: no process (an external collector) */
	struct child_exec exec;     /* custom collectors: environment, user */

	enum child_state state;
	enum child_after_stop after_stop;
	pid_t pid;                                            /* 0 when not running */
	uint64_t started_ms, next_start_ms, stop_deadline_ms; /* monotonic */
	bool killed;                                          /* SIGKILL already sent */
	uint32_t restarts;      /* starts after it exited on its own */
	bool count_restart;     /* the pending start is such a restart */
	uint32_t fast_failures; /* see backoff.h */
	bool has_status;
	int last_status; /* as from waitpid */
};

/* "collector cpu[1234]", "collectors host[1230]" or "exporter[77]" (without the
 * brackets when pid is 0). */
void child_label(const struct child *c, char *out, size_t outlen);

/* "exited with status 1", "exited on signal 11 (core dumped)",
 * "exited with status 78 (configuration error)". */
void exit_status_describe(int status, char *out, size_t outlen);

/* The same for child c: a plugin's status is its sandbox's, which reports a
 * program that signal N ended as exit status 128 + N ("exited on signal N in
 * its sandbox"). */
void child_describe_exit(const struct child *c, int status, char *out, size_t outlen);

/* True when status says "do not restart me" (exit 78). */
bool exit_status_is_config_error(int status);

/*
 * Forks and execs argv.  In the child, before execv: parent-death signal SIGTERM,
 * signal handlers and mask reset; nothing that allocates or locks.  Returns the
 * pid, or a negative errno when fork failed.
 */
pid_t child_spawn(const struct child_argv *argv);

/* child_spawn, and when x is not NULL: switches to x's user and group (before the
 * parent-death signal is set, since a change of ids clears it) and runs argv with
 * x's environment.  A failed switch exits CHILD_EXIT_CONFIG. */
pid_t child_spawn_exec(const struct child_argv *argv, const struct child_exec *x);

/*
 * Starts a plugin (x->plugin) in a sandbox: segment_fd becomes its descriptor 3,
 * hide lists the directories it must not see.  Returns the pid of the
 * sandbox's init, or a negative errno with the reason in err.
 */
pid_t child_spawn_plugin(const struct child_argv *argv, const struct child_exec *x, int segment_fd,
			 const char *const *hide, char *err, size_t errlen);

/* Frees what custom_exec_prepare allocated and zeroes x. */
void child_exec_free(struct child_exec *x);

/* The directory holding the running program (from /proc/self/exe). */
int self_exe_dir(char *out, size_t outlen, char *err, size_t errlen);

/* Finds program in DIR/../libexec/shmetrics/, then DIR/.  Returns 0 or -ENOENT
 * with both places named in err. */
int program_locate(const char *exe_dir, const char *program, char *out, size_t outlen, char *err,
		   size_t errlen);

#endif
