/* Starting children and describing how they ended. */
#include "process.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

void child_label(const struct child *c, char *out, size_t outlen)
{
	const char *prefix = c->kind == CHILD_COLLECTOR ? "collector "
			     : c->kind == CHILD_GROUP   ? "collectors "
							: "";

	if (c->pid > 0)
		snprintf(out, outlen, "%s%s[%ld]", prefix, c->name, (long)c->pid);
	else
		snprintf(out, outlen, "%s%s", prefix, c->name);
}

bool exit_status_is_config_error(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == CHILD_EXIT_CONFIG;
}

void exit_status_describe(int status, char *out, size_t outlen)
{
	if (WIFSIGNALED(status)) {
		snprintf(out, outlen, "exited on signal %d%s", WTERMSIG(status),
			 WCOREDUMP(status) ? " (core dumped)" : "");
		return;
	}
	int code = WEXITSTATUS(status);
	const char *why = code == CHILD_EXIT_CONFIG        ? " (configuration error)"
			  : code == CHILD_EXIT_EXEC_FAILED ? " (could not execute the program)"
							   : "";
	snprintf(out, outlen, "exited with status %d%s", code, why);
}

void child_describe_exit(const struct child *c, int status, char *out, size_t outlen)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;

	if (c->exec.plugin && code > 128 && code < 128 + NSIG)
		snprintf(out, outlen, "exited on signal %d in its sandbox", code - 128);
	else
		exit_status_describe(status, out, outlen);
}

/* Runs in the child between fork and exec: only async-signal-safe calls. */

static void __attribute__((noreturn))
child_exec(const struct child_argv *a, const struct child_exec *x, pid_t parent)
{
	struct sigaction dfl;
	sigset_t none;

	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL); /* fails harmlessly for SIGKILL, SIGSTOP, RT ones */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (x && x->set_ids &&
	    (setgroups(x->ngroups, x->groups) < 0 || setgid(x->gid) < 0 || setuid(x->uid) < 0))
		_exit(CHILD_EXIT_CONFIG);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(1); /* the agent already died: do not run unsupervised */
	if (x && x->envp)
		execve(a->argv[0], a->argv, x->envp);
	else
		execv(a->argv[0], a->argv);
	_exit(CHILD_EXIT_EXEC_FAILED);
}

pid_t child_spawn_exec(const struct child_argv *argv, const struct child_exec *x)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		child_exec(argv, x, parent);
	return pid;
}

pid_t child_spawn_plugin(const struct child_argv *argv, const struct child_exec *x, int segment_fd,
			 const char *const *hide, char *err, size_t errlen)
{
	struct sandbox_spec spec = {
		.path = argv->argv[0],
		.argv = argv->argv,
		.envp = x->envp,
		.stdin_fd = -1,
		.stdout_fd = -1,
		.stderr_fd = -1,
		.pass_fd = segment_fd,
		.hide = hide,
		.isolate = x->isolate,
		.set_ids = x->set_ids,
		.uid = x->uid,
		.gid = x->gid,
		.ngroups = x->ngroups,
		.groups = x->groups,
	};
	return sandbox_spawn(&spec, err, errlen);
}

pid_t child_spawn(const struct child_argv *argv)
{
	return child_spawn_exec(argv, NULL);
}

void child_exec_free(struct child_exec *x)
{
	if (x->envp)
		for (char **e = x->envp; *e; e++)
			free(*e);
	free(x->envp);
	free(x->groups);
	memset(x, 0, sizeof *x);
}

int self_exe_dir(char *out, size_t outlen, char *err, size_t errlen)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);

	if (n < 0) {
		snprintf(err, errlen, "readlink(\"/proc/self/exe\") failed: %s", strerror(errno));
		return -errno;
	}
	path[n] = '\0';
	char *slash = strrchr(path, '/');
	if (slash)
		*slash = '\0';
	if ((size_t)snprintf(out, outlen, "%s", slash == path ? "/" : path) >= outlen) {
		snprintf(err, errlen, "path of the agent is too long");
		return -ENAMETOOLONG;
	}
	return 0;
}

int program_locate(const char *exe_dir, const char *program, char *out, size_t outlen, char *err,
		   size_t errlen)
{
	char libexec[PATH_MAX], beside[PATH_MAX];

	snprintf(libexec, sizeof libexec, "%s/../libexec/shmetrics/%s", exe_dir, program);
	snprintf(beside, sizeof beside, "%s/%s", exe_dir, program);
	const char *found = access(libexec, X_OK) == 0  ? libexec
			    : access(beside, X_OK) == 0 ? beside
							: NULL;
	if (!found) {
		snprintf(err, errlen, "cannot find %s: neither %s nor %s is an executable file",
			 program, libexec, beside);
		return -ENOENT;
	}
	if ((size_t)snprintf(out, outlen, "%s", found) >= outlen) {
		snprintf(err, errlen, "path of %s is too long", program);
		return -ENAMETOOLONG;
	}
	return 0;
}
