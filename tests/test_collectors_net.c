/*
 * test_collectors_net.c - the collectors that ask the kernel over netlink,
 * ioctls and perf_event_open (network_route, qdisc, netclass over netlink,
 * netdev's detailed metrics, wifi, ethtool, perf) and xfrm, fed constructed
 * kernel replies through tests/fake_kernel.h, with golden output.
 */
#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/nl80211.h>
#include <linux/perf_event.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/ethtool_netlink.h>
#include <linux/gen_stats.h>

#include "collector_harness.h"
#include "fake_kernel.h"
#include "nlsock.h"

#define PROCFS_NET FIXTURES "/procfs-net"
#define SYSFS_NET  FIXTURES "/sysfs-net"

static int run_opts(struct run *r, const char *name, const char *procfs, const char *sysfs,
		    const char *const *keys, const char *const *values, size_t n)
{
	const struct collector_env env = { .procfs = procfs,
					   .sysfs = sysfs,
					   .n_options = n,
					   .option_keys = keys,
					   .option_values = values };
	return run_start(r, name, &env, NULL);
}

static void expect_fails_with(struct run *r, const char *needle)
{
	char *dump;
	int rc = run_cycle(r, &dump);
	if (rc == 0)
		fail_msg("the cycle succeeded; expected an error with \"%s\"", needle);
	if (!strstr(r->err, needle))
		fail_msg("error \"%s\" does not say \"%s\"", r->err, needle);
	free(dump);
}

static int reset_fakes(void **u)
{
	(void)u;
	fake_nl_handler = NULL;
	fake_ethtool_handler = NULL;
	fake_perf_open = NULL;
	fake_perf_read = NULL;
	fake_nl_requests = 0;
	return 0;
}

/* ---- links, for every rtnetlink collector ---- */

static void link_msg(struct fake_reply *r, int index, const char *name)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
	fr_msg(r, RTM_NEWLINK, NLM_F_MULTI, &ifi, sizeof ifi);
	fr_str(r, IFLA_IFNAME, name);
}

static void three_links(struct fake_reply *r)
{
	link_msg(r, 1, "lo");
	link_msg(r, 2, "eth0");
	link_msg(r, 3, "eth1");
	fr_done(r);
}

/* ---- network_route ---- */

static void route_msg(struct fake_reply *r, uint8_t family, uint8_t dst_len, uint8_t proto,
		      uint8_t type)
{
	struct rtmsg rtm = { .rtm_family = family,
			     .rtm_dst_len = dst_len,
			     .rtm_table = RT_TABLE_MAIN,
			     .rtm_protocol = proto,
			     .rtm_type = type };
	fr_msg(r, RTM_NEWROUTE, NLM_F_MULTI, &rtm, sizeof rtm);
}

static const unsigned char v6_fd00[16] = { 0xfd, 0, [15] = 0 };
static const unsigned char v6_gw[16] = { 0xfd, 0, [15] = 1 };
static const unsigned char v6_mapped[16] = { [10] = 0xff, [11] = 0xff };

static void multipath(struct fake_reply *r)
{
	static const unsigned char gw1[4] = { 10, 0, 0, 1 }, gw2[4] = { 10, 0, 1, 1 };
	size_t nest = fr_nest(r, RTA_MULTIPATH);
	struct rtnexthop nh = { .rtnh_len = RTNH_LENGTH(8), .rtnh_hops = 0, .rtnh_ifindex = 2 };
	fr_put(r, &nh, sizeof nh);
	fr_attr(r, RTA_GATEWAY, gw1, 4);
	nh.rtnh_hops = 2;
	nh.rtnh_ifindex = 3;
	fr_put(r, &nh, sizeof nh);
	fr_attr(r, RTA_GATEWAY, gw2, 4);
	fr_nest_end(r, nest);
}

static void v4_routes(struct fake_reply *r)
{
	static const unsigned char net[4] = { 192, 0, 2, 0 }, src[4] = { 192, 0, 2, 2 },
				   gw[4] = { 192, 0, 2, 1 }, multi[4] = { 198, 51, 100, 0 },
				   local[4] = { 127, 0, 0, 1 };
	route_msg(r, AF_INET, 24, RTPROT_KERNEL, RTN_UNICAST);
	fr_attr(r, RTA_DST, net, 4);
	fr_attr(r, RTA_PREFSRC, src, 4);
	fr_u32(r, RTA_OIF, 2);
	route_msg(r, AF_INET, 0, RTPROT_BOOT, RTN_UNICAST);
	fr_attr(r, RTA_GATEWAY, gw, 4);
	fr_u32(r, RTA_OIF, 2);
	route_msg(r, AF_INET, 24, RTPROT_ZEBRA, RTN_UNICAST);
	fr_attr(r, RTA_DST, multi, 4);
	fr_u32(r, RTA_PRIORITY, 20);
	multipath(r);
	route_msg(r, AF_INET, 32, RTPROT_KERNEL, RTN_LOCAL); /* not unicast: left out */
	fr_attr(r, RTA_DST, local, 4);
	fr_u32(r, RTA_OIF, 1);
	route_msg(r, AF_INET, 8, RTPROT_STATIC, RTN_BLACKHOLE); /* left out */
	fr_attr(r, RTA_DST, net, 4);
}

static void v6_routes(struct fake_reply *r)
{
	route_msg(r, AF_INET6, 64, RTPROT_KERNEL, RTN_UNICAST);
	fr_attr(r, RTA_DST, v6_fd00, 16);
	fr_u32(r, RTA_PRIORITY, 256);
	fr_u32(r, RTA_OIF, 3);
	route_msg(r, AF_INET6, 0, RTPROT_RA, RTN_UNICAST);
	fr_attr(r, RTA_GATEWAY, v6_gw, 16);
	fr_u32(r, RTA_PRIORITY, 1024);
	fr_u32(r, RTA_OIF, 9);                       /* an index the link dump does not have */
	route_msg(r, AF_INET6, 96, 99, RTN_UNICAST); /* Go writes this prefix as <nil> */
	fr_attr(r, RTA_DST, v6_mapped, 16);
	fr_u32(r, RTA_OIF, 3);
}

static void route_kernel(int protocol, const struct nlmsghdr *req, struct fake_reply *r)
{
	assert_int_equal(protocol, NETLINK_ROUTE);
	if (req->nlmsg_type == RTM_GETLINK) {
		three_links(r);
		return;
	}
	assert_int_equal(req->nlmsg_type, RTM_GETROUTE);
	assert_true(req->nlmsg_flags & NLM_F_DUMP);
	v4_routes(r);
	fr_dgram(r); /* the dump spans two datagrams */
	v6_routes(r);
	fr_done(r);
}

static void test_network_route_reports_unicast_routes_and_next_hops_per_device(void **u)
{
	struct run r;
	(void)u;
	fake_nl_handler = route_kernel;
	run_open(&r, "network_route", NO_SUCH_DIR, NO_SUCH_DIR);
	expect_golden_run(&r, "network_route-net.txt");
}

static void route_refused(int protocol, const struct nlmsghdr *req, struct fake_reply *r)
{
	(void)protocol;
	if (req->nlmsg_type == RTM_GETLINK)
		three_links(r);
	else
		fr_error(r, -EPERM);
}

static void test_network_route_fails_with_the_kernels_answer(void **u)
{
	struct run r;
	(void)u;
	fake_nl_handler = route_refused;
	run_open(&r, "network_route", NO_SUCH_DIR, NO_SUCH_DIR);
	expect_fails_with(&r, "route dump: the kernel answered: Operation not permitted");
	run_close(&r);
}

static void route_silent(int protocol, const struct nlmsghdr *req, struct fake_reply *r)
{
	(void)protocol;
	if (req->nlmsg_type == RTM_GETLINK)
		three_links(r);
	/* no answer to the route dump */
}

static void test_network_route_gives_up_on_a_kernel_that_does_not_answer(void **u)
{
	struct run r;
	(void)u;
	fake_nl_handler = route_silent;
	run_open(&r, "network_route", NO_SUCH_DIR, NO_SUCH_DIR);
	expect_fails_with(&r, "recv (route dump) failed: Connection timed out");
	/* The next cycle asks again on a new socket and is answered. */
	fake_nl_handler = route_kernel;
	char *dump;
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "node_network_routes{device=\"eth0\"} 3"));
	free(dump);
	run_close(&r);
}

static void route_garbled(int protocol, const struct nlmsghdr *req, struct fake_reply *r)
{
	static const unsigned char net[4] = { 10, 9, 0, 0 };
	(void)protocol;
	if (req->nlmsg_type == RTM_GETLINK) {
		three_links(r);
		return;
	}
	route_msg(r, AF_INET, 16, RTPROT_STATIC, RTN_UNICAST);
	fr_attr(r, RTA_DST, net, 4);
	fr_attr(r, RTA_OIF, net, 2);      /* too short for a u32: no device */
	fr_attr(r, RTA_PRIORITY, net, 1); /* too short: priority 0 */
	struct nlattr bad = { .nla_len = 200, .nla_type = RTA_GATEWAY };
	fr_put(r, &bad, sizeof bad); /* runs past the message: ends its attributes */
	fr_done(r);
}

static void test_network_route_reads_truncated_attributes_as_absent(void **u)
{
	struct run r;
	(void)u;
	fake_nl_handler = route_garbled;
	run_open(&r, "network_route", NO_SUCH_DIR, NO_SUCH_DIR);
	expect_cycle(&r, "node_network_route_info{dest=\"10.9.0.0/16\",device=\"\",gw=\"\","
			 "priority=\"0\",proto=\"static\",src=\"\",weight=\"\"} 1\n"
			 "node_network_routes{device=\"\"} 1\n");
	run_close(&r);
}

/* ---- qdisc ---- */

static void qdisc_msg(struct fake_reply *r, int ifindex, uint32_t handle, uint32_t parent,
		      const char *kind)
{
	struct tcmsg tcm = { .tcm_family = AF_UNSPEC,
			     .tcm_ifindex = ifindex,
			     .tcm_handle = handle,
			     .tcm_parent = parent };
	fr_msg(r, RTM_NEWQDISC, NLM_F_MULTI, &tcm, sizeof tcm);
	fr_str(r, TCA_KIND, kind);
}

/* TCA_STATS2 with basic and queue counters, and the legacy TCA_STATS after it
 * (the kernel's order). */
static void qdisc_stats64(struct fake_reply *r, uint64_t bytes, uint64_t packets, uint32_t drops,
			  uint32_t requeues, uint32_t overlimits, uint32_t qlen, uint32_t backlog)
{
	struct gnet_stats_basic basic = { .bytes = bytes, .packets = (uint32_t)packets };
	struct gnet_stats_queue q = { .qlen = qlen,
				      .backlog = backlog,
				      .drops = drops,
				      .requeues = requeues,
				      .overlimits = overlimits };
	struct tc_stats legacy = { .bytes = bytes,
				   .packets = (uint32_t)packets,
				   .drops = drops,
				   .overlimits = overlimits,
				   .qlen = qlen,
				   .backlog = backlog };
	size_t nest = fr_nest(r, TCA_STATS2);
	fr_attr(r, TCA_STATS_BASIC, &basic, 12);
	fr_attr(r, TCA_STATS_QUEUE, &q, sizeof q);
	if (packets > UINT32_MAX) /* the kernel adds the 64-bit count past 2^32 */
		fr_u64(r, TCA_STATS_PKT64, packets);
	fr_nest_end(r, nest);
	fr_attr(r, TCA_STATS, &legacy, sizeof legacy);
}

static void qdisc_stats(struct fake_reply *r, uint64_t bytes, uint32_t packets, uint32_t drops,
			uint32_t requeues, uint32_t overlimits, uint32_t qlen, uint32_t backlog)
{
	qdisc_stats64(r, bytes, packets, drops, requeues, overlimits, qlen, backlog);
}

static void qdisc_kernel(int protocol, const struct nlmsghdr *req, struct fake_reply *r)
{
	assert_int_equal(protocol, NETLINK_ROUTE);
	if (req->nlmsg_type == RTM_GETLINK) {
		link_msg(r, 1, "lo");
		link_msg(r, 2, "eth0");
		link_msg(r, 3, "eth1");
		link_msg(r, 4, "veth0");
		fr_done(r);
		return;
	}
	assert_int_equal(req->nlmsg_type, RTM_GETQDISC);
	qdisc_msg(r, 1, 0, TC_H_ROOT, "noqueue");
	qdisc_stats(r, 0, 0, 0, 0, 0, 0, 0);
	qdisc_msg(r, 2, 0x10000, TC_H_ROOT, "htb");
	qdisc_stats(r, 123456789, 98765, 12, 3, 45, 2, 3000);
	qdisc_msg(r, 2, 0x100000, 0x10001, "fq_codel"); /* a child: left out */
	qdisc_stats(r, 1, 1, 1, 1, 1, 1, 1);
	qdisc_msg(r, 3, 0xffff0000, TC_H_INGRESS, "ingress"); /* not a root: left out */
	qdisc_stats(r, 5, 5, 5, 5, 5, 5, 5);
	qdisc_msg(r, 3, 0x80000000, TC_H_ROOT, "mq");
	qdisc_stats64(r, 1ULL << 40, (1ULL << 32) + 1234, 0, 0, 0, 0, 0);
	fr_dgram(r);
	qdisc_msg(r, 4, 0, TC_H_ROOT, "pfifo_fast"); /* an old kernel: TCA_STATS only */
	struct tc_stats legacy = {
		.bytes = 700, .packets = 7, .drops = 1, .qlen = 2, .backlog = 70
	};
	fr_attr(r, TCA_STATS, &legacy, sizeof legacy);
	qdisc_msg(r, 9, 0, TC_H_ROOT, "noqueue"); /* a device gone since the link dump */
	fr_done(r);
}

static void test_qdisc_reports_root_qdiscs_of_each_device(void **u)
{
	struct run r;
	(void)u;
	fake_nl_handler = qdisc_kernel;
	run_open(&r, "qdisc", NO_SUCH_DIR, NO_SUCH_DIR);
	expect_golden_run(&r, "qdisc-net.txt");
}

static void test_qdisc_device_include_keeps_only_matching_devices(void **u)
{
	static const char *const keys[] = { "device-include" }, *const values[] = { "^eth1$" };
	struct run r;
	char *dump;
	(void)u;
	fake_nl_handler = qdisc_kernel;
	assert_int_equal(run_opts(&r, "qdisc", NO_SUCH_DIR, NO_SUCH_DIR, keys, values, 1), 0);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(
	    strstr(dump, "node_qdisc_packets_total{device=\"eth1\",kind=\"mq\"} 4294968530\n"));
	assert_null(strstr(dump, "eth0"));
	assert_null(strstr(dump, "veth0"));
	free(dump);
	run_close(&r);
}

static void test_qdisc_refuses_include_and_exclude_together(void **u)
{
	static const char *const keys[] = { "device-include", "device-exclude" },
				 *const values[] = { "^eth", "^lo$" };
	struct run r;
	(void)u;
	assert_int_equal(run_opts(&r, "qdisc", NO_SUCH_DIR, NO_SUCH_DIR, keys, values, 2), -EINVAL);
	assert_non_null(strstr(r.err, "mutually exclusive"));
}

/* ---- netclass over netlink, netdev's detailed metrics ---- */

#define ETHTOOL_FAMILY 27

/* RFC 2863 operational states (linux/if.h, which cannot be included beside
 * net/if.h). */
enum { OPER_UNKNOWN = 0, OPER_DOWN = 2, OPER_UP = 6 };

static bool no_ethtool_family;

/* A device's link message with the attributes netclass and netdev read. */
static void full_link(struct fake_reply *r, int index, const char *name, unsigned type,
		      unsigned flags, uint8_t operstate, uint32_t link, const char *alias,
		      uint64_t base)
{
	static const unsigned char mac[6] = { 0x02, 0xfc, 0, 0, 0, 0x01 },
				   bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC,
				 .ifi_index = index,
				 .ifi_type = (unsigned short)type,
				 .ifi_flags = flags };
	struct rtnl_link_stats64 st;
	fr_msg(r, RTM_NEWLINK, NLM_F_MULTI, &ifi, sizeof ifi);
	fr_str(r, IFLA_IFNAME, name);
	fr_attr(r, IFLA_ADDRESS, mac, index == 1 ? 6 : 6);
	fr_attr(r, IFLA_BROADCAST, bcast, 6);
	fr_u32(r, IFLA_MTU, 1500 + (uint32_t)index);
	fr_u32(r, IFLA_TXQLEN, 1000);
	fr_u32(r, IFLA_GROUP, 0);
	fr_u8(r, IFLA_OPERSTATE, operstate);
	fr_u8(r, IFLA_LINKMODE, index == 3 ? 1 : 0);
	fr_u8(r, IFLA_CARRIER, operstate == OPER_UP);
	fr_u32(r, IFLA_CARRIER_CHANGES, 2 * (uint32_t)index);
	fr_u32(r, IFLA_CARRIER_UP_COUNT, (uint32_t)index);
	fr_u32(r, IFLA_CARRIER_DOWN_COUNT, (uint32_t)index);
	if (link)
		fr_u32(r, IFLA_LINK, link);
	if (alias)
		fr_str(r, IFLA_IFALIAS, alias);
	memset(&st, 0, sizeof st);
	uint64_t *f = (uint64_t *)(void *)&st;
	for (size_t i = 0; i < sizeof st / sizeof *f; i++)
		f[i] = base + i; /* every counter different: a swapped field shows */
	fr_attr(r, IFLA_STATS64, &st, sizeof st);
}

static void linkmodes_msg(struct fake_reply *r, uint32_t index, const char *name, uint32_t speed,
			  uint8_t duplex)
{
	struct genlmsghdr g = { .cmd = ETHTOOL_MSG_LINKMODES_GET_REPLY, .version = 1 };
	fr_msg(r, ETHTOOL_FAMILY, NLM_F_MULTI, &g, sizeof g);
	size_t hdr = fr_nest(r, ETHTOOL_A_LINKMODES_HEADER);
	fr_u32(r, ETHTOOL_A_HEADER_DEV_INDEX, index);
	fr_str(r, ETHTOOL_A_HEADER_DEV_NAME, name);
	fr_nest_end(r, hdr);
	fr_u8(r, ETHTOOL_A_LINKMODES_AUTONEG, 0);
	fr_u32(r, ETHTOOL_A_LINKMODES_SPEED, speed);
	fr_u8(r, ETHTOOL_A_LINKMODES_DUPLEX, duplex);
}

static void genl_family_reply(const struct nlmsghdr *req, struct fake_reply *r)
{
	struct nl_attr tb[CTRL_ATTR_FAMILY_NAME + 1];
	char name[32] = "";
	assert_true(nl_msg_attrs(req, GENL_HDRLEN, tb, CTRL_ATTR_FAMILY_NAME + 1));
	assert_true(nl_get_str(&tb[CTRL_ATTR_FAMILY_NAME], name, sizeof name));
	if (strcmp(name, "ethtool") != 0 || no_ethtool_family) {
		fr_error(r, -ENOENT);
		return;
	}
	struct genlmsghdr g = { .cmd = CTRL_CMD_NEWFAMILY, .version = 2 };
	fr_msg(r, GENL_ID_CTRL, 0, &g, sizeof g);
	fr_str(r, CTRL_ATTR_FAMILY_NAME, "ethtool");
	fr_u16(r, CTRL_ATTR_FAMILY_ID, ETHTOOL_FAMILY);
	fr_error(r, 0);
}

static void link_kernel(int protocol, const struct nlmsghdr *req, struct fake_reply *r)
{
	if (protocol == NETLINK_GENERIC && req->nlmsg_type == GENL_ID_CTRL) {
		genl_family_reply(req, r);
		return;
	}
	if (protocol == NETLINK_GENERIC) {
		assert_int_equal(req->nlmsg_type, ETHTOOL_FAMILY);
		linkmodes_msg(r, 2, "eth0", 0xffffffff, DUPLEX_UNKNOWN);
		linkmodes_msg(r, 3, "veth0", 10000, DUPLEX_FULL);
		fr_done(r);
		return;
	}
	assert_int_equal(req->nlmsg_type, RTM_GETLINK);
	full_link(r, 1, "lo", 772, IFF_UP | IFF_LOOPBACK | IFF_RUNNING, OPER_UNKNOWN, 0, NULL, 100);
	full_link(r, 2, "eth0", 1, IFF_UP | IFF_BROADCAST | IFF_MULTICAST, OPER_UP, 0,
		  "uplink \xff\xfe", 1000);
	fr_dgram(r);
	full_link(r, 3, "veth0", 1, IFF_BROADCAST, OPER_DOWN, 2, "", 5000);
	fr_done(r);
}

static void test_netclass_netlink_reports_link_attributes_speed_and_duplex(void **u)
{
	static const char *const keys[] = { "netlink" }, *const values[] = { "true" };
	struct run r;
	(void)u;
	fake_nl_handler = link_kernel;
	assert_int_equal(run_opts(&r, "netclass", NO_SUCH_DIR, SYSFS_NET, keys, values, 1), 0);
	expect_golden_run(&r, "netclass-netlink-net.txt");
}

static void test_netclass_netlink_with_stats_adds_the_kernels_counters(void **u)
{
	static const char *const keys[] = { "netlink", "rtnl.with-stats", "ignored-devices" },
				 *const values[] = { "true", "true", "^(lo|veth0)$" };
	struct run r;
	(void)u;
	fake_nl_handler = link_kernel;
	assert_int_equal(run_opts(&r, "netclass", NO_SUCH_DIR, SYSFS_NET, keys, values, 3), 0);
	expect_golden_run(&r, "netclass-netlink-stats-net.txt");
}

static void test_netclass_netlink_without_ethtool_netlink_has_no_speed_nor_duplex(void **u)
{
	static const char *const keys[] = { "netlink" }, *const values[] = { "true" };
	struct run r;
	char *dump;
	(void)u;
	fake_nl_handler = link_kernel;
	no_ethtool_family = true;
	assert_int_equal(run_opts(&r, "netclass", NO_SUCH_DIR, SYSFS_NET, keys, values, 1), 0);
	assert_int_equal(run_cycle(&r, &dump), 0);
	no_ethtool_family = false;
	assert_null(strstr(dump, "speed_bytes"));
	assert_non_null(strstr(dump, "device=\"veth0\",duplex=\"\""));
	free(dump);
	run_close(&r);
}

static void test_netdev_detailed_metrics_report_the_kernels_counters(void **u)
{
	static const char *const keys[] = { "enable-detailed-metrics", "device-exclude" },
				 *const values[] = { "true", "^lo$" };
	struct run r;
	(void)u;
	fake_nl_handler = link_kernel;
	assert_int_equal(run_opts(&r, "netdev", PROCFS_NET, SYSFS_NET, keys, values, 2), 0);
	expect_golden_run(&r, "netdev-detailed-net.txt");
}

static void test_netdev_detailed_metrics_from_proc_rename_four_columns(void **u)
{
	static const char *const keys[] = { "enable-detailed-metrics", "netlink",
					    "device-exclude" },
				 *const values[] = { "true", "false", "^lo$" };
	struct run r;
	(void)u;
	assert_int_equal(run_opts(&r, "netdev", PROCFS_NET, SYSFS_NET, keys, values, 3), 0);
	expect_golden_run(&r, "netdev-detailed-proc-net.txt");
}

/* ---- ethtool ---- */

/* eth0's statistics, in the driver's order: what node_exporter does with each
 * name is said beside it. */
static const struct {
	const char *name;
	uint64_t value;
} eth0_stats[] = {
	{ "rx_packets", 100 },        /* a fixed name: node_ethtool_received_packets_total */
	{ "tx_bytes", 2000 },         /* node_ethtool_transmitted_bytes_total */
	{ "rx_bytes", 3000 },         /* node_ethtool_received_bytes_total */
	{ "port.rx_dropped", 12028 }, /* node_ethtool_port_received_dropped */
	{ "Tx Queue#", 4 },           /* node_ethtool_transmitted_queue_ */
	{ "  TSO pkts tx", 5 },       /* node_ethtool_tso_pkts_transmitted */
	{ "rx_csum_err", 6 },         /* these two clean up to one name: both left out */
	{ "rx-csum-err", 7 },
	{ "dup_name", 8 }, /* listed twice: the later value */
	{ "dup_name", 9 },
	{ "info", 10 },                          /* node_ethtool_info is taken: left out */
	{ "rx0_drops", 11 },                     /* rx0 is not a word: node_ethtool_rx0_drops */
	{ "", 12 },                              /* no name: left out */
	{ "rx_rx_tx_tx_queue_full_events", 13 }, /* words meet: received_rx_transmitted_tx_... */
};
#define N_ETH0_STATS (sizeof eth0_stats / sizeof eth0_stats[0])

static void fake_drvinfo(struct ethtool_drvinfo *d, const char *driver, const char *bus,
			 const char *fw, uint32_t n_stats)
{
	snprintf(d->driver, sizeof d->driver, "%s", driver);
	snprintf(d->version, sizeof d->version, "6.1.0-test");
	snprintf(d->fw_version, sizeof d->fw_version, "%s", fw);
	snprintf(d->bus_info, sizeof d->bus_info, "%s", bus);
	d->n_stats = n_stats;
}

static int eth0_ioctl(void *data)
{
	uint32_t cmd;
	memcpy(&cmd, data, sizeof cmd);
	if (cmd == ETHTOOL_GSET) {
		struct ethtool_cmd *c = data;
		c->supported = SUPPORTED_10baseT_Half | SUPPORTED_10baseT_Full |
			       SUPPORTED_100baseT_Full | SUPPORTED_1000baseT_Full |
			       SUPPORTED_Autoneg | SUPPORTED_TP | SUPPORTED_MII | SUPPORTED_Pause;
		c->advertising = ADVERTISED_100baseT_Full | ADVERTISED_1000baseT_Full |
				 ADVERTISED_Autoneg | ADVERTISED_Asym_Pause;
		c->autoneg = AUTONEG_ENABLE;
		return 0;
	}
	if (cmd == ETHTOOL_GDRVINFO) {
		fake_drvinfo(data, "e1000e", "0000:00:1f.6", "0.5-4", N_ETH0_STATS);
		return 0;
	}
	if (cmd == ETHTOOL_GSTRINGS) {
		struct ethtool_gstrings *g = data;
		assert_int_equal(g->string_set, ETH_SS_STATS);
		g->len = N_ETH0_STATS;
		for (size_t i = 0; i < N_ETH0_STATS; i++)
			strncpy((char *)g->data + i * ETH_GSTRING_LEN, eth0_stats[i].name,
				ETH_GSTRING_LEN);
		return 0;
	}
	if (cmd == ETHTOOL_GSTATS) {
		struct ethtool_stats *st = data;
		st->n_stats = N_ETH0_STATS;
		for (size_t i = 0; i < N_ETH0_STATS; i++)
			st->data[i] = eth0_stats[i].value;
		return 0;
	}
	return -EOPNOTSUPP;
}

/* veth0: a fibre port at 10 and 25 Gb/s, its driver info unreadable. */
static int veth0_ioctl(void *data)
{
	uint32_t cmd;
	memcpy(&cmd, data, sizeof cmd);
	if (cmd == ETHTOOL_GSET) {
		struct ethtool_cmd *c = data;
		c->supported = SUPPORTED_10000baseKR_Full |
			       (1u << ETHTOOL_LINK_MODE_25000baseCR_Full_BIT) | SUPPORTED_FIBRE |
			       SUPPORTED_Asym_Pause;
		c->advertising = c->supported;
		c->autoneg = AUTONEG_DISABLE;
		return 0;
	}
	return cmd == ETHTOOL_GDRVINFO ? -EIO : -EOPNOTSUPP;
}

static int fake_ethtool(const char *ifname, void *data)
{
	if (strcmp(ifname, "eth0") == 0)
		return eth0_ioctl(data);
	if (strcmp(ifname, "veth0") == 0)
		return veth0_ioctl(data);
	if (strcmp(ifname, "lo") == 0)
		return -EOPNOTSUPP;
	fail_msg("an ethtool request for %s, which is not a device", ifname);
	return -ENODEV;
}

static void test_ethtool_reports_driver_info_statistics_and_link_modes(void **u)
{
	struct run r;
	char *dump;
	(void)u;
	fake_ethtool_handler = fake_ethtool;
	run_open(&r, "ethtool", NO_SUCH_DIR, SYSFS_NET);
	assert_int_equal(run_cycle_dump(&r, &dump, true), 0);
	compare_golden(dump, "ethtool-net.txt");
	/* veth0's driver info failed with EIO: said as a warning, the rest reported. */
	assert_string_equal(r.err, "ethtool driver info of veth0 failed: Input/output error");
	free(dump);
	run_close(&r);
}

static void test_ethtool_filters_devices_and_statistics(void **u)
{
	static const char *const keys[] = { "device-exclude", "metrics-include" },
				 *const values[] = { "^veth", "^(rx|port)" };
	struct run r;
	char *dump;
	(void)u;
	fake_ethtool_handler = fake_ethtool;
	assert_int_equal(run_opts(&r, "ethtool", NO_SUCH_DIR, SYSFS_NET, keys, values, 2), 0);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_null(strstr(dump, "veth0"));
	assert_null(strstr(dump, "transmitted_bytes"));
	assert_non_null(
	    strstr(dump, "node_ethtool_port_received_dropped{device=\"eth0\"} 12028\n"));
	assert_non_null(strstr(dump, "node_ethtool_received_bytes_total{device=\"eth0\"} 3000\n"));
	free(dump);
	run_close(&r);
}

static void test_ethtool_without_net_class_reports_no_data(void **u)
{
	struct run r;
	(void)u;
	fake_ethtool_handler = fake_ethtool;
	run_open(&r, "ethtool", NO_SUCH_DIR, NO_SUCH_DIR);
	expect_fails_with(&r, "no data");
	run_close(&r);
}

/* ---- wifi ---- */

#define NL80211_FAMILY 28

static bool no_nl80211;

static void nl80211_family(const struct nlmsghdr *req, struct fake_reply *r)
{
	struct nl_attr tb[CTRL_ATTR_FAMILY_NAME + 1];
	char name[32] = "";
	assert_true(nl_msg_attrs(req, GENL_HDRLEN, tb, CTRL_ATTR_FAMILY_NAME + 1));
	assert_true(nl_get_str(&tb[CTRL_ATTR_FAMILY_NAME], name, sizeof name));
	assert_string_equal(name, "nl80211");
	if (no_nl80211) {
		fr_error(r, -ENOENT);
		return;
	}
	struct genlmsghdr g = { .cmd = CTRL_CMD_NEWFAMILY, .version = 2 };
	fr_msg(r, GENL_ID_CTRL, 0, &g, sizeof g);
	fr_u16(r, CTRL_ATTR_FAMILY_ID, NL80211_FAMILY);
	fr_error(r, 0);
}

static void genl_msg(struct fake_reply *r, uint8_t cmd)
{
	struct genlmsghdr g = { .cmd = cmd, .version = 1 };
	fr_msg(r, NL80211_FAMILY, NLM_F_MULTI, &g, sizeof g);
}

static void wifi_interfaces(struct fake_reply *r)
{
	static const unsigned char mac[6] = { 0x84, 0xfd, 0xd1, 0x2a, 0x3b, 0x4c };
	genl_msg(r, NL80211_CMD_NEW_INTERFACE);
	fr_u32(r, NL80211_ATTR_IFINDEX, 3);
	fr_str(r, NL80211_ATTR_IFNAME, "wlan0");
	fr_attr(r, NL80211_ATTR_MAC, mac, 6);
	fr_u32(r, NL80211_ATTR_IFTYPE, NL80211_IFTYPE_STATION);
	fr_u32(r, NL80211_ATTR_WIPHY_FREQ, 2412);
	genl_msg(r, NL80211_CMD_NEW_INTERFACE); /* a P2P device: no name, skipped */
	fr_u64(r, NL80211_ATTR_WDEV, 2);
	fr_u32(r, NL80211_ATTR_IFTYPE, NL80211_IFTYPE_P2P_DEVICE);
	genl_msg(r, NL80211_CMD_NEW_INTERFACE);
	fr_u32(r, NL80211_ATTR_IFINDEX, 5);
	fr_str(r, NL80211_ATTR_IFNAME, "wlan1");
	fr_u32(r, NL80211_ATTR_IFTYPE, NL80211_IFTYPE_ADHOC);
	fr_done(r);
}

static void bss_msg(struct fake_reply *r, const unsigned char *bssid, const char *ssid,
		    size_t ssid_len, int status)
{
	unsigned char ies[64] = { 0 /* SSID */, (unsigned char)ssid_len };
	memcpy(ies + 2, ssid, ssid_len);
	ies[2 + ssid_len] = 1; /* supported rates, after the SSID */
	ies[3 + ssid_len] = 1;
	ies[4 + ssid_len] = 0x82;
	genl_msg(r, NL80211_CMD_NEW_SCAN_RESULTS);
	size_t nest = fr_nest(r, NL80211_ATTR_BSS);
	fr_attr(r, NL80211_BSS_BSSID, bssid, 6);
	fr_u32(r, NL80211_BSS_FREQUENCY, 2412);
	fr_attr(r, NL80211_BSS_INFORMATION_ELEMENTS, ies, 5 + ssid_len);
	if (status >= 0)
		fr_u32(r, NL80211_BSS_STATUS, (uint32_t)status);
	fr_nest_end(r, nest);
}

static void rate(struct fake_reply *r, uint16_t attr, uint32_t r32, uint16_t r16)
{
	size_t nest = fr_nest(r, attr);
	if (r16)
		fr_u16(r, NL80211_RATE_INFO_BITRATE, r16);
	if (r32)
		fr_u32(r, NL80211_RATE_INFO_BITRATE32, r32);
	fr_nest_end(r, nest);
}

static void station_msg(struct fake_reply *r)
{
	static const unsigned char ap[6] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06 };
	genl_msg(r, NL80211_CMD_NEW_STATION);
	fr_u32(r, NL80211_ATTR_IFINDEX, 3);
	fr_attr(r, NL80211_ATTR_MAC, ap, 6);
	size_t info = fr_nest(r, NL80211_ATTR_STA_INFO);
	fr_u32(r, NL80211_STA_INFO_INACTIVE_TIME, 8500);
	fr_u32(r, NL80211_STA_INFO_RX_BYTES, 1234);  /* the 64-bit count wins */
	fr_u32(r, NL80211_STA_INFO_TX_BYTES, 56789); /* no 64-bit count: this one */
	fr_u8(r, NL80211_STA_INFO_SIGNAL, (uint8_t)-52);
	rate(r, NL80211_STA_INFO_TX_BITRATE, 0, 540);     /* 54 Mb/s, 16-bit only */
	rate(r, NL80211_STA_INFO_RX_BITRATE, 8667, 8667); /* 866.7 Mb/s */
	fr_u32(r, NL80211_STA_INFO_TX_RETRIES, 20);
	fr_u32(r, NL80211_STA_INFO_TX_FAILED, 2);
	fr_u32(r, NL80211_STA_INFO_CONNECTED_TIME, 30);
	fr_u64(r, NL80211_STA_INFO_RX_BYTES64, 5000000000ULL);
	fr_u32(r, NL80211_STA_INFO_BEACON_LOSS, 1);
	fr_nest_end(r, info);
}

static uint32_t req_ifindex(const struct nlmsghdr *req)
{
	struct nl_attr tb[NL80211_ATTR_IFINDEX + 1];
	uint32_t index = 0;
	nl_msg_attrs(req, GENL_HDRLEN, tb, NL80211_ATTR_IFINDEX + 1);
	nl_get_u32(&tb[NL80211_ATTR_IFINDEX], &index);
	return index;
}

static void wifi_kernel(int protocol, const struct nlmsghdr *req, struct fake_reply *r)
{
	static const unsigned char other[6] = { 0xaa, 0, 0, 0, 0, 1 },
				   ours[6] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06 },
				   ibss[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	assert_int_equal(protocol, NETLINK_GENERIC);
	if (req->nlmsg_type == GENL_ID_CTRL) {
		nl80211_family(req, r);
		return;
	}
	assert_int_equal(req->nlmsg_type, NL80211_FAMILY);
	const struct genlmsghdr *g = NLMSG_DATA(req);
	uint32_t index = req_ifindex(req);
	if (g->cmd == NL80211_CMD_GET_INTERFACE) {
		wifi_interfaces(r);
	} else if (g->cmd == NL80211_CMD_GET_SCAN && index == 3) {
		bss_msg(r, other, "neighbours", 10, -1); /* seen, not joined */
		bss_msg(r, ours, "Caf\xc3\xa9 5G", 8, NL80211_BSS_STATUS_ASSOCIATED);
		fr_done(r);
	} else if (g->cmd == NL80211_CMD_GET_SCAN) {
		assert_int_equal(index, 5);
		bss_msg(r, ibss, "mesh\xff", 5, NL80211_BSS_STATUS_IBSS_JOINED);
		fr_done(r);
	} else if (g->cmd == NL80211_CMD_GET_STATION && index == 3) {
		station_msg(r);
		fr_done(r);
	} else {
		assert_int_equal(g->cmd, NL80211_CMD_GET_STATION);
		fr_error(r, -ENOENT); /* no stations: none reported */
	}
}

static void test_wifi_reports_interfaces_their_bss_and_stations(void **u)
{
	struct run r;
	(void)u;
	fake_nl_handler = wifi_kernel;
	run_open(&r, "wifi", NO_SUCH_DIR, NO_SUCH_DIR);
	expect_golden_run(&r, "wifi-net.txt");
}

static void test_wifi_without_nl80211_reports_no_data(void **u)
{
	struct run r;
	(void)u;
	fake_nl_handler = wifi_kernel;
	no_nl80211 = true;
	run_open(&r, "wifi", NO_SUCH_DIR, NO_SUCH_DIR);
	expect_fails_with(&r, "no data: the kernel has no nl80211");
	no_nl80211 = false;
	run_close(&r);
}

/* ---- perf ---- */

/* What the fake kernel refuses: a type of event (-1: none) and with which errno. */
static int perf_refused_type = -1, perf_refused_errno;
static int perf_opened;

static int64_t fake_open(const struct perf_event_attr *attr, int pid, int cpu)
{
	assert_int_equal(pid, -1); /* every process of the CPU */
	assert_int_equal(attr->size, sizeof *attr);
	assert_true(attr->disabled);
	if (perf_refused_type == -2 || (int)attr->type == perf_refused_type)
		return -perf_refused_errno;
	perf_opened++;
	return (int64_t)((uint64_t)attr->type << 56 | (attr->config & 0xffffffffff) << 8 |
			 (uint64_t)cpu);
}

/* A count that says which counter it is: type, event and CPU. */
static void fake_counts(uint64_t cookie, uint64_t out[3])
{
	uint64_t type = cookie >> 56, config = (cookie >> 8) & 0xffffffffff, cpu = cookie & 0xff;
	out[0] = type * 1000000 + (config % 100000) * 10 + cpu;
	out[1] = out[2] = 5000000000ULL;
}

static int perf_setup(void **u)
{
	reset_fakes(u);
	fake_perf_open = fake_open;
	fake_perf_read = fake_counts;
	perf_refused_type = -1;
	perf_refused_errno = 0;
	perf_opened = 0;
	return 0;
}

static void test_perf_reports_every_kind_of_counter_per_cpu(void **u)
{
	static const char *const keys[] = { "cpus", "tracepoint" }, *const values[] = {
		"0,2", "sched:sched_switch"
	};
	struct run r;
	(void)u;
	assert_int_equal(run_opts(&r, "perf", PROCFS_NET, SYSFS_NET, keys, values, 2), 0);
	expect_golden_run(&r, "perf-net.txt");
	/* 30 events and one tracepoint on two CPUs */
	assert_int_equal(perf_opened, 62);
}

static void test_perf_without_a_pmu_reports_software_counters_and_warns(void **u)
{
	static const char *const keys[] = { "cpus" }, *const values[] = { "0-1" };
	struct run r;
	char *dump;
	(void)u;
	perf_refused_type = PERF_TYPE_HARDWARE;
	perf_refused_errno = ENOENT;
	assert_int_equal(run_opts(&r, "perf", PROCFS_NET, SYSFS_NET, keys, values, 1), 0);
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(r.err,
			       "hardware profilers: 0 of 18 counters: perf_event_open("
			       "hardware CpuCycles, cpu 0) failed: No such file or directory; "
			       "the kernel has no hardware PMU"));
	assert_null(strstr(dump, "node_perf_cpucycles_total"));
	assert_non_null(strstr(dump, "node_perf_context_switches_total{cpu=\"1\"} 1000031\n"));
	assert_non_null(strstr(dump, "node_perf_cache_l1d_read_hits_total{cpu=\"0\"}"));
	free(dump);
	run_close(&r);
}

static void test_perf_refused_by_the_kernel_fails_with_the_reason_and_asks_again(void **u)
{
	static const char *const keys[] = { "cpus" }, *const values[] = { "0" };
	struct run r;
	char *dump;
	(void)u;
	perf_refused_type = -2; /* everything */
	perf_refused_errno = EACCES;
	assert_int_equal(run_opts(&r, "perf", PROCFS_NET, SYSFS_NET, keys, values, 1), 0);
	assert_int_equal(run_cycle(&r, &dump), -EACCES);
	assert_non_null(strstr(r.err, "no perf counter could be opened: perf_event_open(hardware "
				      "CpuCycles, cpu 0) failed: Permission denied; counting every "
				      "process of a CPU needs CAP_PERFMON, or "
				      "kernel.perf_event_paranoid 0 or less, and it is 2"));
	assert_string_equal(dump, "");
	free(dump);
	perf_refused_type = -1; /* the administrator lowered perf_event_paranoid */
	assert_int_equal(run_cycle(&r, &dump), 0);
	assert_non_null(strstr(dump, "node_perf_cpucycles_total{cpu=\"0\"} 0\n"));
	free(dump);
	run_close(&r);
}

static void test_perf_options_choose_cpus_and_profilers(void **u)
{
	static const char *const keys[] = { "cpus", "hardware-profilers", "software-profilers",
					    "disable-cache-profilers" },
				 *const values[] = { "1-5:2", "CpuCycles\nCpuInstr",
						     "ContextSwitch", "true" };
	struct run r;
	(void)u;
	assert_int_equal(run_opts(&r, "perf", PROCFS_NET, SYSFS_NET, keys, values, 4), 0);
	expect_cycle(&r, "node_perf_cpucycles_total{cpu=\"1\"} 1\n"
			 "node_perf_cpucycles_total{cpu=\"3\"} 3\n"
			 "node_perf_cpucycles_total{cpu=\"5\"} 5\n"
			 "node_perf_instructions_total{cpu=\"1\"} 11\n"
			 "node_perf_instructions_total{cpu=\"3\"} 13\n"
			 "node_perf_instructions_total{cpu=\"5\"} 15\n"
			 "node_perf_context_switches_total{cpu=\"1\"} 1000031\n"
			 "node_perf_context_switches_total{cpu=\"3\"} 1000033\n"
			 "node_perf_context_switches_total{cpu=\"5\"} 1000035\n");
	run_close(&r);
}

static void test_perf_refuses_options_it_cannot_use(void **u)
{
	static const struct {
		const char *key, *value, *why;
	} bad[] = {
		{ "cpus", "2-a", "is not a CPU, a range A-B or A-B:STRIDE" },
		{ "cpus", "0-8:0", "is not a CPU" },
		{ "hardware-profilers", "CpuCycle", "no hardware profiler \"CpuCycle\"" },
		{ "tracepoint", "sched", "invalid tracepoint \"sched\"" },
		{ "tracepoint", "../x:y", "invalid tracepoint" },
		{ "tracepoint", "sched:no_such_event", "no id under" },
	};
	(void)u;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct run r;
		const char *keys[] = { bad[i].key }, *values[] = { bad[i].value };
		int rc = run_opts(&r, "perf", PROCFS_NET, SYSFS_NET, keys, values, 1);
		if (rc == 0 || !strstr(r.err, bad[i].why))
			fail_msg("%s=%s: %d \"%s\"", bad[i].key, bad[i].value, rc, r.err);
	}
}

/* ---- xfrm ---- */

static void test_xfrm_reports_every_counter_zero_for_missing_lines(void **u)
{
	(void)u;
	expect_golden("xfrm", PROCFS_NET, SYSFS_NET, "xfrm-net.txt");
}

static void test_xfrm_without_the_file_fails_naming_the_kernel_option(void **u)
{
	struct run r;
	(void)u;
	run_open(&r, "xfrm", NO_SUCH_DIR, NO_SUCH_DIR);
	expect_fails_with(&r, "CONFIG_XFRM_STATISTICS");
	run_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, reset_fakes)
		T(test_network_route_reports_unicast_routes_and_next_hops_per_device),
		T(test_network_route_fails_with_the_kernels_answer),
		T(test_network_route_gives_up_on_a_kernel_that_does_not_answer),
		T(test_network_route_reads_truncated_attributes_as_absent),
		T(test_qdisc_reports_root_qdiscs_of_each_device),
		T(test_qdisc_device_include_keeps_only_matching_devices),
		T(test_qdisc_refuses_include_and_exclude_together),
		T(test_netclass_netlink_reports_link_attributes_speed_and_duplex),
		T(test_netclass_netlink_with_stats_adds_the_kernels_counters),
		T(test_netclass_netlink_without_ethtool_netlink_has_no_speed_nor_duplex),
		T(test_netdev_detailed_metrics_report_the_kernels_counters),
		T(test_netdev_detailed_metrics_from_proc_rename_four_columns),
		T(test_ethtool_reports_driver_info_statistics_and_link_modes),
		T(test_ethtool_filters_devices_and_statistics),
		T(test_ethtool_without_net_class_reports_no_data),
		T(test_wifi_reports_interfaces_their_bss_and_stations),
		T(test_wifi_without_nl80211_reports_no_data),
		cmocka_unit_test_setup(test_perf_reports_every_kind_of_counter_per_cpu, perf_setup),
		cmocka_unit_test_setup(test_perf_without_a_pmu_reports_software_counters_and_warns,
				       perf_setup),
		cmocka_unit_test_setup(
		    test_perf_refused_by_the_kernel_fails_with_the_reason_and_asks_again,
		    perf_setup),
		cmocka_unit_test_setup(test_perf_options_choose_cpus_and_profilers, perf_setup),
		cmocka_unit_test_setup(test_perf_refuses_options_it_cannot_use, perf_setup),
		T(test_xfrm_reports_every_counter_zero_for_missing_lines),
		T(test_xfrm_without_the_file_fails_naming_the_kernel_option),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
