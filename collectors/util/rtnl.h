/*
 * rtnl.h - rtnetlink dumps (RTM_GETLINK, RTM_GETADDR, RTM_GETNEIGH) for the
 * collectors that read the kernel's tables over netlink as node_exporter does.
 *
 * The socket is opened on first use and kept; replies land in one buffer owned
 * by the struct.  A reply that does not come within RTNL_TIMEOUT_SEC fails the
 * dump.  Netlink sees the network namespace of the process, not --path.procfs.
 */
#ifndef SHMETRICS_RTNL_H
#define SHMETRICS_RTNL_H

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

#define RTNL_TIMEOUT_SEC 2

struct rtnl {
	int fd; /* -1 while closed: set by rtnl_init */
	uint32_t seq;
	unsigned char *buf;
};

void rtnl_init(struct rtnl *r);
void rtnl_close(struct rtnl *r);

/* Called for each message of the dump; 0 to go on, or a negative errno. */
typedef int (*rtnl_handler)(void *ctx, const struct nlmsghdr *nh, char *err, size_t errlen);

/*
 * Sends a dump request of type whose payload is req[0..len) (an rtgenmsg, an
 * ndmsg, ...) and hands each reply message to fn.  0 at the end of the dump; a
 * negative errno with "call(NETLINK_ROUTE) failed: ..." in err, after which the
 * socket is closed (and opened again next time); or fn's error.
 */
int rtnl_dump(struct rtnl *r, uint16_t type, const void *req, size_t len, rtnl_handler fn,
	      void *ctx, char *err, size_t errlen);

#endif
