/*
 * test_collectors_t3.c - the hardware and filesystem collectors (COMPAT.md tier
 * 3) against fixture trees shaped like the kernel's files: tests/fixtures/
 * procfs-t3 and sysfs-t3, compared with golden files rendered as a scrape shows
 * them.  These subsystems (md arrays, NFS, XFS, bonding, ...) are mostly absent
 * on build hosts, so the fixtures are the main evidence; they can be fed to
 * node_exporter 1.5 with --path.procfs/--path.sysfs to re-check compatibility.
 */
#include "collector_harness.h"

#define PROCFS_T3 FIXTURES "/procfs-t3"
#define SYSFS_T3  FIXTURES "/sysfs-t3"

/* ---- mdadm ---- */

static void test_mdadm_reports_state_disks_and_sync_progress_of_each_array(void **unused)
{
	(void)unused;
	expect_golden("mdadm", PROCFS_T3, SYSFS_T3, "mdadm-t3.txt");
}

static void test_mdadm_skips_unknown_lines_and_arrays_without_a_status_line(void **unused)
{
	(void)unused;
	expect_on_file("mdadm", "mdstat",
		       "Personalities : [raid1]\n"
		       "something new : 42\n"
		       "md9 : active raid1 sda1[0] sdb1[1]\n"
		       "      garbage here\n"
		       "md7 : active raid1 sdc1[0] sdd1[1]\n"
		       "      100 blocks super 1.2 [2/2] [UU]\n"
		       "      [>....]  resync=DELAYED\n"
		       "md8 : active raid1 sde1[0]\n"
		       "unused devices: <none>\n",
		       "node_md_state{device=\"md7\",state=\"active\"} 0\n"
		       "node_md_state{device=\"md7\",state=\"inactive\"} 0\n"
		       "node_md_state{device=\"md7\",state=\"recovering\"} 0\n"
		       "node_md_state{device=\"md7\",state=\"resync\"} 1\n"
		       "node_md_state{device=\"md7\",state=\"check\"} 0\n"
		       "node_md_disks{device=\"md7\",state=\"active\"} 2\n"
		       "node_md_disks{device=\"md7\",state=\"failed\"} 0\n"
		       "node_md_disks{device=\"md7\",state=\"spare\"} 0\n"
		       "node_md_disks_required{device=\"md7\"} 2\n"
		       "node_md_blocks{device=\"md7\"} 100\n"
		       "node_md_blocks_synced{device=\"md7\"} 0\n");
}

static void test_mdadm_with_no_arrays_gives_no_series(void **unused)
{
	(void)unused;
	expect_on_file("mdadm", "mdstat", "Personalities : \nunused devices: <none>\n", "");
}

/* ---- nfs, nfsd ---- */

static void test_nfs_reports_client_packets_rpcs_and_calls_per_procedure(void **unused)
{
	(void)unused;
	expect_golden("nfs", PROCFS_T3, NO_SUCH_DIR, "nfs-t3.txt");
}

static void test_nfsd_reports_server_caches_threads_and_calls_per_operation(void **unused)
{
	(void)unused;
	expect_golden("nfsd", PROCFS_T3, NO_SUCH_DIR, "nfsd-t3.txt");
}

/* ---- xfs ---- */

static void test_xfs_reports_counters_per_filesystem_from_sysfs(void **unused)
{
	(void)unused;
	expect_golden("xfs", NO_SUCH_DIR, SYSFS_T3, "xfs-t3.txt");
}

static void test_xfs_takes_known_counters_from_short_or_odd_lines(void **unused)
{
	(void)unused;
	expect_on_file("xfs", "fs/xfs/sdz/stats/stats",
		       "rw 5\n" /* read_calls missing */
		       "brand_new 1 2 3\n"
		       "vnodes 1 x 3\n" /* a garbled counter only */
		       "\n",
		       "node_xfs_write_calls_total{device=\"sdz\"} 5\n"
		       "node_xfs_vnode_active_total{device=\"sdz\"} 1\n"
		       "node_xfs_vnode_get_total{device=\"sdz\"} 3\n");
}

/* ---- bonding, edac ---- */

static void test_bonding_counts_configured_and_up_slaves_per_master(void **unused)
{
	(void)unused;
	expect_golden("bonding", NO_SUCH_DIR, SYSFS_T3, "bonding-t3.txt");
}

static void test_bonding_skips_a_master_that_vanished(void **unused)
{
	(void)unused;
	expect_on_file("bonding", "class/net/bonding_masters", "gone0\n", "");
}

static void test_edac_reports_errors_per_controller_and_csrow(void **unused)
{
	(void)unused;
	expect_golden("edac", NO_SUCH_DIR, SYSFS_T3, "edac-t3.txt");
}

static void test_edac_leaves_out_counts_it_cannot_read(void **unused)
{
	(void)unused;
	expect_on_file("edac", "devices/system/edac/mc/mc3/ce_count", "garbage\n", "");
}

/* ---- powersupplyclass, rapl ---- */

/* A run of collector with one option set. */
static void run_open_option(struct run *r, const char *collector, const char *procfs,
			    const char *sysfs, const char *const *key, const char *const *value)
{
	const struct collector_env env = { .procfs = procfs,
					   .sysfs = sysfs,
					   .n_options = 1,
					   .option_keys = key,
					   .option_values = value };
	run_open_env(r, collector, &env, NULL);
}

static void expect_golden_option(const char *collector, const char *key, const char *value,
				 const char *golden)
{
	const char *const keys[] = { key }, *const values[] = { value };
	struct run r;
	run_open_option(&r, collector, PROCFS_T3, SYSFS_T3, keys, values);
	expect_golden_run(&r, golden);
}

static void test_powersupplyclass_scales_micro_units_and_labels_info_with_text(void **unused)
{
	(void)unused;
	expect_golden("powersupplyclass", NO_SUCH_DIR, SYSFS_T3, "powersupplyclass-t3.txt");
}

static void test_powersupplyclass_skips_ignored_supplies(void **unused)
{
	(void)unused;
	const char *const key[] = { "ignored-supplies" }, *const value[] = { "^(BAT|ucsi)" };
	struct run r;
	run_open_option(&r, "powersupplyclass", NO_SUCH_DIR, SYSFS_T3, key, value);
	expect_cycle(&r, "node_power_supply_online{power_supply=\"AC\"} 1\n"
			 "node_power_supply_info{power_supply=\"AC\",type=\"Mains\"} 1\n");
	run_close(&r);
}

static void test_rapl_reports_one_family_per_zone_with_index_and_path(void **unused)
{
	(void)unused;
	expect_golden("rapl", NO_SUCH_DIR, SYSFS_T3, "rapl-t3.txt");
}

static void test_rapl_zone_label_option_gives_one_family(void **unused)
{
	(void)unused;
	expect_golden_option("rapl", "enable-zone-label", "true", "rapl-zone-label-t3.txt");
}

/* ---- nvme, dmi, selinux ---- */

static void test_nvme_reports_info_with_padding_trimmed(void **unused)
{
	(void)unused;
	expect_golden("nvme", NO_SUCH_DIR, SYSFS_T3, "nvme-t3.txt");
}

static void test_dmi_reports_one_info_series_labelled_by_each_dmi_string(void **unused)
{
	(void)unused;
	expect_golden("dmi", NO_SUCH_DIR, SYSFS_T3, "dmi-t3.txt");
}

static void test_dmi_leaves_out_empty_and_missing_strings(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	struct run r;
	write_file(dir, "class/dmi/id/bios_vendor", "Acme\n");
	write_file(dir, "class/dmi/id/board_name", "\n");
	write_file(dir, "class/dmi/id/sys_vendor", "Acme Systems\n");
	run_open(&r, "dmi", dir, dir);
	expect_cycle(&r, "node_dmi_info{bios_vendor=\"Acme\",system_vendor=\"Acme Systems\"} 1\n");
	run_close(&r);
	remove_tree(dir);
}

static void test_selinux_reports_current_and_configured_modes_when_enabled(void **unused)
{
	(void)unused;
	struct run r;
	char *dump;
	memset(&r, 0, sizeof r);
	r.def = collector_find("selinux");
	r.env = (struct collector_env){ .procfs = NO_SUCH_DIR,
					.sysfs = SYSFS_T3,
					.rootfs = FIXTURES "/rootfs-t3",
					.name = "selinux" };
	assert_int_equal(r.def->ops->init(&r.state, &r.env, r.err, sizeof r.err), 0);
	struct batch_limits lim;
	batch_limits_default(&lim);
	r.b = batch_new(&lim);
	assert_int_equal(run_cycle_dump(&r, &dump, true), 0);
	compare_golden(dump, "selinux-t3.txt");
	free(dump);
	run_close(&r);
}

static void test_selinux_without_selinuxfs_reports_only_that_it_is_disabled(void **unused)
{
	(void)unused;
	struct run r;
	run_open(&r, "selinux", NO_SUCH_DIR, NO_SUCH_DIR);
	expect_cycle(&r, "node_selinux_enabled 0\n");
	run_close(&r);
}

/* ---- zfs ---- */

static void test_zfs_reports_kstats_pools_datasets_and_pool_states(void **unused)
{
	(void)unused;
	expect_golden("zfs", PROCFS_T3, NO_SUCH_DIR, "zfs-t3.txt");
}

static void test_zfs_takes_64_bit_kstats_signed_or_not_and_skips_odd_rows(void **unused)
{
	(void)unused;
	expect_on_file("zfs", "spl/kstat/zfs/arcstats",
		       "6 1 0x01 91 4368 5266997922 97951829680042\n"
		       "name                            type data\n"
		       "hits                            4    10\n"
		       "arc_no_grow                     1    0\n"
		       "memory_available_bytes          3    -5\n"
		       "weird name                      4    1\n"
		       "truncated                       4\n"
		       "bad                             4    12x\n"
		       "huge_signed                     3    9223372036854775808\n"
		       "min_signed                      3    -9223372036854775808\n"
		       "hits                            4    11\n",
		       "node_zfs_arc_hits 10\n"
		       "node_zfs_arc_memory_available_bytes -5\n"
		       "node_zfs_arc_min_signed -9.223372036854776e+18\n");
}

/* node_exporter added "suspended" (I/O to the pool stopped after failures). */
static void test_zfs_reports_a_suspended_pool(void **unused)
{
	(void)unused;
	expect_on_file("zfs", "spl/kstat/zfs/tank/state", "SUSPENDED\n",
		       "node_zfs_zpool_state{state=\"online\",zpool=\"tank\"} 0\n"
		       "node_zfs_zpool_state{state=\"degraded\",zpool=\"tank\"} 0\n"
		       "node_zfs_zpool_state{state=\"faulted\",zpool=\"tank\"} 0\n"
		       "node_zfs_zpool_state{state=\"offline\",zpool=\"tank\"} 0\n"
		       "node_zfs_zpool_state{state=\"removed\",zpool=\"tank\"} 0\n"
		       "node_zfs_zpool_state{state=\"unavail\",zpool=\"tank\"} 0\n"
		       "node_zfs_zpool_state{state=\"suspended\",zpool=\"tank\"} 1\n");
}

/* ---- btrfs ---- */

static void test_btrfs_reports_allocation_per_type_and_profile_and_device_sizes(void **unused)
{
	(void)unused;
	expect_golden("btrfs", NO_SUCH_DIR, SYSFS_T3, "btrfs-t3.txt");
}

/* ---- bcache ---- */

static void test_bcache_reports_cache_set_backing_and_cache_devices(void **unused)
{
	(void)unused;
	expect_golden("bcache", NO_SUCH_DIR, SYSFS_T3, "bcache-t3.txt");
}

static void test_bcache_priority_stats_only_when_asked(void **unused)
{
	(void)unused;
	expect_golden_option("bcache", "priorityStats", "true", "bcache-priority-t3.txt");
}

static void test_bcache_reads_hprint_sizes_as_node_exporter_does(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	struct run r;
	write_file(dir, "fs/bcache/ab-cd/bdev0/dirty_data", "1.5k\n");
	write_file(dir, "fs/bcache/ab-cd/bdev0/writeback_rate_debug",
		   "rate:\t\t512/sec\nproportional:\t-2.0k\nnext io:\t-17ms\n");
	write_file(dir, "fs/bcache/ab-cd/bdev1/dirty_data", "1.5Q\n");
	run_open(&r, "bcache", dir, dir);
	expect_cycle(&r,
		     "node_bcache_dirty_data_bytes{backing_device=\"bdev0\",uuid=\"ab-cd\"} 1524\n"
		     "node_bcache_writeback_rate{backing_device=\"bdev0\",uuid=\"ab-cd\"} 512\n"
		     "node_bcache_writeback_rate_proportional_term{backing_device=\"bdev0\","
		     "uuid=\"ab-cd\"} -2048\n");
	run_close(&r);
	remove_tree(dir);
}

/* ---- infiniband ---- */

static void test_infiniband_reports_device_info_port_states_rates_and_counters(void **unused)
{
	(void)unused;
	expect_golden("infiniband", NO_SUCH_DIR, SYSFS_T3, "infiniband-t3.txt");
}

/* ---- fibrechannel ---- */

static void test_fibrechannel_reports_host_info_and_hexadecimal_counters(void **unused)
{
	(void)unused;
	expect_golden("fibrechannel", NO_SUCH_DIR, SYSFS_T3, "fibrechannel-t3.txt");
}

/* ---- tapestats ---- */

static void test_tapestats_reports_each_st_drive_once_with_times_in_seconds(void **unused)
{
	(void)unused;
	expect_golden("tapestats", NO_SUCH_DIR, SYSFS_T3, "tapestats-t3.txt");
}

static void test_tapestats_skips_ignored_devices(void **unused)
{
	(void)unused;
	const char *const key[] = { "ignored-devices" }, *const value[] = { "^st[1-9]" };
	struct run r;
	char *dump;
	run_open_option(&r, "tapestats", NO_SUCH_DIR, SYSFS_T3, key, value);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "{device=\"st0\"}"));
	assert_null(strstr(dump, "{device=\"st1\"}"));
	free(dump);
	run_close(&r);
}

/* ---- ipvs ---- */

static void test_ipvs_reports_totals_and_backends_of_each_service(void **unused)
{
	(void)unused;
	expect_golden("ipvs", PROCFS_T3, NO_SUCH_DIR, "ipvs-t3.txt");
}

static void test_ipvs_sums_backends_that_fewer_labels_cannot_tell_apart(void **unused)
{
	(void)unused;
	const char *const key[] = { "backend-labels" }, *const value[] = { "proto" };
	struct run r;
	run_open_option(&r, "ipvs", FIXTURES "/procfs-t3", NO_SUCH_DIR, key, value);
	char *dump;
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "node_ipvs_backend_connections_active{proto=\"TCP\"} 744\n"));
	assert_non_null(strstr(dump, "node_ipvs_backend_weight{proto=\"FWM\"} 100\n"));
	free(dump);
	run_close(&r);
}

static void test_ipvs_reads_sctp_services_like_tcp_and_udp(void **unused)
{
	(void)unused;
	const char *const key[] = { "backend-labels" }, *const value[] = { "local_address,proto" };
	char *dir = make_tree();
	struct run r;
	write_file(dir, "net/ip_vs",
		   "TCP  0A000001:0050 wlc\n"
		   "  -> 0A000002:0050      Route   1      2          3\n"
		   "SCTP 0A000009:0050 rr\n"
		   "  -> 0A00000A:0050      Route   4      5          6\n");
	run_open_option(&r, "ipvs", dir, dir, key, value);
	char *dump;
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "node_ipvs_backend_weight{local_address=\"10.0.0.9\","
				     "proto=\"SCTP\"} 4\n"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

static void test_ipvs_refuses_an_unknown_backend_label(void **unused)
{
	(void)unused;
	const char *const key[] = { "backend-labels" }, *const value[] = { "proto,colour" };
	struct collector_env env = { .procfs = NO_SUCH_DIR,
				     .sysfs = NO_SUCH_DIR,
				     .rootfs = "/",
				     .name = "ipvs",
				     .n_options = 1,
				     .option_keys = key,
				     .option_values = value };
	void *state = NULL;
	char err[256];
	assert_int_equal(collector_find("ipvs")->ops->init(&state, &env, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "colour"));
}

/* ---- every collector ---- */

static const char *const t3_collectors[] = {
	"mdadm",        "nfs",       "nfsd", "xfs", "bonding", "edac",   "powersupplyclass",
	"rapl",         "nvme",      "dmi",  "zfs", "btrfs",   "bcache", "infiniband",
	"fibrechannel", "tapestats", "ipvs",
};
#define N_T3 (sizeof t3_collectors / sizeof t3_collectors[0])

static void test_a_missing_subsystem_gives_no_series_and_no_error(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < N_T3; i++) {
		struct run r;
		run_open(&r, t3_collectors[i], NO_SUCH_DIR, NO_SUCH_DIR);
		expect_cycle(&r, "");
		run_close(&r);
	}
}

struct empty_case {
	const char *collector, *file, *expect;
};

/* An empty file where the kernel would have put something. */
static const struct empty_case empty_cases[] = {
	{ "mdadm", "mdstat", "" },
	{ "nfs", "net/rpc/nfs", "" },
	{ "nfsd", "net/rpc/nfsd", "" },
	{ "xfs", "fs/xfs/sda1/stats/stats", "" },
	{ "bonding", "class/net/bonding_masters", "" },
	{ "edac", "devices/system/edac/mc/mc0/ce_count", "" },
	{ "powersupplyclass", "class/power_supply/BAT0/capacity",
	  "node_power_supply_info{power_supply=\"BAT0\"} 1\n" },
	{ "rapl", "class/powercap/intel-rapl:0/name", "" },
	{ "dmi", "class/dmi/id/bios_vendor", "" },
	{ "selinux", "fs/selinux/enforce", "node_selinux_enabled 0\n" },
	{ "zfs", "spl/kstat/zfs/arcstats", "" },
	{ "bcache", "fs/bcache/ab-cd/average_key_size", "" },
	{ "tapestats", "class/scsi_tape/st0/stats/read_cnt", "" },
	{ "ipvs", "net/ip_vs", "" },
	{ "ipvs", "net/ip_vs_stats", "" },
};

static void test_zero_length_files_give_no_values_and_no_error(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < sizeof empty_cases / sizeof empty_cases[0]; i++) {
		const struct empty_case *c = &empty_cases[i];
		expect_on_file(c->collector, c->file, "", c->expect);
	}
}

static void test_info_series_keep_their_label_set_when_attributes_are_empty(void **unused)
{
	(void)unused;
	expect_on_file(
	    "nvme", "class/nvme/nvme0/model", "",
	    "node_nvme_info{cntlid=\"\",device=\"nvme0\",firmware_revision=\"\",model=\"\","
	    "serial=\"\",state=\"\"} 1\n");
	expect_on_file("btrfs", "fs/btrfs/ab-cd/label", "",
		       "node_btrfs_info{label=\"\",uuid=\"ab-cd\"} 1\n"
		       "node_btrfs_commits_total{uuid=\"ab-cd\"} 0\n"
		       "node_btrfs_last_commit_seconds{uuid=\"ab-cd\"} 0\n"
		       "node_btrfs_max_commit_seconds{uuid=\"ab-cd\"} 0\n"
		       "node_btrfs_commit_seconds_total{uuid=\"ab-cd\"} 0\n");
}

static void test_unknown_lines_in_proc_files_are_skipped(void **unused)
{
	(void)unused;
	expect_on_file("nfs", "net/rpc/nfs",
		       "net 1\n"     /* short: no packets, no connections */
		       "rpc 5 x 7\n" /* retransmissions garbled */
		       "proc9 3 1 2 3\n"
		       "wdeleg_getattr 4\n"
		       "proc2 2 6\n", /* fewer procedures than known */
		       "node_nfs_rpcs_total 5\n"
		       "node_nfs_rpc_authentication_refreshes_total 7\n"
		       "node_nfs_requests_total{method=\"Null\",proto=\"2\"} 6\n");
	expect_on_file("nfsd", "net/rpc/nfsd",
		       "th 16 0 0.000 0.000\n"
		       "some_future_line 4\n"
		       "wdeleg_getattr 4\n"
		       "proc4ops 3 0 0 0\n", /* only the unused op numbers */
		       "node_nfsd_server_threads 16\n"
		       "node_nfsd_requests_total{method=\"WdelegGetattr\",proto=\"4\"} 4\n");
	expect_on_file("ipvs", "net/ip_vs",
		       "IP Virtual Server version 1.2.1 (size=4096)\n"
		       "  -> 0A000001:0050      Route   1      2          3\n" /* no service yet */
		       "TCP  nothex:0050 wlc\n"
		       "  -> 0A000002:0050      Route   1      2          3\n" /* bad service */
		       "TCP  0A000001:0050 wlc\n"
		       "  -> 0A000003:0050      Route   1      x          3\n"
		       "  -> 0A000004:0050      Route   7      8          9\n"
		       "NEWPROTO 1 2 3\n",
		       "node_ipvs_backend_connections_active{local_address=\"10.0.0.1\","
		       "local_mark=\"\",local_port=\"80\",proto=\"TCP\","
		       "remote_address=\"10.0.0.4\",remote_port=\"80\"} 8\n"
		       "node_ipvs_backend_connections_inactive{local_address=\"10.0.0.1\","
		       "local_mark=\"\",local_port=\"80\",proto=\"TCP\","
		       "remote_address=\"10.0.0.4\",remote_port=\"80\"} 9\n"
		       "node_ipvs_backend_weight{local_address=\"10.0.0.1\","
		       "local_mark=\"\",local_port=\"80\",proto=\"TCP\","
		       "remote_address=\"10.0.0.4\",remote_port=\"80\"} 7\n");
}

static void test_an_unreadable_proc_file_fails_the_collection_with_its_path(void **unused)
{
	(void)unused;
	static const struct {
		const char *collector, *file;
	} cases[] = {
		{ "mdadm", "mdstat" },
		{ "nfs", "net/rpc/nfs" },
		{ "nfsd", "net/rpc/nfsd" },
		{ "zfs", "spl/kstat/zfs/arcstats" },
		{ "ipvs", "net/ip_vs_stats" },
		{ "ipvs", "net/ip_vs" },
		{ "bonding", "class/net/bonding_masters" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *dir = make_tree();
		char path[512];
		struct run r;
		char *dump;
		/* A directory opens but cannot be read, even by root. */
		write_file(dir, "placeholder", "");
		snprintf(path, sizeof path, "%s/%s", dir, cases[i].file);
		for (char *p = strchr(path + strlen(dir) + 1, '/'); p; p = strchr(p + 1, '/')) {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
		assert_int_equal(mkdir(path, 0755), 0);
		run_open(&r, cases[i].collector, dir, dir);
		assert_int_equal(run_cycle(&r, &dump), -EISDIR);
		assert_non_null(strstr(r.err, path));
		free(dump);
		run_close(&r);
		remove_tree(dir);
	}
}

static void test_many_devices_come_out_sorted_by_name(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	char rel[64];
	struct run r;
	char *dump;
	/* Created in a scrambled order; more than the sort's largest gap. */
	for (unsigned i = 0; i < 800; i++) {
		snprintf(rel, sizeof rel, "class/scsi_tape/st%u/stats/read_cnt", (i * 337) % 800);
		write_file(dir, rel, "1\n");
	}
	run_open(&r, "tapestats", dir, dir);
	assert_int_equal(run_cycle(&r, &dump), 0);
	char prev[32] = "", *save = NULL;
	unsigned n = 0;
	for (char *line = strtok_r(dump, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char dev[32];
		assert_int_equal(
		    sscanf(line, "node_tape_reads_completed_total{device=\"%31[^\"]\"}", dev), 1);
		assert_true(strcmp(prev, dev) < 0);
		snprintf(prev, sizeof prev, "%s", dev);
		n++;
	}
	assert_int_equal(n, 800);
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

static void test_devices_that_come_and_go_between_cycles_come_and_go_in_the_series(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	char path[512];
	struct run r;
	write_file(dir, "class/nvme/nvme0/state", "live\n");
	run_open(&r, "nvme", dir, dir);
	expect_cycle(
	    &r, "node_nvme_info{cntlid=\"\",device=\"nvme0\",firmware_revision=\"\",model=\"\","
		"serial=\"\",state=\"live\"} 1\n");
	write_file(dir, "class/nvme/nvme1/state", "connecting\n");
	snprintf(path, sizeof path, "%s/class/nvme/nvme0/state", dir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof path, "%s/class/nvme/nvme0", dir);
	assert_int_equal(rmdir(path), 0);
	expect_cycle(
	    &r, "node_nvme_info{cntlid=\"\",device=\"nvme1\",firmware_revision=\"\",model=\"\","
		"serial=\"\",state=\"connecting\"} 1\n");
	run_close(&r);
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mdadm_reports_state_disks_and_sync_progress_of_each_array),
		cmocka_unit_test(test_mdadm_skips_unknown_lines_and_arrays_without_a_status_line),
		cmocka_unit_test(test_mdadm_with_no_arrays_gives_no_series),
		cmocka_unit_test(test_nfs_reports_client_packets_rpcs_and_calls_per_procedure),
		cmocka_unit_test(test_nfsd_reports_server_caches_threads_and_calls_per_operation),
		cmocka_unit_test(test_xfs_reports_counters_per_filesystem_from_sysfs),
		cmocka_unit_test(test_xfs_takes_known_counters_from_short_or_odd_lines),
		cmocka_unit_test(test_bonding_counts_configured_and_up_slaves_per_master),
		cmocka_unit_test(test_bonding_skips_a_master_that_vanished),
		cmocka_unit_test(test_edac_reports_errors_per_controller_and_csrow),
		cmocka_unit_test(test_edac_leaves_out_counts_it_cannot_read),
		cmocka_unit_test(
		    test_powersupplyclass_scales_micro_units_and_labels_info_with_text),
		cmocka_unit_test(test_powersupplyclass_skips_ignored_supplies),
		cmocka_unit_test(test_rapl_reports_one_family_per_zone_with_index_and_path),
		cmocka_unit_test(test_rapl_zone_label_option_gives_one_family),
		cmocka_unit_test(test_nvme_reports_info_with_padding_trimmed),
		cmocka_unit_test(test_dmi_reports_one_info_series_labelled_by_each_dmi_string),
		cmocka_unit_test(test_dmi_leaves_out_empty_and_missing_strings),
		cmocka_unit_test(test_selinux_reports_current_and_configured_modes_when_enabled),
		cmocka_unit_test(test_selinux_without_selinuxfs_reports_only_that_it_is_disabled),
		cmocka_unit_test(test_zfs_reports_kstats_pools_datasets_and_pool_states),
		cmocka_unit_test(test_zfs_takes_64_bit_kstats_signed_or_not_and_skips_odd_rows),
		cmocka_unit_test(test_zfs_reports_a_suspended_pool),
		cmocka_unit_test(
		    test_btrfs_reports_allocation_per_type_and_profile_and_device_sizes),
		cmocka_unit_test(test_bcache_reports_cache_set_backing_and_cache_devices),
		cmocka_unit_test(test_bcache_priority_stats_only_when_asked),
		cmocka_unit_test(test_bcache_reads_hprint_sizes_as_node_exporter_does),
		cmocka_unit_test(
		    test_infiniband_reports_device_info_port_states_rates_and_counters),
		cmocka_unit_test(test_fibrechannel_reports_host_info_and_hexadecimal_counters),
		cmocka_unit_test(test_tapestats_reports_each_st_drive_once_with_times_in_seconds),
		cmocka_unit_test(test_tapestats_skips_ignored_devices),
		cmocka_unit_test(test_ipvs_reports_totals_and_backends_of_each_service),
		cmocka_unit_test(test_ipvs_sums_backends_that_fewer_labels_cannot_tell_apart),
		cmocka_unit_test(test_ipvs_reads_sctp_services_like_tcp_and_udp),
		cmocka_unit_test(test_ipvs_refuses_an_unknown_backend_label),
		cmocka_unit_test(test_a_missing_subsystem_gives_no_series_and_no_error),
		cmocka_unit_test(test_zero_length_files_give_no_values_and_no_error),
		cmocka_unit_test(test_info_series_keep_their_label_set_when_attributes_are_empty),
		cmocka_unit_test(test_unknown_lines_in_proc_files_are_skipped),
		cmocka_unit_test(test_an_unreadable_proc_file_fails_the_collection_with_its_path),
		cmocka_unit_test(
		    test_devices_that_come_and_go_between_cycles_come_and_go_in_the_series),
		cmocka_unit_test(test_many_devices_come_out_sorted_by_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
