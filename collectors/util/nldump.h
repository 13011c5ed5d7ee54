/*
 * nldump.h - one netlink socket for dump requests (sock_diag, rtnetlink),
 * opened on first use and kept, with a receive timeout so that a reply that
 * never comes cannot hold a collector.  Nothing here logs.
 */
#ifndef SHMETRICS_NLDUMP_H
#define SHMETRICS_NLDUMP_H

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

struct nldump {
	int fd; /* -1 until first use */
	int protocol;
	uint32_t seq;
	unsigned char *buf;
	size_t cap;
};

/* A closed channel for protocol (NETLINK_SOCK_DIAG, NETLINK_ROUTE, ...). */
void nldump_init(struct nldump *d, int protocol);

/* Called for each reply message; a non-zero return stops the dump with it. */
typedef int (*nldump_fn)(const struct nlmsghdr *nh, void *ctx);

/*
 * Sends a dump request of type with payload[0..len) and passes every reply
 * message to fn until the kernel says done.  0, the callback's value, or a
 * negative errno with the failing call in err (the socket is then reopened on
 * the next dump).  An NLMSG_ERROR reply gives its errno.
 */
int nldump_run(struct nldump *d, uint16_t type, const void *payload, size_t len, nldump_fn fn,
	       void *ctx, char *err, size_t errlen);

void nldump_close(struct nldump *d);

#endif
