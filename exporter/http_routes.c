/*
 * Answering one request: saturation, client certificate, basic auth, method,
 * then the route.  Handlers never block on a collector; scrape replies come
 * from scrape_get and are sent without copying: the response holds the cached
 * head by reference and owns the request's own tail.
 */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
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
	/* Counted first: a client that has its answer must find it counted
	 * (libmicrohttpd may send the response before MHD_queue_response returns). */
	scrape_count_request(h->scrape, status);
	mhd_result rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

mhd_result http_respond(struct http_server *h, struct MHD_Connection *conn, unsigned status,
			struct MHD_Response *r, const char *content_type)
{
	return respond(h, conn, status, r, content_type);
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

static void release_reply(void *cls)
{
	scrape_reply_free(cls);
}

/* A response sending r's head and tail without a copy; takes r. */
static struct MHD_Response *reply_response(struct scrape_reply *r)
{
#if MHD_VERSION >= 0x00097204
	const struct MHD_IoVec iov[2] = { { r->head->data, r->head->len },
					  { r->tail, r->tail_len } };
	struct MHD_Response *resp = MHD_create_response_from_iovec(iov, 2, release_reply, r);
	if (!resp)
		scrape_reply_free(r);
#else
	char *joined = scrape_reply_join(r);
	struct MHD_Response *resp = joined ? MHD_create_response_from_buffer(scrape_reply_len(r),
									     joined,
									     MHD_RESPMEM_MUST_FREE)
					   : NULL;
	if (joined && !resp)
		free(joined);
	scrape_reply_free(r);
#endif
	return resp;
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
	struct scrape_reply *reply;
	char err[256];

	if (parse_filters(h, conn, &req.sel, err, sizeof err) < 0)
		return respond_copy(h, conn, MHD_HTTP_BAD_REQUEST, err);
	req.format = json ? SCRAPE_FORMAT_JSON
			  : negotiate_format(header(conn, MHD_HTTP_HEADER_ACCEPT), h->openmetrics);
	req.gzip = negotiate_gzip(header(conn, MHD_HTTP_HEADER_ACCEPT_ENCODING));
	if (scrape_get(h->scrape, &req, &reply) < 0) {
		log_error("rendering a scrape failed: out of memory");
		return respond_static(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n",
				      CT_PLAIN);
	}
	bool gz = reply->gzip;
	struct MHD_Response *r = reply_response(reply);
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
	const struct web_asset *asset = http_dashboard_asset(h, url);

	if (asset)
		return http_serve_asset(h, conn, asset);
	if (http_is_api(url))
		return http_serve_api(h, conn, url);
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

/* True when cert's extended key usage, if it has one, permits TLS client
 * authentication (or any purpose). */
static bool allows_client_auth(const gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt;
	bool ok = false, has_eku = false;

	if (gnutls_x509_crt_init(&crt) < 0)
		return false;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) == 0) {
		for (unsigned i = 0;; i++) {
			char oid[128];
			size_t size = sizeof oid;
			if (gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &size, NULL) < 0)
				break;
			has_eku = true;
			ok |= strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0 ||
			      strcmp(oid, GNUTLS_KP_ANY) == 0;
		}
		ok |= !has_eku;
	}
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/* Every certificate the client sent must allow client authentication, as the
 * exporter-toolkit (Go's x509 with ExtKeyUsageClientAuth) demands: a server-only
 * certificate from the client CA is refused. */
static bool chain_allows_client_auth(const gnutls_datum_t *certs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!allows_client_auth(&certs[i]))
			return false;
	return true;
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
	return gnutls_certificate_verify_peers2(s, &status) == GNUTLS_E_SUCCESS && status == 0 &&
	       chain_allows_client_auth(certs, n);
}

/*
 * *req_cls of a request: NULL before the first call of the handler, then
 * HEADERS_SEEN, or the auth job of a request parked for bcrypt.
 */
static int headers_seen;
#define HEADERS_SEEN ((void *)&headers_seen)

static struct auth_job *parked_job(void *const *req_cls)
{
	return *req_cls == HEADERS_SEEN ? NULL : *req_cls;
}

/* Wakes a request parked for bcrypt (basic_auth.h), from the bcrypt thread. */
static void resume_parked(void *conn)
{
	MHD_resume_connection(conn);
}

/* The verdict of a request that was parked and is back: its job is done. */
static enum auth_verdict parked_verdict(struct http_server *h, void **req_cls)
{
	struct auth_job *job = *req_cls;
	enum auth_verdict v = basic_auth_job_verdict(job);

	basic_auth_job_free(job);
	*req_cls = NULL;
	atomic_fetch_sub(&h->parked, 1);
	return v;
}

/*
 * AUTH_OK, AUTH_DENIED or AUTH_BUSY for the request; AUTH_PENDING when it was
 * parked (its connection suspended) until the bcrypt thread has a verdict: the
 * handler is then called again with the job in *req_cls.
 */
static enum auth_verdict authorize(struct http_server *h, struct MHD_Connection *conn,
				   void **req_cls)
{
	struct auth_job *job = NULL;
	char *pass = NULL;

	if (!h->auth)
		return AUTH_OK;
	if (parked_job(req_cls))
		return parked_verdict(h, req_cls);
	char *user = MHD_basic_auth_get_username_password(conn, &pass);
	enum auth_verdict v = user && pass
				  ? basic_auth_begin(h->auth, user, pass, resume_parked, conn, &job)
				  : AUTH_DENIED;
	if (pass)
		explicit_bzero(pass, strlen(pass));
	MHD_free(user);
	MHD_free(pass);
	if (v == AUTH_PENDING) {
		*req_cls = job;
		atomic_fetch_add(&h->parked, 1);
		MHD_suspend_connection(conn);
		basic_auth_submit(h->auth, job); /* only now: it may resume at once */
	}
	return v;
}

void http_request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			    enum MHD_RequestTerminationCode toe)
{
	struct http_server *h = cls;

	(void)conn;
	(void)toe;
	if (parked_job(req_cls)) /* parked, then closed before it was answered */
		parked_verdict(h, req_cls);
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
	struct http_server *h = cls;
	enum admission_verdict why;

	(void)version;
	(void)upload_data;
	/* libmicrohttpd 0.9.75 closes the connection after a response queued in the
	 * first call (made once the headers are in): answering there would end
	 * every keep-alive connection after one request.  So the first call only
	 * marks the request, and the answer is queued once it has been read. */
	if (*req_cls == NULL) {
		*req_cls = HEADERS_SEEN;
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
	switch (authorize(h, conn, req_cls)) {
	case AUTH_OK:
		break;
	case AUTH_PENDING:
		return MHD_YES; /* answered when the bcrypt thread wakes it */
	case AUTH_BUSY:
		return respond_static(h, conn, MHD_HTTP_TOO_MANY_REQUESTS,
				      "too many authentications in progress, try again\n",
				      CT_PLAIN);
	default:
		return respond_static(h, conn, MHD_HTTP_UNAUTHORIZED, "unauthorized\n", CT_PLAIN);
	}

	if (!method_allowed(method))
		return respond_static(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
				      CT_PLAIN);
	return route(h, conn, url);
}
