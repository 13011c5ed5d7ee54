/*
 * test_segdir - the private segment directory: made with the right mode, and
 * refused wherever another user could have put or replaced something.  Root
 * (as make test runs) hands files to user nobody to play the other user.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "segdir.h"
#include "segdir_fixture.h"

static char err[PATH_MAX + 400];

/* A scratch base directory under /tmp, removed by the teardown. */
static char base[PATH_MAX];

static int make_base(void **state)
{
	(void)state;
	snprintf(base, sizeof base, "/tmp/segdir-test-XXXXXX");
	return mkdtemp(base) ? 0 : -1;
}

static int remove_base(void **state)
{
	char cmd[PATH_MAX + 16];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

static uid_t other_user(void)
{
	struct passwd *pw = getpwnam("nobody");
	if (geteuid() != 0 || pw == NULL)
		skip();
	return pw->pw_uid;
}

static void test_the_agents_directory_is_0751_and_owned_by_it(void **state)
{
	struct segdir d;
	struct stat st;
	(void)state;

	assert_int_equal(segdir_create(&d, base, "main", 0751, (gid_t)-1, err, sizeof err), 0);
	assert_int_equal(fstat(d.fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0751);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(d.owner, geteuid());
	segdir_close(&d);
	/* a second agent of the same user finds it as it is */
	assert_int_equal(segdir_open(&d, base, "main", geteuid(), err, sizeof err), 0);
	segdir_close(&d);
}

static void test_a_directory_others_may_write_is_refused(void **state)
{
	struct segdir d;
	char path[PATH_MAX + 16];
	(void)state;

	snprintf(path, sizeof path, "%s/main", base);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chmod(path, 0770), 0);
	assert_int_equal(segdir_open(&d, base, "main", (uid_t)-1, err, sizeof err), -EPERM);
	assert_non_null(strstr(err, "writable by group or others"));
	assert_int_equal(segdir_create(&d, base, "main", 0751, (gid_t)-1, err, sizeof err), -EPERM);
}

static void test_a_directory_of_another_user_is_refused(void **state)
{
	struct segdir d;
	char path[PATH_MAX + 16];
	(void)state;
	uid_t other = other_user();

	snprintf(path, sizeof path, "%s/main", base);
	assert_int_equal(mkdir(path, 0751), 0);
	assert_int_equal(chown(path, other, (gid_t)-1), 0);
	/* the agent expects its own */
	assert_int_equal(segdir_create(&d, base, "main", 0751, (gid_t)-1, err, sizeof err), -EPERM);
	assert_non_null(strstr(err, "belongs to another user"));
	/* so does a reader that expects the directory of its own user */
	assert_int_equal(segdir_open(&d, base, "main", geteuid(), err, sizeof err), -EPERM);
}

static void test_a_place_squatted_in_a_shared_directory_is_refused(void **state)
{
	struct segdir d;
	char squat[PATH_MAX + 16], inst[PATH_MAX + 32];
	(void)state;
	uid_t other = other_user();

	/* as another user would make /tmp/shmetrics-UID before the agent starts */
	snprintf(squat, sizeof squat, "/tmp/segdir-squat-%d", (int)getpid());
	snprintf(inst, sizeof inst, "%s/main", squat);
	assert_int_equal(mkdir(squat, 0755), 0);
	assert_int_equal(mkdir(inst, 0751), 0);
	assert_int_equal(chown(inst, other, (gid_t)-1), 0);
	assert_int_equal(chown(squat, other, (gid_t)-1), 0);
	assert_int_equal(segdir_open(&d, squat, "main", (uid_t)-1, err, sizeof err), -EPERM);
	assert_non_null(strstr(err, "shared directory and belongs to another user"));
	assert_int_equal(segdir_create(&d, squat, "main", 0751, (gid_t)-1, err, sizeof err),
			 -EPERM);
	rmdir(inst);
	rmdir(squat);
}

static void test_a_segment_file_of_another_user_is_refused(void **state)
{
	struct segdir d;
	int fd;
	(void)state;
	uid_t other = other_user();

	assert_int_equal(segdir_create(&d, base, "main", 0751, (gid_t)-1, err, sizeof err), 0);
	fd = openat(d.fd, "x.seg", O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, other, (gid_t)-1), 0);
	close(fd);
	assert_int_equal(segdir_open_segment(&d, "x", O_RDONLY, NULL, err, sizeof err), -EPERM);
	assert_non_null(strstr(err, "another user"));
	segdir_close(&d);
}

static void test_a_symbolic_link_to_a_trusted_directory_is_followed(void **state)
{
	struct segdir d;
	char link[PATH_MAX + 16], real[PATH_MAX + 16];
	(void)state;

	snprintf(real, sizeof real, "%s/real", base);
	snprintf(link, sizeof link, "%s/link", base);
	assert_int_equal(mkdir(real, 0755), 0);
	assert_int_equal(symlink(real, link), 0);
	assert_int_equal(segdir_create(&d, link, "main", 0751, (gid_t)-1, err, sizeof err), 0);
	assert_non_null(strstr(d.path, "/real/main"));
	segdir_close(&d);
}

static void test_readers_find_the_directory_through_the_environment(void **state)
{
	char found[PATH_MAX];
	(void)state;

	setenv(SEGDIR_ENV, base, 1);
	assert_int_equal(segdir_find_base("main", found, sizeof found, err, sizeof err), 0);
	assert_string_equal(found, base);
	unsetenv(SEGDIR_ENV);
	assert_int_equal(segdir_find_base("nosuch-instance", found, sizeof found, err, sizeof err),
			 -ENOENT);
	assert_non_null(strstr(err, "nosuch-instance"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, make_base, remove_base)
	const struct CMUnitTest tests[] = {
		T(test_the_agents_directory_is_0751_and_owned_by_it),
		T(test_a_directory_others_may_write_is_refused),
		T(test_a_directory_of_another_user_is_refused),
		T(test_a_place_squatted_in_a_shared_directory_is_refused),
		T(test_a_segment_file_of_another_user_is_refused),
		T(test_a_symbolic_link_to_a_trusted_directory_is_followed),
		T(test_readers_find_the_directory_through_the_environment),
	};
	return cmocka_run_group_tests_name("segdir", tests, NULL, NULL);
}
