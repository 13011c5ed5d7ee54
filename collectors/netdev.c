/*
 * netdev - network interface counters, as node_exporter 1.5 reports them:
 * node_network_<stat>_total{device} counters.
 *
 * Like node_exporter (--collector.netdev.netlink, on by default) the counters come
 * from an rtnetlink link dump (IFLA_STATS64, or the 32-bit IFLA_STATS where a
 * device has no 64-bit counters), folded into the names of /proc/net/dev; that
 * source also has receive_nohandler.  With the option off they come from
 * PROCFS/net/dev, which lacks it.  The netlink socket is opened once and reused;
 * replies land in one buffer owned by the state.
 *
 * --collector.netdev.label-ifalias adds an ifalias label to every counter: the
 * link's IFLA_IFALIAS with netlink, SYSFS/class/net/<device>/ifalias without
 * ("" when the device has none).
 *
 * --collector.netdev.enable-detailed-metrics reports the kernel's counters as it
 * keeps them, under node_exporter's detailed names (netdev_detail.h), instead
 * of folded into /proc/net/dev's columns.
 *
 * --collector.netdev.address-info adds node_network_address_info{address, device,
 * netmask, scope} from an rtnetlink address dump (all devices, unfiltered, as
 * node_exporter does).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "collector.h"
#include "dirents.h"
#include "filter.h"
#include "netdev_detail.h"
#include "procfile.h"
#include "nlsock.h"
#include "scan.h"

#define IFNAME_MAX   32
#define ADDR_STR_MAX 48
#define IFALIAS_MAX  256 /* IFALIASZ: the kernel's limit, NUL included */

enum net_stat {
	RX_BYTES,
	RX_PACKETS,
	RX_ERRS,
	RX_DROP,
	RX_FIFO,
	RX_FRAME,
	RX_COMPRESSED,
	RX_MULTICAST,
	TX_BYTES,
	TX_PACKETS,
	TX_ERRS,
	TX_DROP,
	TX_FIFO,
	TX_COLLS,
	TX_CARRIER,
	TX_COMPRESSED,
	RX_NOHANDLER,
	N_NET_STATS
};

/* The /proc/net/dev columns are the first 16, in this order. */
#define N_PROC_COLUMNS 16

static const char *const stat_names[N_NET_STATS] = {
	"receive_bytes",     "receive_packets",  "receive_errs",       "receive_drop",
	"receive_fifo",      "receive_frame",    "receive_compressed", "receive_multicast",
	"transmit_bytes",    "transmit_packets", "transmit_errs",      "transmit_drop",
	"transmit_fifo",     "transmit_colls",   "transmit_carrier",   "transmit_compressed",
	"receive_nohandler",
};

struct net_row {
	char name[IFNAME_MAX];
	char ifalias[IFALIAS_MAX];
	int index;
	bool counted; /* passed the filter and has counters */
	bool has_nohandler;
	bool has_stats64; /* the 32-bit IFLA_STATS are ignored then */
	uint64_t v[N_NET_STATS];
	uint64_t d[NETDEV_DETAIL_N]; /* unfolded, for --collector.netdev.enable-detailed-metrics */
};

struct net_addr {
	char address[ADDR_STR_MAX];
	char netmask[4];
	const char *scope;
	int index;
};

struct netdev_state {
	struct procfile file;
	struct devfilter filter;
	bool netlink, address_info, label_ifalias;
	bool detailed; /* --collector.netdev.enable-detailed-metrics */
	const char *sysfs;
	struct nlsock nl;
	struct net_row *rows;
	size_t n_rows, cap_rows;
	struct net_addr *addrs;
	size_t n_addrs, cap_addrs;
};

/* ---- init / fini ---- */

static void netdev_fini(void *state)
{
	struct netdev_state *s = state;
	if (!s)
		return;
	procfile_close(&s->file);
	devfilter_fini(&s->filter);
	nlsock_close(&s->nl);
	free(s->rows);
	free(s->addrs);
	free(s);
}

static int netdev_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct netdev_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	nlsock_init(&s->nl, NETLINK_ROUTE);
	int rc = procfile_init(&s->file, env->procfs, "net/dev", err, errlen);
	if (rc == 0)
		rc = devfilter_init(&s->filter, env, err, errlen);
	if (rc) {
		procfile_close(&s->file);
		free(s);
		return rc;
	}
	s->netlink = collector_option_bool(env, "netlink");
	s->address_info = collector_option_bool(env, "address-info");
	s->detailed = collector_option_bool(env, "enable-detailed-metrics");
	s->label_ifalias = collector_option_bool(env, "label-ifalias");
	s->sysfs = env->sysfs;
	*state = s;
	return 0;
}

/* ---- rows ---- */

static struct net_row *row_new(struct netdev_state *s, char *err, size_t errlen)
{
	if (s->n_rows == s->cap_rows) {
		size_t cap = s->cap_rows ? s->cap_rows * 2 : 8;
		struct net_row *rows = realloc(s->rows, cap * sizeof *rows);
		if (!rows) {
			snprintf(err, errlen, "out of memory for %zu network devices", cap);
			return NULL;
		}
		s->rows = rows;
		s->cap_rows = cap;
	}
	struct net_row *r = &s->rows[s->n_rows];
	memset(r, 0, sizeof *r);
	return r;
}

/* ---- /proc/net/dev ---- */

/* "  eth0: 1 2 3 ..." (the counters may touch the colon). */
static bool procdev_line(struct scan line, struct net_row *row)
{
	const char *colon = NULL, *w;
	size_t n;

	for (const char *p = line.end; p > line.p; p--)
		if (p[-1] == ':') {
			colon = p - 1;
			break;
		}
	if (!colon)
		return false;
	struct scan name = { line.p, colon }, nums = { colon + 1, line.end };
	if (!scan_word(&name, &w, &n) || n >= sizeof row->name)
		return false;
	memcpy(row->name, w, n);
	row->name[n] = '\0';
	for (int i = 0; i < N_PROC_COLUMNS; i++)
		if (!scan_word(&nums, &w, &n) || !parse_u64(w, n, &row->v[i]))
			return false;
	return true;
}

/* SYSFS/class/net/<device>/ifalias ("" when there is none or it cannot be read). */
static void read_sysfs_ifalias(const struct netdev_state *s, struct net_row *row)
{
	char path[PATH_MAX];
	if (path_fmt(path, sizeof path, "%s/class/net/%s/ifalias", s->sysfs, row->name) < 0 ||
	    sysfile_text(path, row->ifalias, sizeof row->ifalias) < 0)
		row->ifalias[0] = '\0';
}

static int read_procdev(struct netdev_state *s, char *err, size_t errlen)
{
	int rc = procfile_read(&s->file, err, errlen);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	struct scan text = scan_text(s->file.buf, s->file.len), line;
	while (scan_line(&text, &line)) {
		struct net_row *row = row_new(s, err, errlen);
		if (!row)
			return -ENOMEM;
		if (!procdev_line(line, row) ||
		    devfilter_ignored(&s->filter, row->name, strlen(row->name)))
			continue;
		if (s->label_ifalias)
			read_sysfs_ifalias(s, row);
		row->counted = true;
		s->n_rows++;
	}
	return 0;
}

/* ---- rtnetlink ---- */

/* A link or address dump of every family. */
static int nl_dump(struct netdev_state *s, uint16_t type, nl_msg_fn fn, char *err, size_t errlen)
{
	struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
	struct nl_req r;
	nl_req_init(&r, type, NLM_F_DUMP, &g, sizeof g);
	return nlsock_request(&s->nl, &r.nh, type == RTM_GETLINK ? "link dump" : "address dump", fn,
			      s, err, errlen);
}

/* Folds the kernel's detailed counters into /proc/net/dev's columns, as the kernel
 * does for that file and node_exporter does for netlink. */
static void fold_stats64(struct net_row *row, const struct rtnl_link_stats64 *st)
{
	row->v[RX_BYTES] = st->rx_bytes;
	row->v[RX_PACKETS] = st->rx_packets;
	row->v[RX_ERRS] = st->rx_errors;
	row->v[RX_DROP] = st->rx_dropped + st->rx_missed_errors;
	row->v[RX_FIFO] = st->rx_fifo_errors;
	row->v[RX_FRAME] = st->rx_length_errors + st->rx_over_errors + st->rx_crc_errors +
			   st->rx_frame_errors;
	row->v[RX_COMPRESSED] = st->rx_compressed;
	row->v[RX_MULTICAST] = st->multicast;
	row->v[TX_BYTES] = st->tx_bytes;
	row->v[TX_PACKETS] = st->tx_packets;
	row->v[TX_ERRS] = st->tx_errors;
	row->v[TX_DROP] = st->tx_dropped;
	row->v[TX_FIFO] = st->tx_fifo_errors;
	row->v[TX_COLLS] = st->collisions;
	row->v[TX_CARRIER] = st->tx_carrier_errors + st->tx_aborted_errors +
			     st->tx_heartbeat_errors + st->tx_window_errors;
	row->v[TX_COMPRESSED] = st->tx_compressed;
	row->v[RX_NOHANDLER] = st->rx_nohandler;
	netdev_detail_fill(row->d, st);
}

/* The 32-bit counters of a device without 64-bit ones, widened. */
static void fold_stats32(struct net_row *row, const struct rtattr *a)
{
	struct rtnl_link_stats st32;
	struct rtnl_link_stats64 st;
	size_t plen = RTA_PAYLOAD(a);

	memset(&st32, 0, sizeof st32);
	memcpy(&st32, RTA_DATA(a), plen < sizeof st32 ? plen : sizeof st32);
	st = (struct rtnl_link_stats64){
		.rx_packets = st32.rx_packets,
		.tx_packets = st32.tx_packets,
		.rx_bytes = st32.rx_bytes,
		.tx_bytes = st32.tx_bytes,
		.rx_errors = st32.rx_errors,
		.tx_errors = st32.tx_errors,
		.rx_dropped = st32.rx_dropped,
		.tx_dropped = st32.tx_dropped,
		.multicast = st32.multicast,
		.collisions = st32.collisions,
		.rx_length_errors = st32.rx_length_errors,
		.rx_over_errors = st32.rx_over_errors,
		.rx_crc_errors = st32.rx_crc_errors,
		.rx_frame_errors = st32.rx_frame_errors,
		.rx_fifo_errors = st32.rx_fifo_errors,
		.rx_missed_errors = st32.rx_missed_errors,
		.tx_aborted_errors = st32.tx_aborted_errors,
		.tx_carrier_errors = st32.tx_carrier_errors,
		.tx_fifo_errors = st32.tx_fifo_errors,
		.tx_heartbeat_errors = st32.tx_heartbeat_errors,
		.tx_window_errors = st32.tx_window_errors,
		.rx_compressed = st32.rx_compressed,
		.tx_compressed = st32.tx_compressed,
		.rx_nohandler = st32.rx_nohandler,
	};
	fold_stats64(row, &st);
	row->has_nohandler = plen >= offsetof(struct rtnl_link_stats, rx_nohandler) + sizeof(__u32);
}

/* A string attribute into out (cap bytes, NUL-terminated); false if it does not fit. */
static bool attr_string(const struct rtattr *a, char *out, size_t cap)
{
	size_t plen = RTA_PAYLOAD(a), n = strnlen(RTA_DATA(a), plen);
	if (plen == 0 || n >= cap)
		return false;
	memcpy(out, RTA_DATA(a), n);
	out[n] = '\0';
	return true;
}

static void link_attr(struct net_row *row, const struct rtattr *a, bool *has_stats)
{
	size_t plen = RTA_PAYLOAD(a);

	if (a->rta_type == IFLA_IFNAME) {
		attr_string(a, row->name, sizeof row->name);
	} else if (a->rta_type == IFLA_IFALIAS) {
		if (!attr_string(a, row->ifalias, sizeof row->ifalias))
			row->ifalias[0] = '\0';
	} else if (a->rta_type == IFLA_STATS && !row->has_stats64) {
		fold_stats32(row, a);
		*has_stats = true;
	} else if (a->rta_type == IFLA_STATS64) {
		struct rtnl_link_stats64 st;
		memset(&st, 0, sizeof st);
		memcpy(&st, RTA_DATA(a), plen < sizeof st ? plen : sizeof st);
		fold_stats64(row, &st);
		row->has_nohandler = plen >= offsetof(struct rtnl_link_stats64, rx_nohandler) +
						 sizeof(__u64);
		row->has_stats64 = true;
		*has_stats = true;
	}
}

static int on_link(const struct nlmsghdr *nh, void *ctx, char *err, size_t errlen)
{
	struct netdev_state *s = ctx;
	if (nh->nlmsg_type != RTM_NEWLINK || nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return 0;
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	struct net_row *row = row_new(s, err, errlen);
	if (!row)
		return -ENOMEM;
	bool has_stats = false;
	int alen = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof *ifi));
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
		link_attr(row, a, &has_stats);
	if (row->name[0] == '\0')
		return 0;
	row->index = ifi->ifi_index;
	row->counted = has_stats && !devfilter_ignored(&s->filter, row->name, strlen(row->name));
	s->n_rows++;
	return 0;
}

/* ---- addresses ---- */

static bool v6_linklocal(const unsigned char *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* node_exporter's scope: loopback and link-local unicast are "link-local",
 * interface-local multicast "interface-local", other unicast "global". */
static const char *addr_scope(int family, const unsigned char *a)
{
	static const unsigned char v6_loop[16] = { [15] = 1 }, v6_zero[16] = { 0 };
	if (family == AF_INET) {
		if (a[0] == 127 || (a[0] == 169 && a[1] == 254))
			return "link-local";
		bool bcast = a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255;
		bool zero = (a[0] | a[1] | a[2] | a[3]) == 0;
		return a[0] >= 224 || bcast || zero ? "" : "global";
	}
	if (memcmp(a, v6_loop, 16) == 0 || v6_linklocal(a))
		return "link-local";
	if (a[0] == 0xff)
		return (a[1] & 0x0f) == 0x01 ? "interface-local" : "";
	return memcmp(a, v6_zero, 16) == 0 ? "" : "global";
}

static int addr_new(struct netdev_state *s, char *err, size_t errlen)
{
	if (s->n_addrs < s->cap_addrs)
		return 0;
	size_t cap = s->cap_addrs ? s->cap_addrs * 2 : 8;
	struct net_addr *a = realloc(s->addrs, cap * sizeof *a);
	if (!a) {
		snprintf(err, errlen, "out of memory for %zu addresses", cap);
		return -ENOMEM;
	}
	s->addrs = a;
	s->cap_addrs = cap;
	return 0;
}

/* Go's net package takes IFA_LOCAL over IFA_ADDRESS (the peer, on point-to-point). */
static const struct rtattr *addr_attr(const struct ifaddrmsg *ifa, int alen)
{
	const struct rtattr *address = NULL;
	for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if (a->rta_type == IFA_LOCAL)
			return a;
		if (a->rta_type == IFA_ADDRESS && !address)
			address = a;
	}
	return address;
}

static int on_addr(const struct nlmsghdr *nh, void *ctx, char *err, size_t errlen)
{
	struct netdev_state *s = ctx;
	if (nh->nlmsg_type != RTM_NEWADDR || nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
		return 0;
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	size_t want = ifa->ifa_family == AF_INET ? 4 : ifa->ifa_family == AF_INET6 ? 16 : 0;
	const struct rtattr *a = want ? addr_attr(ifa,
						  (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof *ifa)))
				      : NULL;
	if (!a || RTA_PAYLOAD(a) < want)
		return 0;
	int rc = addr_new(s, err, errlen);
	if (rc)
		return rc;
	struct net_addr *out = &s->addrs[s->n_addrs];
	if (!inet_ntop(ifa->ifa_family, RTA_DATA(a), out->address, sizeof out->address))
		return 0;
	snprintf(out->netmask, sizeof out->netmask, "%u", (unsigned)ifa->ifa_prefixlen);
	out->scope = addr_scope(ifa->ifa_family, RTA_DATA(a));
	out->index = (int)ifa->ifa_index;
	s->n_addrs++;
	return 0;
}

static const char *index_name(const struct netdev_state *s, int index)
{
	for (size_t i = 0; i < s->n_rows; i++)
		if (s->rows[i].index == index)
			return s->rows[i].name;
	return NULL;
}

/* ---- emitting ---- */

/* Label values must be UTF-8; an ifalias need not be. */
static void clean_ifalias(struct netdev_state *s)
{
	for (size_t i = 0; i < s->n_rows; i++) {
		char *t = s->rows[i].ifalias;
		if (utf8_valid(t, strlen(t)))
			continue;
		for (; *t; t++)
			if ((unsigned char)*t >= 0x80)
				*t = '?';
	}
}

/* The families of the mode in use: /proc/net/dev's sixteen (plus the unhandled
 * packets over netlink), or with the detailed metrics the kernel's counters
 * (netlink) or the same sixteen renamed (/proc/net/dev). */
static int n_counters(const struct netdev_state *s)
{
	return s->detailed && s->netlink ? NETDEV_DETAIL_N : N_NET_STATS;
}

static const char *counter_name(const struct netdev_state *s, int k)
{
	if (s->detailed && s->netlink)
		return netdev_detail_names[k];
	return s->detailed && k < NETDEV_PROC_COLUMNS ? netdev_detail_proc_names[k] : stat_names[k];
}

static uint64_t counter_value(const struct netdev_state *s, const struct net_row *row, int k)
{
	return s->detailed && s->netlink ? row->d[k] : row->v[k];
}

static bool is_nohandler(const struct netdev_state *s, int k)
{
	return k == (s->detailed && s->netlink ? NETDEV_DETAIL_NOHANDLER : RX_NOHANDLER);
}

static int emit_counters(const struct netdev_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device", "ifalias" };
	size_t n_labels = s->label_ifalias ? 2 : 1;
	char fam[METRIC_NAME_MAX + 1], help[128];
	int rc = 0;

	for (int k = 0; rc == 0 && k < n_counters(s); k++) {
		bool started = false;
		for (size_t i = 0; rc == 0 && i < s->n_rows; i++) {
			const struct net_row *row = &s->rows[i];
			const char *values[] = { row->name, row->ifalias };
			if (!row->counted || (is_nohandler(s, k) && !row->has_nohandler))
				continue;
			if (!started) {
				snprintf(fam, sizeof fam, "node_network_%s_total",
					 counter_name(s, k));
				snprintf(help, sizeof help, "Network device statistic %s.",
					 counter_name(s, k));
				rc = batch_family(b, fam, help, METRIC_COUNTER, err, errlen);
				started = true;
			}
			if (rc == 0)
				rc = batch_add(b, names, values, n_labels,
					       (double)counter_value(s, row, k), err, errlen);
			if (rc == -EEXIST || rc == -EINVAL)
				rc = 0; /* a device listed twice, or a name that is not UTF-8 */
		}
	}
	return rc;
}

static int emit_addresses(const struct netdev_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "address", "device", "netmask", "scope" };
	bool started = false;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->n_addrs; i++) {
		const struct net_addr *a = &s->addrs[i];
		const char *dev = index_name(s, a->index);
		const char *values[] = { a->address, dev, a->netmask, a->scope };
		if (!dev)
			continue;
		if (!started) {
			rc = batch_family(b, "node_network_address_info",
					  "node network address by device", METRIC_GAUGE, err,
					  errlen);
			started = true;
		}
		if (rc == 0)
			rc = batch_add(b, names, values, 4, 1, err, errlen);
		if (rc == -EEXIST || rc == -EINVAL)
			rc = 0;
	}
	return rc;
}

static int netdev_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct netdev_state *s = state;
	int rc;

	s->n_rows = s->n_addrs = 0;
	if (!s->netlink) {
		rc = read_procdev(s, err, errlen);
		/* Names for the addresses come from a link dump; its counters stay unused. */
		if (rc == 0 && s->address_info) {
			size_t first = s->n_rows;
			rc = nl_dump(s, RTM_GETLINK, on_link, err, errlen);
			for (size_t i = first; i < s->n_rows; i++)
				s->rows[i].counted = false;
		}
	} else {
		rc = nl_dump(s, RTM_GETLINK, on_link, err, errlen);
	}
	if (rc == 0 && s->label_ifalias)
		clean_ifalias(s);
	if (rc == 0)
		rc = emit_counters(s, b, err, errlen);
	if (rc == 0 && s->address_info)
		rc = nl_dump(s, RTM_GETADDR, on_addr, err, errlen);
	if (rc == 0 && s->address_info)
		rc = emit_addresses(s, b, err, errlen);
	return rc;
}

const struct collector_ops collector_netdev_ops = {
	.init = netdev_init,
	.collect = netdev_collect,
	.fini = netdev_fini,
};
