/*
 * test_collectors_hw.c - the tier-2 host collectors (netclass, conntrack, softnet,
 * udp_queues, arp, cpufreq, hwmon, thermal_zone, schedstat) against the fixture
 * trees tests/fixtures/procfs-hw and tests/fixtures/sysfs-hw, shaped like the
 * kernel's files (symlinks included), through collector_harness.h.
 */
#include <sys/resource.h>

#include "collector_harness.h"

#define PROCFS_HW FIXTURES "/procfs-hw"
#define SYSFS_HW  FIXTURES "/sysfs-hw"

static const char *const hw_collectors[] = {
	"netclass", "conntrack", "softnet",      "udp_queues", "arp",
	"cpufreq",  "hwmon",     "thermal_zone", "schedstat",
};
#define N_HW (sizeof hw_collectors / sizeof hw_collectors[0])

/* run_open with options given as on the command line. */
static int run_open_opts(struct run *r, const char *name, const char *procfs, const char *sysfs,
			 const char *const *keys, const char *const *values, size_t n)
{
	const struct collector_env env = { .procfs = procfs,
					   .sysfs = sysfs,
					   .n_options = n,
					   .option_keys = keys,
					   .option_values = values };
	return run_start(r, name, &env, NULL);
}

static void expect_cycle_contains(struct run *r, const char *const *want, size_t n)
{
	char *dump;
	assert_int_equal(run_cycle(r, &dump), 0);
	for (size_t i = 0; i < n; i++)
		if (!strstr(dump, want[i]))
			fail_msg("\"%s\" not in:\n%s", want[i], dump);
	free(dump);
}

static void expect_cycle_lacks(struct run *r, const char *unwanted)
{
	char *dump;
	assert_int_equal(run_cycle(r, &dump), 0);
	if (strstr(dump, unwanted))
		fail_msg("\"%s\" unexpectedly in:\n%s", unwanted, dump);
	free(dump);
}

static void make_link(const char *dir, const char *target, const char *rel)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	assert_int_equal(symlink(target, path), 0);
}

static void remove_rel(const char *dir, const char *rel)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- each collector on the real-shaped trees ---- */

static void test_netclass_reports_sysfs_attributes_of_each_device_like_node_exporter(void **u)
{
	(void)u;
	expect_golden("netclass", PROCFS_HW, SYSFS_HW, "netclass-hw.txt");
}

static void test_conntrack_reports_table_size_limit_and_stats_summed_over_cpus(void **u)
{
	(void)u;
	expect_golden("conntrack", PROCFS_HW, SYSFS_HW, "conntrack-hw.txt");
}

static void test_softnet_reports_hex_counters_per_line(void **u)
{
	(void)u;
	expect_golden("softnet", PROCFS_HW, SYSFS_HW, "softnet-hw.txt");
}

static void test_udp_queues_sums_the_queues_of_ipv4_and_ipv6_sockets(void **u)
{
	(void)u;
	expect_golden("udp_queues", PROCFS_HW, SYSFS_HW, "udp_queues-hw.txt");
}

static void test_arp_counts_entries_per_device(void **u)
{
	(void)u;
	expect_golden("arp", PROCFS_HW, SYSFS_HW, "arp-hw.txt");
}

static void test_cpufreq_reports_frequencies_in_hertz_for_cpus_that_have_cpufreq(void **u)
{
	(void)u;
	expect_golden("cpufreq", PROCFS_HW, SYSFS_HW, "cpufreq-hw.txt");
}

static void test_hwmon_names_chips_and_sensors_and_converts_units_like_node_exporter(void **u)
{
	(void)u;
	expect_golden("hwmon", PROCFS_HW, SYSFS_HW, "hwmon-hw.txt");
}

static void test_thermal_zone_reports_zones_in_celsius_and_cooling_device_states(void **u)
{
	(void)u;
	expect_golden("thermal_zone", PROCFS_HW, SYSFS_HW, "thermal_zone-hw.txt");
}

static void test_schedstat_reports_running_and_waiting_seconds_and_timeslices(void **u)
{
	(void)u;
	expect_golden("schedstat", PROCFS_HW, SYSFS_HW, "schedstat-hw.txt");
}

/* ---- edges common to all ---- */

static void test_missing_files_and_directories_are_skipped_quietly(void **u)
{
	(void)u;
	for (size_t i = 0; i < N_HW; i++) {
		struct run r;
		run_open(&r, hw_collectors[i], NO_SUCH_DIR, NO_SUCH_DIR);
		expect_cycle(&r, "");
		expect_cycle(&r, "");
		run_close(&r);
	}
}

static void test_zero_length_files_give_no_series_and_no_error(void **u)
{
	(void)u;
	static const char *const files[] = {
		"net/arp",
		"net/softnet_stat",
		"net/stat/nf_conntrack",
		"sys/net/netfilter/nf_conntrack_count",
		"sys/net/netfilter/nf_conntrack_max",
		"schedstat",
		"class/thermal/thermal_zone0/temp",
		"class/thermal/thermal_zone0/type",
		"class/hwmon/hwmon0/temp1_input",
		"class/hwmon/hwmon0/name",
		"devices/system/cpu/cpu0/cpufreq/scaling_cur_freq",
	};
	char *dir = make_tree();
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		write_file(dir, files[i], "");
	for (size_t i = 0; i < N_HW; i++) {
		struct run r;
		if (strcmp(hw_collectors[i], "netclass") == 0 ||
		    strcmp(hw_collectors[i], "udp_queues") == 0 ||
		    strcmp(hw_collectors[i], "hwmon") == 0)
			continue; /* empty files still make series there: below */
		run_open(&r, hw_collectors[i], dir, dir);
		expect_cycle(&r, "");
		run_close(&r);
	}
	/* A chip whose only value is empty still has a name; no sensor series. */
	struct run r;
	run_open(&r, "hwmon", dir, dir);
	expect_cycle(&r, "");
	run_close(&r);
	/* Empty socket tables: the queues are empty, not unknown. */
	write_file(dir, "net/udp", "");
	run_open(&r, "udp_queues", dir, dir);
	expect_cycle(&r, "node_udp_queues{ip=\"v4\",queue=\"rx\"} 0\n"
			 "node_udp_queues{ip=\"v4\",queue=\"tx\"} 0\n");
	run_close(&r);
	remove_tree(dir);
}

static void test_an_unreadable_proc_file_fails_the_collection_with_its_path(void **u)
{
	(void)u;
	static const struct {
		const char *collector, *file;
	} cases[] = {
		{ "arp", "net/arp" },         { "softnet", "net/softnet_stat" },
		{ "udp_queues", "net/udp" },  { "conntrack", "net/stat/nf_conntrack" },
		{ "schedstat", "schedstat" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *dir = make_tree(), path[512], *dump;
		struct run r;
		snprintf(path, sizeof path, "%s/%s", dir, cases[i].file);
		write_file(dir, cases[i].file, "");
		remove(path);
		mkdir(path, 0755); /* a directory opens but cannot be read */
		run_open(&r, cases[i].collector, dir, dir);
		assert_int_equal(run_cycle(&r, &dump), -EISDIR);
		assert_non_null(strstr(r.err, path));
		free(dump);
		run_close(&r);
		remove_tree(dir);
	}
}

static const struct edge_case edge_cases[] = {
	{ "arp", "net/arp",
	  "IP address       HW type     Flags       HW address            Mask     Device\n"
	  "10.0.0.1 0x1 0x2 aa:bb:cc:dd:ee:ff * eth0\n"
	  "garbage\n"
	  "10.0.0.2 0x1 0x2 aa:bb:cc:dd:ee:fe *\n" /* no device column */
	  "\n"
	  "10.0.0.3 0x1 0x2 aa:bb:cc:dd:ee:fd * eth0\n",
	  "node_arp_entries{device=\"eth0\"} 2\n" },
	{ "softnet", "net/softnet_stat",
	  "0000000a 00000001 00000002 0 0 0 0 0 0\n"
	  "zzzzzzzz 00000001 00000002 0 0 0 0 0 0\n" /* not hex: line 1 is left out */
	  "0000000b 00000000 00000000\n"             /* too short */
	  /* a newer kernel's line: the 13th column is the CPU number */
	  "0000000c 00000003 00000004 0 0 0 0 0 5 6 7 8 00000009 0 0 0 0\n",
	  "node_softnet_processed_total{cpu=\"0\"} 10\n"
	  "node_softnet_processed_total{cpu=\"9\"} 12\n"
	  "node_softnet_dropped_total{cpu=\"0\"} 1\n"
	  "node_softnet_dropped_total{cpu=\"9\"} 3\n"
	  "node_softnet_times_squeezed_total{cpu=\"0\"} 2\n"
	  "node_softnet_times_squeezed_total{cpu=\"9\"} 4\n"
	  "node_softnet_cpu_collision_total{cpu=\"0\"} 0\n"
	  "node_softnet_cpu_collision_total{cpu=\"9\"} 5\n"
	  "node_softnet_received_rps_total{cpu=\"9\"} 6\n"
	  "node_softnet_flow_limit_count_total{cpu=\"9\"} 7\n"
	  "node_softnet_backlog_len{cpu=\"9\"} 8\n" },
	{ "udp_queues", "net/udp",
	  "  sl  local_address rem_address   st tx_queue rx_queue tr\n"
	  "   1: 00000000:0001 00000000:0000 07 00000010:00000020 00:00000000\n"
	  "   2: 00000000:0002 00000000:0000 07 0000001x:00000020 00:00000000\n"
	  "   3: short\n"
	  "junk junk junk junk 1:2\n"
	  "   4: 00000000:0003 00000000:0000 07 00000001:00000002 00:00000000\n",
	  "node_udp_queues{ip=\"v4\",queue=\"rx\"} 34\n"
	  "node_udp_queues{ip=\"v4\",queue=\"tx\"} 17\n" },
	{ "conntrack", "net/stat/nf_conntrack",
	  "entries searched found new invalid ignore delete delete_list insert insert_failed "
	  "drop early_drop icmp_error expect_new expect_create expect_delete\n"
	  "00000001 00000000 00000005 0 00000001 0 0 0 00000002 0 0 0 0 0 0 0\n"
	  "not hex at all\n"
	  "00000001 00000000 00000005 0 00000001 0 0 0 00000002 0 0 0 0 0 0 0\n",
	  /* an older kernel without search_restart: that family is left out */
	  "node_nf_conntrack_stat_found 10\n"
	  "node_nf_conntrack_stat_invalid 2\n"
	  "node_nf_conntrack_stat_ignore 0\n"
	  "node_nf_conntrack_stat_insert 4\n"
	  "node_nf_conntrack_stat_insert_failed 0\n"
	  "node_nf_conntrack_stat_drop 0\n"
	  "node_nf_conntrack_stat_early_drop 0\n" },
	{ "conntrack", "sys/net/netfilter/nf_conntrack_count", "twelve\n", "" },
	{ "schedstat", "schedstat",
	  "version 15\n"
	  "timestamp 4295166342\n"
	  "cpu0 0 0 0 0 0 0 2000000000 500000000 7\n"
	  "cpu1 0 0 0 0 0 0 1\n" /* too short */
	  "cpux 0 0 0 0 0 0 1 2 3\n"
	  "cpu2 0 0 0 0 0 0 1000000000 0 1 and more\n"
	  "domain0 00000003 1 2 3\n",
	  "node_schedstat_running_seconds_total{cpu=\"0\"} 2\n"
	  "node_schedstat_running_seconds_total{cpu=\"2\"} 1\n"
	  "node_schedstat_waiting_seconds_total{cpu=\"0\"} 0.5\n"
	  "node_schedstat_waiting_seconds_total{cpu=\"2\"} 0\n"
	  "node_schedstat_timeslices_total{cpu=\"0\"} 7\n"
	  "node_schedstat_timeslices_total{cpu=\"2\"} 1\n" },
	{ "thermal_zone", "class/thermal/thermal_zone3/temp", "hot\n", "" },
	{ "cpufreq", "devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "<unknown>\n", "" },
};

/* A thermal zone's temperature is read only when the zone has a type. */
static void open_hw(struct run *r, const char *collector, const char *dir)
{
	if (strcmp(collector, "thermal_zone") == 0)
		write_file(dir, "class/thermal/thermal_zone3/type", "acpitz\n");
	run_open(r, collector, dir, dir);
}

static void test_unknown_lines_and_garbage_values_are_skipped(void **u)
{
	(void)u;
	expect_edge_cases(edge_cases, sizeof edge_cases / sizeof edge_cases[0], open_hw);
}

static char *repeat(const char *unit, size_t times)
{
	size_t n = strlen(unit);
	char *s = malloc(n * times + 1);
	assert_non_null(s);
	for (size_t i = 0; i < times; i++)
		memcpy(s + i * n, unit, n);
	s[n * times] = '\0';
	return s;
}

static void test_very_long_lines_are_read_whole(void **u)
{
	(void)u;
	char *dir = make_tree(), *content, *numbers = repeat(" 12345678", 40000);
	struct run r;

	assert_true(asprintf(&content, "version 15\ndomain0 3%s\ncpu0 0 0 0 0 0 0 3000000000 0 9\n",
			     numbers) > 0);
	write_file(dir, "schedstat", content);
	free(content);
	run_open(&r, "schedstat", dir, dir);
	expect_cycle(&r, "node_schedstat_running_seconds_total{cpu=\"0\"} 3\n"
			 "node_schedstat_waiting_seconds_total{cpu=\"0\"} 0\n"
			 "node_schedstat_timeslices_total{cpu=\"0\"} 9\n");
	run_close(&r);

	/* A device name too long to be a real one does not stop the next line. */
	char *longname = repeat("x", 100000);
	assert_true(asprintf(&content,
			     "IP address HW type Flags HW address Mask Device\n"
			     "1.2.3.4 0x1 0x2 aa * %s\n1.2.3.5 0x1 0x2 aa * eth1\n",
			     longname) > 0);
	free(longname);
	write_file(dir, "net/arp", content);
	free(content);
	run_open(&r, "arp", dir, dir);
	expect_cycle(&r, "node_arp_entries{device=\"eth1\"} 1\n");
	run_close(&r);

	free(numbers);
	remove_tree(dir);
}

/* ---- devices coming and going ---- */

static void add_netdev(const char *dir, const char *name, const char *mtu)
{
	char rel[256];
	snprintf(rel, sizeof rel, "class/net/%s/mtu", name);
	write_file(dir, rel, mtu);
	snprintf(rel, sizeof rel, "class/net/%s/operstate", name);
	write_file(dir, rel, "up\n");
}

static void test_netclass_devices_appear_and_disappear_between_cycles(void **u)
{
	(void)u;
	char *dir = make_tree();
	struct run r;

	add_netdev(dir, "eth0", "1500\n");
	run_open(&r, "netclass", dir, dir);
	const char *one[] = { "node_network_mtu_bytes{device=\"eth0\"} 1500\n" };
	expect_cycle_contains(&r, one, 1);
	add_netdev(dir, "eth1", "9000\n");
	const char *two[] = { "node_network_mtu_bytes{device=\"eth0\"} 1500\n"
			      "node_network_mtu_bytes{device=\"eth1\"} 9000\n" };
	expect_cycle_contains(&r, two, 1);
	remove_rel(dir, "class/net/eth0");
	expect_cycle_lacks(&r, "eth0");
	/* a new device under an old name: its own values, not the old ones */
	add_netdev(dir, "eth0", "1280\n");
	const char *back[] = { "node_network_mtu_bytes{device=\"eth0\"} 1280\n" };
	expect_cycle_contains(&r, back, 1);
	/* a value that changes is read afresh each cycle */
	write_file(dir, "class/net/eth1/mtu", "1400\n");
	const char *changed[] = { "node_network_mtu_bytes{device=\"eth1\"} 1400\n" };
	expect_cycle_contains(&r, changed, 1);
	remove_rel(dir, "class/net");
	expect_cycle(&r, "");
	run_close(&r);
	remove_tree(dir);
}

static void test_hwmon_chips_appear_and_disappear_between_cycles(void **u)
{
	(void)u;
	char *dir = make_tree();
	struct run r;

	run_open(&r, "hwmon", dir, dir);
	expect_cycle(&r, "");
	write_file(dir, "devices/virtual/hwmon/hwmon7/name", "acpitz\n");
	write_file(dir, "devices/virtual/hwmon/hwmon7/temp1_input", "30000\n");
	write_file(dir, "class/hwmon/.keep", "");
	make_link(dir, "../../devices/virtual/hwmon/hwmon7", "class/hwmon/hwmon7");
	const char *seen[] = { "node_hwmon_chip_names{chip=\"acpitz\",chip_name=\"acpitz\"} 1\n",
			       "node_hwmon_temp_celsius{chip=\"acpitz\",sensor=\"temp1\"} 30\n" };
	expect_cycle_contains(&r, seen, 2);
	remove_rel(dir, "class/hwmon/hwmon7");
	expect_cycle(&r, "");
	run_close(&r);
	remove_tree(dir);
}

static void test_thermal_zones_appear_and_disappear_between_cycles(void **u)
{
	(void)u;
	char *dir = make_tree();
	struct run r;

	write_file(dir, "class/thermal/thermal_zone0/type", "acpitz\n");
	write_file(dir, "class/thermal/thermal_zone0/temp", "25000\n");
	run_open(&r, "thermal_zone", dir, dir);
	expect_cycle(&r, "node_thermal_zone_temp{type=\"acpitz\",zone=\"0\"} 25\n");
	write_file(dir, "class/thermal/cooling_device0/type", "Fan\n");
	write_file(dir, "class/thermal/cooling_device0/cur_state", "1\n");
	write_file(dir, "class/thermal/cooling_device0/max_state", "2\n");
	remove_rel(dir, "class/thermal/thermal_zone0");
	expect_cycle(&r, "node_cooling_device_cur_state{name=\"0\",type=\"Fan\"} 1\n"
			 "node_cooling_device_max_state{name=\"0\",type=\"Fan\"} 2\n");
	run_close(&r);
	remove_tree(dir);
}

/* ---- options ---- */

static void test_netclass_ignored_devices_and_invalid_speed_follow_the_options(void **u)
{
	(void)u;
	static const char *const keys[] = { "ignored-devices", "ignore-invalid-speed" };
	static const char *const values[] = { "^(lo|ifb[0-9]+)$", "true" };
	struct run r;
	char *dump;

	assert_int_equal(run_open_opts(&r, "netclass", PROCFS_HW, SYSFS_HW, keys, values, 2), 0);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_null(strstr(dump, "\"lo\""));
	assert_null(strstr(dump, "ifb0"));
	assert_null(strstr(dump, "node_network_speed_bytes{device=\"wlan0\"}"));
	assert_non_null(strstr(dump, "node_network_speed_bytes{device=\"eth0\"} 125000000\n"));
	free(dump);
	run_close(&r);
}

static void test_arp_device_include_and_exclude_filter_and_exclude_each_other(void **u)
{
	(void)u;
	static const char *const inc_key[] = { "device-include", "netlink" };
	static const char *const inc[] = { "^eth", "false" };
	static const char *const exc_key[] = { "device-exclude", "netlink" };
	static const char *const exc[] = { "^docker", "false" };
	static const char *const both_keys[] = { "device-include", "device-exclude" };
	static const char *const both[] = { "^eth", "^docker" };
	struct run r;

	assert_int_equal(run_open_opts(&r, "arp", PROCFS_HW, SYSFS_HW, inc_key, inc, 2), 0);
	expect_cycle(&r, "node_arp_entries{device=\"eth0\"} 3\n");
	run_close(&r);
	assert_int_equal(run_open_opts(&r, "arp", PROCFS_HW, SYSFS_HW, exc_key, exc, 2), 0);
	expect_cycle(&r, "node_arp_entries{device=\"eth0\"} 3\n"
			 "node_arp_entries{device=\"wlan0\"} 1\n");
	run_close(&r);
	assert_int_equal(run_open_opts(&r, "arp", PROCFS_HW, SYSFS_HW, both_keys, both, 2),
			 -EINVAL);
	assert_non_null(strstr(r.err, "mutually exclusive"));
}

/* ---- cost ---- */

static void test_past_the_descriptor_budget_attributes_are_still_read(void **u)
{
	(void)u;
	struct rlimit old, low;
	struct run r;
	char *dump, *want;

	/* 80 descriptors: a budget of 40, fewer than netclass's 4 devices need. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 80;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	run_open(&r, "netclass", PROCFS_HW, SYSFS_HW);
	for (int cycle = 0; cycle < 3; cycle++) {
		assert_int_equal(run_cycle_dump(&r, &dump, true), 0);
		want = slurp(GOLDEN "/netclass-hw.txt");
		assert_string_equal(dump, want);
		free(want);
		free(dump);
	}
	run_close(&r);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
}

static void test_hwmon_odd_file_names_split_as_node_exporter_splits_them(void **u)
{
	(void)u;
	char *dir = make_tree();
	struct run r;

	write_file(dir, "class/hwmon/hwmon0/name", "Odd Chip!\n");
	write_file(dir, "class/hwmon/hwmon0/fan_speed1x", "5\n"); /* type fan, property speed1x */
	write_file(dir, "class/hwmon/hwmon0/temp01_input", "1000\n"); /* sensor temp1 */
	write_file(dir, "class/hwmon/hwmon0/temp2", "2000\n");        /* no property: _celsius */
	write_file(dir, "class/hwmon/hwmon0/temp2_input", "2500\n");  /* then input is _input */
	write_file(dir, "class/hwmon/hwmon0/in3x", "1\n");            /* no match */
	write_file(dir, "class/hwmon/hwmon0/bogus1_input", "1\n");    /* unknown type */
	write_file(dir, "class/hwmon/hwmon0/temp9_input", "N/A\n");   /* not a number */
	run_open(&r, "hwmon", dir, dir);
	expect_cycle(&r, "node_hwmon_chip_names{chip=\"odd_chip\",chip_name=\"odd_chip\"} 1\n"
			 "node_hwmon_fan_speed1x{chip=\"odd_chip\",sensor=\"fan0\"} 5\n"
			 "node_hwmon_temp_celsius{chip=\"odd_chip\",sensor=\"temp1\"} 1\n"
			 "node_hwmon_temp_celsius{chip=\"odd_chip\",sensor=\"temp2\"} 2\n"
			 "node_hwmon_temp_input_celsius{chip=\"odd_chip\",sensor=\"temp2\"} 2.5\n");
	run_close(&r);
	remove_tree(dir);
}

static void test_hwmon_a_file_in_both_directories_is_read_from_device(void **u)
{
	(void)u;
	char *dir = make_tree();
	struct run r;

	write_file(dir, "devices/platform/it87.552/temp5_input", "5000\n");
	write_file(dir, "devices/platform/it87.552/hwmon/hwmon1/temp5_input", "1000\n");
	write_file(dir, "class/hwmon/.keep", "");
	make_link(dir, "../../../it87.552", "devices/platform/it87.552/hwmon/hwmon1/device");
	make_link(dir, "../../devices/platform/it87.552/hwmon/hwmon1", "class/hwmon/hwmon1");
	run_open(&r, "hwmon", dir, dir);
	expect_cycle(&r,
		     "node_hwmon_temp_celsius{chip=\"platform_it87_552\",sensor=\"temp5\"} 5\n");
	run_close(&r);
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_netclass_reports_sysfs_attributes_of_each_device_like_node_exporter),
		cmocka_unit_test(
		    test_conntrack_reports_table_size_limit_and_stats_summed_over_cpus),
		cmocka_unit_test(test_softnet_reports_hex_counters_per_line),
		cmocka_unit_test(test_udp_queues_sums_the_queues_of_ipv4_and_ipv6_sockets),
		cmocka_unit_test(test_arp_counts_entries_per_device),
		cmocka_unit_test(
		    test_cpufreq_reports_frequencies_in_hertz_for_cpus_that_have_cpufreq),
		cmocka_unit_test(
		    test_hwmon_names_chips_and_sensors_and_converts_units_like_node_exporter),
		cmocka_unit_test(
		    test_thermal_zone_reports_zones_in_celsius_and_cooling_device_states),
		cmocka_unit_test(test_schedstat_reports_running_and_waiting_seconds_and_timeslices),
		cmocka_unit_test(test_missing_files_and_directories_are_skipped_quietly),
		cmocka_unit_test(test_zero_length_files_give_no_series_and_no_error),
		cmocka_unit_test(test_an_unreadable_proc_file_fails_the_collection_with_its_path),
		cmocka_unit_test(test_unknown_lines_and_garbage_values_are_skipped),
		cmocka_unit_test(test_very_long_lines_are_read_whole),
		cmocka_unit_test(test_netclass_devices_appear_and_disappear_between_cycles),
		cmocka_unit_test(test_hwmon_chips_appear_and_disappear_between_cycles),
		cmocka_unit_test(test_thermal_zones_appear_and_disappear_between_cycles),
		cmocka_unit_test(
		    test_netclass_ignored_devices_and_invalid_speed_follow_the_options),
		cmocka_unit_test(test_arp_device_include_and_exclude_filter_and_exclude_each_other),
		cmocka_unit_test(test_past_the_descriptor_budget_attributes_are_still_read),
		cmocka_unit_test(test_hwmon_odd_file_names_split_as_node_exporter_splits_them),
		cmocka_unit_test(test_hwmon_a_file_in_both_directories_is_read_from_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
