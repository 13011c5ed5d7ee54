/*
 * sandbox.h - starting an untrusted program (a "command" plugin, an "exec"
 * collector's command) so that it reaches nothing of ours but what it is
 * handed, and nothing it starts outlives it (docs/security.md).
 *
 * Contract
 * --------
 *	caller ── init (ours: pid 1 of a new PID namespace, in new mount and
 *	            │     user namespaces)
 *	            └── the program (pid 2), and whatever it starts
 *
 *  - init forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to
 *    every process of the namespace, and exits as soon as the program does,
 *    with its status (128 + N when signal N ended it).  The kernel then kills
 *    whatever is left in the namespace.  init dies with its parent
 *    (PR_SET_PDEATHSIG), and the namespace with it.
 *  - The mount namespace lays an empty read-only tmpfs over every directory
 *    in hide[] (the segment directory), and has a /proc of its own: processes
 *    outside the namespace cannot be seen, signalled or have their descriptors
 *    opened.  Our own processes are not dumpable besides.
 *  - Without root, the user namespace maps the caller's user only, so the
 *    program keeps its user and group and has no capability anywhere; its
 *    mounts are locked.  As root, no user namespace is made: the program gets
 *    set_ids' user (without one it is root, and root is not contained).
 *  - The program runs with no_new_privs, default signal handling, an empty
 *    signal mask, and exactly descriptors 0, 1, 2 and (pass_fd) 3.
 *
 * Without isolation (isolate false, for hosts that refuse namespaces): init is
 * a child subreaper leading its own process group; when the program ends it
 * kills the program's process group and every descendant reparented to it.
 *
 * Between fork and exec only async-signal-safe calls are made; nothing here
 * allocates or logs.  The caller reaps init like any child.
 */
#ifndef SHMETRICS_SANDBOX_H
#define SHMETRICS_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sandbox_spec {
	const char *path; /* the program */
	char *const *argv;
	char *const *envp;        /* NULL: the caller's environment */
	int stdin_fd;             /* -1: /dev/null */
	int stdout_fd, stderr_fd; /* -1: the caller's */
	int pass_fd;              /* >= 0: the program's descriptor 3 */
	const char *const *hide;  /* directories to hide, NULL-terminated (or NULL) */
	bool isolate;             /* namespaces; false: subreaper and process group only */
	bool set_ids;             /* switch to uid/gid/groups (needs root) */
	uid_t uid;
	gid_t gid;
	size_t ngroups;
	const gid_t *groups;
};

/*
 * Starts spec's program under its init.  Returns init's pid once the sandbox is
 * in place (the program is then being started), or a negative errno with the
 * failing step in err, e.g. "unshare: creating a user namespace failed:
 * Operation not permitted (are unprivileged user namespaces disabled?)".
 */
pid_t sandbox_spawn(const struct sandbox_spec *spec, char *err, size_t errlen);

/*
 * For child subreapers (the agent, an exec collector): SIGKILLs every child of
 * the calling thread (from /proc/self/task/TID/children) for which keep, when
 * not NULL, says false, and reaps it; again and again, since the children of a
 * killed stray become the caller's as it dies, until a round finds none or
 * max_ms passed.  Returns how many were killed.  Async-signal-safe.
 */
int sandbox_kill_strays(bool (*keep)(pid_t pid, void *arg), void *arg, unsigned max_ms);

/* The exit status init reports for a program that signal sig ended. */
#define SANDBOX_SIGNALLED(sig) (128 + (sig))

#endif
