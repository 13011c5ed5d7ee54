/*
 * netclass_rtnl - netclass's families from an rtnetlink link dump instead of
 * SYSFS/class/net (--collector.netclass.netlink), as node_exporter's
 * netclass_rtnl reports them:
 *
 *   node_network_up{device}, node_network_info{address, broadcast, device, duplex,
 *   ifalias, operstate} and one family per property, labelled {device}:
 *   carrier, carrier_changes_total, carrier_up_changes_total,
 *   carrier_down_changes_total (counters), flags, iface_id, iface_link_mode,
 *   dormant, iface_link, mtu_bytes, net_dev_group, transmit_queue_length,
 *   protocol_type, and from sysfs the three that netlink lacks:
 *   address_assign_type, device_id, name_assign_type.
 *
 * Speed and duplex come from ethtool's generic netlink family (a link modes dump);
 * without it (older kernels) they are left out.  node_exporter's quirks are kept
 * so the values match: node_network_dormant carries the link mode (IFLA_LINKMODE),
 * an unknown speed (the kernel's -1) is reported as 4294967295 Mb/s in bytes,
 * duplex is "Full", "Half" or "Unknown", and the info HELP names no sysfs path.
 * The sysfs attributes are read under --path.sysfs (node_exporter reads /sys).
 *
 * --collector.netclass.rtnl.with-stats (node_exporter's spelling
 * netclass_rtnl.with-stats is an alias) adds the kernel's 24 counters per device
 * (node_network_receive_packets_total, ... typed gauge, as node_exporter does): the
 * same names as netdev's, so use it with netdev off.
 * --collector.netclass.ignored-devices applies as with sysfs.
 */
#include "netclass_rtnl.h"

#include <errno.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dirents.h"
#include "filter.h"
#include "lazyfam.h"
#include "netdev_detail.h"
#include "nlsock.h"
#include "sysattr.h"
#include "valtable.h"

enum ncol {
	C_ADDR_ASSIGN,
	C_CARRIER,
	C_CARRIER_CHANGES,
	C_CARRIER_UP,
	C_CARRIER_DOWN,
	C_DEVICE_ID,
	C_FLAGS,
	C_IFACE_ID,
	C_LINK_MODE,
	C_DORMANT,
	C_IFACE_LINK,
	C_MTU,
	C_NAME_ASSIGN,
	C_GROUP,
	C_TXQLEN,
	C_PROTO,
	C_SPEED,
	C_STATS, /* NETDEV_DETAIL_N counters from here */
	N_NCOLS = C_STATS + NETDEV_DETAIL_N
};

static const struct {
	const char *name;
	enum metric_type type;
} props[C_STATS] = {
	{ "address_assign_type", METRIC_GAUGE },
	{ "carrier", METRIC_GAUGE },
	{ "carrier_changes_total", METRIC_COUNTER },
	{ "carrier_up_changes_total", METRIC_COUNTER },
	{ "carrier_down_changes_total", METRIC_COUNTER },
	{ "device_id", METRIC_GAUGE },
	{ "flags", METRIC_GAUGE },
	{ "iface_id", METRIC_GAUGE },
	{ "iface_link_mode", METRIC_GAUGE },
	{ "dormant", METRIC_GAUGE },
	{ "iface_link", METRIC_GAUGE },
	{ "mtu_bytes", METRIC_GAUGE },
	{ "name_assign_type", METRIC_GAUGE },
	{ "net_dev_group", METRIC_GAUGE },
	{ "transmit_queue_length", METRIC_GAUGE },
	{ "protocol_type", METRIC_GAUGE },
	{ "speed_bytes", METRIC_GAUGE },
};

#define HWADDR_MAX  (3 * 32)
#define IFALIAS_MAX 256

struct link_row {
	char name[IFNAMSIZ];
	int index;
	char address[HWADDR_MAX], broadcast[HWADDR_MAX];
	char ifalias[IFALIAS_MAX];
	char duplex[24];
	uint8_t operstate;
};

struct rtnl_state {
	struct nlsock route, genl;
	uint16_t ethtool_family; /* 0 until resolved */
	bool no_ethtool;         /* the kernel has no ethtool netlink family */
	bool with_stats;
	const char *sysfs;
	struct optregex ignored;
	struct link_row *rows;
	size_t n, cap;
	struct valtable t;
	struct valtable_col cols[N_NCOLS];
	char names[N_NCOLS][METRIC_NAME_MAX + 1];
	char helps[N_NCOLS][96];
};

void netclass_rtnl_fini(void *state)
{
	struct rtnl_state *s = state;
	if (!s)
		return;
	nlsock_close(&s->route);
	nlsock_close(&s->genl);
	optregex_fini(&s->ignored);
	valtable_free(&s->t);
	free(s->rows);
	free(s);
}

static void make_columns(struct rtnl_state *s)
{
	for (size_t c = 0; c < N_NCOLS; c++) {
		bool stat = c >= C_STATS;
		const char *name = stat ? netdev_detail_names[c - C_STATS] : props[c].name;
		snprintf(s->names[c], sizeof s->names[c], "node_network_%s%s", name,
			 stat ? "_total" : "");
		snprintf(s->helps[c], sizeof s->helps[c], "Network device property: %s%s", name,
			 stat ? "_total" : "");
		s->cols[c] = (struct valtable_col){ s->names[c], s->helps[c],
						    stat ? METRIC_GAUGE : props[c].type, 0 };
	}
}

int netclass_rtnl_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct rtnl_state *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nlsock_init(&s->route, NETLINK_ROUTE);
	nlsock_init(&s->genl, NETLINK_GENERIC);
	valtable_init(&s->t, N_NCOLS);
	s->with_stats = collector_option_bool(env, "rtnl.with-stats");
	s->sysfs = env->sysfs;
	make_columns(s);
	int rc = optregex_init(&s->ignored, env, "ignored-devices", err, errlen);
	if (rc) {
		netclass_rtnl_fini(s);
		return rc;
	}
	*state = s;
	return 0;
}

/* ---- the link dump ---- */

/* A hardware address as node_exporter writes it: lower-case hex, colon-separated. */
static void hwaddr(char *out, const struct nl_attr *a)
{
	size_t n = 0;
	out[0] = '\0';
	for (uint16_t i = 0; a->data && i < a->len && n + 4 <= HWADDR_MAX; i++)
		n += (size_t)snprintf(out + n, HWADDR_MAX - n, "%s%02x", i ? ":" : "", a->data[i]);
}

/* Label values must be UTF-8; an ifalias need not be. */
static void clean_utf8(char *t)
{
	if (utf8_valid(t, strlen(t)))
		return;
	for (; *t; t++)
		if ((unsigned char)*t >= 0x80)
			*t = '?';
}

static struct link_row *row_new(struct rtnl_state *s, char *err, size_t errlen)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct link_row *v = realloc(s->rows, cap * sizeof *v);
		if (!v) {
			snprintf(err, errlen, "out of memory for %zu network devices", cap);
			return NULL;
		}
		s->rows = v;
		s->cap = cap;
	}
	memset(&s->rows[s->n], 0, sizeof s->rows[s->n]);
	return &s->rows[s->n];
}

static void set_u(struct rtnl_state *s, size_t row, enum ncol c, const struct nl_attr *a, int size)
{
	uint8_t u8;
	uint32_t u32;
	if (size == 1 && nl_get_u8(a, &u8))
		valtable_set(&s->t, row, c, u8);
	else if (size == 4 && nl_get_u32(a, &u32))
		valtable_set(&s->t, row, c, u32);
}

/* The properties netlink gives, in node_exporter's choice of sources. */
static void link_values(struct rtnl_state *s, size_t row, const struct ifinfomsg *ifi,
			const struct nl_attr *tb)
{
	uint32_t link;
	valtable_set(&s->t, row, C_FLAGS, ifi->ifi_flags);
	valtable_set(&s->t, row, C_IFACE_ID, ifi->ifi_index);
	valtable_set(&s->t, row, C_PROTO, ifi->ifi_type);
	set_u(s, row, C_CARRIER, &tb[IFLA_CARRIER], 1);
	set_u(s, row, C_CARRIER_CHANGES, &tb[IFLA_CARRIER_CHANGES], 4);
	set_u(s, row, C_CARRIER_UP, &tb[IFLA_CARRIER_UP_COUNT], 4);
	set_u(s, row, C_CARRIER_DOWN, &tb[IFLA_CARRIER_DOWN_COUNT], 4);
	set_u(s, row, C_LINK_MODE, &tb[IFLA_LINKMODE], 1);
	set_u(s, row, C_DORMANT, &tb[IFLA_LINKMODE], 1);
	/* The kernel leaves IFLA_LINK out when it is the device's own index. */
	valtable_set(&s->t, row, C_IFACE_LINK,
		     nl_get_u32(&tb[IFLA_LINK], &link) && link > 0 ? link
								   : (uint32_t)ifi->ifi_index);
	valtable_set(&s->t, row, C_MTU, nl_get_u32(&tb[IFLA_MTU], &link) ? link : 0);
	set_u(s, row, C_GROUP, &tb[IFLA_GROUP], 4);
	set_u(s, row, C_TXQLEN, &tb[IFLA_TXQLEN], 4);
}

static void link_stats(struct rtnl_state *s, size_t row, const struct nl_attr *a)
{
	struct rtnl_link_stats64 st;
	uint64_t v[NETDEV_DETAIL_N];

	if (!s->with_stats || !a->data)
		return;
	memset(&st, 0, sizeof st);
	memcpy(&st, a->data, a->len < sizeof st ? a->len : sizeof st);
	netdev_detail_fill(v, &st);
	for (int i = 0; i < NETDEV_DETAIL_N; i++)
		valtable_set(&s->t, row, C_STATS + (size_t)i, (double)v[i]);
}

static int on_link(const struct nlmsghdr *nh, void *ctx, char *err, size_t errlen)
{
	struct rtnl_state *s = ctx;
	struct nl_attr tb[IFLA_MAX + 1];
	uint8_t oper = 0;

	if (nh->nlmsg_type != RTM_NEWLINK ||
	    !nl_msg_attrs(nh, sizeof(struct ifinfomsg), tb, IFLA_MAX + 1))
		return 0;
	struct link_row *r = row_new(s, err, errlen);
	if (!r)
		return -ENOMEM;
	if (!nl_get_str(&tb[IFLA_IFNAME], r->name, sizeof r->name) ||
	    optregex_match(&s->ignored, r->name, strlen(r->name)))
		return 0;
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	const char *labels[] = { r->name };
	int row = valtable_row(&s->t, labels, 1);
	if (row < 0) {
		snprintf(err, errlen, "out of memory for the network devices");
		return -ENOMEM;
	}
	r->index = ifi->ifi_index;
	hwaddr(r->address, &tb[IFLA_ADDRESS]);
	hwaddr(r->broadcast, &tb[IFLA_BROADCAST]);
	if (!nl_get_str(&tb[IFLA_IFALIAS], r->ifalias, sizeof r->ifalias))
		r->ifalias[0] = '\0';
	clean_utf8(r->ifalias);
	nl_get_u8(&tb[IFLA_OPERSTATE], &oper);
	r->operstate = oper;
	link_values(s, (size_t)row, ifi, tb);
	link_stats(s, (size_t)row, &tb[IFLA_STATS64]);
	s->n++;
	return 0;
}

/* ---- sysfs: what netlink does not say ---- */

static void sysfs_values(struct rtnl_state *s)
{
	static const struct {
		const char *file;
		enum ncol col;
	} attrs[] = { { "addr_assign_type", C_ADDR_ASSIGN },
		      { "dev_id", C_DEVICE_ID },
		      { "name_assign_type", C_NAME_ASSIGN } };
	char path[PATH_MAX], buf[64];
	int64_t v;

	for (size_t i = 0; i < s->n; i++)
		for (size_t a = 0; a < sizeof attrs / sizeof attrs[0]; a++) {
			long n = path_fmt(path, sizeof path, "%s/class/net/%s/%s", s->sysfs,
					  s->rows[i].name, attrs[a].file) < 0
				     ? -1
				     : sysfile_text(path, buf, sizeof buf);
			if (n >= 0 && sysattr_parse_i64(buf, (size_t)n, &v))
				valtable_set(&s->t, i, attrs[a].col, (double)v);
		}
}

/* ---- ethtool: speed and duplex ---- */

static const char *duplex_name(uint8_t d, char *buf, size_t cap)
{
	if (d == DUPLEX_HALF)
		return "Half";
	if (d == DUPLEX_FULL)
		return "Full";
	if (d == DUPLEX_UNKNOWN)
		return "Unknown";
	snprintf(buf, cap, "Duplex(%u)", d);
	return buf;
}

static int on_linkmodes(const struct nlmsghdr *nh, void *ctx, char *err, size_t errlen)
{
	struct rtnl_state *s = ctx;
	struct nl_attr tb[ETHTOOL_A_LINKMODES_DUPLEX + 1], hdr[ETHTOOL_A_HEADER_DEV_NAME + 1];
	uint32_t index = 0, speed;
	uint8_t duplex;

	(void)err;
	(void)errlen;
	if (!nl_msg_attrs(nh, GENL_HDRLEN, tb, ETHTOOL_A_LINKMODES_DUPLEX + 1))
		return 0;
	nl_attrs(tb[ETHTOOL_A_LINKMODES_HEADER].data, tb[ETHTOOL_A_LINKMODES_HEADER].len, hdr,
		 ETHTOOL_A_HEADER_DEV_NAME + 1);
	nl_get_u32(&hdr[ETHTOOL_A_HEADER_DEV_INDEX], &index);
	for (size_t i = 0; i < s->n; i++) {
		if (s->rows[i].index != (int)index)
			continue;
		/* The speed is a u32 that node_exporter takes as a number even when it
		 * is the kernel's "unknown" (-1). */
		if (nl_get_u32(&tb[ETHTOOL_A_LINKMODES_SPEED], &speed))
			valtable_set(&s->t, i, C_SPEED, (double)speed * 125000.0);
		if (nl_get_u8(&tb[ETHTOOL_A_LINKMODES_DUPLEX], &duplex))
			snprintf(s->rows[i].duplex, sizeof s->rows[i].duplex, "%s",
				 duplex_name(duplex, s->rows[i].duplex, sizeof s->rows[i].duplex));
		else
			snprintf(s->rows[i].duplex, sizeof s->rows[i].duplex, "Half");
	}
	return 0;
}

static int link_modes(struct rtnl_state *s, char *err, size_t errlen)
{
	struct genlmsghdr g = { .cmd = ETHTOOL_MSG_LINKMODES_GET, .version = ETHTOOL_GENL_VERSION };
	struct nl_req r;
	int rc;

	if (s->no_ethtool)
		return 0;
	if (!s->ethtool_family) {
		rc = nlsock_genl_family(&s->genl, ETHTOOL_GENL_NAME, &s->ethtool_family, err,
					errlen);
		if (rc == -ENOENT) {
			s->no_ethtool = true; /* speed and duplex are left out */
			err[0] = '\0';
			return 0;
		}
		if (rc)
			return rc;
	}
	nl_req_init(&r, s->ethtool_family, NLM_F_DUMP, &g, sizeof g);
	rc = nlsock_request(&s->genl, &r.nh, "ethtool link modes dump", on_linkmodes, s, err,
			    errlen);
	if (rc)
		s->ethtool_family = 0; /* looked up again next time */
	return rc;
}

/* ---- emitting ---- */

static const char *operstate_name(uint8_t op)
{
	static const char *const names[] = { "unknown", "notpresent", "down", "lowerlayerdown",
					     "testing", "dormant",    "up" };
	return op < sizeof names / sizeof names[0] ? names[op] : "unknown";
}

static int emit_up_and_info(struct rtnl_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const up_names[] = { "device" };
	static const char *const info_names[] = { "address", "broadcast", "device",
						  "duplex",  "ifalias",   "operstate" };
	struct lazyfam up = { "node_network_up", "Value is 1 if operstate is 'up', 0 otherwise.",
			      METRIC_GAUGE, false };
	struct lazyfam info = { "node_network_info",
				"Non-numeric data of <iface>, value is always 1.", METRIC_GAUGE,
				false };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->n; i++) {
		const char *v[] = { s->rows[i].name };
		rc = lazyfam_add(b, &up, up_names, v, 1, s->rows[i].operstate == IF_OPER_UP, err,
				 errlen);
	}
	for (size_t i = 0; rc == 0 && i < s->n; i++) {
		const struct link_row *r = &s->rows[i];
		const char *v[] = { r->address, r->broadcast, r->name,
				    r->duplex,  r->ifalias,   operstate_name(r->operstate) };
		rc = lazyfam_add(b, &info, info_names, v, 6, 1, err, errlen);
	}
	return rc;
}

int netclass_rtnl_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device" };
	struct rtnl_state *s = state;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_req r;

	s->n = 0;
	valtable_reset(&s->t);
	nl_req_init(&r, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof ifi);
	int rc = nlsock_request(&s->route, &r.nh, "link dump", on_link, s, err, errlen);
	if (rc == 0)
		rc = link_modes(s, err, errlen);
	if (rc)
		return rc;
	sysfs_values(s);
	rc = emit_up_and_info(s, b, err, errlen);
	if (rc == 0)
		rc = valtable_emit(&s->t, s->cols, names, 1, b, err, errlen);
	return rc;
}
