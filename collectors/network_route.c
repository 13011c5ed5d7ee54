/*
 * network_route - the kernel's routing tables over rtnetlink, as node_exporter's
 * opt-in network_route collector reports them:
 *
 *   node_network_route_info{device, src, dest, gw, priority, proto, weight} 1
 *   node_network_routes{device}   unicast routes (multipath: next hops) per device
 *
 * One route dump (RTM_GETROUTE, every family and table) and one link dump for
 * the device names, each cycle.  Only unicast routes count (local, broadcast,
 * multicast, blackhole and unreachable ones do not).  A multipath route gives one
 * series per next hop, with weight = hops + 1; a single-path route has weight "".
 * dest is "default" for a zero-length prefix, else ADDR/LEN; src is the preferred
 * source (RTA_PREFSRC); priority the metric (0 when absent); proto the name of
 * the routing protocol, or "unknown".  Addresses are written as node_exporter
 * writes them (collectors/util/ipfmt.h).  Two routes with the same labels (the
 * same route in two tables) are one series.
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "ifnames.h"
#include "ipfmt.h"
#include "lazyfam.h"
#include "nlsock.h"

#define NUM_MAX 12

struct route {
	const char *device;
	char src[IPFMT_MAX], dest[IPFMT_MAX], gw[IPFMT_MAX];
	char priority[NUM_MAX], weight[NUM_MAX];
	const char *proto;
};

/* Routes per device: slot 0 is the device "" (an index with no name), slot i+1
 * the i-th name of ifs.  order lists the slots in the order of their first route. */
struct route_state {
	struct nlsock nl;
	struct ifnames ifs;
	struct batch *b;
	struct lazyfam info;
	size_t *counts, *order;
	size_t n_order, cap;
};

static void route_fini(void *state)
{
	struct route_state *s = state;
	if (!s)
		return;
	nlsock_close(&s->nl);
	ifnames_free(&s->ifs);
	free(s->counts);
	free(s->order);
	free(s);
}

static int route_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct route_state *s = calloc(1, sizeof *s);
	(void)env;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nlsock_init(&s->nl, NETLINK_ROUTE);
	*state = s;
	return 0;
}

/* The names of rtnetlink.h's RTPROT_* values, as node_exporter spells them. */
static const char *proto_name(unsigned p)
{
	static const struct {
		unsigned char id;
		const char *name;
	} names[] = {
		{ 0, "unspec" },  { 1, "redirect" }, { 2, "kernel" },    { 3, "boot" },
		{ 4, "static" },  { 8, "gated" },    { 9, "ra" },        { 10, "mrt" },
		{ 11, "zebra" },  { 12, "bird" },    { 13, "dnrouted" }, { 14, "xorp" },
		{ 15, "ntk" },    { 16, "dhcp" },    { 17, "mrouted" },  { 42, "babel" },
		{ 186, "bgp" },   { 187, "isis" },   { 188, "ospf" },    { 189, "rip" },
		{ 192, "eigrp" },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].id == p)
			return names[i].name;
	return "unknown";
}

/* Sizes the per-device counts for this cycle's interfaces and zeroes them. */
static int counts_reset(struct route_state *s, char *err, size_t errlen)
{
	size_t need = s->ifs.n + 1;

	if (need > s->cap) {
		size_t *c = realloc(s->counts, need * sizeof *c);
		if (c)
			s->counts = c;
		size_t *o = c ? realloc(s->order, need * sizeof *o) : NULL;
		if (!o) {
			snprintf(err, errlen, "out of memory for %zu devices", need);
			return -ENOMEM;
		}
		s->order = o;
		s->cap = need;
	}
	memset(s->counts, 0, need * sizeof *s->counts);
	s->n_order = 0;
	return 0;
}

/* The device of ifindex (its name, or "") and its counter slot. */
static const char *device_of(const struct route_state *s, int index, size_t *slot)
{
	for (size_t i = 0; i < s->ifs.n; i++)
		if (s->ifs.v[i].index == index) {
			*slot = i + 1;
			return s->ifs.v[i].name;
		}
	*slot = 0;
	return "";
}

static void put_addr(char *out, const struct nl_attr *a)
{
	ipfmt_addr(out, a->data ? a->data : (const unsigned char *)"", a->data ? a->len : 0);
}

/* Publishes one series of route_info and counts it for its device. */
static int add_route(struct route_state *s, const struct route *r, size_t slot, char *err,
		     size_t errlen)
{
	static const char *const names[] = { "dest",  "device", "gw",    "priority",
					     "proto", "src",    "weight" };
	const char *values[] = {
		r->dest, r->device, r->gw, r->priority, r->proto, r->src, r->weight
	};

	if (s->counts[slot]++ == 0)
		s->order[s->n_order++] = slot;
	return lazyfam_add(s->b, &s->info, names, values, 7, 1, err, errlen);
}

/* One series per next hop of an RTA_MULTIPATH attribute. */
static int add_next_hops(struct route_state *s, struct route *r, const struct nl_attr *mp,
			 char *err, size_t errlen)
{
	const unsigned char *p = mp->data, *end = mp->data + mp->len;
	struct rtnexthop nh;
	int rc = 0;

	while (rc == 0 && end - p >= (long)sizeof nh) {
		memcpy(&nh, p, sizeof nh);
		if (nh.rtnh_len < sizeof nh || nh.rtnh_len > end - p)
			break;
		struct nl_attr tb[RTA_GATEWAY + 1];
		size_t slot;
		nl_attrs(p + RTNH_LENGTH(0), nh.rtnh_len - RTNH_LENGTH(0), tb, RTA_GATEWAY + 1);
		r->device = device_of(s, nh.rtnh_ifindex, &slot);
		put_addr(r->gw, &tb[RTA_GATEWAY]);
		snprintf(r->weight, sizeof r->weight, "%d", nh.rtnh_hops + 1);
		rc = add_route(s, r, slot, err, errlen);
		p += RTNH_ALIGN(nh.rtnh_len);
	}
	return rc;
}

static void route_labels(struct route *r, const struct rtmsg *rtm, const struct nl_attr *tb)
{
	uint32_t u;

	memset(r, 0, sizeof *r);
	put_addr(r->src, &tb[RTA_PREFSRC]);
	if (rtm->rtm_dst_len == 0)
		snprintf(r->dest, sizeof r->dest, "default");
	else if (tb[RTA_DST].data)
		ipfmt_prefix(r->dest, tb[RTA_DST].data, tb[RTA_DST].len, rtm->rtm_dst_len);
	else
		snprintf(r->dest, sizeof r->dest, "<nil>");
	snprintf(r->priority, sizeof r->priority, "%u", nl_get_u32(&tb[RTA_PRIORITY], &u) ? u : 0);
	r->proto = proto_name(rtm->rtm_protocol);
}

static int on_route(const struct nlmsghdr *nh, void *ctx, char *err, size_t errlen)
{
	struct route_state *s = ctx;
	struct nl_attr tb[RTA_MAX + 1];
	struct route r;
	uint32_t oif;
	size_t slot;

	if (nh->nlmsg_type != RTM_NEWROUTE ||
	    !nl_msg_attrs(nh, sizeof(struct rtmsg), tb, RTA_MAX + 1))
		return 0;
	const struct rtmsg *rtm = NLMSG_DATA(nh);
	if (rtm->rtm_type != RTN_UNICAST)
		return 0;
	route_labels(&r, rtm, tb);
	if (tb[RTA_MULTIPATH].data && tb[RTA_MULTIPATH].len > 0)
		return add_next_hops(s, &r, &tb[RTA_MULTIPATH], err, errlen);
	r.device = device_of(s, nl_get_u32(&tb[RTA_OIF], &oif) ? (int)oif : 0, &slot);
	put_addr(r.gw, &tb[RTA_GATEWAY]);
	return add_route(s, &r, slot, err, errlen);
}

/* Routes per device, devices in the order of their first route. */
static int emit_counts(const struct route_state *s, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device" };
	struct lazyfam fam = { "node_network_routes", "network routes by interface", METRIC_GAUGE,
			       false };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->n_order; i++) {
		size_t slot = s->order[i];
		const char *values[] = { slot ? s->ifs.v[slot - 1].name : "" };
		rc = lazyfam_add(b, &fam, names, values, 1, (double)s->counts[slot], err, errlen);
	}
	return rc;
}

static int route_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct route_state *s = state;
	struct rtmsg rtm = { .rtm_family = AF_UNSPEC };
	struct nl_req r;

	int rc = ifnames_load(&s->ifs, &s->nl, err, errlen);
	if (rc == 0)
		rc = counts_reset(s, err, errlen);
	if (rc)
		return rc;
	s->b = b;
	s->info = (struct lazyfam){ "node_network_route_info", "network routing table information",
				    METRIC_GAUGE, false };
	nl_req_init(&r, RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof rtm);
	rc = nlsock_request(&s->nl, &r.nh, "route dump", on_route, s, err, errlen);
	if (rc == 0)
		rc = emit_counts(s, b, err, errlen);
	return rc;
}

const struct collector_ops collector_network_route_ops = {
	.init = route_init,
	.collect = route_collect,
	.fini = route_fini,
};
