/*
 * test_sandbox - untrusted programs run under our init: what they can reach,
 * what they leave behind, how they end.  Run as root (as make test is), each
 * case runs once as root and once as an unprivileged user (nobody), which is
 * the user-namespace path of the shipped deployment.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"

/* Reads fd until EOF, for at most 20 s (a descendant that outlived the
 * program would hold the pipe open: the test then fails instead of hanging). */
static void read_bounded(int fd, char *out, size_t outlen)
{
	size_t len = 0;
	ssize_t n = 1;

	for (int waited = 0; n > 0 && len + 1 < outlen && waited < 200;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 100) == 0) {
			waited++;
			continue;
		}
		n = read(fd, out + len, outlen - 1 - len);
		if (n > 0)
			len += (size_t)n;
	}
	out[len] = '\0';
}

/* Runs sh -c script in a sandbox; returns init's wait status and what the
 * program wrote to descriptor 3 in out. */
static int run_script(const char *script, bool isolate, const char *hide, char *out, size_t outlen)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	const char *hidden[] = { hide, NULL };
	char err[512];
	int p[2], status = -1;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	struct sandbox_spec s = {
		.path = "/bin/sh",
		.argv = argv,
		.stdin_fd = -1,
		.stdout_fd = -1,
		.stderr_fd = -1,
		.pass_fd = p[1],
		.hide = hidden,
		.isolate = isolate,
	};
	pid_t pid = sandbox_spawn(&s, err, sizeof err);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		print_error("sandbox_spawn: %s\n", err);
		return -1;
	}
	read_bounded(p[0], out, outlen);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* Runs fn in a child process, as root or as nobody; the case reports a
 * failure by exiting nonzero (it runs outside cmocka's control there). */
typedef void (*user_case)(bool isolate);

static void in_child(user_case fn, bool isolate, bool nobody)
{
	struct passwd *pw = getpwnam("nobody");
	if (nobody && (geteuid() != 0 || pw == NULL)) {
		print_message("(not root, or no user nobody: the unprivileged run is skipped)\n");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (nobody && (setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0))
			_exit(99);
		fn(isolate);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* As root and as an unprivileged user (the user-namespace path). */
static void both_users(user_case fn, bool isolate)
{
	in_child(fn, isolate, false);
	in_child(fn, isolate, true);
}

/* ---- cases (in_child runs them; each failure has its own exit code) ---- */

static void program_sees_only_its_namespace(bool isolate)
{
	char out[256];
	(void)isolate;
	int st = run_script("echo $$ >&3; ls /proc | grep -c '^[0-9]' >&3", true, NULL, out,
			    sizeof out);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		_exit(1);
	/* pid 2 under init; /proc shows init, the shell, ls and grep at most */
	if (strncmp(out, "2\n", 2) != 0 || atoi(out + 2) > 4)
		_exit(2);
}

static void test_the_program_is_pid_2_and_sees_no_process_outside(void **state)
{
	(void)state;
	both_users(program_sees_only_its_namespace, true);
}

static void hidden_directory_is_empty(bool isolate)
{
	char dir[] = "/tmp/sandbox-hide-XXXXXX", file[64], script[256], out[256];
	(void)isolate;
	if (mkdtemp(dir) == NULL)
		_exit(3);
	snprintf(file, sizeof file, "%s/secret.seg", dir);
	int fd = open(file, O_CREAT | O_WRONLY, 0600);
	if (fd < 0)
		_exit(4);
	close(fd);
	snprintf(script, sizeof script,
		 "ls -A %s | wc -l >&3; echo x > %s/new 2>/dev/null && echo wrote >&3; true", dir,
		 dir);
	int st = run_script(script, true, dir, out, sizeof out);
	unlink(file);
	rmdir(dir);
	if (!WIFEXITED(st) || strcmp(out, "0\n") != 0)
		_exit(5);
}

static void test_a_hidden_directory_is_empty_and_read_only_inside(void **state)
{
	(void)state;
	both_users(hidden_directory_is_empty, true);
}

/* Counts processes whose command line is exactly "sleep SECONDS", and kills
 * them when told to (a failed case cleans up after itself). */
static int count_marked(const char *seconds, bool kill_them)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL) {
		char path[300], buf[64] = "";
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
		int fd = open(path, O_RDONLY);
		ssize_t len = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (len > 6 && memcmp(buf, "sleep", 6) == 0 && strcmp(buf + 6, seconds) == 0) {
			n++;
			if (kill_them)
				kill(atoi(e->d_name), SIGKILL);
		}
	}
	if (d)
		closedir(d);
	return n;
}

static void leaves_nothing_behind(bool isolate)
{
	char seconds[32], marker[64], script[512], out[64];
	snprintf(seconds, sizeof seconds, "7%d%d", (int)getpid() % 1000, isolate);
	snprintf(marker, sizeof marker, "sleep %s", seconds);
	/* a background child, a daemon in a session of its own, and a double fork */
	snprintf(script, sizeof script, "%s & setsid %s & (%s &) ; echo started >&3", marker,
		 marker, marker);
	int st = run_script(script, isolate, NULL, out, sizeof out);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || strcmp(out, "started\n") != 0)
		_exit(6);
	for (int i = 0; i < 200 && count_marked(seconds, false) > 0; i++)
		usleep(10000); /* the kernel reaps them in the background */
	if (count_marked(seconds, true) != 0)
		_exit(7);
}

static void test_nothing_the_program_starts_outlives_it(void **state)
{
	(void)state;
	both_users(leaves_nothing_behind, true);
	both_users(leaves_nothing_behind, false);
}

static void test_sigterm_reaches_the_program_and_its_status_comes_back(void **state)
{
	char *argv[] = { "/bin/sh", "-c",
			 "trap 'exit 3' TERM; echo ready >&3; "
			 "while :; do sleep 0.05; done",
			 NULL };
	char err[256], buf[16];
	int p[2], status;
	(void)state;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	struct sandbox_spec s = { .path = "/bin/sh",
				  .argv = argv,
				  .stdin_fd = -1,
				  .stdout_fd = -1,
				  .stderr_fd = -1,
				  .pass_fd = p[1],
				  .isolate = true };
	pid_t pid = sandbox_spawn(&s, err, sizeof err);
	close(p[1]);
	assert_true(pid > 0);
	assert_true(read(p[0], buf, sizeof buf) > 0); /* the trap is set */
	close(p[0]);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
}

static void test_a_program_killed_by_a_signal_reports_128_plus_it(void **state)
{
	char out[16];
	(void)state;
	int st = run_script("kill -9 $$", true, NULL, out, sizeof out);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), SANDBOX_SIGNALLED(SIGKILL));
}

static void test_the_program_gets_descriptors_0_to_3_only(void **state)
{
	char out[64];
	int leak = open("/dev/null", O_RDONLY); /* not close-on-exec: must not leak anyway */
	(void)state;
	int st = run_script("ls /proc/self/fd | sort -n | tr '\\n' ' ' >&3", true, NULL, out,
			    sizeof out);
	close(leak);
	assert_true(WIFEXITED(st));
	/* ls itself opens the directory it lists: 0 1 2 3 and that one */
	assert_string_equal(out, "0 1 2 3 4 ");
}

static void test_a_missing_program_exits_127(void **state)
{
	char *argv[] = { "/nonexistent/plugin", NULL };
	char err[256];
	int status;
	(void)state;
	struct sandbox_spec s = { .path = argv[0],
				  .argv = argv,
				  .stdin_fd = -1,
				  .stdout_fd = -1,
				  .stderr_fd = -1,
				  .pass_fd = -1,
				  .isolate = true };
	pid_t pid = sandbox_spawn(&s, err, sizeof err);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 127);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_program_is_pid_2_and_sees_no_process_outside),
		cmocka_unit_test(test_a_hidden_directory_is_empty_and_read_only_inside),
		cmocka_unit_test(test_nothing_the_program_starts_outlives_it),
		cmocka_unit_test(test_sigterm_reaches_the_program_and_its_status_comes_back),
		cmocka_unit_test(test_a_program_killed_by_a_signal_reports_128_plus_it),
		cmocka_unit_test(test_the_program_gets_descriptors_0_to_3_only),
		cmocka_unit_test(test_a_missing_program_exits_127),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
