#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "http_internal.h"
#include "log.h"
#include "webconfig.h"

/*
 * Connection limits (admission.h, docs/exporter.md "Connection limits").  The
 * exporter admits max_connections_per_ip connections per address and
 * max_connections in all; one more is answered 503 and closed.  Up to these
 * reserves above the limits a connection is kept long enough to read that
 * answer; beyond them the accept policy closes it at once.
 */
#define PER_IP_RESERVE     4
#define CONNECTION_RESERVE 16

/* ---- binding ---- */

/*
 * libmicrohttpd logs one line per refused connection: under a connection flood
 * that is a line per request.  At most LOG_BURST lines per LOG_WINDOW_S seconds
 * are let through; the rest are counted and summed up in one line.
 */
#define LOG_BURST    10
#define LOG_WINDOW_S 10

static pthread_mutex_t mhd_log_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t mhd_log_window;
static unsigned mhd_log_count, mhd_log_suppressed;

bool http_log_allowed(void)
{
	time_t now = time(NULL);
	bool allowed;

	pthread_mutex_lock(&mhd_log_lock);
	if (now - mhd_log_window >= LOG_WINDOW_S) {
		if (mhd_log_suppressed > 0)
			log_warnx("libmicrohttpd: %u more messages suppressed in %d s",
				  mhd_log_suppressed, LOG_WINDOW_S);
		mhd_log_window = now;
		mhd_log_count = mhd_log_suppressed = 0;
	}
	allowed = mhd_log_count++ < LOG_BURST;
	if (!allowed)
		mhd_log_suppressed++;
	pthread_mutex_unlock(&mhd_log_lock);
	return allowed;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	if (!http_log_allowed())
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warnx("libmicrohttpd: %s", msg);
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

static int resolve_name(const char *host, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res;
	int rc = getaddrinfo(host, NULL, &hints, &res);

	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve listen host \"%s\": %s", host,
			 gai_strerror(rc));
		return -EADDRNOTAVAIL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

/* Fills ss with host:port; an empty host means every interface (the IPv6 any
 * address, which takes IPv4 too when the daemon runs dual-stack). */
static int resolve(const char *host, uint16_t port, struct sockaddr_storage *ss, char *err,
		   size_t errlen)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	int rc = 0;

	memset(ss, 0, sizeof *ss);
	in6->sin6_family = AF_INET6; /* in6addr_any is all zeroes */
	if (host && *host && inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) {
		memset(ss, 0, sizeof *ss);
		in4->sin_family = AF_INET;
		if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
			rc = resolve_name(host, ss, err, errlen);
	}
	if (rc == 0)
		set_port(ss, port);
	return rc;
}

/* MHD_start_daemon takes its options as varargs; the TLS ones and the thread
 * pool are only passed when wanted, through an option array. */
static size_t extra_options(const struct http_server *h, unsigned threads, char *prio,
			    size_t priolen, struct MHD_OptionItem *o)
{
	const struct web_config *w = h->web;
	size_t n = 0;

	if (threads > 1) /* a pool of 1 is refused with a warning */
		o[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, threads, NULL };
	if (!w || !w->tls)
		return n;
	web_config_priorities(w, prio, priolen);
	o[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, w->cert_pem };
	o[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, w->key_pem };
	o[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, prio };
	if (w->client_ca_pem && w->client_auth != CLIENT_AUTH_NONE)
		o[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, w->client_ca_pem };
	return n;
}

/*
 * libmicrohttpd's own limits sit beyond ours so that they never decide first
 * (its refusals could not be counted): its per-IP count also holds connections
 * other pool threads are accepting at the same moment, and it splits its total
 * limit evenly across the pool's threads, any one of which may hold them all.
 */
static unsigned mhd_per_ip_limit(const struct http_server *h, unsigned threads)
{
	return h->limits.max_per_addr + h->limits.per_addr_reserve + threads;
}

static unsigned mhd_connection_limit(const struct http_server *h, unsigned threads)
{
	return threads * (h->limits.max_total + h->limits.total_reserve + threads);
}

static struct MHD_Daemon *start_daemon(struct http_server *h, const struct http_options *opt,
				       const struct sockaddr_storage *ss, bool any)
{
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	unsigned threads = opt->threads ? opt->threads : 1u;
	struct MHD_OptionItem extra[6];
	char prio[128];
	size_t n_extra = extra_options(h, threads, prio, sizeof prio, extra);

	extra[n_extra] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	if (h->web && h->web->tls)
		flags |= MHD_USE_TLS;
	if (ss->ss_family == AF_INET6)
		flags |= any ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
	return MHD_start_daemon(flags, opt->port, http_accept_policy, h, http_handle_request,
				h, /* port only names it */
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
				(const struct sockaddr *)ss, MHD_OPTION_CONNECTION_TIMEOUT,
				opt->timeout_s, MHD_OPTION_CONNECTION_LIMIT,
				mhd_connection_limit(h, threads),
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, mhd_per_ip_limit(h, threads),
				MHD_OPTION_NOTIFY_CONNECTION, http_notify_connection, h,
				MHD_OPTION_NOTIFY_COMPLETED, http_request_completed, h,
				MHD_OPTION_ARRAY, extra, MHD_OPTION_END);
}

static int server_new(struct http_server **out, const struct http_options *opt, struct scrape *s,
		      char *err, size_t errlen)
{
	struct http_server *h = calloc(1, sizeof *h);

	*out = h;
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->scrape = s;
	h->web = opt->web;
	h->openmetrics = !opt->no_openmetrics;
	h->limits = (struct admission_limits){ .max_per_addr = opt->max_connections_per_ip,
					       .max_total = opt->max_connections,
					       .per_addr_reserve = PER_IP_RESERVE,
					       .total_reserve = CONNECTION_RESERVE };
	h->admission = admission_new(&h->limits);
	if (!h->admission) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	atomic_init(&h->parked, 0);
	if (opt->web && opt->web->n_users) {
		h->auth = basic_auth_new(opt->web->users, opt->web->n_users);
		if (!h->auth) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

static void server_free(struct http_server *h)
{
	if (!h)
		return;
	basic_auth_free(h->auth);
	admission_free(h->admission);
	free(h);
}

int http_start(struct http_server **out, const struct http_options *opt, struct scrape *s,
	       char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	bool any = !opt->host || !*opt->host;
	struct http_server *h;
	int rc = server_new(&h, opt, s, err, errlen);

	*out = NULL;
	if (rc == 0)
		rc = resolve(opt->host, opt->port, &ss, err, errlen);
	if (rc == 0) {
		h->daemon = start_daemon(h, opt, &ss, any);
		if (!h->daemon && any) { /* no IPv6 on this host: every IPv4 interface */
			memset(&ss, 0, sizeof ss);
			ss.ss_family = AF_INET;
			set_port(&ss, opt->port);
			h->daemon = start_daemon(h, opt, &ss, false);
		}
		if (!h->daemon) {
			snprintf(err, errlen, "cannot serve HTTP on %s:%u: %s",
				 any ? "*" : opt->host, opt->port, strerror(errno));
			rc = -EIO;
		}
	}
	if (rc < 0) {
		server_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

/*
 * Stopping the bcrypt thread answers every parked request; their connections
 * must have left the daemon's suspended list before it stops (libmicrohttpd
 * aborts otherwise), which its own threads do: wait for that, boundedly.
 */
void http_stop(struct http_server *h)
{
	const struct timespec step = { 0, 5 * 1000 * 1000 };

	if (!h)
		return;
	basic_auth_stop(h->auth);
	for (int i = 0; i < 1000 && atomic_load(&h->parked) > 0; i++)

		nanosleep(&step, NULL);
	MHD_stop_daemon(h->daemon);
	server_free(h);
}

static int listen_sockname(const struct http_server *h, struct sockaddr_storage *ss)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon,
							       MHD_DAEMON_INFO_LISTEN_FD);
	socklen_t len = sizeof *ss;

	memset(ss, 0, sizeof *ss);
	if (!info || getsockname(info->listen_fd, (struct sockaddr *)ss, &len) < 0)
		return -1;
	return 0;
}

uint16_t http_port(const struct http_server *h)
{
#if MHD_VERSION >= 0x00097000
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon,
							       MHD_DAEMON_INFO_BIND_PORT);
	if (info)
		return info->port;
#endif
	struct sockaddr_storage ss;
	if (listen_sockname(h, &ss) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void http_listen_address(const struct http_server *h, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	char host[INET6_ADDRSTRLEN] = "?";

	if (listen_sockname(h, &ss) == 0 && ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
	else if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
	snprintf(out, outlen, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, http_port(h));
}
