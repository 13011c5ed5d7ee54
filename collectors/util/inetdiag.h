/*
 * inetdiag.h - counting TCP sockets by state from a sock_diag dump
 * (inet_diag_msg replies), as the tcpstat collector reports them.
 */
#ifndef SHMETRICS_INETDIAG_H
#define SHMETRICS_INETDIAG_H

#include <linux/netlink.h>
#include <stddef.h>

#define TCP_STATE_MAX 16 /* kernel states are 1..13; the rest count as unknown */

struct tcp_state_counts {
	double state[TCP_STATE_MAX]; /* state[0]: states without a name */
	double rx_queued, tx_queued; /* idiag_rqueue, idiag_wqueue summed */
	size_t sockets;
};

/* The name node_exporter gives state s (1 "established" ... 11 "closing"), or
 * NULL for one it does not name. */
const char *tcp_state_name(unsigned s);

/* Adds one reply message; one too short to be an inet_diag_msg is ignored. */
void inetdiag_account(struct tcp_state_counts *c, const struct nlmsghdr *nh);

#endif
