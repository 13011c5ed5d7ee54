#include "nldump.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define NLDUMP_BUF         32768
#define NLDUMP_TIMEOUT_SEC 2
#define NLDUMP_REQ_MAX     256

void nldump_init(struct nldump *d, int protocol)
{
	memset(d, 0, sizeof *d);
	d->fd = -1;
	d->protocol = protocol;
}

void nldump_close(struct nldump *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	free(d->buf);
	d->buf = NULL;
}

static int nldump_fail(struct nldump *d, const char *call, int e, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s(netlink protocol %d) failed: %s", call, d->protocol, strerror(e));
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	return -e;
}

static int nldump_open(struct nldump *d, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = NLDUMP_TIMEOUT_SEC };
	if (d->fd >= 0)
		return 0;
	if (!d->buf && !(d->buf = malloc(NLDUMP_BUF))) {
		snprintf(err, errlen, "out of memory for a %d-byte netlink buffer", NLDUMP_BUF);
		return -ENOMEM;
	}
	d->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, d->protocol);
	if (d->fd < 0)
		return nldump_fail(d, "socket", errno, err, errlen);
	if (setsockopt(d->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
		return nldump_fail(d, "setsockopt", errno, err, errlen);
	return 0;
}

static int nldump_send(struct nldump *d, uint16_t type, const void *payload, size_t len, char *err,
		       size_t errlen)
{
	_Alignas(struct nlmsghdr) unsigned char req[NLMSG_LENGTH(NLDUMP_REQ_MAX)];
	struct nlmsghdr *nh = (struct nlmsghdr *)(void *)req;
	if (len > NLDUMP_REQ_MAX)
		return nldump_fail(d, "sendto", EMSGSIZE, err, errlen);
	memset(req, 0, sizeof req);
	nh->nlmsg_len = NLMSG_LENGTH(len);
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nh->nlmsg_seq = ++d->seq;
	memcpy(NLMSG_DATA(nh), payload, len);
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(d->fd, req, nh->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
		return nldump_fail(d, "sendto", errno, err, errlen);
	return 0;
}

/* The errno an NLMSG_ERROR message carries (EPROTO when it is too short). */
static int nldump_errno(const struct nlmsghdr *nh)
{
	const struct nlmsgerr *e = NLMSG_DATA(nh);
	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof *e) || e->error >= 0)
		return EPROTO;
	return -e->error;
}

int nldump_run(struct nldump *d, uint16_t type, const void *payload, size_t len, nldump_fn fn,
	       void *ctx, char *err, size_t errlen)
{
	int rc = nldump_open(d, err, errlen);
	if (rc == 0)
		rc = nldump_send(d, type, payload, len, err, errlen);
	while (rc == 0) {
		ssize_t got = recv(d->fd, d->buf, NLDUMP_BUF, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return nldump_fail(d, "recv", errno, err, errlen);
		const struct nlmsghdr *nh = (const struct nlmsghdr *)(void *)d->buf;
		for (int left = (int)got; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != d->seq)
				continue; /* a late reply to an earlier, abandoned dump */
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR)
				return nldump_fail(d, "recv", nldump_errno(nh), err, errlen);
			if ((rc = fn(nh, ctx)) != 0)
				return rc;
		}
	}
	return rc;
}
