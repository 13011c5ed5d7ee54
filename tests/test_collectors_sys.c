/*
 * test_collectors_sys.c - the system-information collectors (uname, time, filefd,
 * pressure, entropy, os, timex) against the fixture trees procfs-sys, sysfs-sys
 * and rootfs-sys, compared with tests/fixtures/golden/<collector>-*.txt.
 *
 * uname(2), adjtimex(2) and clock_gettime(2) are replaced at link time
 * (-Wl,--wrap, see the Makefile): each wrapper calls the real one unless the
 * test has set a fake result, so both the shape on this host and exact values
 * on fixed inputs are checked.
 */
#include <fcntl.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <time.h>

#include "collector_harness.h"

#define PROCFS_SYS FIXTURES "/procfs-sys"
#define SYSFS_SYS  FIXTURES "/sysfs-sys"
#define ROOTFS_SYS FIXTURES "/rootfs-sys"

/* ---- link-time fakes (the __wrap_/__real_ names are the linker's) ---- */

int __real_uname(struct utsname *u);
int __wrap_uname(struct utsname *u);
int __real_adjtimex(struct timex *t);
int __wrap_adjtimex(struct timex *t);
int __real_clock_gettime(clockid_t id, struct timespec *ts);
int __wrap_clock_gettime(clockid_t id, struct timespec *ts);

static const struct utsname *fake_uts;
static const struct timex *fake_timex;
static int fake_timex_state; /* adjtimex's return value, or -errno */
static const struct timespec *fake_realtime;

int __wrap_uname(struct utsname *u)
{
	if (!fake_uts)
		return __real_uname(u);
	*u = *fake_uts;
	return 0;
}

int __wrap_adjtimex(struct timex *t)
{
	if (!fake_timex && fake_timex_state == 0)
		return __real_adjtimex(t);
	if (fake_timex_state < 0) {
		errno = -fake_timex_state;
		return -1;
	}
	*t = *fake_timex;
	return fake_timex_state;
}

int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	if (!fake_realtime || id != CLOCK_REALTIME)
		return __real_clock_gettime(id, ts);
	*ts = *fake_realtime;
	return 0;
}

static int reset_fakes(void **unused)
{
	(void)unused;
	fake_uts = NULL;
	fake_timex = NULL;
	fake_timex_state = 0;
	fake_realtime = NULL;
	return 0;
}

/* ---- running with a rootfs ---- */

static void run_open_roots(struct run *r, const char *name, const char *procfs, const char *sysfs,
			   const char *rootfs)
{
	const struct collector_env env = { .procfs = procfs, .sysfs = sysfs, .rootfs = rootfs };
	run_open_env(r, name, &env, NULL);
}

static void expect_golden_roots(const char *name, const char *procfs, const char *sysfs,
				const char *rootfs, const char *golden)
{
	struct run r;
	run_open_roots(&r, name, procfs, sysfs, rootfs);
	expect_golden_run(&r, golden);
}

/* Runs one cycle of a collector on dir (as procfs, sysfs and rootfs) and
 * compares the series with want. */
static void expect_on_tree(const char *name, const char *dir, const char *want)
{
	struct run r;
	run_open_roots(&r, name, dir, dir, dir);
	expect_cycle(&r, want);
	run_close(&r);
}

/* The number of "# TYPE" lines of a dump with headers. */
static size_t count_families(const char *dump)
{
	size_t n = 0;
	for (const char *p = strstr(dump, "# TYPE "); p; p = strstr(p + 1, "# TYPE "))
		n++;
	return n;
}

/* ---- file-based collectors on fixture trees ---- */

static void test_filefd_reports_allocated_and_maximum_like_node_exporter(void **unused)
{
	(void)unused;
	expect_golden("filefd", PROCFS_SYS, NO_SUCH_DIR, "filefd-sys.txt");
}

static void test_entropy_reports_available_and_pool_size_bits(void **unused)
{
	(void)unused;
	expect_golden("entropy", PROCFS_SYS, NO_SUCH_DIR, "entropy-sys.txt");
}

static void test_pressure_reports_waiting_and_stalled_seconds_per_resource(void **unused)
{
	(void)unused;
	expect_golden("pressure", PROCFS_SYS, NO_SUCH_DIR, "pressure-sys.txt");
}

static void test_os_reads_etc_os_release_in_preference_to_usr_lib(void **unused)
{
	(void)unused;
	expect_golden_roots("os", NO_SUCH_DIR, NO_SUCH_DIR, ROOTFS_SYS, "os-sys.txt");
}

/* ---- os ---- */

static const char os_info_empty[] =
    "node_os_info{build_id=\"\",id=\"\",id_like=\"\",image_id=\"\",image_version=\"\","
    "name=\"\",pretty_name=\"\",variant=\"\",variant_id=\"\",version=\"\","
    "version_codename=\"\",version_id=\"\"} 1\n";

static void test_os_falls_back_to_usr_lib_os_release(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	write_file(dir, "usr/lib/os-release",
		   "ID=alpine\nVERSION_ID=3.18.4\nNAME=\"Alpine Linux\"\n");
	expect_on_tree(
	    "os", dir,
	    "node_os_info{build_id=\"\",id=\"alpine\",id_like=\"\",image_id=\"\","
	    "image_version=\"\",name=\"Alpine Linux\",pretty_name=\"\",variant=\"\","
	    "variant_id=\"\",version=\"\",version_codename=\"\",version_id=\"3.18.4\"} 1\n"
	    "node_os_version{id=\"alpine\",id_like=\"\",name=\"Alpine Linux\"} 3.18\n");
	remove_tree(dir);
}

/* node_os_info's series for a file whose only key is NAME=name. */
static char *os_info_named(const char *name)
{
	char *s;
	assert_true(
	    asprintf(&s,
		     "node_os_info{build_id=\"\",id=\"\",id_like=\"\",image_id=\"\","
		     "image_version=\"\",name=\"%s\",pretty_name=\"\",variant=\"\","
		     "variant_id=\"\",version=\"\",version_codename=\"\",version_id=\"\"} 1\n",
		     name) > 0);
	return s;
}

static void test_os_values_unquote_like_node_exporters_parser(void **unused)
{
	(void)unused;
	static const struct {
		const char *file, *name; /* name: NAME's value as rendered */
	} cases[] = {
		{ "NAME=plain\n", "plain" },
		{ "NAME=\"double quoted\"\n", "double quoted" },
		{ "NAME='single $quoted \\n'\n", "single $quoted \\\\n" },
		{ "NAME=\"a\\\"b\\\\c\\nd\\te\\$f\"\n", "a\\\"b\\\\c\\nd\te$f" },
		{ "  export   NAME =  spaced out   \n", "spaced out" },
		{ "NAME=value # a comment\n", "value" },
		{ "NAME=\"quoted # not a comment\"\n", "quoted # not a comment" },
		{ "NAME=con\"cat\"'enated'\n", "concatenated" },
		{ "NAME=first\nNAME=second\n", "second" },
		{ "NAME=kept\nNAME=\"unterminated\n", "kept" },
		{ "NAME=kept\nNAME='unterminated\n", "kept" },
		{ "NAME=kept\nNAME=\"bad \\q escape\"\n", "kept" },
		{ "NAME=kept\nNAME=\"control \x01 char\"\n", "kept" },
		{ "NAME=kept\nNAME=\"bad utf-8 \xff\"\n", "kept" },
		{ "NAME=\"utf-8 \xc3\xa9t\xc3\xa9\"\n", "utf-8 \xc3\xa9t\xc3\xa9" },
		{ "# comment\n\nno equals sign\n=no key\nNAME=ok\r\n", "ok" },
		{ "NAME=\n", "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *dir = make_tree();
		char *want = os_info_named(cases[i].name);
		struct run r;
		char *dump;
		write_file(dir, "etc/os-release", cases[i].file);
		run_open_roots(&r, "os", dir, dir, dir);
		assert_int_equal(run_cycle(&r, &dump), 0);
		if (strcmp(dump, want) != 0)
			fail_msg("case %zu: got\n%swant\n%s", i, dump, want);
		free(dump);
		free(want);
		run_close(&r);
		remove_tree(dir);
	}
}

static void test_os_version_is_the_major_minor_of_version_id(void **unused)
{
	(void)unused;
	static const struct {
		const char *version_id, *want; /* want: node_os_version's value, or NULL */
	} cases[] = {
		{ "12", "12" },       { "22.04", "22.04" }, { "3.18.4", "3.18" }, { "8.", "8" },
		{ "10.0beta", "10" }, { "rolling", NULL },  { "0", NULL },        { "", NULL },
		{ "v12", NULL },      { "0.5", "0.5" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *dir = make_tree(), *file, *dump;
		struct run r;
		assert_true(asprintf(&file, "ID=x\nVERSION_ID=\"%s\"\n", cases[i].version_id) > 0);
		write_file(dir, "etc/os-release", file);
		run_open_roots(&r, "os", dir, dir, dir);
		assert_int_equal(run_cycle(&r, &dump), 0);
		const char *line = strstr(dump,
					  "node_os_version{id=\"x\",id_like=\"\",name=\"\"} ");
		if (!cases[i].want && line)
			fail_msg("VERSION_ID=%s: unexpected %s", cases[i].version_id, line);
		if (cases[i].want) {
			char want[64];
			snprintf(want, sizeof want, "} %s\n", cases[i].want);
			if (!line || strcmp(strchr(line, '}'), want) != 0)
				fail_msg("VERSION_ID=%s: got\n%s", cases[i].version_id, dump);
		}
		free(dump);
		free(file);
		run_close(&r);
		remove_tree(dir);
	}
}

static void set_mtime(const char *dir, const char *rel, time_t sec)
{
	char path[512];
	struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_os_rereads_the_file_only_when_it_changed(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	char *aaa = os_info_named("aaa"), *bbb = os_info_named("bbb"), *cc = os_info_named("cc");
	struct run r;

	write_file(dir, "etc/os-release", "NAME=aaa\n");
	set_mtime(dir, "etc/os-release", 1000000000);
	run_open_roots(&r, "os", dir, dir, dir);
	expect_cycle(&r, aaa);
	/* Same inode, size and mtime: the parsed copy is reused, not the file. */
	write_file(dir, "etc/os-release", "NAME=bbb\n");
	set_mtime(dir, "etc/os-release", 1000000000);
	expect_cycle(&r, aaa);
	set_mtime(dir, "etc/os-release", 1000000001);
	expect_cycle(&r, bbb);
	write_file(dir, "etc/os-release", "NAME=cc\n");
	expect_cycle(&r, cc);
	/* Removed: the fallback, then nothing. */
	char path[512];
	snprintf(path, sizeof path, "%s/etc/os-release", dir);
	unlink(path);
	write_file(dir, "usr/lib/os-release", "NAME=bbb\n");
	expect_cycle(&r, bbb);
	snprintf(path, sizeof path, "%s/usr/lib/os-release", dir);
	unlink(path);
	expect_cycle(&r, "");
	write_file(dir, "etc/os-release", "NAME=aaa\n");
	expect_cycle(&r, aaa);
	run_close(&r);
	free(aaa);
	free(bbb);
	free(cc);
	remove_tree(dir);
}

static void test_os_skips_values_longer_than_a_label_may_be(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	size_t junk = 300000, id = LABEL_VALUE_MAX + 1;
	char *content = malloc(junk + id + 64), *want = os_info_named("short");
	assert_non_null(content);
	/* An unknown key with a very long value, then a known one too long to be a label. */
	char *p = content;
	p += sprintf(p, "JUNK=");
	memset(p, 'x', junk);
	p += junk;
	p += sprintf(p, "\nNAME=short\nID=");
	memset(p, 'y', id);
	p += id;
	sprintf(p, "\n");
	write_file(dir, "etc/os-release", content);
	expect_on_tree("os", dir, want);
	free(content);
	free(want);
	remove_tree(dir);
}

/* ---- time ---- */

static void test_time_reports_clock_zone_and_clocksources(void **unused)
{
	(void)unused;
	static const struct timespec now = { 1700000000, 250000000 };
	fake_realtime = &now;
	setenv("TZ", "XYZ-3", 1);
	expect_golden_roots("time", NO_SUCH_DIR, SYSFS_SYS, NO_SUCH_DIR, "time-sys.txt");
	unsetenv("TZ");
}

static void test_time_reads_the_real_clock(void **unused)
{
	(void)unused;
	struct timespec before, after;
	struct run r;
	char *dump;
	double v = 0;

	setenv("TZ", "UTC", 1);
	run_open_roots(&r, "time", NO_SUCH_DIR, NO_SUCH_DIR, NO_SUCH_DIR);
	clock_gettime(CLOCK_REALTIME, &before);
	assert_int_equal(run_cycle(&r, &dump), 0);
	clock_gettime(CLOCK_REALTIME, &after);
	assert_int_equal(sscanf(dump, "node_time_seconds %lf\n", &v), 1);
	assert_true(v >= (double)before.tv_sec && v <= (double)after.tv_sec + 1);
	assert_non_null(strstr(dump, "node_time_zone_offset_seconds{time_zone=\"UTC\"} 0\n"));
	assert_null(strstr(dump, "clocksource"));
	free(dump);
	run_close(&r);
	unsetenv("TZ");
}

static void test_time_finds_clocksources_that_appear_later(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	struct run r;
	char *dump;
	run_open_roots(&r, "time", dir, dir, dir);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_null(strstr(dump, "clocksource"));
	free(dump);
	write_file(dir, "devices/system/clocksource/clocksource0/available_clocksource",
		   "kvm-clock tsc kvm-clock\n");
	write_file(dir, "devices/system/clocksource/clocksource0/current_clocksource", "\n");
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump,
			       "node_time_clocksource_available_info{clocksource=\"kvm-clock\","
			       "device=\"0\"} 1\n"
			       "node_time_clocksource_available_info{clocksource=\"tsc\","
			       "device=\"0\"} 1\n"));
	assert_null(strstr(dump, "current_info"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

/* ---- timex ---- */

static void test_timex_scales_like_node_exporter(void **unused)
{
	(void)unused;
	struct timex t;
	memset(&t, 0, sizeof t);
	t.offset = -250000; /* microseconds: STA_NANO is clear */
	t.freq = -1234567;  /* ppm with a 16-bit fraction */
	t.maxerror = 16000;
	t.esterror = 1500;
	t.status = STA_PLL;
	t.constant = 7;
	t.tick = 10000;
	t.ppsfreq = 655360;
	t.jitter = 20;
	t.shift = 2;
	t.stabil = 65536;
	t.jitcnt = 1;
	t.calcnt = 2;
	t.errcnt = 3;
	t.stbcnt = 4;
	t.tai = 37;
	fake_timex = &t;
	fake_timex_state = TIME_OK;
	expect_golden_roots("timex", NO_SUCH_DIR, NO_SUCH_DIR, NO_SUCH_DIR, "timex-micro.txt");

	/* Nanosecond resolution changes offset and jitter only; TIME_ERROR means unsynced. */
	t.status = STA_PLL | STA_NANO | STA_UNSYNC;
	t.offset = 1500000;
	t.jitter = 20000;
	fake_timex_state = TIME_ERROR;
	expect_golden_roots("timex", NO_SUCH_DIR, NO_SUCH_DIR, NO_SUCH_DIR, "timex-nano.txt");
}

static void test_timex_real_call_gives_every_family(void **unused)
{
	(void)unused;
	struct run r;
	char *dump;
	double tick = 0, ratio = 0;
	run_open_roots(&r, "timex", NO_SUCH_DIR, NO_SUCH_DIR, NO_SUCH_DIR);
	assert_int_equal(run_cycle_dump(&r, &dump, true), 0);
	assert_int_equal(count_families(dump), 17);
	const char *p = strstr(dump, "\nnode_timex_tick_seconds ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "\nnode_timex_tick_seconds %lf", &tick), 1);
	assert_true(tick > 0 && tick < 1);
	p = strstr(dump, "\nnode_timex_frequency_adjustment_ratio ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "\nnode_timex_frequency_adjustment_ratio %lf", &ratio), 1);
	assert_true(ratio > 0.99 && ratio < 1.01);
	free(dump);
	run_close(&r);
}

static void test_timex_not_permitted_gives_nothing_and_other_errors_fail(void **unused)
{
	(void)unused;
	struct run r;
	char *dump;
	run_open_roots(&r, "timex", NO_SUCH_DIR, NO_SUCH_DIR, NO_SUCH_DIR);
	fake_timex_state = -EPERM;
	expect_cycle(&r, "");
	fake_timex_state = -EINVAL;
	assert_int_equal(run_cycle(&r, &dump), -EINVAL);
	assert_string_equal(dump, "");
	assert_non_null(strstr(r.err, "adjtimex() failed"));
	free(dump);
	run_close(&r);
}

/* ---- uname ---- */

static void test_uname_labels_every_field(void **unused)
{
	(void)unused;
	struct utsname u;
	memset(&u, 0, sizeof u);
	strcpy(u.sysname, "Linux");
	strcpy(u.nodename, "host-1.example");
	strcpy(u.release, "6.1.0-13-amd64");
	strcpy(u.version, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)");
	strcpy(u.machine, "x86_64");
	strcpy(u.domainname, "(none)");
	fake_uts = &u;
	expect_golden_roots("uname", NO_SUCH_DIR, NO_SUCH_DIR, NO_SUCH_DIR, "uname-sys.txt");
}

static void test_uname_reports_this_host(void **unused)
{
	(void)unused;
	struct utsname u;
	struct run r;
	char *dump, *want;
	assert_int_equal(uname(&u), 0);
	assert_true(asprintf(&want,
			     "node_uname_info{domainname=\"%s\",machine=\"%s\",nodename=\"%s\","
			     "release=\"%s\",sysname=\"%s\",version=\"%s\"} 1\n",
			     u.domainname, u.machine, u.nodename, u.release, u.sysname,
			     u.version) > 0);
	run_open_roots(&r, "uname", NO_SUCH_DIR, NO_SUCH_DIR, NO_SUCH_DIR);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_string_equal(dump, want);
	free(dump);
	free(want);
	run_close(&r);
}

/* ---- edges ---- */

static const char *const file_collectors[] = { "filefd", "pressure", "entropy", "os" };
#define N_FILE_COLLECTORS (sizeof file_collectors / sizeof file_collectors[0])

static void test_missing_files_are_skipped_quietly(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < N_FILE_COLLECTORS; i++)
		expect_on_tree(file_collectors[i], NO_SUCH_DIR, "");
}

static void test_zero_length_files_give_no_series_and_no_error(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	write_file(dir, "sys/fs/file-nr", "");
	write_file(dir, "sys/kernel/random/entropy_avail", "");
	write_file(dir, "sys/kernel/random/poolsize", "");
	write_file(dir, "pressure/cpu", "");
	write_file(dir, "pressure/io", "");
	write_file(dir, "pressure/memory", "");
	write_file(dir, "devices/system/clocksource/clocksource0/available_clocksource", "");
	write_file(dir, "devices/system/clocksource/clocksource0/current_clocksource", "");
	for (size_t i = 0; i < N_FILE_COLLECTORS; i++)
		if (strcmp(file_collectors[i], "os") != 0)
			expect_on_tree(file_collectors[i], dir, "");
	/* An empty os-release exists: node_exporter reports it with empty labels. */
	write_file(dir, "etc/os-release", "");
	expect_on_tree("os", dir, os_info_empty);
	struct run r;
	char *dump;
	run_open_roots(&r, "time", dir, dir, dir);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_null(strstr(dump, "clocksource"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

static void test_an_unreadable_file_fails_the_collection_with_its_path(void **unused)
{
	(void)unused;
	static const char *const files[] = { "sys/fs/file-nr", "pressure/io",
					     "sys/kernel/random/poolsize", "etc/os-release" };
	for (size_t i = 0; i < N_FILE_COLLECTORS; i++) {
		char *dir = make_tree();
		char path[512];
		struct run r;
		char *dump;
		/* A directory opens but cannot be read, even by root. */
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		write_file(dir, files[i], "");
		unlink(path);
		mkdir(path, 0755);
		run_open_roots(&r, file_collectors[i], dir, dir, dir);
		assert_int_equal(run_cycle(&r, &dump), -EISDIR);
		if (!strstr(r.err, path))
			fail_msg("%s: \"%s\" does not name %s", file_collectors[i], r.err, path);
		free(dump);
		run_close(&r);
		remove_tree(dir);
	}
}

static const struct edge_case edge_cases[] = {
	{ "filefd", "sys/fs/file-nr", "abc\t0\t5\n", "node_filefd_maximum 5\n" },
	{ "filefd", "sys/fs/file-nr", "7\n", "node_filefd_allocated 7\n" },
	{ "filefd", "sys/fs/file-nr", "7 0 99999999999999999999999\n",
	  "node_filefd_allocated 7\n" },
	{ "filefd", "sys/fs/file-nr", "\n1 0 2\n", "" },
	{ "entropy", "sys/kernel/random/entropy_avail", "12 34\n", "" },
	{ "entropy", "sys/kernel/random/entropy_avail", "-1\n", "" },
	{ "entropy", "sys/kernel/random/entropy_avail", "  3071  \n",
	  "node_entropy_available_bits 3071\n" },
	{ "pressure", "pressure/memory",
	  "partial avg10=0.00 total=5\n"
	  "some avg10=0.00 avg60=0.00 avg300=0.00\n" /* no total: skipped */
	  "some total=12abc\n"
	  "some avg10=0.00 avg60=0.00 avg300=0.00 total=2500000 extra=1\n"
	  "some total=1\n" /* a repeat keeps the first */
	  "full total=-4\n"
	  "\n",
	  "node_pressure_memory_waiting_seconds_total 2.5\n" },
	{ "pressure", "pressure/cpu", "some total=1000000\nfull total=5000000\n",
	  "node_pressure_cpu_waiting_seconds_total 1\n" },
};

static void open_with_rootfs(struct run *r, const char *collector, const char *dir)
{
	run_open_roots(r, collector, dir, dir, dir);
}

static void test_unknown_lines_and_garbage_numbers_are_skipped(void **unused)
{
	(void)unused;
	expect_edge_cases(edge_cases, sizeof edge_cases / sizeof edge_cases[0], open_with_rootfs);
}

static void test_very_long_lines_are_read_whole(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	size_t n = 200000;
	char *content = malloc(n * 2 + 128);
	assert_non_null(content);
	char *p = content + sprintf(content, "some avg10=0.00");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, " x");
	sprintf(p, " total=3000000\n");
	write_file(dir, "pressure/io", content);
	expect_on_tree("pressure", dir, "node_pressure_io_waiting_seconds_total 3\n");
	free(content);
	remove_tree(dir);
}

static void test_pressure_files_that_appear_later_are_picked_up(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	struct run r;
	run_open_roots(&r, "pressure", dir, dir, dir);
	expect_cycle(&r, "");
	write_file(dir, "pressure/cpu", "some total=1000000\n");
	expect_cycle(&r, "node_pressure_cpu_waiting_seconds_total 1\n");
	write_file(dir, "pressure/cpu", "some total=2000000\n");
	expect_cycle(&r, "node_pressure_cpu_waiting_seconds_total 2\n");
	run_close(&r);
	remove_tree(dir);
}

static void test_my_collectors_are_registered_and_enabled_by_default(void **unused)
{
	(void)unused;
	static const char *const names[] = { "uname",   "time", "filefd", "pressure",
					     "entropy", "os",   "timex" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const struct collector_def *d = collector_find(names[i]);
		assert_non_null(d);
		assert_true(d->enabled_by_default);
	}
}

#define T(f) cmocka_unit_test_setup(f, reset_fakes)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_filefd_reports_allocated_and_maximum_like_node_exporter),
		T(test_entropy_reports_available_and_pool_size_bits),
		T(test_pressure_reports_waiting_and_stalled_seconds_per_resource),
		T(test_os_reads_etc_os_release_in_preference_to_usr_lib),
		T(test_os_falls_back_to_usr_lib_os_release),
		T(test_os_values_unquote_like_node_exporters_parser),
		T(test_os_version_is_the_major_minor_of_version_id),
		T(test_os_rereads_the_file_only_when_it_changed),
		T(test_os_skips_values_longer_than_a_label_may_be),
		T(test_time_reports_clock_zone_and_clocksources),
		T(test_time_reads_the_real_clock),
		T(test_time_finds_clocksources_that_appear_later),
		T(test_timex_scales_like_node_exporter),
		T(test_timex_real_call_gives_every_family),
		T(test_timex_not_permitted_gives_nothing_and_other_errors_fail),
		T(test_uname_labels_every_field),
		T(test_uname_reports_this_host),
		T(test_missing_files_are_skipped_quietly),
		T(test_zero_length_files_give_no_series_and_no_error),
		T(test_an_unreadable_file_fails_the_collection_with_its_path),
		T(test_unknown_lines_and_garbage_numbers_are_skipped),
		T(test_very_long_lines_are_read_whole),
		T(test_pressure_files_that_appear_later_are_picked_up),
		T(test_my_collectors_are_registered_and_enabled_by_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
