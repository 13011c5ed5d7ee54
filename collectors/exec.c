/* The exec collector (see exec.h). */
#include "exec.h"

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

#include "promtext.h"
#include "sandbox.h"

struct exec_state {
	char path[PATH_MAX];
	char **argv; /* built once: nothing is allocated between fork and exec */
	uint64_t timeout_ms;
	bool sandbox;
	const char *hide[2]; /* the segment directory, NULL */
	char *out;
	size_t out_len, out_cap;
};

/* What became of one run of the command. */
struct exec_run {
	pid_t pid;
	bool sandboxed;
	int fd; /* read end of the stdout pipe, -1 once closed */
	uint64_t deadline_ns;
	bool timed_out, too_big;
	int status;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- setup ---- */

static int find_in_path(const char *name, char *out, size_t outlen)
{
	const char *path = getenv("PATH");

	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		int w = snprintf(out, outlen, "%.*s/%s", (int)n, n ? p : ".", name);
		if (w > 0 && (size_t)w < outlen && access(out, X_OK) == 0)
			return 0;
		p += n + (p[n] == ':');
	}
	return -ENOENT;
}

static int resolve_command(struct exec_state *s, const char *command, char *err, size_t errlen)
{
	int rc = 0;

	if (command == NULL || *command == '\0') {
		snprintf(err, errlen, "--exec.command is empty");
		return -EINVAL;
	}
	if (strchr(command, '/') != NULL) {
		if ((size_t)snprintf(s->path, sizeof s->path, "%s", command) >= sizeof s->path)
			rc = -ENAMETOOLONG;
		else if (access(s->path, X_OK) != 0)
			rc = -errno;
	} else {
		rc = find_in_path(command, s->path, sizeof s->path);
	}
	if (rc < 0)
		snprintf(err, errlen, "command \"%s\" cannot be run: %s", command,
			 rc == -ENOENT && !strchr(command, '/') ? "not found in PATH"
								: strerror(-rc));
	return rc;
}

int exec_init(void **state, const struct exec_options *o, char *err, size_t errlen)
{
	struct exec_state *s = calloc(1, sizeof *s);
	int rc;

	if (s == NULL || (s->argv = calloc(o->n_args + 2, sizeof *s->argv)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = resolve_command(s, o->command, err, errlen);
	if (rc == 0 && (o->timeout_ms == 0 || o->n_args > EXEC_ARGS_MAX)) {
		snprintf(err, errlen, "the timeout must be positive and at most %d arguments given",
			 EXEC_ARGS_MAX);
		rc = -EINVAL;
	}
	if (rc < 0) {
		free(s->argv);
		free(s);
		return rc;
	}
	s->argv[0] = (char *)o->command;
	for (size_t i = 0; i < o->n_args; i++)
		s->argv[i + 1] = (char *)o->args[i];
	s->timeout_ms = o->timeout_ms;
	s->sandbox = o->sandbox;
	s->hide[0] = o->hide;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	*state = s;
	return 0;
}

static void exec_fini(void *state)
{
	struct exec_state *s = state;
	if (s == NULL)
		return;
	free(s->argv);
	free(s->out);
	free(s);
}

/* ---- running the command ---- */

/* The command in its sandbox, its stdout into a pipe. */
static int spawn(const struct exec_state *s, struct exec_run *run, char *err, size_t errlen)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe2 failed: %s", strerror(errno));
		return -EIO;
	}
	struct sandbox_spec spec = {
		.path = s->path,
		.argv = s->argv,
		.stdin_fd = -1,
		.stdout_fd = p[1],
		.stderr_fd = -1,
		.pass_fd = -1,
		.hide = s->hide,
		.isolate = s->sandbox,
	};
	run->pid = sandbox_spawn(&spec, err, errlen);
	close(p[1]);
	if (run->pid < 0) {
		close(p[0]);
		return run->pid;
	}
	run->fd = p[0];
	run->sandboxed = s->sandbox;
	return 0;
}

static int grow_output(struct exec_state *s)
{
	size_t cap = s->out_cap ? s->out_cap * 2 : 16 * 1024;
	if (cap > EXEC_OUTPUT_MAX + 1)
		cap = EXEC_OUTPUT_MAX + 1;
	char *o = realloc(s->out, cap);
	if (o == NULL)
		return -ENOMEM;
	s->out = o;
	s->out_cap = cap;
	return 0;
}

/* Reads what is available; closes the pipe at EOF or when the output is too big. */
static int read_some(struct exec_state *s, struct exec_run *run)
{
	if (s->out_len == s->out_cap && grow_output(s) < 0)
		return -ENOMEM;
	ssize_t n = read(run->fd, s->out + s->out_len, s->out_cap - s->out_len);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	s->out_len += (size_t)n;
	if (n == 0 || s->out_len > EXEC_OUTPUT_MAX) {
		run->too_big = s->out_len > EXEC_OUTPUT_MAX;
		close(run->fd);
		run->fd = -1;
	}
	return 0;
}

static int read_output(struct exec_state *s, struct exec_run *run)
{
	while (run->fd >= 0 && !run->too_big) {
		uint64_t now = mono_ns();
		if (now >= run->deadline_ns) {
			run->timed_out = true;
			return 0;
		}
		uint64_t left_ms = (run->deadline_ns - now + 999999) / 1000000;
		struct pollfd pfd = { .fd = run->fd, .events = POLLIN };
		int r = poll(&pfd, 1, left_ms > INT_MAX ? INT_MAX : (int)left_ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0) {
			int rc = read_some(s, run);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* Waits (without reaping) for the command to exit, until the deadline. */
static void wait_exit(struct exec_run *run)
{
	const struct timespec step = { 0, 2 * 1000 * 1000 };
	siginfo_t info;

	while (!run->timed_out && !run->too_big) {
		memset(&info, 0, sizeof info);
		if (waitid(P_PID, (id_t)run->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    info.si_pid == run->pid)
			return;
		if (mono_ns() >= run->deadline_ns)
			run->timed_out = true;
		else
			nanosleep(&step, NULL);
	}
}

/* Kills the sandbox's init (a zombie already when the command ended: then the
 * sandbox is gone with it) and reaps it. */
static void finish(struct exec_run *run)
{
	kill(run->pid, SIGKILL);
	while (waitpid(run->pid, &run->status, 0) < 0 && errno == EINTR)
		;
	/* Without namespaces, what the command left behind was reparented to this
	 * process (a subreaper, see exec_init): this process has no other child. */
	if (!run->sandboxed)
		sandbox_kill_strays(NULL, NULL, 2000);
	if (run->fd >= 0)
		close(run->fd);
	run->fd = -1;
}

/* ---- collect ---- */

static int describe_failure(const struct exec_state *s, const struct exec_run *run, char *err,
			    size_t errlen)
{
	if (run->timed_out)
		snprintf(err, errlen, "command %s timed out after %llu ms and was killed", s->path,
			 (unsigned long long)s->timeout_ms);
	else if (run->too_big)
		snprintf(err, errlen, "command %s wrote more than %u bytes and was killed", s->path,
			 EXEC_OUTPUT_MAX);
	else if (WIFSIGNALED(run->status))
		snprintf(err, errlen, "command %s was killed by signal %d", s->path,
			 WTERMSIG(run->status));
	else if (WIFEXITED(run->status) && WEXITSTATUS(run->status) > 128 &&
		 WEXITSTATUS(run->status) < 128 + NSIG)
		snprintf(err, errlen, "command %s was killed by signal %d", s->path,
			 WEXITSTATUS(run->status) - 128);
	else if (WIFEXITED(run->status) && WEXITSTATUS(run->status) != 0)
		snprintf(err, errlen, "command %s exited with status %d%s", s->path,
			 WEXITSTATUS(run->status),
			 WEXITSTATUS(run->status) == 127 ? " (could it be executed?)" : "");
	else
		return 0;
	return -EIO;
}

static int exec_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct exec_state *s = state;
	struct exec_run run = { .fd = -1 };
	char why[600];

	s->out_len = 0;
	int rc = spawn(s, &run, err, errlen);
	if (rc < 0)
		return rc;
	run.deadline_ns = mono_ns() + s->timeout_ms * 1000000u;
	rc = read_output(s, &run);
	if (rc == 0)
		wait_exit(&run);
	finish(&run);
	if (rc < 0) {
		snprintf(err, errlen, "reading the output of %s failed: %s", s->path,
			 strerror(-rc));
		return rc;
	}
	rc = describe_failure(s, &run, err, errlen);
	if (rc < 0)
		return rc;
	rc = promtext_parse(b, s->out, s->out_len, why, sizeof why);
	if (rc < 0) {
		batch_reset(b);
		snprintf(err, errlen, "output of %s: %s", s->path, why);
	}
	return rc;
}

const struct collector_ops exec_collector_ops = {
	.init = NULL, /* exec_init takes the command instead of a collector_env */
	.collect = exec_collect,
	.fini = exec_fini,
};
