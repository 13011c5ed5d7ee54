#include "inetdiag.h"

#include <linux/inet_diag.h>
#include <string.h>

static const char *const tcp_states[] = {
	NULL,        "established", "syn_sent",   "syn_recv", "fin_wait1", "fin_wait2",
	"time_wait", "close",       "close_wait", "last_ack", "listen",    "closing",
};

const char *tcp_state_name(unsigned s)
{
	return s < sizeof tcp_states / sizeof tcp_states[0] ? tcp_states[s] : NULL;
}

void inetdiag_account(struct tcp_state_counts *c, const struct nlmsghdr *nh)
{
	struct inet_diag_msg m;
	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof m))
		return;
	memcpy(&m, NLMSG_DATA(nh), sizeof m);
	c->sockets++;
	c->rx_queued += m.idiag_rqueue;
	c->tx_queued += m.idiag_wqueue;
	c->state[tcp_state_name(m.idiag_state) ? m.idiag_state : 0]++;
}
