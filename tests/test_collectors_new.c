/*
 * test_collectors_new.c - what node_exporter added to its default collectors
 * after 1.5 (docs/collectors.md, "Since node_exporter 1.5"), on fixture trees
 * shaped like the kernel's files and compared with golden files rendered as a
 * scrape shows them.  Where the family belongs to a collector with a fixture tree
 * already (tests/fixtures/procfs-basic, sysfs-hw, sysfs-t3, ...), the new files
 * live there and the older golden files show the new series too.
 */
#include "collector_harness.h"
#include "../collectors/btrfs.h"

#define PROCFS_BASIC FIXTURES "/procfs-basic"
#define SYSFS_BASIC  FIXTURES "/sysfs-basic"
#define PROCFS_HW    FIXTURES "/procfs-hw"
#define SYSFS_HW     FIXTURES "/sysfs-hw"
#define PROCFS_IO    FIXTURES "/procfs-io"
#define SYSFS_IO     FIXTURES "/sysfs-io"
#define PROCFS_SYS   FIXTURES "/procfs-sys"
#define PROCFS_T3    FIXTURES "/procfs-t3"
#define SYSFS_T3     FIXTURES "/sysfs-t3"

/* Collector options as the agent passes them: "key", "value", ... */
struct opts {
	const char *keys[8], *values[8];
	size_t n;
};

/* Opens collector on the trees with options o (NULL: none). */
static void run_open_opts(struct run *r, const char *collector, const char *procfs,
			  const char *sysfs, const char *rootfs, const struct opts *o)
{
	struct collector_env env = { .procfs = procfs, .sysfs = sysfs, .rootfs = rootfs };
	if (o) {
		env.n_options = o->n;
		env.option_keys = o->keys;
		env.option_values = o->values;
	}
	run_open_env(r, collector, &env, NULL);
}

static void expect_golden_opts(const char *collector, const char *procfs, const char *sysfs,
			       const struct opts *o, const char *golden)
{
	struct run r;
	run_open_opts(&r, collector, procfs, sysfs, NULL, o);
	expect_golden_run(&r, golden);
}

/* The init error of collector with options o (which must be refused). */
static void expect_init_refused(const char *collector, const struct opts *o, const char *has)
{
	struct run r;
	struct collector_env env = { .procfs = NO_SUCH_DIR,
				     .sysfs = NO_SUCH_DIR,
				     .n_options = o->n,
				     .option_keys = o->keys,
				     .option_values = o->values };
	int rc = run_start(&r, collector, &env, NULL);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(r.err, has));
}

/* ---- cpu ---- */

static void test_cpu_info_reports_each_processor_its_frequency_and_filtered_flags(void **unused)
{
	const struct opts o = { { "info", "info.flags-include", "info.bugs-include" },
				{ "true", "^(avx512.*|aes)$", "spectre" },
				3 };
	(void)unused;
	expect_golden_opts("cpu", PROCFS_BASIC, NO_SUCH_DIR, &o, "cpu-info.txt");
}

static void test_cpu_flag_filter_alone_turns_the_info_on(void **unused)
{
	const struct opts o = { { "info.bugs-include" }, { "^bhi$" }, 1 };
	struct run r;
	char *dump;
	(void)unused;
	run_open_opts(&r, "cpu", PROCFS_BASIC, NO_SUCH_DIR, NULL, &o);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "node_cpu_info{cachesize=\"49152 KB\",core=\"1\",cpu=\"3\""));
	assert_non_null(strstr(dump, "node_cpu_bug_info{bug=\"bhi\"} 1\n"));
	assert_null(strstr(dump, "node_cpu_flag_info"));
	free(dump);
	run_close(&r);
}

/* Where the cpufreq collector can report node_cpu_frequency_hertz (a readable
 * cpuinfo_cur_freq), the cpu collector leaves that family to it, as node_exporter
 * reports it from cpuinfo only with cpufreq off. */
static void test_cpu_info_leaves_the_frequency_to_cpufreq(void **unused)
{
	const struct opts o = { { "info" }, { "true" }, 1 };
	struct run r;
	char *dump;
	(void)unused;
	run_open_opts(&r, "cpu", PROCFS_BASIC, SYSFS_HW, NULL, &o);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "node_cpu_info{"));
	assert_null(strstr(dump, "node_cpu_frequency_hertz"));
	free(dump);
	run_close(&r);
}

static void test_cpu_info_is_off_by_default(void **unused)
{
	struct run r;
	char *dump;
	(void)unused;
	run_open(&r, "cpu", PROCFS_BASIC, NO_SUCH_DIR);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_null(strstr(dump, "node_cpu_info"));
	assert_null(strstr(dump, "node_cpu_frequency_hertz"));
	free(dump);
	run_close(&r);
}

static void test_cpu_refuses_a_bad_flag_filter(void **unused)
{
	const struct opts o = { { "info.flags-include" }, { "(" }, 1 };
	(void)unused;
	expect_init_refused("cpu", &o, "info.flags-include");
}

static const struct edge_case cpu_cases[] = {
	{ "cpu", "cpuinfo",
	  /* An arm64 layout: no vendor or MHz lines, "Features" for flags. */
	  "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm\n"
	  "CPU implementer\t: 0x41\n\n"
	  "processor\t: 1\nFeatures\t: fp asimd\n",
	  "node_cpu_info{cachesize=\"\",core=\"\",cpu=\"0\",family=\"\",microcode=\"\",model=\"\","
	  "model_name=\"\",package=\"\",stepping=\"\",vendor=\"\"} 1\n"
	  "node_cpu_info{cachesize=\"\",core=\"\",cpu=\"1\",family=\"\",microcode=\"\",model=\"\","
	  "model_name=\"\",package=\"\",stepping=\"\",vendor=\"\"} 1\n"
	  "node_cpu_flag_info{flag=\"asimd\"} 1\n" },
	{ "cpu", "cpuinfo",
	  /* Garbage and a block without a processor line are skipped. */
	  "no colon here\n\nmodel\t: 1\n\nprocessor : 7\ncpu MHz : fast\n",
	  "node_cpu_info{cachesize=\"\",core=\"\",cpu=\"7\",family=\"\",microcode=\"\",model=\"\","
	  "model_name=\"\",package=\"\",stepping=\"\",vendor=\"\"} 1\n" },
	{ "cpu", "cpuinfo", "", "" },
};

static void open_cpu_info(struct run *r, const char *collector, const char *dir)
{
	const struct opts o = { { "info", "info.flags-include" }, { "true", "^asimd$" }, 2 };
	run_open_opts(r, collector, dir, dir, NULL, &o);
}

static void test_cpu_info_reads_other_layouts_and_skips_what_it_cannot(void **unused)
{
	(void)unused;
	expect_edge_cases(cpu_cases, sizeof cpu_cases / sizeof cpu_cases[0], open_cpu_info);
}

static void test_cpu_online_reports_every_cpu_when_cpu0_can_go_offline(void **unused)
{
	struct run r;
	char *dump;
	(void)unused;
	run_open(&r, "cpu", NO_SUCH_DIR, SYSFS_BASIC);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "node_cpu_online{cpu=\"0\"} 1\n"
				     "node_cpu_online{cpu=\"1\"} 1\n"
				     "node_cpu_online{cpu=\"10\"} 1\n"
				     "node_cpu_online{cpu=\"2\"} 0\n"));
	free(dump);
	run_close(&r);
}

static void test_cpu_online_is_left_out_when_cpu0_has_no_online_file(void **unused)
{
	char *dir = make_tree(), *dump;
	struct run r;
	(void)unused;
	write_file(dir, "devices/system/cpu/cpu1/online", "1\n");
	write_file(dir, "devices/system/cpu/cpu0/topology/core_id", "0\n");
	run_open(&r, "cpu", NO_SUCH_DIR, dir);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_null(strstr(dump, "node_cpu_online"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

/* ---- arp ---- */

/* One cycle of arp on this host, over netlink or from /proc/net/arp. */
static char *arp_on_host(bool netlink)
{
	const struct opts o = { { "netlink" }, { netlink ? "true" : "false" }, 1 };
	struct run r;
	char *dump;
	run_open_opts(&r, "arp", "/proc", "/sys", NULL, &o);
	assert_int_equal(run_cycle(&r, &dump), 0);
	run_close(&r);
	return dump;
}

/* The neighbour table over netlink counts what /proc/net/arp lists. */
static void test_arp_over_netlink_agrees_with_proc_net_arp_on_this_host(void **unused)
{
	(void)unused;
	for (int attempt = 0;; attempt++) {
		char *nl = arp_on_host(true), *proc = arp_on_host(false);
		bool same = strcmp(nl, proc) == 0;
		if (!same && attempt < 2) { /* the table changed between the two reads */
			free(nl);
			free(proc);
			continue;
		}
		assert_string_equal(nl, proc);
		free(nl);
		free(proc);
		break;
	}
}

/* ---- stat ---- */

static void test_stat_softirq_option_reports_calls_per_vector(void **unused)
{
	const struct opts o = { { "softirq" }, { "true" }, 1 };
	(void)unused;
	expect_golden_opts("stat", PROCFS_BASIC, NO_SUCH_DIR, &o, "stat-softirq.txt");
}

/* ---- hwmon ---- */

static void test_hwmon_chip_and_sensor_filters_leave_out_what_they_match(void **unused)
{
	const struct opts o = { { "chip-exclude", "sensor-exclude" },
				{ "^platform_(nct|it87)", "^platform_coretemp_0;temp[23]$" },
				2 };
	struct run r;
	char *dump;
	(void)unused;
	run_open_opts(&r, "hwmon", NO_SUCH_DIR, SYSFS_HW, NULL, &o);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_null(strstr(dump, "chip=\"platform_nct6775_656\""));
	assert_null(strstr(dump, "chip=\"platform_it87_552\""));
	assert_non_null(strstr(dump, "node_hwmon_temp_celsius{chip=\"platform_coretemp_0\","
				     "sensor=\"temp1\"} 55\n"));
	assert_null(strstr(dump, "chip=\"platform_coretemp_0\",sensor=\"temp2\""));
	assert_null(strstr(dump, "sensor=\"temp3\"} 54"));
	/* temp3 of another chip is not matched */
	assert_non_null(strstr(dump, "node_hwmon_temp_celsius{chip=\"pci0000:00_0000:00:18_3\","
				     "sensor=\"temp3\"} 31.125\n"));
	free(dump);
	run_close(&r);
}

static void test_hwmon_include_filters_keep_only_what_they_match(void **unused)
{
	const struct opts o = { { "chip-include", "sensor-include" }, { "^0000", ";freq" }, 2 };
	struct run r;
	char *dump;
	(void)unused;
	run_open_opts(&r, "hwmon", NO_SUCH_DIR, SYSFS_HW, NULL, &o);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_string_equal(dump, "node_hwmon_chip_names{chip=\"0000:00:01_0_0000:01:00_0\","
				  "chip_name=\"amdgpu\"} 1\n"
				  "node_hwmon_freq_freq_mhz{chip=\"0000:00:01_0_0000:01:00_0\","
				  "sensor=\"mclk\"} 1000\n"
				  "node_hwmon_freq_freq_mhz{chip=\"0000:00:01_0_0000:01:00_0\","
				  "sensor=\"sclk\"} 1800\n"
				  "node_hwmon_sensor_label{chip=\"0000:00:01_0_0000:01:00_0\","
				  "label=\"mclk\",sensor=\"freq2\"} 1\n"
				  "node_hwmon_sensor_label{chip=\"0000:00:01_0_0000:01:00_0\","
				  "label=\"sclk\",sensor=\"freq1\"} 1\n");
	free(dump);
	run_close(&r);
}

/* ---- btrfs ---- */

static int btrfs_calls;

/* The ioctls as a mounted fixture filesystem would answer them: /srv (twice, by
 * two mount points) is 0abb23a9-..., two devices with errors; /data refuses. */
static int fake_btrfs_devices(const char *path, struct btrfs_fs_devices *out)
{
	static const unsigned char fsid[16] = { 0x0a, 0xbb, 0x23, 0xa9, 0x57, 0x9b, 0x43, 0xe6,
						0xad, 0x30, 0x22, 0x7e, 0xf4, 0x7f, 0xcb, 0x9d };
	btrfs_calls++;
	if (strstr(path, "/data"))
		return -EPERM;
	if (!strstr(path, "/srv"))
		return -ENOENT;
	memset(out, 0, sizeof *out);
	memcpy(out->fsid, fsid, sizeof fsid);
	out->n = 2;
	snprintf(out->dev[0].path, sizeof out->dev[0].path, "/dev/sdb");
	snprintf(out->dev[1].path, sizeof out->dev[1].path, "/dev/mapper/crypt-c");
	for (int i = 0; i < 16; i++) {
		out->dev[0].uuid[i] = (unsigned char)(0x10 + i);
		out->dev[1].uuid[i] = (unsigned char)(0xa0 + i);
	}
	out->dev[0].total_bytes = 10737418240ULL;
	out->dev[0].bytes_used = 2147483648ULL;
	out->dev[1].total_bytes = 10737418240ULL;
	out->dev[1].bytes_used = 1073741824ULL;
	out->dev[1].errors[1] = 3; /* read */
	out->dev[1].errors[3] = 7; /* corruption */
	return 0;
}

/* Where the ioctls answer, a filesystem's devices come from them (with their
 * uuids, unused bytes and error counters); elsewhere from sysfs. */
static void test_btrfs_reports_device_errors_from_the_ioctls_of_its_mount(void **unused)
{
	char *dir = make_tree();
	struct run r;
	struct collector_env env = { .procfs = dir, .sysfs = SYSFS_T3, .rootfs = "/host" };
	(void)unused;
	write_file(dir, "1/mountinfo",
		   "22 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
		   "40 22 0:45 / /srv rw,relatime - btrfs /dev/sdb rw,space_cache=v2\n"
		   "41 22 0:45 /sub /srv/sub rw,relatime - btrfs /dev/sdb rw,space_cache=v2\n"
		   "42 22 0:46 / /data rw,relatime - btrfs /dev/loop22 rw\n");
	run_open_env(&r, "btrfs", &env, NULL);
	btrfs_set_devices_fn(r.state, fake_btrfs_devices);
	btrfs_calls = 0;
	expect_golden_run(&r, "btrfs-ioctl.txt");
	assert_int_equal(btrfs_calls, 2); /* /srv/sub is the same device */
	remove_tree(dir);
}

/* ---- os ---- */

static const char os_info_fedora[] =
    "node_os_info{build_id=\"\",id=\"fedora\",id_like=\"\",image_id=\"\",image_version=\"\","
    "name=\"Fedora Linux\",pretty_name=\"\",variant=\"\",variant_id=\"\",version=\"\","
    "version_codename=\"\",version_id=\"40\"} 1\n";

static const struct edge_case os_cases[] = {
	{ "os", "etc/os-release",
	  "NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=40\nSUPPORT_END=2028-03-15\n",
	  "node_os_info{build_id=\"\",id=\"fedora\",id_like=\"\",image_id=\"\",image_version=\"\","
	  "name=\"Fedora Linux\",pretty_name=\"\",variant=\"\",variant_id=\"\",version=\"\","
	  "version_codename=\"\",version_id=\"40\"} 1\n"
	  "node_os_support_end_timestamp_seconds 1836691200\n"
	  "node_os_version{id=\"fedora\",id_like=\"\",name=\"Fedora Linux\"} 40\n" },
	{ "os", "etc/os-release",
	  "NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=40\nSUPPORT_END='2024-02-29'\n",
	  "node_os_info{build_id=\"\",id=\"fedora\",id_like=\"\",image_id=\"\",image_version=\"\","
	  "name=\"Fedora Linux\",pretty_name=\"\",variant=\"\",variant_id=\"\",version=\"\","
	  "version_codename=\"\",version_id=\"40\"} 1\n"
	  "node_os_support_end_timestamp_seconds 1709164800\n"
	  "node_os_version{id=\"fedora\",id_like=\"\",name=\"Fedora Linux\"} 40\n" },
	/* Not a date in Go's 2006-01-02 layout: no series. */
	{ "os", "etc/os-release",
	  "NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=40\nSUPPORT_END=2023-02-29\n", NULL },
	{ "os", "etc/os-release",
	  "NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=40\nSUPPORT_END=2028-3-15\n", NULL },
	{ "os", "etc/os-release",
	  "NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=40\nSUPPORT_END=never\n", NULL },
};

static void open_os(struct run *r, const char *collector, const char *dir)
{
	run_open_opts(r, collector, dir, dir, dir, NULL);
}

static void test_os_reports_support_end_as_a_timestamp(void **unused)
{
	static char no_support_end[sizeof os_info_fedora + 128];
	struct edge_case cases[sizeof os_cases / sizeof os_cases[0]];
	(void)unused;
	snprintf(no_support_end, sizeof no_support_end, "%s%s", os_info_fedora,
		 "node_os_version{id=\"fedora\",id_like=\"\",name=\"Fedora Linux\"} 40\n");
	for (size_t i = 0; i < sizeof os_cases / sizeof os_cases[0]; i++) {
		cases[i] = os_cases[i];
		if (!cases[i].expect)
			cases[i].expect = no_support_end;
	}
	expect_edge_cases(cases, sizeof cases / sizeof cases[0], open_os);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_cpu_info_reports_each_processor_its_frequency_and_filtered_flags),
		cmocka_unit_test(test_cpu_flag_filter_alone_turns_the_info_on),
		cmocka_unit_test(test_cpu_info_leaves_the_frequency_to_cpufreq),
		cmocka_unit_test(test_cpu_info_is_off_by_default),
		cmocka_unit_test(test_cpu_refuses_a_bad_flag_filter),
		cmocka_unit_test(test_cpu_info_reads_other_layouts_and_skips_what_it_cannot),
		cmocka_unit_test(test_cpu_online_reports_every_cpu_when_cpu0_can_go_offline),
		cmocka_unit_test(test_cpu_online_is_left_out_when_cpu0_has_no_online_file),
		cmocka_unit_test(test_arp_over_netlink_agrees_with_proc_net_arp_on_this_host),
		cmocka_unit_test(test_stat_softirq_option_reports_calls_per_vector),
		cmocka_unit_test(test_hwmon_chip_and_sensor_filters_leave_out_what_they_match),
		cmocka_unit_test(test_hwmon_include_filters_keep_only_what_they_match),
		cmocka_unit_test(test_os_reports_support_end_as_a_timestamp),
		cmocka_unit_test(test_btrfs_reports_device_errors_from_the_ioctls_of_its_mount),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
