/*
 * tcpstat - TCP sockets by state, as node_exporter's opt-in tcpstat collector
 * reports them: node_tcp_connection_states{state} for each state that has
 * sockets (established, listen, time_wait, ...), and state="rx_queued_bytes" /
 * "tx_queued_bytes" for the bytes waiting in all sockets' receive and send
 * queues (for a listening socket the kernel gives its accept backlog and
 * limit instead, and they are summed all the same, as node_exporter does).
 *
 * Like node_exporter it asks the kernel over NETLINK_SOCK_DIAG (what ss(8)
 * does) rather than reading PROCFS/net/tcp, whose cost grows with the square
 * of the number of sockets; IPv6 sockets are asked for when PROCFS/net/tcp6
 * exists.  The sockets are those of the collector's network namespace.
 */
#include <errno.h>
#include <limits.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector.h"
#include "dirents.h"
#include "inetdiag.h"
#include "lazyfam.h"
#include "nlsock.h"

#define TCP_ALL_STATES 0xfff /* states 0..11, as node_exporter asks */

struct tcpstat_state {
	struct nlsock nl;
	char tcp6[PATH_MAX];
};

static void tcpstat_fini(void *state)
{
	struct tcpstat_state *s = state;
	if (!s)
		return;
	nlsock_close(&s->nl);
	free(s);
}

static int tcpstat_init(void **state, const struct collector_env *env, char *err, size_t errlen)
{
	struct tcpstat_state *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	if (path_fmt(s->tcp6, sizeof s->tcp6, "%s/net/tcp6", env->procfs) != 0) {
		snprintf(err, errlen, "path %s/net/tcp6 is too long", env->procfs);
		free(s);
		return -ENAMETOOLONG;
	}
	nlsock_init(&s->nl, NETLINK_SOCK_DIAG);
	*state = s;
	return 0;
}

static int count_message(const struct nlmsghdr *nh, void *ctx, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	inetdiag_account(ctx, nh);
	return 0;
}

static int tcpstat_dump(struct tcpstat_state *s, uint8_t family, struct tcp_state_counts *c,
			char *err, size_t errlen)
{
	struct inet_diag_req_v2 req;
	struct nl_req r;
	memset(&req, 0, sizeof req);
	req.sdiag_family = family;
	req.sdiag_protocol = IPPROTO_TCP;
	req.idiag_states = TCP_ALL_STATES;
	nl_req_init(&r, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, &req, sizeof req);
	return nlsock_request(&s->nl, &r.nh,
			      family == AF_INET ? "TCP socket dump" : "TCP6 socket dump",
			      count_message, c, err, errlen);
}

static int tcpstat_emit(const struct tcp_state_counts *c, struct batch *b, char *err, size_t errlen)
{
	static const char *const names[] = { "state" };
	struct lazyfam fam = { "node_tcp_connection_states", "Number of connection states.",
			       METRIC_GAUGE, false };
	int rc = 0;
	for (unsigned st = 1; rc == 0 && st < TCP_STATE_MAX; st++) {
		const char *values[] = { tcp_state_name(st) };
		if (values[0] && c->state[st] > 0)
			rc = lazyfam_add(b, &fam, names, values, 1, c->state[st], err, errlen);
	}
	const char *unknown[] = { "unknown" }, *rx[] = { "rx_queued_bytes" },
		   *tx[] = { "tx_queued_bytes" };
	if (rc == 0 && c->state[0] > 0)
		rc = lazyfam_add(b, &fam, names, unknown, 1, c->state[0], err, errlen);
	if (rc == 0 && c->sockets > 0)
		rc = lazyfam_add(b, &fam, names, rx, 1, c->rx_queued, err, errlen);
	if (rc == 0 && c->sockets > 0)
		rc = lazyfam_add(b, &fam, names, tx, 1, c->tx_queued, err, errlen);
	return rc;
}

static int tcpstat_collect(void *state, struct batch *b, char *err, size_t errlen)
{
	struct tcpstat_state *s = state;
	struct tcp_state_counts c;
	memset(&c, 0, sizeof c);
	int rc = tcpstat_dump(s, AF_INET, &c, err, errlen);
	if (rc == 0 && access(s->tcp6, F_OK) == 0)
		rc = tcpstat_dump(s, AF_INET6, &c, err, errlen);
	return rc ? rc : tcpstat_emit(&c, b, err, errlen);
}

const struct collector_ops collector_tcpstat_ops = {
	.init = tcpstat_init,
	.collect = tcpstat_collect,
	.fini = tcpstat_fini,
};
