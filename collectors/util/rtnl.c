#include "rtnl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define RTNL_BUF     (64 * 1024)
#define RTNL_REQ_MAX 64

void rtnl_init(struct rtnl *r)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
}

void rtnl_close(struct rtnl *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	free(r->buf);
	r->buf = NULL;
}

static int rtnl_fail(struct rtnl *r, const char *call, int e, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s(NETLINK_ROUTE) failed: %s", call, strerror(e));
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	return -e;
}

static int rtnl_open(struct rtnl *r, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = RTNL_TIMEOUT_SEC };

	if (r->fd >= 0)
		return 0;
	if (!r->buf && !(r->buf = malloc(RTNL_BUF))) {
		snprintf(err, errlen, "out of memory for a %d-byte netlink buffer", RTNL_BUF);
		return -ENOMEM;
	}
	r->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (r->fd < 0)
		return rtnl_fail(r, "socket", errno, err, errlen);
	/* A reply that never comes must not hold the collector forever. */
	if (setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
		return rtnl_fail(r, "setsockopt", errno, err, errlen);
	return 0;
}

static int rtnl_request(struct rtnl *r, uint16_t type, const void *req, size_t len, char *err,
			size_t errlen)
{
	struct {
		struct nlmsghdr nh;
		unsigned char payload[RTNL_REQ_MAX];
	} msg;

	if (len > sizeof msg.payload)
		return rtnl_fail(r, "sendto", EMSGSIZE, err, errlen);
	memset(&msg, 0, sizeof msg);
	msg.nh.nlmsg_len = NLMSG_LENGTH(len);
	msg.nh.nlmsg_type = type;
	msg.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.nh.nlmsg_seq = ++r->seq;
	memcpy(msg.payload, req, len);
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(r->fd, &msg, msg.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
		return rtnl_fail(r, "sendto", errno, err, errlen);
	return 0;
}

int rtnl_dump(struct rtnl *r, uint16_t type, const void *req, size_t len, rtnl_handler fn,
	      void *ctx, char *err, size_t errlen)
{
	int rc = rtnl_open(r, err, errlen);
	if (rc == 0)
		rc = rtnl_request(r, type, req, len, err, errlen);
	while (rc == 0) {
		ssize_t got = recv(r->fd, r->buf, RTNL_BUF, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return rtnl_fail(r, "recv", errno, err, errlen);
		const struct nlmsghdr *nh = (const struct nlmsghdr *)(void *)r->buf;
		for (int left = (int)got; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != r->seq)
				continue; /* a late reply to an earlier, abandoned dump */
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR)
				return rtnl_fail(r, "recv", EPROTO, err, errlen);
			if ((rc = fn(ctx, nh, err, errlen)) != 0)
				return rc;
		}
	}
	return rc;
}
