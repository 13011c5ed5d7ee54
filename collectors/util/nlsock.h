/*
 * nlsock.h - netlink for the collectors that ask the kernel rather than read a
 * file: rtnetlink (routes, links, queueing disciplines) and generic netlink
 * (nl80211, ethtool).
 *
 * A collector keeps one struct nlsock: the socket is opened on first use, kept,
 * and reopened after any failure.  nlsock_request() sends one request and hands
 * every message of the reply to a callback, so a collector's parsing never
 * touches the socket and can be fed constructed or recorded replies.  Each
 * receive has a deadline (NLSOCK_TIMEOUT_MS): a kernel that does not answer
 * fails the request, it does not hold the collector.  The reply buffer grows
 * to the largest message seen (at most NLSOCK_BUF_MAX) and is kept.
 *
 * The attribute helpers read netlink attributes (struct nlattr, which has the
 * layout of rtnetlink's struct rtattr) with every length checked: an attribute
 * that is too short for its type reads as absent.
 *
 * Nothing here logs; errors are -errno with a message naming the request.
 */
#ifndef SHMETRICS_NLSOCK_H
#define SHMETRICS_NLSOCK_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NLSOCK_TIMEOUT_MS 2000
#define NLSOCK_BUF_MIN    (32 * 1024)
#define NLSOCK_BUF_MAX    (4 * 1024 * 1024)

struct nlsock {
	int fd; /* -1 while closed */
	int protocol;
	uint32_t seq;
	unsigned char *buf;
	size_t cap;
};

/* A closed socket of protocol (NETLINK_ROUTE, NETLINK_GENERIC). */
void nlsock_init(struct nlsock *s, int protocol);

/* Closes the socket and frees the buffer (idempotent). */
void nlsock_close(struct nlsock *s);

/* Called for each message of a reply; 0 to go on, -errno (with err) to stop. */
typedef int (*nl_msg_fn)(const struct nlmsghdr *nh, void *ctx, char *err, size_t errlen);

/*
 * Sends req (nlmsg_len, type, flags and payload set by the caller; the sequence
 * number is set here) and calls fn for every message of the reply up to the end
 * of a dump (NLMSG_DONE) or the acknowledgement of a single request (the caller
 * sets NLM_F_ACK on those).  what names the request in messages ("route dump").
 * Returns 0; the negative errno the kernel answered (-ENOENT, -EOPNOTSUPP, ...);
 * -ETIMEDOUT; or a socket error.  After any failure the socket is closed, so
 * a late reply can never be taken for the answer to a later request.
 */
int nlsock_request(struct nlsock *s, struct nlmsghdr *req, const char *what, nl_msg_fn fn,
		   void *ctx, char *err, size_t errlen);

/*
 * Walks the messages in buf[0..len) as nlsock_request does for one datagram:
 * fn for each data message, *done set at NLMSG_DONE or an acknowledgement.
 * Messages whose sequence number is not seq are skipped (seq 0: none is).
 * Returns 0, the error carried by an NLMSG_ERROR or NLMSG_DONE, or fn's error.
 */
int nl_walk(const void *buf, size_t len, uint32_t seq, nl_msg_fn fn, void *ctx, bool *done,
	    char *err, size_t errlen);

/* The id of generic netlink family name.  -ENOENT when the kernel has none. */
int nlsock_genl_family(struct nlsock *s, const char *name, uint16_t *id, char *err, size_t errlen);

/* ---- building requests ---- */

/* A request: the header, then room for a family header and attributes. */
struct nl_req {
	struct nlmsghdr nh;
	unsigned char body[512];
};

/* Starts r as a request of type and flags (NLM_F_REQUEST added) whose family
 * header is hdr[0..hdrlen) (hdrlen at most 64 bytes). */
void nl_req_init(struct nl_req *r, uint16_t type, uint16_t flags, const void *hdr, size_t hdrlen);

/* Appends an attribute; false when it does not fit. */
bool nl_req_put(struct nl_req *r, uint16_t type, const void *data, size_t len);
bool nl_req_put_u32(struct nl_req *r, uint16_t type, uint32_t v);

/* ---- reading attributes ---- */

struct nl_attr {
	const unsigned char *data; /* NULL: absent */
	uint16_t len;
};

/*
 * Fills tb[0..n) from the attributes in buf[0..len): tb[t] is the last attribute
 * of type t (flag bits masked off); types >= n are ignored; a truncated
 * attribute ends the walk.  Entries with no attribute are absent.
 */
void nl_attrs(const void *buf, size_t len, struct nl_attr *tb, size_t n);

/* The payload of nh after a family header of hdrlen bytes, as attributes;
 * false when nh is too short for the header. */
bool nl_msg_attrs(const struct nlmsghdr *nh, size_t hdrlen, struct nl_attr *tb, size_t n);

/* Iterating the attributes of a nest (or of any attribute area). */
struct nl_iter {
	const unsigned char *p, *end;
};
struct nl_iter nl_iter_of(const struct nl_attr *nest);
/* The next attribute: *type (flag bits masked off) and *a; false at the end. */
bool nl_iter_next(struct nl_iter *it, uint16_t *type, struct nl_attr *a);

/* Fixed-size reads: false when a is absent or shorter than the type. */
bool nl_get_u8(const struct nl_attr *a, uint8_t *v);
bool nl_get_u16(const struct nl_attr *a, uint16_t *v);
bool nl_get_u32(const struct nl_attr *a, uint32_t *v);
bool nl_get_u64(const struct nl_attr *a, uint64_t *v);

/* A string attribute (up to its first NUL) into out[cap], NUL-terminated;
 * false when absent or when it does not fit. */
bool nl_get_str(const struct nl_attr *a, char *out, size_t cap);

#endif
