/*
 * test_collectors_io.c - the I/O collectors (diskstats, filesystem, netdev,
 * netstat, sockstat, vmstat) against the fixture trees tests/fixtures/procfs-io,
 * sysfs-io and udev-io, through collector_harness.h.  The fixtures have been fed
 * to node_exporter 1.5 (--path.procfs/--path.sysfs/--path.udev.data,
 * --no-collector.netdev.netlink) to check the golden files.
 *
 * The filesystem collector's statfs goes through filesystem_set_statfs(), so a
 * test can give it a mount that hangs like a dead NFS server.
 */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "collector_harness.h"
#include "../collectors/filesystem.h"

#define PROCFS_IO FIXTURES "/procfs-io"
#define SYSFS_IO  FIXTURES "/sysfs-io"
#define UDEV_IO   FIXTURES "/udev-io"

/* ---- opening a collector with options ---- */

struct opts {
	const char *procfs, *rootfs, *udev;
	const char *keys[4], *values[4];
	size_t n;
};

static int open_opts_rc(struct run *r, const char *name, const struct opts *o)
{
	const struct collector_env env = { .procfs = o->procfs ? o->procfs : PROCFS_IO,
					   .sysfs = SYSFS_IO,
					   .rootfs = o->rootfs,
					   .udev_data = o->udev,
					   .n_options = o->n,
					   .option_keys = o->keys,
					   .option_values = o->values };
	return run_start(r, name, &env, NULL);
}

static void open_opts(struct run *r, const char *name, const struct opts *o)
{
	int rc = open_opts_rc(r, name, o);
	if (rc)
		fail_msg("%s init: %d %s", name, rc, r->err);
}

static void golden_opts(const char *name, const struct opts *o, const char *golden)
{
	struct run r;
	open_opts(&r, name, o);
	expect_golden_run(&r, golden);
}

/* ---- a statfs the tests control ---- */

static pthread_mutex_t mock_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mock_cv = PTHREAD_COND_INITIALIZER;
static const char *mock_hang; /* path whose calls block until mock_release */
static bool mock_release;
static int mock_hang_calls, mock_hang_returned;

/* Sizes derived from the path, so golden files do not depend on the host. */
static int mock_statfs(const char *path, struct statfs *st)
{
	pthread_mutex_lock(&mock_mu);
	bool hang = mock_hang && strcmp(path, mock_hang) == 0;
	if (hang) {
		mock_hang_calls++;
		while (!mock_release)
			pthread_cond_wait(&mock_cv, &mock_mu);
		mock_hang_returned++;
	}
	pthread_mutex_unlock(&mock_mu);
	if (strstr(path, "missing"))
		return -ENOENT;
	memset(st, 0, sizeof *st);
	size_t n = strlen(path);
	st->f_bsize = 4096;
	st->f_blocks = 1000 * n;
	st->f_bfree = 500 * n;
	st->f_bavail = 400 * n;
	st->f_files = 100 * n;
	st->f_ffree = 50 * n;
	return 0;
}

static void mock_reset(const char *hang)
{
	pthread_mutex_lock(&mock_mu);
	mock_hang = hang;
	mock_release = false;
	mock_hang_calls = mock_hang_returned = 0;
	pthread_mutex_unlock(&mock_mu);
}

static void mock_unblock(void)
{
	pthread_mutex_lock(&mock_mu);
	mock_release = true;
	pthread_cond_broadcast(&mock_cv);
	pthread_mutex_unlock(&mock_mu);
}

static int mock_count(const int *counter)
{
	pthread_mutex_lock(&mock_mu);
	int n = *counter;
	pthread_mutex_unlock(&mock_mu);
	return n;
}

static void open_fs(struct run *r, const struct opts *o)
{
	open_opts(r, "filesystem", o);
	filesystem_set_statfs(r->state, mock_statfs);
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- golden files ---- */

static void test_diskstats_reports_counters_info_and_udev_families_like_node_exporter(void **unused)
{
	(void)unused;
	struct opts o = { .udev = UDEV_IO };
	golden_opts("diskstats", &o, "diskstats-io.txt");
}

static void test_filesystem_reports_sizes_readonly_and_errors_per_mount(void **unused)
{
	(void)unused;
	struct run r;
	char *dump;
	struct opts o = { 0 };
	mock_reset(NULL);
	open_fs(&r, &o);
	assert_int_equal(run_cycle_dump(&r, &dump, true), 0);
	compare_golden(dump, "filesystem-io.txt");
	free(dump);
	run_close(&r);
}

/* node_exporter's default excludes no device (Debian's 1.5 package excluded lo). */
static void test_netdev_reports_proc_net_dev_counters_of_every_device(void **unused)
{
	(void)unused;
	struct opts o = { .keys = { "netlink" }, .values = { "false" }, .n = 1 };
	golden_opts("netdev", &o, "netdev-io.txt");
}

/* The alias of SYSFS/class/net/<device>/ifalias, "" for a device without one. */
static void test_netdev_label_ifalias_labels_every_counter(void **unused)
{
	(void)unused;
	struct opts o = { .keys = { "netlink", "label-ifalias", "device-include" },
			  .values = { "false", "true", "^(eth0|lo)$" },
			  .n = 3 };
	golden_opts("netdev", &o, "netdev-ifalias-io.txt");
}

static void test_netstat_reports_the_default_fields_of_netstat_snmp_and_snmp6(void **unused)
{
	(void)unused;
	expect_golden("netstat", PROCFS_IO, NO_SUCH_DIR, "netstat-io.txt");
}

static void test_sockstat_reports_v4_and_v6_states_and_memory_in_bytes(void **unused)
{
	(void)unused;
	expect_golden("sockstat", PROCFS_IO, NO_SUCH_DIR, "sockstat-io.txt");
}

static void test_vmstat_reports_the_default_fields(void **unused)
{
	(void)unused;
	expect_golden("vmstat", PROCFS_IO, NO_SUCH_DIR, "vmstat-io.txt");
}

/* ---- filesystem: hung mounts, rootfs, mount tables ---- */

/*
 * Writes rel as a mountinfo file (proc(5)) made from lines in the simpler
 * /proc/mounts layout, "device mountpoint fstype options 0 0": one major:minor
 * per device, the mount options also as the superblock's.
 */
static void write_mountinfo(const char *dir, const char *rel, const char *mounts)
{
	char *out = NULL, dev[256], mp[256], type[64], opts[128];
	size_t cap = 0;
	FILE *f = open_memstream(&out, &cap);
	int id = 20, consumed;
	assert_non_null(f);
	for (const char *p = mounts;
	     sscanf(p, "%255s %255s %63s %127s %*d %*d\n%n", dev, mp, type, opts, &consumed) == 4;
	     p += consumed) {
		unsigned minor = 0;
		for (const char *c = dev; *c; c++)
			minor = (minor * 31 + (unsigned char)*c) % 251;
		fprintf(f, "%d 1 0:%u / %s %s shared:%d - %s %s %s\n", id, minor, mp, opts, id,
			type, dev, opts);
		id++;
	}
	fclose(f);
	write_file(dir, rel, out);
	free(out);
}

static const char *const hang_mounts = "/dev/vda / ext4 rw 0 0\n"
				       "server:/export /home/nfs nfs4 rw 0 0\n"
				       "/dev/vdb /srv xfs ro 0 0\n";

static void test_a_hung_statfs_times_out_and_reports_device_error_until_it_answers(void **unused)
{
	(void)unused;
	char *dir = make_tree(), *dump;
	struct run r;
	struct opts o = {
		.procfs = dir, .keys = { "mount-timeout" }, .values = { "200ms" }, .n = 1
	};
	write_mountinfo(dir, "1/mountinfo", hang_mounts);
	mock_reset("/home/nfs");
	open_fs(&r, &o);

	double t0 = now_seconds();
	assert_int_equal(run_cycle(&r, &dump), 0);
	/* It waited for the deadline, and returned while the call is still hung
	 * (the mock blocks until released): outcomes, not a speed. */
	assert_true(now_seconds() - t0 >= 0.19);
	assert_int_equal(mock_count(&mock_hang_returned), 0);
	assert_non_null(strstr(dump, "node_filesystem_device_error{device=\"server:/export\","
				     "device_error=\"mountpoint timeout\",fstype=\"nfs4\","
				     "mountpoint=\"/home/nfs\"} 1\n"));
	assert_null(strstr(dump, "node_filesystem_size_bytes{device=\"server:/export\""));
	/* The mounts after the hung one are still asked, by a fresh worker. */
	assert_non_null(strstr(dump, "node_filesystem_size_bytes{device=\"/dev/vdb\""));
	assert_non_null(strstr(dump, "node_filesystem_size_bytes{device=\"/dev/vda\""));
	free(dump);

	/* Still stuck: skipped, not asked again. */
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_int_equal(mock_count(&mock_hang_calls), 1);
	assert_int_equal(mock_count(&mock_hang_returned), 0);
	assert_non_null(strstr(dump, "device_error=\"mountpoint timeout\",fstype=\"nfs4\","
				     "mountpoint=\"/home/nfs\"} 1\n"));
	free(dump);

	/* The server comes back: once the old call returns, the mount is asked again. */
	mock_unblock();
	for (int i = 0; i < 200 && mock_count(&mock_hang_returned) < 1; i++)
		usleep(5000);
	usleep(20000);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_int_equal(mock_count(&mock_hang_calls), 2);
	assert_non_null(strstr(dump, "node_filesystem_size_bytes{device=\"server:/export\","
				     "device_error=\"\",fstype=\"nfs4\",mountpoint=\"/home/nfs\"} "
				     "36864000\n"));
	assert_non_null(strstr(dump, "mountpoint=\"/home/nfs\"} 0\n"));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

static void test_fini_with_a_call_still_hung_does_not_wait_for_it(void **unused)
{
	(void)unused;
	char *dir = make_tree(), *dump;
	struct run r;
	struct opts o = {
		.procfs = dir, .keys = { "mount-timeout" }, .values = { "50ms" }, .n = 1
	};
	write_mountinfo(dir, "1/mountinfo", hang_mounts);
	mock_reset("/home/nfs");
	open_fs(&r, &o);
	assert_int_equal(run_cycle(&r, &dump), 0);
	free(dump);
	run_close(&r);
	/* it returned although the call it abandoned has not */
	assert_int_equal(mock_count(&mock_hang_returned), 0);
	/* Let the abandoned thread finish and free its record before the next test. */
	mock_unblock();
	for (int i = 0; i < 200 && mock_count(&mock_hang_returned) < 1; i++)
		usleep(5000);
	usleep(20000);
	remove_tree(dir);
}

static void test_mount_points_under_the_rootfs_lose_its_prefix(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	struct run r;
	struct opts o = { .procfs = dir,
			  .rootfs = "/host/",
			  .keys = { "mount-points-exclude" },
			  .values = { "^/(proc|sys)($|/)" },
			  .n = 1 };
	write_mountinfo(dir, "1/mountinfo",
			"/dev/vda /host ext4 rw 0 0\n"
			"/dev/vdb /host/home ext4 rw 0 0\n"
			"/dev/vdc /hostile ext4 rw 0 0\n"
			"proc /host/proc proc rw 0 0\n"
			"overlay / overlay rw 0 0\n");
	mock_reset(NULL);
	open_fs(&r, &o);
	/* Sizes show the path asked: rootfs + mount point ("/host/home" is 10 bytes). */
	expect_cycle(
	    &r,
	    "node_filesystem_size_bytes{device=\"/dev/vda\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/\"} 20480000\n"
	    "node_filesystem_size_bytes{device=\"/dev/vdb\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/home\"} 40960000\n"
	    "node_filesystem_size_bytes{device=\"/dev/vdc\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/hostile\"} 53248000\n"
	    "node_filesystem_free_bytes{device=\"/dev/vda\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/\"} 10240000\n"
	    "node_filesystem_free_bytes{device=\"/dev/vdb\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/home\"} 20480000\n"
	    "node_filesystem_free_bytes{device=\"/dev/vdc\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/hostile\"} 26624000\n"
	    "node_filesystem_avail_bytes{device=\"/dev/vda\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/\"} 8192000\n"
	    "node_filesystem_avail_bytes{device=\"/dev/vdb\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/home\"} 16384000\n"
	    "node_filesystem_avail_bytes{device=\"/dev/vdc\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/hostile\"} 21299200\n"
	    "node_filesystem_files{device=\"/dev/vda\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/\"} 500\n"
	    "node_filesystem_files{device=\"/dev/vdb\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/home\"} 1000\n"
	    "node_filesystem_files{device=\"/dev/vdc\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/hostile\"} 1300\n"
	    "node_filesystem_files_free{device=\"/dev/vda\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/\"} 250\n"
	    "node_filesystem_files_free{device=\"/dev/vdb\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/home\"} 500\n"
	    "node_filesystem_files_free{device=\"/dev/vdc\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/hostile\"} 650\n"
	    "node_filesystem_readonly{device=\"/dev/vda\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/\"} 0\n"
	    "node_filesystem_readonly{device=\"/dev/vdb\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/home\"} 0\n"
	    "node_filesystem_readonly{device=\"/dev/vdc\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/hostile\"} 0\n"
	    "node_filesystem_device_error{device=\"/dev/vda\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/\"} 0\n"
	    "node_filesystem_device_error{device=\"/dev/vdb\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/home\"} 0\n"
	    "node_filesystem_device_error{device=\"/dev/vdc\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/hostile\"} 0\n"
	    "node_filesystem_mount_info{device=\"/dev/vda\",major=\"0\",minor=\"245\",mountpoint=\"/\"} 1\n"
	    "node_filesystem_mount_info{device=\"/dev/vdb\",major=\"0\",minor=\"246\",mountpoint=\"/home\"} 1\n"
	    "node_filesystem_mount_info{device=\"/dev/vdc\",major=\"0\",minor=\"247\",mountpoint=\"/hostile\"} 1\n");
	run_close(&r);
	remove_tree(dir);
}

static void test_filesystem_falls_back_to_proc_mounts_when_pid_1_is_hidden(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	struct run r;
	struct opts o = { .procfs = dir };
	write_mountinfo(dir, "self/mountinfo",
			"/dev/vda / ext4 ro 0 0\nnone /missing tmpfs rw 0 0\n");
	mock_reset(NULL);
	open_fs(&r, &o);
	char *dump;
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(
	    strstr(dump,
		   "node_filesystem_readonly{device=\"/dev/vda\",device_error=\"\",fstype=\"ext4\","
		   "mountpoint=\"/\"} 1\n"));
	/* A failing statfs gives device_error 1, labelled with the error, and the
	 * read-only state from the mount options; no sizes. */
	assert_non_null(
	    strstr(dump, "node_filesystem_device_error{device=\"none\",device_error=\"no such "
			 "file or directory\",fstype=\"tmpfs\",mountpoint=\"/missing\"} 1\n"));
	assert_non_null(
	    strstr(dump, "node_filesystem_readonly{device=\"none\",device_error=\"no "
			 "such file or directory\",fstype=\"tmpfs\",mountpoint=\"/missing\"} 0\n"));
	assert_null(strstr(dump, "node_filesystem_size_bytes{device=\"none\""));
	free(dump);
	/* 1/mountinfo appears: it is preferred from then on. */
	write_mountinfo(dir, "1/mountinfo", "/dev/vdz / ext4 rw 0 0\n");
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "device=\"/dev/vdz\""));
	assert_null(strstr(dump, "device=\"/dev/vda\""));
	free(dump);
	run_close(&r);
	remove_tree(dir);
}

/* ---- edges shared by all ---- */

static const char *const io_collectors[] = { "diskstats", "filesystem", "netstat",
					     "sockstat",  "vmstat",     "netdev" };
#define N_IO (sizeof io_collectors / sizeof io_collectors[0])

static void open_io(struct run *r, const char *name, const char *procfs)
{
	struct opts o = { .procfs = procfs, .udev = procfs };
	if (strcmp(name, "netdev") == 0) {
		o.keys[0] = "netlink";
		o.values[0] = "false";
		o.n = 1;
	}
	open_opts(r, name, &o);
	if (strcmp(name, "filesystem") == 0)
		filesystem_set_statfs(r->state, mock_statfs);
}

static void test_missing_files_are_skipped_quietly(void **unused)
{
	(void)unused;
	mock_reset(NULL);
	for (size_t i = 0; i < N_IO; i++) {
		struct run r;
		open_io(&r, io_collectors[i], NO_SUCH_DIR);
		expect_cycle(&r, "");
		run_close(&r);
	}
}

static void test_zero_length_files_give_no_series_and_no_error(void **unused)
{
	(void)unused;
	static const char *const files[] = { "diskstats",    "1/mountinfo",   "net/dev",
					     "net/netstat",  "net/snmp",      "net/snmp6",
					     "net/sockstat", "net/sockstat6", "vmstat" };
	char *dir = make_tree();
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		write_file(dir, files[i], "");
	mock_reset(NULL);
	for (size_t i = 0; i < N_IO; i++) {
		struct run r;
		open_io(&r, io_collectors[i], dir);
		expect_cycle(&r, "");
		run_close(&r);
	}
	remove_tree(dir);
}

static const struct edge_case edge_cases[] = {
	{ "diskstats", "diskstats",
	  "this is not a diskstats line\n"
	  "   8 16 sdb 1 2 x 4 5 6 7 8 9 10 11\n"                  /* garbled */
	  "   8 32 sdc 1 2 3 4 5 6 7 8 9 10\n"                     /* too short */
	  "   8 48 sdd 99999999999999999999 0 0 0 0 0 0 0 0 0 0\n" /* overflows */
	  "   8 64 a-device-name-that-is-far-too-long-for-any-kernel-to-have-made-it 1 1 1 1 1 1 1 1 1 1 1\n"
	  "   8 80 sde 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n" /* a future kernel's extra columns */
	  "\n",
	  "node_disk_info{device=\"sde\",major=\"8\",minor=\"80\",model=\"\",path=\"\",revision=\"\",rotational=\"0\",serial=\"\",wwn=\"\"} 1\n"
	  "node_disk_reads_completed_total{device=\"sde\"} 1\n"
	  "node_disk_reads_merged_total{device=\"sde\"} 2\n"
	  "node_disk_read_bytes_total{device=\"sde\"} 1536\n"
	  "node_disk_read_time_seconds_total{device=\"sde\"} 0.004\n"
	  "node_disk_writes_completed_total{device=\"sde\"} 5\n"
	  "node_disk_writes_merged_total{device=\"sde\"} 6\n"
	  "node_disk_written_bytes_total{device=\"sde\"} 3584\n"
	  "node_disk_write_time_seconds_total{device=\"sde\"} 0.008\n"
	  "node_disk_io_now{device=\"sde\"} 9\n"
	  "node_disk_io_time_seconds_total{device=\"sde\"} 0.01\n"
	  "node_disk_io_time_weighted_seconds_total{device=\"sde\"} 0.011\n"
	  "node_disk_discards_completed_total{device=\"sde\"} 12\n"
	  "node_disk_discards_merged_total{device=\"sde\"} 13\n"
	  "node_disk_discarded_sectors_total{device=\"sde\"} 14\n"
	  "node_disk_discard_time_seconds_total{device=\"sde\"} 0.015\n"
	  "node_disk_flush_requests_total{device=\"sde\"} 16\n"
	  "node_disk_flush_requests_time_seconds_total{device=\"sde\"} 0.017\n" },
	{ "netdev", "net/dev",
	  "Inter-|   Receive |  Transmit\n"
	  " face |bytes    packets|bytes\n"
	  "docker0: 1 2 3\n"
	  "garbage line\n"
	  "br0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x\n"
	  "veth:1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
	  "node_network_receive_bytes_total{device=\"veth:1\"} 1\n"
	  "node_network_receive_packets_total{device=\"veth:1\"} 2\n"
	  "node_network_receive_errs_total{device=\"veth:1\"} 3\n"
	  "node_network_receive_drop_total{device=\"veth:1\"} 4\n"
	  "node_network_receive_fifo_total{device=\"veth:1\"} 5\n"
	  "node_network_receive_frame_total{device=\"veth:1\"} 6\n"
	  "node_network_receive_compressed_total{device=\"veth:1\"} 7\n"
	  "node_network_receive_multicast_total{device=\"veth:1\"} 8\n"
	  "node_network_transmit_bytes_total{device=\"veth:1\"} 9\n"
	  "node_network_transmit_packets_total{device=\"veth:1\"} 10\n"
	  "node_network_transmit_errs_total{device=\"veth:1\"} 11\n"
	  "node_network_transmit_drop_total{device=\"veth:1\"} 12\n"
	  "node_network_transmit_fifo_total{device=\"veth:1\"} 13\n"
	  "node_network_transmit_colls_total{device=\"veth:1\"} 14\n"
	  "node_network_transmit_carrier_total{device=\"veth:1\"} 15\n"
	  "node_network_transmit_compressed_total{device=\"veth:1\"} 16\n" },
	{ "netstat", "net/netstat",
	  "Stray: line\n"
	  "TcpExt: ListenDrops ListenOverflows TCPTimeouts\n"
	  "TcpExt: 1 notanumber 3\n"
	  "IpExt: InOctets OutOctets\n"
	  "Other: 5 6\n"
	  "Tcp: InErrs CurrEstab Extra\n"
	  "Tcp: -1 2\n",
	  "node_netstat_TcpExt_ListenDrops 1\n"
	  "node_netstat_TcpExt_TCPTimeouts 3\n"
	  "node_netstat_Tcp_InErrs -1\n"
	  "node_netstat_Tcp_CurrEstab 2\n" },
	{ "netstat", "net/snmp6",
	  "Ip6InOctets 10\n"
	  "NoSixHereInErrors 1\n"
	  "Udp6InErrors\n"
	  "Icmp6InMsgs 2 extra\n",
	  "node_netstat_Ip6_InOctets 10\n"
	  "node_netstat_Icmp6_InMsgs 2\n" },
	{ "sockstat", "net/sockstat",
	  "sockets: used 3\n"
	  "TCP: inuse x orphan 1 newstate 4 mem 2\n"
	  "UDP:\n"
	  "WEIRD-NAME: inuse 1\n"
	  "no colon here\n",
	  "node_sockstat_sockets_used 3\n"
	  "node_sockstat_TCP_inuse 0\n"
	  "node_sockstat_TCP_orphan 1\n"
	  "node_sockstat_TCP_mem 2\n"
	  "node_sockstat_TCP_mem_bytes 8192\n"
	  "node_sockstat_UDP_inuse 0\n" },
	{ "vmstat", "vmstat",
	  "pgfault abc\n"
	  "pgpgin 1 2\n"
	  "pswpin 5\n"
	  "nr_free_pages 7\n"
	  "pgmajfault 18446744073709551616\n"
	  "oom_kill\n",
	  "node_vmstat_pswpin 5\n"
	  "node_vmstat_pgmajfault 1.8446744073709552e+19\n" },
	{ "filesystem", "1/mountinfo",
	  "short line\n"
	  "25 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
	  "26 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n" /* listed twice */
	  "27 1 x:1 / /bad rw - ext4 /dev/vdx rw\n"                  /* no major */
	  "28 1 0:1 / /nosep rw ext4 /dev/vdy rw\n"                  /* no separator */
	  "29 25 0:26 / /tmp/with\\040space\\011tab\\134x rw,nosuid - tmpfs tmpfs ro\n",
	  "node_filesystem_size_bytes{device=\"/dev/vda\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/\"} 4096000\n"
	  "node_filesystem_size_bytes{device=\"tmpfs\",device_error=\"\",fstype=\"tmpfs\",mountpoint=\"/tmp/with space\ttab\\\\134x\"} 98304000\n"
	  "node_filesystem_free_bytes{device=\"/dev/vda\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/\"} 2048000\n"
	  "node_filesystem_free_bytes{device=\"tmpfs\",device_error=\"\",fstype=\"tmpfs\",mountpoint=\"/tmp/with space\ttab\\\\134x\"} 49152000\n"
	  "node_filesystem_avail_bytes{device=\"/dev/vda\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/\"} 1638400\n"
	  "node_filesystem_avail_bytes{device=\"tmpfs\",device_error=\"\",fstype=\"tmpfs\",mountpoint=\"/tmp/with space\ttab\\\\134x\"} 39321600\n"
	  "node_filesystem_files{device=\"/dev/vda\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/\"} 100\n"
	  "node_filesystem_files{device=\"tmpfs\",device_error=\"\",fstype=\"tmpfs\",mountpoint=\"/tmp/with space\ttab\\\\134x\"} 2400\n"
	  "node_filesystem_files_free{device=\"/dev/vda\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/\"} 50\n"
	  "node_filesystem_files_free{device=\"tmpfs\",device_error=\"\",fstype=\"tmpfs\",mountpoint=\"/tmp/with space\ttab\\\\134x\"} 1200\n"
	  "node_filesystem_readonly{device=\"/dev/vda\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/\"} 0\n"
	  "node_filesystem_readonly{device=\"tmpfs\",device_error=\"\",fstype=\"tmpfs\",mountpoint=\"/tmp/with space\ttab\\\\134x\"} 1\n"
	  "node_filesystem_device_error{device=\"/dev/vda\",device_error=\"\",fstype=\"ext4\",mountpoint=\"/\"} 0\n"
	  "node_filesystem_device_error{device=\"tmpfs\",device_error=\"\",fstype=\"tmpfs\",mountpoint=\"/tmp/with space\ttab\\\\134x\"} 0\n"
	  "node_filesystem_mount_info{device=\"/dev/vda\",major=\"254\",minor=\"1\",mountpoint=\"/\"} 1\n"
	  "node_filesystem_mount_info{device=\"tmpfs\",major=\"0\",minor=\"26\",mountpoint=\"/tmp/with space\ttab\\\\134x\"} 1\n" },
};

static void test_unknown_lines_and_garbage_numbers_are_skipped(void **unused)
{
	(void)unused;
	mock_reset(NULL);
	expect_edge_cases(edge_cases, sizeof edge_cases / sizeof edge_cases[0], open_io);
}

static void test_very_long_lines_are_read_whole(void **unused)
{
	(void)unused;
	char *dir = make_tree(), *dump;
	struct run r;
	/* 200000 blank-separated names on one line, and a vmstat line padded wide. */
	size_t n = 200000, len = 0;
	char *big = malloc(n * 10 + 64), *vm = malloc(100000);
	assert_non_null(big);
	assert_non_null(vm);
	len += (size_t)sprintf(big, "TcpExt:");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(big + len, " X%zu", i % 100000);
	len += (size_t)sprintf(big + len, " ListenDrops\nTcpExt:");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(big + len, " 1");
	sprintf(big + len, " 42\n");
	write_file(dir, "net/netstat", big);
	memset(vm, ' ', 99990);
	memcpy(vm, "pswpin", 6);
	memcpy(vm + 99980, "7\n", 3);
	write_file(dir, "vmstat", vm);
	open_io(&r, "netstat", dir);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_string_equal(dump, "node_netstat_TcpExt_ListenDrops 42\n");
	free(dump);
	run_close(&r);
	open_io(&r, "vmstat", dir);
	expect_cycle(&r, "node_vmstat_pswpin 7\n");
	run_close(&r);
	free(big);
	free(vm);
	remove_tree(dir);
}

/* The device labels of one family in the dump, space separated. */
static void devices_of(const char *dump, const char *family, char *out, size_t outlen)
{
	size_t n = 0, flen = strlen(family);
	out[0] = '\0';
	for (const char *p = dump; (p = strstr(p, family)) != NULL; p += flen) {
		const char *d = strstr(p, "device=\"");
		if (p[flen] != '{' || !d)
			continue;
		d += 8;
		const char *q = strchr(d, '"');
		n += (size_t)snprintf(out + n, outlen - n, "%s%.*s", n ? " " : "", (int)(q - d), d);
	}
}

static void expect_devices(struct run *r, const char *family, const char *want)
{
	char *dump, got[512];
	assert_int_equal(run_cycle(r, &dump), 0);
	devices_of(dump, family, got, sizeof got);
	assert_string_equal(got, want);
	free(dump);
}

static void test_devices_appear_and_disappear_between_cycles(void **unused)
{
	(void)unused;
	char *dir = make_tree();
	struct run disk, net, fs;
	const char *row = " 1 2 3 4 5 6 7 8 9 10 11\n";
	char text[512];

	mock_reset(NULL);
	snprintf(text, sizeof text, "8 0 sda%s8 16 sdb%s", row, row);
	write_file(dir, "diskstats", text);
	write_file(dir, "net/dev", "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
	write_mountinfo(dir, "1/mountinfo", "/dev/sda / ext4 rw 0 0\n");
	open_io(&disk, "diskstats", dir);
	open_io(&net, "netdev", dir);
	open_io(&fs, "filesystem", dir);
	expect_devices(&disk, "node_disk_io_now", "sda sdb");
	expect_devices(&net, "node_network_receive_bytes_total", "eth0");
	expect_devices(&fs, "node_filesystem_device_error", "/dev/sda");

	snprintf(text, sizeof text, "8 16 sdb%s8 32 sdc%s", row, row);
	write_file(dir, "diskstats", text);
	write_file(dir, "net/dev",
		   "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
		   "wg0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
	write_mountinfo(dir, "1/mountinfo", "/dev/sda / ext4 rw 0 0\n/dev/sdc1 /data xfs rw 0 0\n");
	expect_devices(&disk, "node_disk_io_now", "sdb sdc");
	expect_devices(&net, "node_network_receive_bytes_total", "eth0 wg0");
	expect_devices(&fs, "node_filesystem_device_error", "/dev/sda /dev/sdc1");

	write_file(dir, "diskstats", "");
	write_file(dir, "net/dev", "wg0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
	write_mountinfo(dir, "1/mountinfo", "/dev/sdc1 /data xfs rw 0 0\n");
	expect_devices(&disk, "node_disk_io_now", "");
	expect_devices(&net, "node_network_receive_bytes_total", "wg0");
	expect_devices(&fs, "node_filesystem_device_error", "/dev/sdc1");
	run_close(&disk);
	run_close(&net);
	run_close(&fs);
	remove_tree(dir);
}

/* ---- options ---- */

static void expect_option_devices(const char *collector, const char *key, const char *value,
				  const char *family, const char *want)
{
	struct run r;
	struct opts o = {
		.udev = UDEV_IO, .keys = { key, "netlink" }, .values = { value, "false" }, .n = 2
	};
	if (strcmp(collector, "netdev") != 0)
		o.n = 1;
	open_opts(&r, collector, &o);
	if (strcmp(collector, "filesystem") == 0)
		filesystem_set_statfs(r.state, mock_statfs);
	expect_devices(&r, family, want);
	run_close(&r);
}

static void test_device_include_and_exclude_options_filter_devices(void **unused)
{
	(void)unused;
	mock_reset(NULL);
	expect_option_devices("diskstats", "device-exclude", "", "node_disk_io_now",
			      "loop0 sda sda1 nvme0n1 nvme0n1p1 hda dm-0 zram0");
	/* device-include alone replaces the default exclude */
	expect_option_devices("diskstats", "device-include", "^(sda|loop)", "node_disk_io_now",
			      "loop0 sda sda1");
	expect_option_devices("netdev", "device-exclude", "^(lo|wlan[0-9]+)$",
			      "node_network_receive_bytes_total", "eth0");
	expect_option_devices("netdev", "device-include", "^(lo|wlan0)$",
			      "node_network_receive_bytes_total", "lo wlan0");
	expect_option_devices("filesystem", "fs-types-exclude", "^(ext[0-9]|xfs|tmpfs|squashfs)$",
			      "node_filesystem_device_error", "server:/export server:/export");
	expect_option_devices("filesystem", "mount-points-exclude", "",
			      "node_filesystem_device_error",
			      "/dev/vda /dev/vdb1 tmpfs tmpfs server:/export server:/export "
			      "/dev/vdc /dev/vdd /dev/vde none none");
	/* An include given alone replaces the default exclude. */
	expect_option_devices("filesystem", "mount-points-include", "^/(mnt|srv)/",
			      "node_filesystem_device_error",
			      "/dev/vdb1 server:/export /dev/vde none");
	expect_option_devices("filesystem", "fs-types-include", "^(nfs4|squashfs)$",
			      "node_filesystem_device_error",
			      "server:/export server:/export /dev/loop0");
}

static void test_include_and_a_changed_exclude_together_are_refused(void **unused)
{
	(void)unused;
	struct run r;
	struct opts o = { .keys = { "device-include", "device-exclude" },
			  .values = { "^sd", "^loop" },
			  .n = 2 };
	assert_int_equal(open_opts_rc(&r, "diskstats", &o), -EINVAL);
	assert_non_null(strstr(r.err, "mutually exclusive"));
	assert_int_equal(open_opts_rc(&r, "netdev", &o), -EINVAL);
	struct opts bad = { .keys = { "fields" }, .values = { "(unclosed" }, .n = 1 };
	assert_int_equal(open_opts_rc(&r, "vmstat", &bad), -EINVAL);
	assert_non_null(strstr(r.err, "--collector.vmstat.fields"));
	struct opts late = { .keys = { "mount-timeout" }, .values = { "soon" }, .n = 1 };
	assert_int_equal(open_opts_rc(&r, "filesystem", &late), -EINVAL);
}

static void test_fields_options_select_netstat_and_vmstat_fields(void **unused)
{
	(void)unused;
	struct run r;
	struct opts o = { .keys = { "fields" },
			  .values = { "^Udp_(InDatagrams|NoPorts)$" },
			  .n = 1 };
	char *dump;
	open_opts(&r, "netstat", &o);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "node_netstat_Udp_InDatagrams "));
	assert_non_null(strstr(dump, "node_netstat_Udp_NoPorts "));
	assert_null(strstr(dump, "node_netstat_Tcp"));
	free(dump);
	run_close(&r);
	o.values[0] = "^nr_(free|zone_inactive_anon)";
	open_opts(&r, "vmstat", &o);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "node_vmstat_nr_free_pages "));
	assert_non_null(strstr(dump, "node_vmstat_nr_zone_inactive_anon "));
	assert_null(strstr(dump, "node_vmstat_pgfault"));
	free(dump);
	run_close(&r);
}

/* ---- netlink, on this host ---- */

static void test_netdev_over_netlink_sees_lo_with_nohandler_and_its_address(void **unused)
{
	(void)unused;
	struct run r;
	struct opts o = { .procfs = NO_SUCH_DIR,
			  .keys = { "device-include", "address-info" },
			  .values = { "^lo$", "true" },
			  .n = 2 };
	char *dump;
	open_opts(&r, "netdev", &o);
	for (int cycle = 0; cycle < 2; cycle++) {
		assert_int_equal(run_cycle(&r, &dump), 0);
		assert_non_null(strstr(dump, "node_network_receive_bytes_total{device=\"lo\"} "));
		assert_non_null(
		    strstr(dump, "node_network_receive_nohandler_total{device=\"lo\"} "));
		assert_non_null(strstr(dump,
				       "node_network_address_info{address=\"127.0.0.1\","
				       "device=\"lo\",netmask=\"8\",scope=\"link-local\"} 1\n"));
		free(dump);
	}
	run_close(&r);
}

/* ---- registration ---- */

static void test_io_collectors_are_registered_and_enabled_by_default(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < N_IO; i++) {
		const struct collector_def *d = collector_find(io_collectors[i]);
		assert_non_null(d);
		assert_true(d->enabled_by_default);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_diskstats_reports_counters_info_and_udev_families_like_node_exporter),
		cmocka_unit_test(test_filesystem_reports_sizes_readonly_and_errors_per_mount),
		cmocka_unit_test(test_netdev_reports_proc_net_dev_counters_of_every_device),
		cmocka_unit_test(test_netdev_label_ifalias_labels_every_counter),
		cmocka_unit_test(test_netstat_reports_the_default_fields_of_netstat_snmp_and_snmp6),
		cmocka_unit_test(test_sockstat_reports_v4_and_v6_states_and_memory_in_bytes),
		cmocka_unit_test(test_vmstat_reports_the_default_fields),
		cmocka_unit_test(
		    test_a_hung_statfs_times_out_and_reports_device_error_until_it_answers),
		cmocka_unit_test(test_fini_with_a_call_still_hung_does_not_wait_for_it),
		cmocka_unit_test(test_mount_points_under_the_rootfs_lose_its_prefix),
		cmocka_unit_test(test_filesystem_falls_back_to_proc_mounts_when_pid_1_is_hidden),
		cmocka_unit_test(test_missing_files_are_skipped_quietly),
		cmocka_unit_test(test_zero_length_files_give_no_series_and_no_error),
		cmocka_unit_test(test_unknown_lines_and_garbage_numbers_are_skipped),
		cmocka_unit_test(test_very_long_lines_are_read_whole),
		cmocka_unit_test(test_devices_appear_and_disappear_between_cycles),
		cmocka_unit_test(test_device_include_and_exclude_options_filter_devices),
		cmocka_unit_test(test_include_and_a_changed_exclude_together_are_refused),
		cmocka_unit_test(test_fields_options_select_netstat_and_vmstat_fields),
		cmocka_unit_test(test_netdev_over_netlink_sees_lo_with_nohandler_and_its_address),
		cmocka_unit_test(test_io_collectors_are_registered_and_enabled_by_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
