#include "nlsock.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

void nlsock_init(struct nlsock *s, int protocol)
{
	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->protocol = protocol;
}

void nlsock_close(struct nlsock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->buf);
	s->buf = NULL;
	s->cap = 0;
}

static int nl_fail(struct nlsock *s, const char *call, const char *what, int e, char *err,
		   size_t errlen)
{
	snprintf(err, errlen, "%s (%s) failed: %s", call, what, strerror(e));
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return -e;
}

static int nl_open(struct nlsock *s, const char *what, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = NLSOCK_TIMEOUT_MS / 1000,
			      .tv_usec = (NLSOCK_TIMEOUT_MS % 1000) * 1000 };

	if (!s->buf) {
		s->buf = malloc(NLSOCK_BUF_MIN);
		if (!s->buf) {
			snprintf(err, errlen, "out of memory for a netlink buffer");
			return -ENOMEM;
		}
		s->cap = NLSOCK_BUF_MIN;
	}
	if (s->fd >= 0)
		return 0;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, s->protocol);
	if (s->fd < 0)
		return nl_fail(s, "socket(AF_NETLINK)", what, errno, err, errlen);
	/* A reply that never comes must not hold the collector (nor the other
	 * collectors of its process) for longer than this. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
	    setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
		return nl_fail(s, "setsockopt(SO_RCVTIMEO)", what, errno, err, errlen);
	return 0;
}

/* Makes room for the next datagram, whose size a peek tells. */
static int nl_room(struct nlsock *s, const char *what, char *err, size_t errlen)
{
	ssize_t n;

	do
		n = recv(s->fd, s->buf, 1, MSG_PEEK | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT : errno;
		return nl_fail(s, "recv", what, e, err, errlen);
	}
	if ((size_t)n <= s->cap)
		return 0;
	if ((size_t)n > NLSOCK_BUF_MAX)
		return nl_fail(s, "recv", what, EMSGSIZE, err, errlen);
	unsigned char *b = realloc(s->buf, (size_t)n);
	if (!b) {
		snprintf(err, errlen, "out of memory for a %zd-byte netlink reply", n);
		return -ENOMEM;
	}
	s->buf = b;
	s->cap = (size_t)n;
	return 0;
}

static int nl_error_of(const struct nlmsghdr *nh, bool *ack)
{
	const struct nlmsgerr *e = NLMSG_DATA(nh);

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof *e))
		return -EPROTO;
	*ack = e->error == 0;
	return e->error > 0 ? -EPROTO : e->error;
}

int nl_walk(const void *buf, size_t len, uint32_t seq, nl_msg_fn fn, void *ctx, bool *done,
	    char *err, size_t errlen)
{
	const unsigned char *p = buf, *end = p + len;

	while ((size_t)(end - p) >= NLMSG_HDRLEN) {
		const struct nlmsghdr *nh = (const struct nlmsghdr *)(const void *)p;
		size_t n = nh->nlmsg_len, step = NLMSG_ALIGN(n);
		bool ack = false;
		int rc;
		if (n < NLMSG_HDRLEN || n > (size_t)(end - p))
			break; /* a truncated message ends the datagram */
		p = step < (size_t)(end - p) ? p + step : end;
		if (seq && nh->nlmsg_seq != seq)
			continue; /* a late reply to an earlier request */
		switch (nh->nlmsg_type) {
		case NLMSG_NOOP:
			continue;
		case NLMSG_DONE:
			*done = true;
			/* A dump that failed midway says so in its DONE message. */
			if (n >= NLMSG_LENGTH(sizeof(int))) {
				int e;
				memcpy(&e, NLMSG_DATA(nh), sizeof e);
				if (e < 0)
					return e;
			}
			return 0;
		case NLMSG_ERROR:
			rc = nl_error_of(nh, &ack);
			*done = true;
			return rc;
		default:
			if ((rc = fn(nh, ctx, err, errlen)) != 0)
				return rc;
		}
	}
	return 0;
}

static int nl_send(struct nlsock *s, struct nlmsghdr *req, const char *what, char *err,
		   size_t errlen)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;

	req->nlmsg_seq = ++s->seq;
	if (req->nlmsg_seq == 0)
		req->nlmsg_seq = ++s->seq;
	do
		n = sendto(s->fd, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel,
			   sizeof kernel);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return nl_fail(s, "sendto", what, errno, err, errlen);
	return 0;
}

int nlsock_request(struct nlsock *s, struct nlmsghdr *req, const char *what, nl_msg_fn fn,
		   void *ctx, char *err, size_t errlen)
{
	bool done = false;
	int rc = nl_open(s, what, err, errlen);

	if (rc == 0)
		rc = nl_send(s, req, what, err, errlen);
	while (rc == 0 && !done) {
		if ((rc = nl_room(s, what, err, errlen)) != 0)
			return rc;
		ssize_t n = recv(s->fd, s->buf, s->cap, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT : errno;
			return nl_fail(s, "recv", what, e, err, errlen);
		}
		err[0] = '\0';
		rc = nl_walk(s->buf, (size_t)n, req->nlmsg_seq, fn, ctx, &done, err, errlen);
	}
	if (rc < 0 && !err[0])
		snprintf(err, errlen, "%s: the kernel answered: %s", what, strerror(-rc));
	if (rc < 0 && s->fd >= 0) {
		close(s->fd); /* the rest of the reply is not wanted */
		s->fd = -1;
	}
	return rc;
}

/* ---- generic netlink families ---- */

static int on_family(const struct nlmsghdr *nh, void *ctx, char *err, size_t errlen)
{
	struct nl_attr tb[CTRL_ATTR_FAMILY_ID + 1];
	(void)err;
	(void)errlen;
	if (nl_msg_attrs(nh, GENL_HDRLEN, tb, CTRL_ATTR_FAMILY_ID + 1))
		nl_get_u16(&tb[CTRL_ATTR_FAMILY_ID], ctx);
	return 0;
}

int nlsock_genl_family(struct nlsock *s, const char *name, uint16_t *id, char *err, size_t errlen)
{
	struct genlmsghdr g = { .cmd = CTRL_CMD_GETFAMILY, .version = 1 };
	struct nl_req r;
	char what[64];

	*id = 0;
	snprintf(what, sizeof what, "generic netlink family %s", name);
	nl_req_init(&r, GENL_ID_CTRL, NLM_F_ACK, &g, sizeof g);
	if (!nl_req_put(&r, CTRL_ATTR_FAMILY_NAME, name, strlen(name) + 1)) {
		snprintf(err, errlen, "%s: name too long", what);
		return -ENAMETOOLONG;
	}
	int rc = nlsock_request(s, &r.nh, what, on_family, id, err, errlen);
	if (rc == 0 && *id == 0) {
		snprintf(err, errlen, "%s: the kernel's reply has no id", what);
		return -EPROTO;
	}
	return rc;
}

/* ---- building requests ---- */

void nl_req_init(struct nl_req *r, uint16_t type, uint16_t flags, const void *hdr, size_t hdrlen)
{
	memset(r, 0, sizeof *r);
	if (hdrlen > 64)
		hdrlen = 64;
	r->nh.nlmsg_len = NLMSG_LENGTH(hdrlen);
	r->nh.nlmsg_type = type;
	r->nh.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	memcpy(NLMSG_DATA(&r->nh), hdr, hdrlen);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len);
}

bool nl_req_put(struct nl_req *r, uint16_t type, const void *data, size_t len)
{
	size_t at = r->nh.nlmsg_len, total = NLA_HDRLEN + len;

	if (len > UINT16_MAX - NLA_HDRLEN || at + NLA_ALIGN(total) > sizeof *r)
		return false;
	struct nlattr *a = (struct nlattr *)(void *)((unsigned char *)r + at);
	a->nla_type = type;
	a->nla_len = (uint16_t)total;
	memcpy((unsigned char *)a + NLA_HDRLEN, data, len);
	r->nh.nlmsg_len = (uint32_t)(at + NLA_ALIGN(total));
	return true;
}

bool nl_req_put_u32(struct nl_req *r, uint16_t type, uint32_t v)
{
	return nl_req_put(r, type, &v, sizeof v);
}

/* ---- reading attributes ---- */

struct nl_iter nl_iter_of(const struct nl_attr *nest)
{
	struct nl_iter it = { nest->data, nest->data ? nest->data + nest->len : NULL };
	return it;
}

bool nl_iter_next(struct nl_iter *it, uint16_t *type, struct nl_attr *a)
{
	struct nlattr h;

	if (!it->p || it->end - it->p < NLA_HDRLEN)
		return false;
	memcpy(&h, it->p, sizeof h);
	if (h.nla_len < NLA_HDRLEN || h.nla_len > it->end - it->p)
		return false;
	*type = h.nla_type & NLA_TYPE_MASK;
	a->data = it->p + NLA_HDRLEN;
	a->len = (uint16_t)(h.nla_len - NLA_HDRLEN);
	size_t step = NLA_ALIGN(h.nla_len);
	it->p = step >= (size_t)(it->end - it->p) ? it->end : it->p + step;
	return true;
}

void nl_attrs(const void *buf, size_t len, struct nl_attr *tb, size_t n)
{
	struct nl_attr all = { buf, len > UINT16_MAX ? UINT16_MAX : (uint16_t)len }, a;
	struct nl_iter it = nl_iter_of(&all);
	uint16_t type;

	/* Message payloads can exceed 64 KiB; iterate over the real length. */
	it.end = buf ? (const unsigned char *)buf + len : NULL;
	memset(tb, 0, n * sizeof *tb);
	while (nl_iter_next(&it, &type, &a))
		if (type < n)
			tb[type] = a;
}

bool nl_msg_attrs(const struct nlmsghdr *nh, size_t hdrlen, struct nl_attr *tb, size_t n)
{
	size_t off = NLMSG_ALIGN(hdrlen);

	if (nh->nlmsg_len < NLMSG_LENGTH(hdrlen)) {
		memset(tb, 0, n * sizeof *tb);
		return false;
	}
	size_t len = nh->nlmsg_len - NLMSG_HDRLEN;
	nl_attrs((const unsigned char *)NLMSG_DATA(nh) + (off < len ? off : len),
		 off < len ? len - off : 0, tb, n);
	return true;
}

static bool nl_get(const struct nl_attr *a, void *v, size_t size)
{
	if (!a->data || a->len < size)
		return false;
	memcpy(v, a->data, size);
	return true;
}

bool nl_get_u8(const struct nl_attr *a, uint8_t *v)
{
	return nl_get(a, v, sizeof *v);
}

bool nl_get_u16(const struct nl_attr *a, uint16_t *v)
{
	return nl_get(a, v, sizeof *v);
}

bool nl_get_u32(const struct nl_attr *a, uint32_t *v)
{
	return nl_get(a, v, sizeof *v);
}

bool nl_get_u64(const struct nl_attr *a, uint64_t *v)
{
	return nl_get(a, v, sizeof *v);
}

bool nl_get_str(const struct nl_attr *a, char *out, size_t cap)
{
	if (!a->data || cap == 0)
		return false;
	size_t n = strnlen((const char *)a->data, a->len);
	if (n >= cap)
		return false;
	memcpy(out, a->data, n);
	out[n] = '\0';
	return true;
}
