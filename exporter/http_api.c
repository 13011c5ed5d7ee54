/*
 * The routes of the history and the dashboard: /api/v1/... (query.h) and the
 * embedded page and its files (dashboard.h).  Called from http_routes.c after
 * the access checks; every answer goes through http_respond.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dashboard.h"
#include "gzip.h"
#include "history.h"
#include "http_internal.h"
#include "log.h"
#include "negotiate.h"
#include "query.h"
#include "render_query.h"

#define CT_JSON      "application/json"
#define API_PREFIX   "/api/v1/"
#define GZIP_MIN_LEN 1024
/* The page talks to its own origin only; the browser enforces it too. */
#define CSP                                                                               \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static const char *arg(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- the API ---- */

static mhd_result collect_match(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	struct query_args *a = cls;

	(void)kind;
	if (strcmp(key, "match[]") == 0 && value && a->n_match < QUERY_MAX_MATCH)
		a->match[a->n_match++] = value;
	return MHD_YES;
}

static void read_args(struct MHD_Connection *conn, struct query_args *a)
{
	struct timespec ts;

	memset(a, 0, sizeof *a);
	a->query = arg(conn, "query");
	a->time = arg(conn, "time");
	a->start = arg(conn, "start");
	a->end = arg(conn, "end");
	a->step = arg(conn, "step");
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_match, a);
	clock_gettime(CLOCK_REALTIME, &ts);
	a->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned answer_api(struct history *h, const char *what, struct MHD_Connection *conn,
			   struct buf *out)
{
	struct query_args a;
	size_t n = strlen(what);

	read_args(conn, &a);
	if (strcmp(what, "query") == 0)
		return query_instant(h, &a, out);
	if (strcmp(what, "query_range") == 0)
		return query_range(h, &a, out);
	if (strcmp(what, "series") == 0)
		return query_series(h, &a, out);
	if (strcmp(what, "labels") == 0)
		return query_labels(h, &a, out);
	if (strncmp(what, "label/", 6) == 0 && n > 13 && strcmp(what + n - 7, "/values") == 0) {
		char label[LABEL_NAME_MAX + 1];
		size_t ln = n - 13;
		if (ln <= LABEL_NAME_MAX) {
			memcpy(label, what + 6, ln);
			label[ln] = '\0';
			return query_label_values(h, label, &a, out);
		}
	}
	render_query_error(out, "not_found", "unknown API endpoint");
	return MHD_HTTP_NOT_FOUND;
}

/* A response for out's contents, gzipped when the client takes it. */
static struct MHD_Response *json_response(struct MHD_Connection *conn, struct buf *out)
{
	size_t len = out->len, zlen;
	char *body = buf_steal(out, &len);
	bool gz = body && len >= GZIP_MIN_LEN &&
		  negotiate_gzip(header(conn, MHD_HTTP_HEADER_ACCEPT_ENCODING));
	char *z = gz ? gzip_compress(body, len, &zlen) : NULL;
	struct MHD_Response *r;

	if (!body)
		return NULL;
	if (z) {
		free(body);
		body = z;
		len = zlen;
	}
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return NULL;
	}
	if (z)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return r;
}

mhd_result http_serve_api(struct http_server *h, struct MHD_Connection *conn, const char *url)
{
	struct history *hist = scrape_history(h->scrape);
	struct buf out;
	unsigned status;

	buf_init(&out);
	if (!hist) {
		render_query_error(&out, "unavailable",
				   "the history is disabled (--history.retention=0)");
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
	} else
		status = answer_api(hist, url + strlen(API_PREFIX), conn, &out);
	struct MHD_Response *r = buf_failed(&out) ? NULL : json_response(conn, &out);
	buf_free(&out);
	if (!r)
		log_error("answering %s failed: out of memory", url);
	return http_respond(h, conn, status, r, CT_JSON);
}

bool http_is_api(const char *url)
{
	return strncmp(url, API_PREFIX, strlen(API_PREFIX)) == 0;
}

/* ---- the page ---- */

static struct MHD_Response *asset_response(struct MHD_Connection *conn, const struct web_asset *a,
					   bool *gz)
{
	const void *data = a->data;
	size_t len = a->len;

	*gz = negotiate_gzip(header(conn, MHD_HTTP_HEADER_ACCEPT_ENCODING)) &&
	      dashboard_gzip(a, &data, &len);
	return MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
}

mhd_result http_serve_asset(struct http_server *h, struct MHD_Connection *conn,
			    const struct web_asset *a)
{
	char etag[DASHBOARD_ETAG_MAX];
	bool gz = false, fresh;
	struct MHD_Response *r;

	dashboard_etag(a, etag, sizeof etag);
	fresh = dashboard_etag_matches(header(conn, MHD_HTTP_HEADER_IF_NONE_MATCH), etag);
	r = fresh ? MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)
		  : asset_response(conn, a, &gz);
	if (!r)
		return MHD_NO;
	if (gz)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	return http_respond(h, conn, fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r,
			    a->content_type);
}

const struct web_asset *http_dashboard_asset(struct http_server *h, const char *url)
{
	if (!scrape_history(h->scrape))
		return NULL; /* no history: "/" is the plain page of links */
	return dashboard_find(url);
}
