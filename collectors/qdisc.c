/*
 * qdisc - the statistics of each network device's root queueing discipline, over
 * rtnetlink (RTM_GETQDISC), as node_exporter's opt-in qdisc collector reports
 * them, labelled {device, kind}:
 *
 *   node_qdisc_bytes_total, _packets_total, _drops_total, _requeues_total,
 *   _overlimits_total (counters), node_qdisc_current_queue_length and
 *   node_qdisc_backlog (gauges, packets and bytes in the queue now).
 *
 * Only root qdiscs are reported (a child's packets are counted by its parent too),
 * and ingress/clsact ones are not root.  The values come from TCA_STATS2, or
 * the legacy TCA_STATS of kernels without it.  The packet count is 32 bits in
 * those structures; a kernel whose count passed 2^32 adds the full 64-bit count
 * (TCA_STATS_PKT64), which is reported here while node_exporter keeps the
 * wrapped 32 bits.
 *
 * --collector.qdisc.device-include / device-exclude (mutually exclusive) filter
 * the devices by name.
 */
#include <errno.h>
#include <linux/gen_stats.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "filter.h"
#include "ifnames.h"
#include "nlsock.h"
#include "valtable.h"

enum { Q_BYTES, Q_PACKETS, Q_DROPS, Q_REQUEUES, Q_OVERLIMITS, Q_QLEN, Q_BACKLOG, N_QCOLS };

static const struct valtable_col qcols[N_QCOLS] = {
	{ "node_qdisc_bytes_total", "Number of bytes sent.", METRIC_COUNTER, 0 },
	{ "node_qdisc_packets_total", "Number of packets sent.", METRIC_COUNTER, 0 },
	{ "node_qdisc_drops_total", "Number of packets dropped.", METRIC_COUNTER, 0 },
	{ "node_qdisc_requeues_total", "Number of packets dequeued, not transmitted, and requeued.",
	  METRIC_COUNTER, 0 },
	{ "node_qdisc_overlimits_total", "Number of overlimit packets.", METRIC_COUNTER, 0 },
	{ "node_qdisc_current_queue_length", "Number of packets currently in queue to be sent.",
	  METRIC_GAUGE, 0 },
	{ "node_qdisc_backlog", "Number of bytes currently in queue to be sent.", METRIC_GAUGE, 0 },
};

struct qdisc_state {
	struct nlsock nl;
	struct ifnames ifs;
	struct devfilter filter;
	struct valtable t;
};

static void qdisc_fini(void *state)
{
	struct qdisc_state *s = state;
	if (!s)
		return;
	nlsock_close(&s->nl);
	ifnames_free(&s->ifs);
	devfilter_fini(&s->filter);
	valtable_free(&s->t);
	free(s);
}

static int qdisc_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct qdisc_state *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	nlsock_init(&s->nl, NETLINK_ROUTE);
	valtable_init(&s->t, N_QCOLS);
	int rc = devfilter_init(&s->filter, env, err, errlen);
	if (rc) {
		qdisc_fini(s);
		return rc;
	}
	*state = s;
	return 0;
}

/* The counters of TCA_STATS2's nest; false when it has no basic counters. */
static bool stats2(const struct nl_attr *nest, uint64_t *v)
{
	struct nl_attr tb[TCA_STATS_PKT64 + 1];
	struct gnet_stats_basic basic;
	struct gnet_stats_queue q;
	uint64_t pkt64;

	nl_attrs(nest->data, nest->len, tb, TCA_STATS_PKT64 + 1);
	/* The kernel sends the basic counters unpadded: 12 bytes. */
	if (!tb[TCA_STATS_BASIC].data || tb[TCA_STATS_BASIC].len < 12)
		return false;
	memset(&basic, 0, sizeof basic);
	memcpy(&basic, tb[TCA_STATS_BASIC].data, 12);
	v[Q_BYTES] = basic.bytes;
	v[Q_PACKETS] = nl_get_u64(&tb[TCA_STATS_PKT64], &pkt64) ? pkt64 : basic.packets;
	if (tb[TCA_STATS_QUEUE].data && tb[TCA_STATS_QUEUE].len >= sizeof q) {
		memcpy(&q, tb[TCA_STATS_QUEUE].data, sizeof q);
		v[Q_QLEN] = q.qlen;
		v[Q_BACKLOG] = q.backlog;
		v[Q_DROPS] = q.drops;
		v[Q_REQUEUES] = q.requeues;
		v[Q_OVERLIMITS] = q.overlimits;
	}
	return true;
}

/* The legacy struct tc_stats of kernels without TCA_STATS2 (no requeues). */
static void stats_legacy(const struct nl_attr *a, uint64_t *v)
{
	struct tc_stats st;

	if (!a->data || a->len < sizeof st)
		return;
	memcpy(&st, a->data, sizeof st);
	v[Q_BYTES] = st.bytes;
	v[Q_PACKETS] = st.packets;
	v[Q_DROPS] = st.drops;
	v[Q_OVERLIMITS] = st.overlimits;
	v[Q_QLEN] = st.qlen;
	v[Q_BACKLOG] = st.backlog;
}

static int on_qdisc(const struct nlmsghdr *nh, void *ctx, char *err, size_t errlen)
{
	struct qdisc_state *s = ctx;
	struct nl_attr tb[TCA_STATS2 + 1];
	char kind[64] = "";
	uint64_t v[N_QCOLS];

	(void)err;
	(void)errlen;
	if (nh->nlmsg_type != RTM_NEWQDISC ||
	    !nl_msg_attrs(nh, sizeof(struct tcmsg), tb, TCA_STATS2 + 1))
		return 0;
	const struct tcmsg *tcm = NLMSG_DATA(nh);
	if (tcm->tcm_parent != TC_H_ROOT && tcm->tcm_parent != 0)
		return 0;
	const char *dev = ifnames_find(&s->ifs, tcm->tcm_ifindex);
	if (!dev || devfilter_ignored(&s->filter, dev, strlen(dev)))
		return 0; /* a device gone since the link dump, or filtered out */
	nl_get_str(&tb[TCA_KIND], kind, sizeof kind);
	memset(v, 0, sizeof v);
	if (!tb[TCA_STATS2].data || !stats2(&tb[TCA_STATS2], v))
		stats_legacy(&tb[TCA_STATS], v);
	const char *labels[] = { dev, kind };
	int row = valtable_row(&s->t, labels, 2);
	if (row == -ENOMEM) {
		snprintf(err, errlen, "out of memory for the qdiscs");
		return row;
	}
	for (size_t c = 0; row >= 0 && c < N_QCOLS; c++)
		valtable_set(&s->t, (size_t)row, c, (double)v[c]);
	return 0;
}

static int qdisc_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "device", "kind" };
	struct qdisc_state *s = state;
	struct tcmsg tcm = { .tcm_family = AF_UNSPEC };
	struct nl_req r;

	valtable_reset(&s->t);
	int rc = ifnames_load(&s->ifs, &s->nl, err, errlen);
	if (rc)
		return rc;
	nl_req_init(&r, RTM_GETQDISC, NLM_F_DUMP, &tcm, sizeof tcm);
	rc = nlsock_request(&s->nl, &r.nh, "qdisc dump", on_qdisc, s, err, errlen);
	if (rc == 0)
		rc = valtable_emit(&s->t, qcols, names, 2, b, err, errlen);
	return rc;
}

const struct collector_ops collector_qdisc_ops = {
	.init = qdisc_init,
	.collect = qdisc_collect,
	.fini = qdisc_fini,
};
