#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <zlib.h>

#include "buf.h"
#include "log.h"

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result mhd_result;
#else
typedef int mhd_result;
#endif

#define CT_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define CT_JSON "application/json"
#define CT_HTML "text/html; charset=utf-8"
#define CT_PLAIN "text/plain; charset=utf-8"

struct http_server {
	struct MHD_Daemon *daemon;
	struct scrape *scrape;
};

static const char index_html[] =
	"<!DOCTYPE html>\n"
	"<html><head><title>shmetrics exporter</title></head><body>\n"
	"<h1>shmetrics exporter</h1>\n"
	"<ul><li><a href=\"metrics\">metrics</a> (Prometheus text)</li>\n"
	"<li><a href=\"metrics.json\">metrics.json</a> (JSON)</li>\n"
	"<li><a href=\"healthz\">healthz</a></li></ul>\n"
	"</body></html>\n";

/* ---- responses ---- */

/* Queues a response and counts it; takes ownership of a MUST_FREE body. */
static mhd_result respond(struct http_server *h, struct MHD_Connection *conn, unsigned status,
			  struct MHD_Response *r, const char *content_type)
{
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	mhd_result rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	scrape_count_request(h->scrape, status);
	return rc;
}

static mhd_result respond_static(struct http_server *h, struct MHD_Connection *conn,
				 unsigned status, const char *body, const char *content_type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_PERSISTENT);
	return respond(h, conn, status, r, content_type);
}

/* True when Accept-Encoding lists gzip with a nonzero q-value. */
static bool accepts_gzip(struct MHD_Connection *conn)
{
	const char *ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_ACCEPT_ENCODING);

	while (ae && *ae) {
		ae += strspn(ae, " \t,");
		size_t tok = strcspn(ae, " \t;,");
		size_t end = strcspn(ae, ",");
		if (tok == 4 && strncasecmp(ae, "gzip", 4) == 0) {
			const char *q = memmem(ae, end, "q=", 2);
			return !q || strtod(q + 2, NULL) > 0;
		}
		ae += end;
	}
	return false;
}

/* Compresses in[0..len) into a malloc'd gzip stream; NULL on failure. */
static char *gzip_body(const char *in, size_t len, size_t *outlen)
{
	z_stream zs;
	char *out = NULL;

	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t cap = deflateBound(&zs, (uLong)len);
	out = malloc(cap);
	if (!out)
		goto out;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = (Bytef *)out;
	zs.avail_out = (uInt)cap;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		free(out);
		out = NULL;
		goto out;
	}
	*outlen = zs.total_out;
out:
	deflateEnd(&zs);
	return out;
}

/* Hands the rendered body to libmicrohttpd, gzipped when the client accepts it. */
static struct MHD_Response *body_response(struct MHD_Connection *conn, struct buf *body)
{
	size_t len, zlen;
	char *data = buf_steal(body, &len);
	char *z = NULL;

	if (!data)
		return NULL;
	if (len > 0 && len < UINT32_MAX && accepts_gzip(conn))
		z = gzip_body(data, len, &zlen);
	if (z) {
		free(data);
		data = z;
		len = zlen;
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data,
								 MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(data);
		return NULL;
	}
	if (z)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	return r;
}

static mhd_result serve_scrape(struct http_server *h, struct MHD_Connection *conn,
			       enum scrape_format f)
{
	struct buf body;

	buf_init(&body);
	if (scrape_render(h->scrape, f, &body) < 0) {
		buf_free(&body);
		log_error("rendering a scrape failed: out of memory");
		return respond_static(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				      "internal error\n", CT_PLAIN);
	}
	struct MHD_Response *r = body_response(conn, &body);
	buf_free(&body);
	if (!r)
		return respond_static(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				      "internal error\n", CT_PLAIN);
	return respond(h, conn, MHD_HTTP_OK, r, f == SCRAPE_FORMAT_JSON ? CT_JSON : CT_TEXT);
}

static mhd_result route(struct http_server *h, struct MHD_Connection *conn, const char *url)
{
	if (strcmp(url, "/metrics") == 0)
		return serve_scrape(h, conn, SCRAPE_FORMAT_TEXT);
	if (strcmp(url, "/metrics.json") == 0)
		return serve_scrape(h, conn, SCRAPE_FORMAT_JSON);
	if (strcmp(url, "/") == 0)
		return respond_static(h, conn, MHD_HTTP_OK, index_html, CT_HTML);
	if (strcmp(url, "/healthz") == 0)
		return respond_static(h, conn, MHD_HTTP_OK, "ok\n", CT_PLAIN);
	return respond_static(h, conn, MHD_HTTP_NOT_FOUND, "not found\n", CT_PLAIN);
}

static mhd_result handle_request(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version,
				 const char *upload_data, size_t *upload_data_size,
				 void **req_cls)
{
	struct http_server *h = cls;

	(void)version;
	(void)upload_data;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
		return route(h, conn, url);
	if (*upload_data_size) { /* a request body we have no use for: discard it */
		*upload_data_size = 0;
		return MHD_YES;
	}
	return respond_static(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
			      CT_PLAIN);
}

/* ---- binding ---- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
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

static int resolve_name(const char *host, struct sockaddr_storage *ss, char *err,
			size_t errlen)
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

static struct MHD_Daemon *start_daemon(struct http_server *h, const struct http_options *opt,
				       const struct sockaddr_storage *ss, bool any)
{
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;

	if (ss->ss_family == AF_INET6)
		flags |= any ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
	return MHD_start_daemon(
		flags, opt->port, NULL, NULL, handle_request, h, /* port only names it in messages */
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)ss,
		MHD_OPTION_THREAD_POOL_SIZE, opt->threads ? opt->threads : 1u,
		MHD_OPTION_CONNECTION_TIMEOUT, opt->timeout_s,
		MHD_OPTION_CONNECTION_LIMIT, opt->max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, opt->max_connections_per_ip,
		MHD_OPTION_END);
}

int http_start(struct http_server **out, const struct http_options *opt, struct scrape *s,
	       char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	bool any = !opt->host || !*opt->host;
	struct http_server *h = calloc(1, sizeof *h);

	*out = NULL;
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->scrape = s;
	int rc = resolve(opt->host, opt->port, &ss, err, errlen);
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
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

void http_stop(struct http_server *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon);
	free(h);
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
	snprintf(out, outlen, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
		 http_port(h));
}
