/*
 * The sandbox of untrusted programs (contract in sandbox.h).
 *
 * Everything from the clone to the program's exec, and the whole life of
 * init, runs in a child of a possibly multithreaded process: only
 * async-signal-safe calls, no allocation, no stdio.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* The step that failed, reported from init to the caller through a pipe. */
enum stage {
	STAGE_READY = 0,
	STAGE_PDEATHSIG,
	STAGE_SETGROUPS,
	STAGE_UID_MAP,
	STAGE_GID_MAP,
	STAGE_PRIVATE,
	STAGE_HIDE,
	STAGE_PROC,
	STAGE_SUBREAPER,
};

struct report {
	int stage;
	int err;
};

/* What init needs from its parent besides the spec. */
struct init_ctx {
	const struct sandbox_spec *spec;
	uid_t outer_uid; /* the caller's ids: inside a new user namespace they read */
	gid_t outer_gid; /* as the overflow ids until mapped */
	int status_fd, go_fd;
};

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
#define N_FORWARDED (sizeof forwarded / sizeof forwarded[0])

/* Signals init received, one bit each (all are below 32); changed only by the
 * handler, which runs only inside sigsuspend. */
static volatile sig_atomic_t received;

static void on_signal(int sig)
{
	received |= 1 << sig;
}

/* ---- small async-signal-safe helpers ---- */

/* Decimal digits of v into out (at least 21 bytes); returns the length. */
static size_t put_ulong(char *out, unsigned long v)
{
	char rev[21];
	size_t n = 0, len = 0;

	do
		rev[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		out[len++] = rev[--n];
	return len;
}

static int write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	ssize_t n = write(fd, text, len);
	int e = n == (ssize_t)len ? 0 : n < 0 ? errno : EIO;
	close(fd);
	return e;
}

/* "ID ID 1\n": the one id of the caller, mapped to itself. */
static int write_map(const char *path, unsigned long id)
{
	char line[64];
	size_t n = put_ulong(line, id);

	line[n++] = ' ';
	n += put_ulong(line + n, id);
	memcpy(line + n, " 1\n", 3);
	return write_file(path, line, n + 3);
}

static void close_range_of(unsigned first, unsigned last)
{
	if (first > last || syscall(SYS_close_range, first, last, 0u) == 0)
		return;
	for (unsigned fd = first; fd <= last && fd < 4096; fd++)
		close((int)fd);
}

static void close_from(int first)
{
	close_range_of((unsigned)first, ~0u);
}

/* Closes every descriptor from 3 up but the n in keep: init must not hold the
 * caller's (the segment directory, other segments) where the program could
 * reach them. */
static void close_all_but(int *keep, size_t n)
{
	unsigned next = 3;

	for (size_t i = 1; i < n; i++) /* insertion sort: n is at most 6 */
		for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < (int)next)
			continue;
		close_range_of(next, (unsigned)keep[i] - 1);
		next = (unsigned)keep[i] + 1;
	}
	close_range_of(next, ~0u);
}

/* ---- the sandbox's namespaces, set up by init ---- */

static int write_own_maps(const struct init_ctx *c, int *stage)
{
	int e;

	*stage = STAGE_SETGROUPS;
	if ((e = write_file("/proc/self/setgroups", "deny\n", 5)) != 0)
		return e;
	*stage = STAGE_UID_MAP;
	if ((e = write_map("/proc/self/uid_map", c->outer_uid)) != 0)
		return e;
	*stage = STAGE_GID_MAP;
	return write_map("/proc/self/gid_map", c->outer_gid);
}

/* A process that changed its ids is not dumpable, and then its /proc files
 * belong to root: it is made dumpable for the three writes, and not again
 * after them, so that the program cannot trace init. */
static int map_own_ids(const struct init_ctx *c, int *stage)
{
	int e;

	prctl(PR_SET_DUMPABLE, 1);
	e = write_own_maps(c, stage);
	prctl(PR_SET_DUMPABLE, 0);
	return e;
}

static int hide_dirs(const char *const *hide)
{
	const unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;

	for (size_t i = 0; hide && hide[i]; i++)
		if (mount("none", hide[i], "tmpfs", flags, "size=4k,nr_inodes=2,mode=0555") < 0 &&
		    errno != ENOENT)
			return errno;
	return 0;
}

static int make_mounts(const struct init_ctx *c, int *stage)
{
	*stage = STAGE_PRIVATE;
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		return errno;
	*stage = STAGE_HIDE;
	int e = hide_dirs(c->spec->hide);
	if (e != 0)
		return e;
	/* init is pid 1 of the new PID namespace: this /proc shows only it. */
	*stage = STAGE_PROC;
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return errno;
	return 0;
}

static int setup(const struct init_ctx *c, int *stage)
{
	int e;

	*stage = STAGE_PDEATHSIG;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return errno;
	if (!c->spec->isolate) {
		*stage = STAGE_SUBREAPER;
		return prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 || setpgid(0, 0) < 0 ? errno : 0;
	}
	if (c->outer_uid != 0 && (e = map_own_ids(c, stage)) != 0)
		return e;
	return make_mounts(c, stage);
}

/* ---- the program ---- */

/* Descriptors 0..3 from the spec's (copied high first, so that none is
 * overwritten before it is copied), and nothing else. */
static int arrange_fds(const struct sandbox_spec *s)
{
	int src[4] = { s->stdin_fd, s->stdout_fd, s->stderr_fd, s->pass_fd };
	int high[4];

	if (src[0] < 0)
		src[0] = open("/dev/null", O_RDONLY);
	for (int i = 0; i < 4; i++)
		high[i] = src[i] >= 0 ? fcntl(src[i], F_DUPFD, 10) : -1;
	for (int i = 0; i < 4; i++)
		if ((src[i] >= 0 && high[i] < 0) || (high[i] >= 0 && dup2(high[i], i) < 0))
			return -1;
	close_from(s->pass_fd >= 0 ? 4 : 3);
	return 0;
}

static void __attribute__((noreturn)) run_program(const struct sandbox_spec *s)
{
	static const char msg[] = "shmetrics sandbox: cannot execute the program\n";
	struct sigaction dfl;
	sigset_t none;

	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL); /* fails harmlessly for SIGKILL, SIGSTOP */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (!s->isolate)
		setpgid(0, 0);
	if (arrange_fds(s) < 0)
		_exit(126);
	if (s->set_ids &&
	    (setgroups(s->ngroups, s->groups) < 0 || setgid(s->gid) < 0 || setuid(s->uid) < 0))
		_exit(78); /* EX_CONFIG: the user cannot be switched to */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	execve(s->path, s->argv, s->envp ? s->envp : environ);
	if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
		_exit(127);
	_exit(127);
}

/* ---- init ---- */

static void forward(int mask, pid_t program, bool isolate)
{
	for (size_t i = 0; i < N_FORWARDED; i++)
		if (mask & (1 << forwarded[i]))
			kill(isolate ? -1 : -program, forwarded[i]);
}

/* Forwards signals until the program ends; returns its wait status. */
static int supervise(pid_t program, bool isolate)
{
	sigset_t none;
	int status;
	pid_t pid;

	sigemptyset(&none);
	for (;;) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (pid == program)
				return status;
		int mask = received;
		received = 0;
		forward(mask, program, isolate);
		if (mask == 0)
			sigsuspend(&none);
	}
}

/* SIGKILLs the calling thread's children that keep does not claim; their pids
 * go to killed[0..max), the count is returned. */
static size_t kill_round(bool (*keep)(pid_t pid, void *arg), void *arg, pid_t *killed, size_t max)
{
	char path[64] = "/proc/self/task/", buf[4096];
	size_t n = strlen(path), count = 0;

	n += put_ulong(path + n, (unsigned long)syscall(SYS_gettid));
	memcpy(path + n, "/children", sizeof "/children");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t len = read(fd, buf, sizeof buf - 1);
	close(fd);
	unsigned long pid = 0;
	for (ssize_t i = 0; i <= len; i++) {
		if (i < len && buf[i] >= '0' && buf[i] <= '9') {
			pid = pid * 10 + (unsigned long)(buf[i] - '0');
			continue;
		}
		if (pid != 0 && !(keep && keep((pid_t)pid, arg)) &&
		    kill((pid_t)pid, SIGKILL) == 0 && count < max)
			killed[count++] = (pid_t)pid;
		pid = 0;
	}
	return count;
}

int sandbox_kill_strays(bool (*keep)(pid_t pid, void *arg), void *arg, unsigned max_ms)
{
	const struct timespec step = { 0, 2 * 1000 * 1000 };
	pid_t killed[512];
	int total = 0;

	for (unsigned waited = 0; waited <= max_ms; waited += 2) {
		size_t n = kill_round(keep, arg, killed, sizeof killed / sizeof killed[0]);
		if (n == 0)
			break;
		total += (int)n;
		nanosleep(&step, NULL);
		for (size_t i = 0; i < n; i++)
			waitpid(killed[i], NULL, WNOHANG);
	}
	return total;
}

/* Without a PID namespace: the program's group, then every descendant that
 * was reparented to init, until none is left (bounded). */
static void kill_descendants(pid_t program)
{
	kill(-program, SIGKILL);
	sandbox_kill_strays(NULL, NULL, 2000);
}

static void install_handlers(void)
{
	struct sigaction sa;
	sigset_t all;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	/* pid 1 of a namespace gets only the signals it handles, so handle them. */
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaction(forwarded[i], &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void __attribute__((noreturn)) init_main(const struct init_ctx *c)
{
	const struct sandbox_spec *s = c->spec;
	int keep[] = {
		c->status_fd, c->go_fd, s->stdin_fd, s->stdout_fd, s->stderr_fd, s->pass_fd
	};
	struct report r = { STAGE_READY, 0 };
	char go;

	close_all_but(keep, sizeof keep / sizeof keep[0]);
	prctl(PR_SET_DUMPABLE, 0);
	install_handlers();
	r.err = setup(c, &r.stage);
	if (r.err == 0)
		r.stage = STAGE_READY;
	if (write(c->status_fd, &r, sizeof r) != (ssize_t)sizeof r || r.err != 0)
		_exit(127);
	/* The caller answers once it read the report: if it died before init set
	 * its parent-death signal, this read sees the end of the pipe instead. */
	if (read(c->go_fd, &go, 1) != 1)
		_exit(127);
	close(c->status_fd);
	close(c->go_fd);
	pid_t program = fork();
	if (program == 0)
		run_program(c->spec);
	if (program < 0)
		_exit(127);
	int status = supervise(program, c->spec->isolate);
	if (!c->spec->isolate)
		kill_descendants(program);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : SANDBOX_SIGNALLED(WTERMSIG(status)));
}

/* ---- the caller's side ---- */

/* clone3 without a new stack: fork() into new namespaces, the child being pid 1
 * of the new PID namespace (unshare would leave the caller outside it). */
struct clone_args_v0 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static pid_t clone_into(uint64_t flags)
{
	struct clone_args_v0 a;

	memset(&a, 0, sizeof a);
	a.flags = flags;
	a.exit_signal = SIGCHLD;
	pid_t pid = (pid_t)syscall(SYS_clone3, &a, sizeof a);
	if (pid >= 0 || errno != ENOSYS)
		return pid;
		/* systemd's RestrictNamespaces= answers clone3 with ENOSYS (it cannot see
	 * clone3's flags to filter them); clone without a stack is fork as well. */
#if defined(__s390__) || defined(__CRIS__)
	return (pid_t)syscall(SYS_clone, 0, flags | SIGCHLD, NULL, NULL, 0);
#else
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, NULL, NULL, 0);
#endif
}

static const char *stage_name(int stage)
{
	static const char *const names[] = {
		[STAGE_READY] = "starting",
		[STAGE_PDEATHSIG] = "prctl(PR_SET_PDEATHSIG)",
		[STAGE_SETGROUPS] = "writing /proc/self/setgroups",
		[STAGE_UID_MAP] = "writing /proc/self/uid_map",
		[STAGE_GID_MAP] = "writing /proc/self/gid_map",
		[STAGE_PRIVATE] = "making the mounts private",
		[STAGE_HIDE] = "hiding the segment directory",
		[STAGE_PROC] = "mounting /proc for the new PID namespace",
		[STAGE_SUBREAPER] = "becoming a child subreaper",
	};
	return stage >= 0 && stage <= STAGE_SUBREAPER ? names[stage] : "starting";
}

static const char *namespace_hint(int e)
{
	if (e == EPERM || e == EACCES)
		return " (are user namespaces disabled here, by sysctl "
		       "kernel.unprivileged_userns_clone=0, user.max_user_namespaces=0 or a "
		       "container's seccomp profile?  Set \"sandbox\": false on the collector to run "
		       "it without isolation)";
	if (e == ENOSPC)
		return " (user.max_user_namespaces or user.max_pid_namespaces is exhausted)";
	return "";
}

static pid_t spawn_failed(pid_t pid, const char *step, int e, char *err, size_t errlen)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	snprintf(err, errlen, "sandbox: %s failed: %s%s", step, strerror(e), namespace_hint(e));
	return -e;
}

/* Reads init's report; 0 when the sandbox is ready, else the step and error. */
static int await_report(int fd, struct report *r)
{
	ssize_t n;

	do
		n = read(fd, r, sizeof *r);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof *r) {
		r->stage = STAGE_READY;
		r->err = EPIPE; /* init died before it could report */
	}
	return r->err;
}

pid_t sandbox_spawn(const struct sandbox_spec *spec, char *err, size_t errlen)
{
	struct init_ctx c = { spec, geteuid(), getegid(), -1, -1 };
	int status[2], go[2];
	struct report r;

	if (pipe2(status, O_CLOEXEC) < 0)
		return spawn_failed(0, "pipe2", errno, err, errlen);
	if (pipe2(go, O_CLOEXEC) < 0) {
		int e = errno;
		close(status[0]);
		close(status[1]);
		return spawn_failed(0, "pipe2", e, err, errlen);
	}
	uint64_t flags = CLONE_NEWNS | CLONE_NEWPID | (c.outer_uid != 0 ? CLONE_NEWUSER : 0);
	pid_t pid = spec->isolate ? clone_into(flags) : fork();
	if (pid == 0) {
		c.status_fd = status[1];
		c.go_fd = go[0];
		init_main(&c);
	}
	int e = errno;
	close(status[1]);
	close(go[0]);
	if (pid < 0)
		r = (struct report){ STAGE_READY, e };
	else
		await_report(status[0], &r);
	close(status[0]);
	if (r.err == 0 && write(go[1], "g", 1) != 1)
		r.err = errno;
	close(go[1]);
	if (r.err != 0)
		return spawn_failed(pid,
				    pid < 0
					? (spec->isolate ? "clone3 into new namespaces" : "fork")
					: stage_name(r.stage),
				    r.err, err, errlen);
	return pid;
}
