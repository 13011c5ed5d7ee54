/*
 * Connection limits (admission.h) wired into libmicrohttpd: the accept policy
 * closes a connection beyond the limits' reserves, the connection notifications
 * count connections open and admitted, and the request handler asks
 * http_conn_admitted before it serves anything.  docs/exporter.md, "Connection
 * limits", says what a client sees.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "http_internal.h"
#include "log.h"

/* What the exporter knows of one connection (its socket context). */
struct conn_state {
	bool admitted;
};

static const struct sockaddr *peer(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *i =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return i ? i->client_addr : NULL;
}

static enum scrape_refusal refusal_of(enum admission_verdict v)
{
	return v == ADMISSION_PER_ADDR ? SCRAPE_REFUSED_PER_IP : SCRAPE_REFUSED_TOTAL;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
	snprintf(out, outlen, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
			  (socklen_t)outlen);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  (socklen_t)outlen);
}

static void log_refusal(const struct http_server *h, const struct sockaddr *sa,
			enum admission_verdict v, const char *answer)
{
	char addr[INET6_ADDRSTRLEN];

	if (!http_log_allowed())
		return;
	addr_text(sa, addr, sizeof addr);
	if (v == ADMISSION_PER_ADDR)
		log_warnx("refused a connection from %s, over --web.max-connections-per-ip=%u "
			  "(%s)",
			  addr, h->limits.max_per_addr, answer);
	else
		log_warnx("refused a connection from %s, over --web.max-connections=%u (%s)", addr,
			  h->limits.max_total, answer);
}

mhd_result http_accept_policy(void *cls, const struct sockaddr *sa, socklen_t len)
{
	struct http_server *h = cls;
	enum admission_verdict v = admission_accept(h->admission, sa);

	(void)len;
	if (v == ADMISSION_OK)
		return MHD_YES;
	scrape_count_refused(h->scrape, refusal_of(v), SCRAPE_CLOSED_AT_ACCEPT);
	log_refusal(h, sa, v, "closed at once: the reserve above the limit is full too");
	return MHD_NO;
}

void http_notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			    enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *h = cls;
	struct conn_state *cs = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		/* Without a state the connection is refused at its first request. */
		cs = calloc(1, sizeof *cs);
		int rc = cs ? admission_open(h->admission, peer(conn)) : -ENOMEM;
		if (rc < 0) {
			free(cs);
			cs = NULL;
		} else {
			cs->admitted = rc == ADMISSION_OK;
		}
		*socket_context = cs;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && cs != NULL) {
		admission_close(h->admission, peer(conn), cs->admitted);
		free(cs);
		*socket_context = NULL;
	}
}

bool http_conn_admitted(struct http_server *h, struct MHD_Connection *conn,
			enum admission_verdict *why)
{
	const union MHD_ConnectionInfo *i =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn_state *cs = i ? i->socket_context : NULL;

	*why = ADMISSION_TOTAL;
	if (cs == NULL)
		return false;
	if (!cs->admitted) {
		/* The slot of a connection its client closed just before may only
		 * now have been released by libmicrohttpd's cleanup. */
		*why = admission_admit(h->admission, peer(conn));
		cs->admitted = *why == ADMISSION_OK;
	}
	if (!cs->admitted) {
		scrape_count_refused(h->scrape, refusal_of(*why), SCRAPE_ANSWERED_503);
		log_refusal(h, peer(conn), *why, "answered 503");
	}
	return cs->admitted;
}
