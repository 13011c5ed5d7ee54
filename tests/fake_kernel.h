/*
 * fake_kernel.h - a kernel inside the test process, for the collectors that ask
 * it over netlink sockets, SIOCETHTOOL ioctls and perf_event_open rather than
 * through files.  The test binary is linked with
 *   -Wl,--wrap=socket,--wrap=sendto,--wrap=recv,--wrap=close,--wrap=ioctl,
 *      --wrap=syscall,--wrap=read
 * and calls on descriptors this file did not hand out go to the real functions.
 *
 * Netlink: a test sets fake_nl_handler; every request a collector sends is
 * passed to it with a reply to fill (fr_* builders: messages, attributes, nests,
 * DONE, errors, datagram boundaries).  recv hands the reply out datagram by
 * datagram; with nothing queued it fails with EAGAIN, as a socket whose
 * SO_RCVTIMEO expired does.
 *
 * ioctl(SIOCETHTOOL) and perf_event_open go to fake_ethtool_handler and
 * fake_perf_handler when set (see their declarations).  Static functions: include
 * this header once per test binary.
 */
#ifndef SHMETRICS_TESTS_FAKE_KERNEL_H
#define SHMETRICS_TESTS_FAKE_KERNEL_H

#include <errno.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FAKE_FDS       256
#define FAKE_REPLY_MAX (512 * 1024)
#define FAKE_DGRAMS    256

struct fake_reply {
	unsigned char buf[FAKE_REPLY_MAX];
	size_t len;
	size_t dgram_end[FAKE_DGRAMS]; /* where each closed datagram ends */
	int n_dgrams;
	size_t msg_at; /* start of the message being built */
	uint32_t seq;  /* of the request being answered */
};

enum fake_kind { FAKE_NONE, FAKE_NETLINK, FAKE_INET, FAKE_PERF };

struct fake_fd {
	int fd;
	enum fake_kind kind;
	int protocol;
	struct fake_reply *reply; /* netlink: queued replies */
	size_t off;               /* netlink: bytes of reply already received */
	int dgram;                /* netlink: next datagram */
	uint64_t cookie;          /* perf: what the handler returned */
};

static struct fake_fd fake_fds[FAKE_FDS];
static struct fake_reply fake_reply_buf;
/* Requests seen, by netlink message type, for the tests' assertions. */
static int fake_nl_requests;

/* Fills the reply to req (protocol: NETLINK_ROUTE, NETLINK_GENERIC). */
static void (*fake_nl_handler)(int protocol, const struct nlmsghdr *req, struct fake_reply *r);

int __real_socket(int domain, int type, int protocol);
ssize_t __real_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
		      socklen_t tolen);
ssize_t __real_recv(int fd, void *buf, size_t len, int flags);
int __real_close(int fd);
int __real_ioctl(int fd, unsigned long request, ...);
long __real_syscall(long number, ...);
ssize_t __real_read(int fd, void *buf, size_t len);

int __wrap_socket(int domain, int type, int protocol);
ssize_t __wrap_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
		      socklen_t tolen);
ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags);
int __wrap_close(int fd);
int __wrap_ioctl(int fd, unsigned long request, ...);
long __wrap_syscall(long number, ...);
ssize_t __wrap_read(int fd, void *buf, size_t len);

static struct fake_fd *fake_find(int fd)
{
	for (int i = 0; i < FAKE_FDS; i++)
		if (fake_fds[i].kind != FAKE_NONE && fake_fds[i].fd == fd)
			return &fake_fds[i];
	return NULL;
}

/* A real descriptor (so setsockopt and close work) recorded as fake. */
static struct fake_fd *fake_new(enum fake_kind kind, int protocol)
{
	for (int i = 0; i < FAKE_FDS; i++)
		if (fake_fds[i].kind == FAKE_NONE) {
			int fd = __real_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (fd < 0)
				return NULL;
			memset(&fake_fds[i], 0, sizeof fake_fds[i]);
			fake_fds[i].fd = fd;
			fake_fds[i].kind = kind;
			fake_fds[i].protocol = protocol;
			return &fake_fds[i];
		}
	return NULL;
}

/* ---- building replies ---- */

static void fr_reset(struct fake_reply *r, uint32_t seq)
{
	r->len = 0;
	r->n_dgrams = 0;
	r->msg_at = 0;
	r->seq = seq;
}

static void *fr_put(struct fake_reply *r, const void *data, size_t len)
{
	size_t pad = NLMSG_ALIGN(len) - len;
	if (r->len + len + pad > sizeof r->buf)
		abort();
	unsigned char *at = r->buf + r->len;
	if (data)
		memcpy(at, data, len);
	else
		memset(at, 0, len);
	memset(at + len, 0, pad);
	r->len += len + pad;
	return at;
}

static struct nlmsghdr *fr_hdr(struct fake_reply *r)
{
	return (struct nlmsghdr *)(void *)(r->buf + r->msg_at);
}

/* Closes the message being built (its length covers everything since). */
static void fr_end(struct fake_reply *r)
{
	if (r->len > r->msg_at)
		fr_hdr(r)->nlmsg_len = (uint32_t)(r->len - r->msg_at);
}

/* Starts a message of type with family header hdr[0..hdrlen). */
static void fr_msg(struct fake_reply *r, uint16_t type, uint16_t flags, const void *hdr,
		   size_t hdrlen)
{
	struct nlmsghdr nh = { .nlmsg_type = type, .nlmsg_flags = flags, .nlmsg_seq = r->seq };
	fr_end(r);
	r->msg_at = r->len;
	fr_put(r, &nh, sizeof nh);
	if (hdrlen)
		fr_put(r, hdr, hdrlen);
	fr_end(r);
}

static void fr_attr(struct fake_reply *r, uint16_t type, const void *data, size_t len)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type };
	fr_put(r, &a, sizeof a);
	if (len)
		fr_put(r, data, len);
	fr_end(r);
}

__attribute__((unused)) static void fr_u8(struct fake_reply *r, uint16_t type, uint8_t v)
{
	fr_attr(r, type, &v, 1);
}
__attribute__((unused)) static void fr_u16(struct fake_reply *r, uint16_t type, uint16_t v)
{
	fr_attr(r, type, &v, 2);
}
static void fr_u32(struct fake_reply *r, uint16_t type, uint32_t v)
{
	fr_attr(r, type, &v, 4);
}
__attribute__((unused)) static void fr_u64(struct fake_reply *r, uint16_t type, uint64_t v)
{
	fr_attr(r, type, &v, 8);
}
__attribute__((unused)) static void fr_str(struct fake_reply *r, uint16_t type, const char *s)
{
	fr_attr(r, type, s, strlen(s) + 1);
}

/* Opens a nest; fr_nest_end closes it (nests may be nested). */
__attribute__((unused)) static size_t fr_nest(struct fake_reply *r, uint16_t type)
{
	size_t at = r->len;
	fr_attr(r, (uint16_t)(type | NLA_F_NESTED), NULL, 0);
	return at;
}
__attribute__((unused)) static void fr_nest_end(struct fake_reply *r, size_t at)
{
	struct nlattr *a = (struct nlattr *)(void *)(r->buf + at);
	a->nla_len = (uint16_t)(r->len - at);
	fr_end(r);
}

/* Ends the current datagram: what follows comes with the next recv. */
static void fr_dgram(struct fake_reply *r)
{
	fr_end(r);
	if (r->n_dgrams < FAKE_DGRAMS &&
	    (r->n_dgrams == 0 || r->dgram_end[r->n_dgrams - 1] < r->len))
		r->dgram_end[r->n_dgrams++] = r->len;
}

__attribute__((unused)) static void fr_done(struct fake_reply *r)
{
	int zero = 0;
	fr_msg(r, NLMSG_DONE, NLM_F_MULTI, &zero, sizeof zero);
}

/* An NLMSG_ERROR carrying error (0: an acknowledgement). */
__attribute__((unused)) static void fr_error(struct fake_reply *r, int error)
{
	struct nlmsgerr e = { .error = error };
	fr_msg(r, NLMSG_ERROR, 0, &e, sizeof e);
}

/* ---- the wrapped calls ---- */

int __wrap_socket(int domain, int type, int protocol)
{
	if (domain == AF_NETLINK && fake_nl_handler) {
		struct fake_fd *f = fake_new(FAKE_NETLINK, protocol);
		return f ? f->fd : -1;
	}
	if (domain == AF_INET && (type & 0xff) == SOCK_DGRAM) {
		struct fake_fd *f = fake_new(FAKE_INET, protocol);
		return f ? f->fd : -1;
	}
	return __real_socket(domain, type, protocol);
}

ssize_t __wrap_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
		      socklen_t tolen)
{
	struct fake_fd *f = fake_find(fd);
	if (!f || f->kind != FAKE_NETLINK)
		return __real_sendto(fd, buf, len, flags, to, tolen);
	const struct nlmsghdr *req = buf;
	if (len < sizeof *req || req->nlmsg_len != len) {
		errno = EINVAL;
		return -1;
	}
	fake_nl_requests++;
	fr_reset(&fake_reply_buf, req->nlmsg_seq);
	fake_nl_handler(f->protocol, req, &fake_reply_buf);
	fr_dgram(&fake_reply_buf);
	f->reply = &fake_reply_buf;
	f->off = 0;
	f->dgram = 0;
	return (ssize_t)len;
}

ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags)
{
	struct fake_fd *f = fake_find(fd);
	if (!f || f->kind != FAKE_NETLINK)
		return __real_recv(fd, buf, len, flags);
	if (!f->reply || f->dgram >= f->reply->n_dgrams) {
		errno = EAGAIN;
		return -1;
	}
	size_t size = f->reply->dgram_end[f->dgram] - f->off;
	size_t n = size < len ? size : len;
	memcpy(buf, f->reply->buf + f->off, n);
	if (!(flags & MSG_PEEK)) {
		f->off = f->reply->dgram_end[f->dgram];
		f->dgram++;
	}
	return (ssize_t)((flags & MSG_TRUNC) ? size : n);
}

int __wrap_close(int fd)
{
	struct fake_fd *f = fake_find(fd);
	if (f)
		f->kind = FAKE_NONE;
	return __real_close(fd);
}

/* Answers SIOCETHTOOL for device ifname with the ethtool command in data;
 * returns 0 or a negative errno. */
static int (*fake_ethtool_handler)(const char *ifname, void *data);

/* perf_event_open: returns a cookie >= 0 (kept with the descriptor) or a
 * negative errno; read gives the counter (value, enabled, running). */
struct perf_event_attr;
static int64_t (*fake_perf_open)(const struct perf_event_attr *attr, int pid, int cpu);
static void (*fake_perf_read)(uint64_t cookie, uint64_t out[3]);

int __wrap_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	struct fake_fd *f = fake_find(fd);
	if (!f)
		return __real_ioctl(fd, request, arg);
	if (f->kind == FAKE_PERF)
		return 0; /* enable, reset */
	if (f->kind == FAKE_INET && request == 0x8946 /* SIOCETHTOOL */ && fake_ethtool_handler) {
		struct ifreq *ifr = arg;
		int rc = fake_ethtool_handler(ifr->ifr_name, ifr->ifr_data);
		if (rc < 0) {
			errno = -rc;
			return -1;
		}
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

long __wrap_syscall(long number, ...)
{
	va_list ap;
	long a[5];
	va_start(ap, number);
	for (int i = 0; i < 5; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number != SYS_perf_event_open || !fake_perf_open)
		return __real_syscall(number, a[0], a[1], a[2], a[3], a[4]);
	int64_t cookie = fake_perf_open((const struct perf_event_attr *)a[0], (int)a[1], (int)a[2]);
	if (cookie < 0) {
		errno = (int)-cookie;
		return -1;
	}
	struct fake_fd *f = fake_new(FAKE_PERF, 0);
	if (!f)
		return -1;
	f->cookie = (uint64_t)cookie;
	return f->fd;
}

ssize_t __wrap_read(int fd, void *buf, size_t len)
{
	struct fake_fd *f = fake_find(fd);
	if (!f || f->kind != FAKE_PERF)
		return __real_read(fd, buf, len);
	uint64_t v[3] = { 0, 0, 0 };
	if (fake_perf_read)
		fake_perf_read(f->cookie, v);
	size_t n = len < sizeof v ? len : sizeof v;
	memcpy(buf, v, n);
	return (ssize_t)n;
}

#endif
