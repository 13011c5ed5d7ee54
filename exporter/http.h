/*
 * http.h - the exporter's HTTP server (libmicrohttpd, internal thread pool).
 *
 * Routes, for GET and HEAD:
 *   /metrics       Prometheus text 0.0.4, or OpenMetrics 1.0 when the Accept
 *                  header prefers it; collect[]= and exclude[]= filters
 *   /metrics.json  the JSON document of docs/exporter.md, same filters
 *   /              a small HTML page linking both
 *   /healthz       "ok"
 * Both scrape routes are gzipped when Accept-Encoding allows it.  Anything
 * else is 404; other methods get 405 with "Allow: GET, HEAD"; an unknown
 * collector in a filter is 400.  Connections are kept alive; at most
 * max_connections_per_ip from one address and max_connections in all are
 * served, one more is answered 503 and closed, and beyond a reserve a new one
 * is closed at accept (admission.h); every refusal is counted.
 * With a web config: TLS, client certificates (403 when required and missing
 * or unverified) and basic auth (401).
 *
 * Handlers run on pool threads and never wait for a collector: replies come
 * from scrape_get (a cached head and a fresh tail, see scrape.h) and are sent
 * without a copy.  The caller ignores SIGPIPE.
 */
#ifndef SHMETRICS_EXPORTER_HTTP_H
#define SHMETRICS_EXPORTER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "scrape.h"
#include "webconfig.h"

struct http_options {
	const char *host; /* IPv4/IPv6 literal or host name; "" = every interface */
	uint16_t port;    /* 0 = any free port (see http_listen_address) */
	unsigned threads;
	unsigned timeout_s; /* idle connections are closed after this */
	unsigned max_connections;
	unsigned max_connections_per_ip;
	const struct web_config *web; /* NULL: plain HTTP; must outlive the server */
	bool no_openmetrics;          /* serve text 0.0.4 whatever Accept says */
};

struct http_server;

/*
 * Binds and starts serving scrape s (which must outlive the server).  Returns 0;
 * -EADDRNOTAVAIL when host does not resolve; -EIO when the daemon cannot start
 * (port in use, no permission), with the reason in err.
 */
int http_start(struct http_server **out, const struct http_options *opt, struct scrape *s,
	       char *err, size_t errlen);

/* Stops accepting, finishes nothing, frees.  NULL is ignored. */
void http_stop(struct http_server *h);

/* The address actually bound, "127.0.0.1:PORT" or "[::1]:PORT". */
void http_listen_address(const struct http_server *h, char *out, size_t outlen);

/* The port actually bound (useful after binding port 0). */
uint16_t http_port(const struct http_server *h);

#endif
