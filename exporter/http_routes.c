/*
 * Answering one request: saturation, client certificate, basic auth, method,
 * then the route.  Handlers never block on a collector; scrape bodies come from
 * scrape_get and are sent without copying (the response holds a reference).
 */
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "log.h"
#include "negotiate.h"

#define CT_TEXT         "text/plain; version=0.0.4; charset=utf-8"
#define CT_OPENMETRICS  "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define CT_JSON         "application/json"
#define CT_HTML         "text/html; charset=utf-8"
#define CT_PLAIN        "text/plain; charset=utf-8"
#define MAX_FILTER_ARGS SCRAPE_MAX_COLLECTORS
#define REALM           "Basic realm=\"shmetrics\", charset=\"UTF-8\""

static const char index_html[] =
    "<!DOCTYPE html>\n"
    "<html><head><title>shmetrics exporter</title></head><body>\n"
    "<h1>shmetrics exporter</h1>\n"
    "<ul><li><a href=\"metrics\">metrics</a> (Prometheus text or OpenMetrics)</li>\n"
    "<li><a href=\"metrics.json\">metrics.json</a> (JSON)</li>\n"
    "<li><a href=\"healthz\">healthz</a></li></ul>\n"
    "</body></html>\n";

/* ---- responses ---- */

/* Queues a response and counts it. */
static mhd_result respond(struct http_server *h, struct MHD_Connection *conn, unsigned status,
			  struct MHD_Response *r, const char *content_type)
{
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, REALM);
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	}
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

static mhd_result respond_copy(struct http_server *h, struct MHD_Connection *conn, unsigned status,
			       const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	return respond(h, conn, status, r, CT_PLAIN);
}

static void release_body(void *cls)
{
	scrape_body_release(cls);
}

/* A response sending b without a copy; takes the caller's reference. */
static struct MHD_Response *body_response(struct scrape_body *b)
{
#if MHD_VERSION >= 0x00097302
	struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(
	    b->len, b->data, release_body, b);
	if (!r)
		scrape_body_release(b);
#else
	struct MHD_Response *r = MHD_create_response_from_buffer(b->len, b->data,
								 MHD_RESPMEM_MUST_COPY);
	release_body(b);
#endif
	return r;
}

/* ---- filters ---- */

struct filters {
	const char *collect[MAX_FILTER_ARGS];
	const char *exclude[MAX_FILTER_ARGS];
	size_t n_collect, n_exclude;
	bool too_many;
};

static mhd_result filter_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct filters *f = cls;
	bool collect = strcmp(key, "collect[]") == 0;

	(void)kind;
	if (!collect && strcmp(key, "exclude[]") != 0)
		return MHD_YES; /* other parameters are ignored */
	size_t *n = collect ? &f->n_collect : &f->n_exclude;
	if (*n == MAX_FILTER_ARGS) {
		f->too_many = true;
		return MHD_NO;
	}
	(collect ? f->collect : f->exclude)[(*n)++] = value ? value : "";
	return MHD_YES;
}

/* Fills sel from the query; on a bad filter, err says why (for a 400). */
static int parse_filters(struct http_server *h, struct MHD_Connection *conn,
			 struct scrape_selection *sel, char *err, size_t errlen)
{
	struct filters f;

	memset(&f, 0, sizeof f);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, filter_arg, &f);
	if (f.too_many) {
		snprintf(err, errlen, "too many collect[] or exclude[] parameters\n");
		return -1;
	}
	int rc = scrape_select(h->scrape, f.collect, f.n_collect, f.exclude, f.n_exclude, sel, err,
			       errlen - 1);
	if (rc < 0)
		strcat(err, "\n");
	return rc;
}

/* ---- scrapes ---- */

static const char *content_type(enum scrape_format f)
{
	return f == SCRAPE_FORMAT_JSON          ? CT_JSON
	       : f == SCRAPE_FORMAT_OPENMETRICS ? CT_OPENMETRICS
						: CT_TEXT;
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static mhd_result serve_scrape(struct http_server *h, struct MHD_Connection *conn, bool json)
{
	struct scrape_request req;
	struct scrape_body *b;
	char err[256];

	if (parse_filters(h, conn, &req.sel, err, sizeof err) < 0)
		return respond_copy(h, conn, MHD_HTTP_BAD_REQUEST, err);
	req.format = json ? SCRAPE_FORMAT_JSON
			  : negotiate_format(header(conn, MHD_HTTP_HEADER_ACCEPT), h->openmetrics);
	req.gzip = negotiate_gzip(header(conn, MHD_HTTP_HEADER_ACCEPT_ENCODING));
	if (scrape_get(h->scrape, &req, &b) < 0) {
		log_error("rendering a scrape failed: out of memory");
		return respond_static(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n",
				      CT_PLAIN);
	}
	bool gz = b->gzip;
	struct MHD_Response *r = body_response(b);
	if (!r)
		return respond_static(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n",
				      CT_PLAIN);
	if (gz)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY,
				json ? "Accept-Encoding" : "Accept-Encoding, Accept");
	return respond(h, conn, MHD_HTTP_OK, r, content_type(req.format));
}

static mhd_result route(struct http_server *h, struct MHD_Connection *conn, const char *url)
{
	if (strcmp(url, "/metrics") == 0)
		return serve_scrape(h, conn, false);
	if (strcmp(url, "/metrics.json") == 0)
		return serve_scrape(h, conn, true);
	if (strcmp(url, "/") == 0)
		return respond_static(h, conn, MHD_HTTP_OK, index_html, CT_HTML);
	if (strcmp(url, "/healthz") == 0)
		return respond_static(h, conn, MHD_HTTP_OK, "ok\n", CT_PLAIN);
	return respond_static(h, conn, MHD_HTTP_NOT_FOUND, "not found\n", CT_PLAIN);
}

/* ---- access control ---- */

static gnutls_session_t tls_session(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	return ci ? (gnutls_session_t)ci->tls_session : NULL;
}

/* Applies client_auth_type; GnuTLS was told to ask for a certificate, but the
 * decision (and the chain check against client_ca_file) is made here. */
static bool client_cert_ok(const struct http_server *h, struct MHD_Connection *conn)
{
	enum client_auth mode = h->web && h->web->tls ? h->web->client_auth : CLIENT_AUTH_NONE;
	unsigned n = 0, status = 0;

	if (mode <= CLIENT_AUTH_REQUEST)
		return true;
	gnutls_session_t s = tls_session(conn);
	if (!s)
		return false;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
	if (!certs || n == 0)
		return mode == CLIENT_AUTH_VERIFY_IF_GIVEN;
	if (mode == CLIENT_AUTH_REQUIRE_ANY)
		return true;
	return gnutls_certificate_verify_peers2(s, &status) == GNUTLS_E_SUCCESS && status == 0;
}

static bool authorized(struct http_server *h, struct MHD_Connection *conn)
{
	char *pass = NULL;

	if (!h->auth)
		return true;
	char *user = MHD_basic_auth_get_username_password(conn, &pass);
	bool ok = user && pass && basic_auth_check(h->auth, user, pass);
	if (pass)
		explicit_bzero(pass, strlen(pass));
	MHD_free(user);
	MHD_free(pass);
	return ok;
}

/* A connection over a limit: 503, counted, and closed (respond adds the
 * Connection: close and Retry-After headers of every 503). */
static mhd_result refuse_connection(struct http_server *h, struct MHD_Connection *conn,
				    enum admission_verdict why)
{
	char body[160];

	if (why == ADMISSION_PER_ADDR)
		snprintf(body, sizeof body,
			 "too many connections from your address (at most %u), try again\n",
			 h->limits.max_per_addr);
	else
		snprintf(body, sizeof body, "too many open connections (at most %u), try again\n",
			 h->limits.max_total);
	return respond_copy(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE, body);
}

static bool method_allowed(const char *method)
{
	return strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	       strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

mhd_result http_handle_request(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_data_size, void **req_cls)
{
	static int headers_seen;
	struct http_server *h = cls;
	enum admission_verdict why;

	(void)version;
	(void)upload_data;
	/* libmicrohttpd 0.9.75 closes the connection after a response queued in the
	 * first call (made once the headers are in): answering there would end
	 * every keep-alive connection after one request.  So the first call only
	 * marks the request, and the answer is queued once it has been read. */
	if (*req_cls == NULL) {
		*req_cls = &headers_seen;
		return MHD_YES;
	}
	if (*upload_data_size) { /* a request body we have no use for: discard it */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!http_conn_admitted(h, conn, &why))
		return refuse_connection(h, conn, why);
	if (!client_cert_ok(h, conn))
		return respond_static(h, conn, MHD_HTTP_FORBIDDEN,
				      "a valid client certificate is required\n", CT_PLAIN);
	if (!authorized(h, conn))
		return respond_static(h, conn, MHD_HTTP_UNAUTHORIZED, "unauthorized\n", CT_PLAIN);
	if (!method_allowed(method))
		return respond_static(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
				      CT_PLAIN);
	return route(h, conn, url);
}
