/* The web configuration judged by the exporter (see webcheck.h). */
#include "webcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "process.h"

#define CHECK_TIMEOUT_MS 10000

extern char **environ;

static pid_t spawn_check(const char *exporter, const char *file, int err_fd)
{
	char arg[PATH_MAX + 32];
	char *argv[] = { (char *)exporter, arg, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;

	snprintf(arg, sizeof arg, "--check-web-config=%s", file);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
	int rc = posix_spawn(&pid, exporter, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return rc == 0 ? pid : -rc;
}

/* Reads what the check wrote, until it closes its end or the time is up. */
static size_t read_answer(int fd, char *out, size_t outlen)
{
	size_t len = 0;
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = CHECK_TIMEOUT_MS - (long)((now.tv_sec - t0.tv_sec) * 1000 +
						      (now.tv_nsec - t0.tv_nsec) / 1000000);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		ssize_t n = read(fd, out + len, outlen - 1 - len);
		if (n <= 0 || (len += (size_t)n) >= outlen - 1)
			break;
	}
	out[len] = '\0';
	while (len > 0 && out[len - 1] == '\n')
		out[--len] = '\0';
	return len;
}

int web_config_check(const char *exporter, const char *file, char *err, size_t errlen)
{
	int p[2], status = 0;

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "checking %s: pipe2 failed: %s", file, strerror(errno));
		return -errno;
	}
	pid_t pid = spawn_check(exporter, file, p[1]);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		snprintf(err, errlen, "checking %s: cannot run %s: %s", file, exporter,
			 strerror((int)-pid));
		return (int)pid;
	}
	size_t len = read_answer(p[0], err, errlen);
	close(p[0]);
	kill(pid, SIGKILL); /* nothing, unless it hung */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_EXIT_CONFIG && len > 0)
		return -EINVAL;
	snprintf(err, errlen, "checking %s: %s did not answer in time or failed", file, exporter);
	return -EIO;
}

int web_config_check_here(const char *file, char *err, size_t errlen)
{
	char dir[PATH_MAX], exporter[PATH_MAX];

	if (self_exe_dir(dir, sizeof dir, err, errlen) < 0 ||
	    program_locate(dir, "shmetrics-exporter", exporter, sizeof exporter, err, errlen) < 0)
		return -ENOENT;
	return web_config_check(exporter, file, err, errlen);
}
