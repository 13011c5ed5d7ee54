/*
 * test_collectors_optin.c - node_exporter's opt-in collectors (and watchdog and
 * bcachefs, which node_exporter now enables by default) against fixture trees
 * shaped like the kernel's files: tests/fixtures/procfs-optin, sysfs-optin and
 * rootfs-optin (a pci.ids excerpt), compared with golden files.  Most of these
 * subsystems (DRBD, NFS mounts, AMD GPUs, multipath, bcachefs, watchdogs) are
 * absent on build hosts, so the fixtures are the main evidence; the ones this
 * host has are also compared live with node_exporter by
 * tests/e2e_node_exporter_compare.sh.
 */
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "collector_harness.h"
#include "config.h"
#include "inetdiag.h"
#include "metricname.h"
#include "pciids.h"
#include "seriesbuf.h"

#define PROCFS_OPTIN FIXTURES "/procfs-optin"
#define SYSFS_OPTIN  FIXTURES "/sysfs-optin"
#define PCI_IDS      FIXTURES "/rootfs-optin/pci.ids"

/* One cycle of collector with options keys[i]=values[i], headers and all. */
static char *cycle_with(const char *collector, const char *procfs, const char *sysfs,
			const char *const *keys, const char *const *values, size_t n, int *rc,
			char *err, size_t errlen)
{
	const struct collector_env env = { .procfs = procfs,
					   .sysfs = sysfs,
					   .n_options = n,
					   .option_keys = keys,
					   .option_values = values };
	struct run r;
	char *dump;
	run_open_env(&r, collector, &env, NULL);
	*rc = run_cycle_dump(&r, &dump, true);
	snprintf(err, errlen, "%s", r.err);
	run_close(&r);
	return dump;
}

static void expect_golden_with(const char *collector, const char *procfs, const char *sysfs,
			       const char *const *keys, const char *const *values, size_t n,
			       const char *golden)
{
	char err[512];
	int rc;
	char *dump = cycle_with(collector, procfs, sysfs, keys, values, n, &rc, err, sizeof err);
	if (rc)
		fail_msg("%s: %d %s", collector, rc, err);
	compare_golden(dump, golden);
	free(dump);
}

/* ---- one golden file per collector ---- */

struct golden_case {
	const char *collector, *procfs, *sysfs, *golden;
};

static const struct golden_case golden_cases[] = {
	{ "buddyinfo", PROCFS_OPTIN, NO_SUCH_DIR, "buddyinfo-optin.txt" },
	{ "cgroups", PROCFS_OPTIN, NO_SUCH_DIR, "cgroups-optin.txt" },
	{ "softirqs", PROCFS_OPTIN, NO_SUCH_DIR, "softirqs-optin.txt" },
	{ "interrupts", PROCFS_OPTIN, NO_SUCH_DIR, "interrupts-optin.txt" },
	{ "kernel_hung", PROCFS_OPTIN, NO_SUCH_DIR, "kernel_hung-optin.txt" },
	{ "drbd", PROCFS_OPTIN, NO_SUCH_DIR, "drbd-optin.txt" },
	{ "slabinfo", PROCFS_OPTIN, NO_SUCH_DIR, "slabinfo-optin.txt" },
	{ "zoneinfo", PROCFS_OPTIN, NO_SUCH_DIR, "zoneinfo-optin.txt" },
	{ "lnstat", PROCFS_OPTIN, NO_SUCH_DIR, "lnstat-optin.txt" },
	{ "mountstats", PROCFS_OPTIN, NO_SUCH_DIR, "mountstats-optin.txt" },
	{ "ksmd", NO_SUCH_DIR, SYSFS_OPTIN, "ksmd-optin.txt" },
	{ "meminfo_numa", NO_SUCH_DIR, SYSFS_OPTIN, "meminfo_numa-optin.txt" },
	{ "cpu_vulnerabilities", NO_SUCH_DIR, SYSFS_OPTIN, "cpu_vulnerabilities-optin.txt" },
	{ "watchdog", NO_SUCH_DIR, SYSFS_OPTIN, "watchdog-optin.txt" },
	{ "drm", NO_SUCH_DIR, SYSFS_OPTIN, "drm-optin.txt" },
	{ "pcidevice", NO_SUCH_DIR, SYSFS_OPTIN, "pcidevice-optin.txt" },
	{ "dmmultipath", NO_SUCH_DIR, SYSFS_OPTIN, "dmmultipath-optin.txt" },
	{ "bcachefs", NO_SUCH_DIR, SYSFS_OPTIN, "bcachefs-optin.txt" },
};

static void test_each_collector_reports_its_fixture_as_the_golden_file_says(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < sizeof golden_cases / sizeof golden_cases[0]; i++) {
		const struct golden_case *g = &golden_cases[i];
		expect_golden(g->collector, g->procfs, g->sysfs, g->golden);
	}
}

static void test_every_collector_is_quiet_on_an_empty_tree(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	for (size_t i = 0; i < sizeof golden_cases / sizeof golden_cases[0]; i++) {
		struct run r;
		char *dump;
		run_open(&r, golden_cases[i].collector, dir, dir);
		if (run_cycle(&r, &dump) != 0 || dump[0] != '\0' || r.err[0] != '\0')
			fail_msg("%s on an empty tree: \"%s\" %s", golden_cases[i].collector, dump,
				 r.err);
		free(dump);
		run_close(&r);
	}
	remove_tree(dir);
}

static void test_opt_in_collectors_are_off_by_default_and_watchdog_bcachefs_on(void **unused)
{
	(void)unused;
	static const char *const off[] = { "buddyinfo",    "cgroups",     "cpu_vulnerabilities",
					   "drbd",         "drm",         "interrupts",
					   "ksmd",         "kernel_hung", "lnstat",
					   "meminfo_numa", "mountstats",  "pcidevice",
					   "slabinfo",     "softirqs",    "sysctl",
					   "tcpstat",      "zoneinfo",    "dmmultipath" };
	for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) {
		const struct collector_def *d = collector_find(off[i]);
		assert_non_null(d);
		assert_false(d->enabled_by_default);
	}
	assert_true(collector_find("watchdog")->enabled_by_default);
	assert_true(collector_find("bcachefs")->enabled_by_default);
}

/* ---- options ---- */

static void test_interrupts_filters_on_type_info_and_devices_and_can_drop_zeros(void **unused)
{
	(void)unused;
	const char *keys[] = { "name-include", "include-zeros" };
	const char *values[] = { "^(0|LOC);|i8042", "false" };
	expect_golden_with("interrupts", PROCFS_OPTIN, NO_SUCH_DIR, keys, values, 2,
			   "interrupts-include-optin.txt");
	const char *xkeys[] = { "name-exclude" };
	const char *xvalues[] = { "IO-APIC|PCI-MSI|interrupts$|shootdowns" };
	expect_golden_with("interrupts", PROCFS_OPTIN, NO_SUCH_DIR, xkeys, xvalues, 1,
			   "interrupts-exclude-optin.txt");
}

static void test_slabinfo_keeps_included_caches_less_excluded_ones(void **unused)
{
	(void)unused;
	const char *keys[] = { "slabs-include", "slabs-exclude" };
	const char *values[] = { "^(dentry|kmalloc-.*|TCP)$", "^kmalloc-64$" };
	expect_golden_with("slabinfo", PROCFS_OPTIN, NO_SUCH_DIR, keys, values, 2,
			   "slabinfo-filtered-optin.txt");
}

static void test_sysctl_reports_values_indexes_keys_and_info(void **unused)
{
	(void)unused;
	const char *keys[] = { "include", "include-info" };
	const char *values[] = { "vm.swappiness\nnet.ipv4.ip_local_port_range:low,high\n"
				 "kernel.printk",
				 "kernel.core_pattern\nnet.ipv4.tcp_available_congestion_control" };
	expect_golden_with("sysctl", PROCFS_OPTIN, NO_SUCH_DIR, keys, values, 2,
			   "sysctl-optin.txt");
}

static void test_sysctl_names_what_is_wrong_and_still_reports_the_rest(void **unused)
{
	(void)unused;
	static const struct {
		const char *include, *err;
		int rc;
	} cases[] = {
		{ "kernel.bogus\nvm.swappiness", "sysctl kernel.bogus: value 0 is not an integer",
		  -EINVAL },
		{ "vm.swappiness\nkernel.printk:a,b",
		  "sysctl kernel.printk has 4 values but 2 keys", -EINVAL },
		{ "no.such.thing\nvm.swappiness", "sysctl no.such.thing does not exist", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *keys[] = { "include" }, *values[] = { cases[i].include };
		char err[512];
		int rc;
		char *dump = cycle_with("sysctl", PROCFS_OPTIN, NO_SUCH_DIR, keys, values, 1, &rc,
					err, sizeof err);
		assert_int_equal(rc, cases[i].rc);
		if (!strstr(err, cases[i].err))
			fail_msg("case %zu: error \"%s\"", i, err);
		assert_non_null(strstr(dump, "node_sysctl_vm_swappiness 60\n"));
		free(dump);
	}
}

static void test_sysctl_without_includes_reports_nothing(void **unused)
{
	(void)unused;
	expect_on_file("sysctl", "sys/vm/swappiness", "60\n", "");
}

static void test_pcidevice_names_come_from_pci_ids_or_stand_for_themselves(void **unused)
{
	(void)unused;
	const char *keys[] = { "names", "idsfile" }, *values[] = { "true", PCI_IDS };
	expect_golden_with("pcidevice", NO_SUCH_DIR, SYSFS_OPTIN, keys, values, 2,
			   "pcidevice-names-optin.txt");
}

/* ---- edge cases, one file each ---- */

static const struct edge_case optin_edges[] = {
	{ "drbd", "drbd", " 3: cs:StandAlone ro:Primary ds:Diskless\n ns:x nr:5 oos:1\n",
	  "node_drbd_connected{device=\"drbd3\"} 0\n"
	  "node_drbd_network_received_bytes_total{device=\"drbd3\"} 5\n"
	  "node_drbd_out_of_sync_bytes{device=\"drbd3\"} 1024\n" },
	{ "buddyinfo", "buddyinfo", "Node 0, zone DMA 1 2 x\nNode zero, zone DMA 1\n",
	  "node_buddyinfo_blocks{node=\"0\",zone=\"DMA\",size=\"0\"} 1\n"
	  "node_buddyinfo_blocks{node=\"0\",zone=\"DMA\",size=\"1\"} 2\n" },
	{ "cgroups", "cgroups",
	  "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t4\t1\nshort\t1\n",
	  "node_cgroups_cgroups{subsys_name=\"cpu\"} 4\nnode_cgroups_enabled{subsys_name=\"cpu\"} 1\n" },
	{ "softirqs", "softirqs", "  CPU0\n HI: 5\n RCU:7\n", /* arm64 prints no blank after ':' */
	  "node_softirqs_functions_total{cpu=\"0\",type=\"HI\"} 5\n"
	  "node_softirqs_functions_total{cpu=\"0\",type=\"RCU\"} 7\n" },
	{ "kernel_hung", "sys/kernel/hung_task_detect_count", "0\n",
	  "node_kernel_hung_task_detect_count 0\n" },
	{ "lnstat", "net/stat/x", "entries bad-name\n0000000a zz\n",
	  "node_lnstat_entries_total{subsystem=\"x\",cpu=\"0\"} 10\n" },
	{ "mountstats", "self/mountstats",
	  "device s:/e mounted on /m with fstype nfs statvers=1.1\n\tage:\t7\n"
	  "\txprt:\trdma 0 0 1 0 0 1 1 0 0 0 0 0 0\n",
	  "" },
	{ "zoneinfo", "zoneinfo",
	  "Node 0, zone   Normal\n  pages free 5\n        min 3\n  nr_free_pages 5\n"
	  "        protection: (0, -1, 7)\n",
	  "node_zoneinfo_nr_free_pages{node=\"0\",zone=\"Normal\"} 5\n"
	  "node_zoneinfo_min_pages{node=\"0\",zone=\"Normal\"} 3\n"
	  "node_zoneinfo_protection_0{node=\"0\",zone=\"Normal\"} 0\n"
	  "node_zoneinfo_protection_1{node=\"0\",zone=\"Normal\"} -1\n"
	  "node_zoneinfo_protection_2{node=\"0\",zone=\"Normal\"} 7\n" },
	{ "cpu_vulnerabilities", "devices/system/cpu/vulnerabilities/x", "Vulnerable\n",
	  "node_cpu_vulnerabilities_info{codename=\"x\",state=\"vulnerable\",mitigation=\"\"} 1\n" },
	{ "ksmd", "kernel/mm/ksm/sleep_millisecs", "250\n", "node_ksmd_sleep_seconds 0.25\n" },
};

static void test_odd_lines_are_skipped_and_the_rest_reported(void **unused)
{
	(void)unused;
	expect_edge_cases(optin_edges, sizeof optin_edges / sizeof optin_edges[0], NULL);
}

static void test_each_cycle_reads_the_files_again(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	struct run r;
	write_file(dir, "sys/kernel/hung_task_detect_count", "1\n");
	write_file(dir, "drbd", " 0: cs:Connected\n 1: cs:Connected\n");
	run_open(&r, "kernel_hung", dir, dir);
	expect_cycle(&r, "node_kernel_hung_task_detect_count 1\n");
	write_file(dir, "sys/kernel/hung_task_detect_count", "4\n");
	expect_cycle(&r, "node_kernel_hung_task_detect_count 4\n");
	run_close(&r);
	run_open(&r, "drbd", dir, dir);
	expect_cycle(&r, "node_drbd_connected{device=\"drbd0\"} 1\n"
			 "node_drbd_connected{device=\"drbd1\"} 1\n");
	write_file(dir, "drbd", " 1: cs:WFConnection\n");
	expect_cycle(&r, "node_drbd_connected{device=\"drbd1\"} 0\n");
	run_close(&r);
	remove_tree(dir);
}

/* ---- tcpstat ---- */

/* A sock_diag reply message for one socket. */
static void diag_message(unsigned char *buf, uint8_t state, uint32_t rq, uint32_t wq, uint32_t len)
{
	struct nlmsghdr nh = { .nlmsg_len = len, .nlmsg_type = SOCK_DIAG_BY_FAMILY };
	struct inet_diag_msg m = { .idiag_family = AF_INET, .idiag_state = state };
	m.idiag_rqueue = rq;
	m.idiag_wqueue = wq;
	memset(buf, 0, NLMSG_LENGTH(sizeof m));
	memcpy(buf, &nh, sizeof nh);
	memcpy(NLMSG_DATA((struct nlmsghdr *)(void *)buf), &m, sizeof m);
}

static void test_tcpstat_counts_states_and_sums_queues_of_diag_replies(void **unused)
{
	(void)unused;
	_Alignas(struct nlmsghdr) unsigned char buf[NLMSG_LENGTH(sizeof(struct inet_diag_msg))];
	static const struct {
		uint8_t state;
		uint32_t rq, wq, len;
	} socks[] = {
		{ 1, 10, 200, NLMSG_LENGTH(sizeof(struct inet_diag_msg)) },
		{ 1, 0, 0, NLMSG_LENGTH(sizeof(struct inet_diag_msg)) },
		{ 10, 0, 128, NLMSG_LENGTH(sizeof(struct inet_diag_msg)) },
		{ 13, 1, 1,
		  NLMSG_LENGTH(sizeof(struct inet_diag_msg)) }, /* a state it does not name */
		{ 1, 99, 99, NLMSG_LENGTH(8) },                 /* too short: ignored */
	};
	struct tcp_state_counts c;
	memset(&c, 0, sizeof c);
	for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++) {
		diag_message(buf, socks[i].state, socks[i].rq, socks[i].wq, socks[i].len);
		inetdiag_account(&c, (const struct nlmsghdr *)(void *)buf);
	}
	assert_int_equal(c.sockets, 4);
	assert_true(c.state[1] == 2 && c.state[10] == 1 && c.state[0] == 1);
	assert_true(c.rx_queued == 11 && c.tx_queued == 329);
	assert_string_equal(tcp_state_name(10), "listen");
	assert_string_equal(tcp_state_name(6), "time_wait");
	assert_null(tcp_state_name(12));
}

static void test_tcpstat_sees_a_listening_socket_of_this_process(void **unused)
{
	(void)unused;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(fd, 4), 0);
	char err[512];
	int rc;
	char *dump = cycle_with("tcpstat", "/proc", NO_SUCH_DIR, NULL, NULL, 0, &rc, err,
				sizeof err);
	close(fd);
	if (rc == -EPROTONOSUPPORT || rc == -EACCES || rc == -EPERM) {
		free(dump); /* a kernel or sandbox without sock_diag: nothing to see */
		skip();
	}
	if (rc)
		fail_msg("tcpstat: %d %s", rc, err);
	const char *listen = strstr(dump, "node_tcp_connection_states{state=\"listen\"} ");
	assert_non_null(listen);
	assert_true(atof(listen + strlen("node_tcp_connection_states{state=\"listen\"} ")) >= 1);
	assert_non_null(strstr(dump, "# TYPE node_tcp_connection_states gauge\n"));
	assert_non_null(strstr(dump, "{state=\"tx_queued_bytes\"}"));
	free(dump);
}

/* ---- helpers ---- */

static void test_metric_names_are_cleaned_as_node_exporter_cleans_them(void **unused)
{
	(void)unused;
	static const struct {
		const char *in, *sanitized, *cleaned;
	} cases[] = {
		{ "net.ipv4.ip_forward", "net_ipv4_ip_forward", "net_ipv4_ip_forward" },
		{ "a_.b", "a_b", "a__b" },
		{ "x._.y", "x__y", "x___y" },
		{ "Foo-Bar:0", "Foo_Bar_0", "foo_bar:0" },
		{ "..lead", "_lead", "lead" },
		{ "0000:01:00.0", "0000_01_00_0", "0000:01:00_0" },
	};
	char out[64];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(metric_name_sanitize(out, sizeof out, cases[i].in,
						      strlen(cases[i].in)),
				 0);
		assert_string_equal(out, cases[i].sanitized);
		metric_name_clean(out, sizeof out, cases[i].in, strlen(cases[i].in));
		assert_string_equal(out, cases[i].cleaned);
	}
	assert_int_equal(metric_name_sanitize(out, 4, "abcdef", 6), -ENAMETOOLONG);
}

static void test_seriesbuf_groups_series_by_family_in_name_order(void **unused)
{
	(void)unused;
	static const char *const names[] = { "k" };
	struct seriesbuf sb;
	struct batch_limits lim;
	seriesbuf_init(&sb);
	batch_limits_default(&lim);
	struct batch *b = batch_new(&lim);
	const char *v1[] = { "1" }, *v2[] = { "2" };
	assert_int_equal(seriesbuf_add(&sb, "b_total", "B.", METRIC_COUNTER, names, v1, 1, 1), 0);
	assert_int_equal(seriesbuf_add(&sb, "a", "A.", METRIC_GAUGE, names, v1, 1, 2), 0);
	assert_int_equal(seriesbuf_add(&sb, "b_total", "B.", METRIC_COUNTER, names, v2, 1, 3), 0);
	assert_int_equal(seriesbuf_add(&sb, "bad-name", "X.", METRIC_GAUGE, NULL, NULL, 0, 4), 0);
	assert_int_equal(seriesbuf_add(&sb, "a", "A.", METRIC_GAUGE, names, v1, 1, 5), 0); /* dup */
	char err[256];
	assert_int_equal(seriesbuf_emit(&sb, b, err, sizeof err), 0);
	char *dump = dump_batch(b, false);
	assert_string_equal(dump, "a{k=\"1\"} 2\nb_total{k=\"1\"} 1\nb_total{k=\"2\"} 3\n");
	free(dump);
	batch_free(b);
	seriesbuf_free(&sb);
}

static void test_pci_ids_give_vendor_device_subsystem_and_most_specific_class(void **unused)
{
	(void)unused;
	struct pciids t;
	char err[256];
	assert_int_equal(pciids_load(&t, PCI_IDS, err, sizeof err), 0);
	assert_string_equal(pciids_vendor(&t, 0x1002), "Advanced Micro Devices, Inc. [AMD/ATI]");
	assert_string_equal(pciids_device(&t, 0x8086, 0x1901),
			    "6th-10th Gen Core Processor PCIe Controller (x16)");
	assert_string_equal(pciids_subsystem(&t, 0x1002, 0x73bf, 0x1002, 0x0e3a),
			    "Radeon RX 6900 XT");
	assert_string_equal(pciids_class(&t, 0x030001), "8514 controller");
	assert_string_equal(pciids_class(&t, 0x038000), "Display controller");
	assert_string_equal(pciids_class(&t, 0x030555), "Display controller");
	assert_null(pciids_vendor(&t, 0xffff));
	assert_null(pciids_class(&t, 0x0b0000));
	pciids_free(&t);
	assert_int_equal(pciids_load(&t, NO_SUCH_DIR, err, sizeof err), -ENOENT);
	assert_null(pciids_vendor(&t, 0x1002));
	pciids_free(&t);
}

/* ---- list options: repeatable flags and JSON arrays ---- */

static void test_a_repeated_list_flag_appends_and_replaces_the_files_value(void **unused)
{
	(void)unused;
	struct shm_config *c = calloc(1, sizeof *c); /* zeroed: the loader replaces it */
	char err[512];
	assert_non_null(c);
	assert_int_equal(
	    config_load_string(c,
			       "{\"collectors\": {\"sysctl\": {\"enabled\": true, "
			       "\"include\": [\"vm.swappiness\", \"kernel.printk\"]}}}",
			       "t.json", err, sizeof err),
	    0);
	assert_string_equal(config_collector_option(c, "sysctl", "include"),
			    "vm.swappiness\nkernel.printk");
	assert_int_equal(config_apply_flag(c, "--collector.sysctl.include=a.b", err, sizeof err),
			 1);
	assert_int_equal(config_apply_flag(c, "--collector.sysctl.include=c.d:x,y", err,
					   sizeof err),
			 1);
	assert_string_equal(config_collector_option(c, "sysctl", "include"), "a.b\nc.d:x,y");
	/* Other options keep replacing. */
	assert_int_equal(config_apply_flag(c, "--collector.slabinfo.slabs-exclude=a", err,
					   sizeof err),
			 1);
	assert_int_equal(config_apply_flag(c, "--collector.slabinfo.slabs-exclude=b", err,
					   sizeof err),
			 1);
	assert_string_equal(config_collector_option(c, "slabinfo", "slabs-exclude"), "b");
	assert_true(config_load_string(c, "{\"collectors\": {\"sysctl\": {\"include\": [1]}}}",
				       "t.json", err, sizeof err) < 0);
	assert_non_null(strstr(err, "collectors.sysctl.include"));
	config_free(c);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_collector_reports_its_fixture_as_the_golden_file_says),
		cmocka_unit_test(test_every_collector_is_quiet_on_an_empty_tree),
		cmocka_unit_test(
		    test_opt_in_collectors_are_off_by_default_and_watchdog_bcachefs_on),
		cmocka_unit_test(
		    test_interrupts_filters_on_type_info_and_devices_and_can_drop_zeros),
		cmocka_unit_test(test_slabinfo_keeps_included_caches_less_excluded_ones),
		cmocka_unit_test(test_sysctl_reports_values_indexes_keys_and_info),
		cmocka_unit_test(test_sysctl_names_what_is_wrong_and_still_reports_the_rest),
		cmocka_unit_test(test_sysctl_without_includes_reports_nothing),
		cmocka_unit_test(test_pcidevice_names_come_from_pci_ids_or_stand_for_themselves),
		cmocka_unit_test(test_odd_lines_are_skipped_and_the_rest_reported),
		cmocka_unit_test(test_each_cycle_reads_the_files_again),
		cmocka_unit_test(test_tcpstat_counts_states_and_sums_queues_of_diag_replies),
		cmocka_unit_test(test_tcpstat_sees_a_listening_socket_of_this_process),
		cmocka_unit_test(test_metric_names_are_cleaned_as_node_exporter_cleans_them),
		cmocka_unit_test(test_seriesbuf_groups_series_by_family_in_name_order),
		cmocka_unit_test(test_pci_ids_give_vendor_device_subsystem_and_most_specific_class),
		cmocka_unit_test(test_a_repeated_list_flag_appends_and_replaces_the_files_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
