/*
 * http_internal.h - the server state shared by http.c (binding, daemon) and
 * http_routes.c (answering requests).  Not for other modules.
 */
#ifndef SHMETRICS_EXPORTER_HTTP_INTERNAL_H
#define SHMETRICS_EXPORTER_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "admission.h"
#include "basic_auth.h"
#include "http.h"

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result mhd_result;
#else
typedef int mhd_result;
#endif

struct http_server {
	struct MHD_Daemon *daemon;
	struct scrape *scrape;
	const struct web_config *web; /* NULL: plain HTTP, no authentication */
	struct basic_auth *auth;      /* NULL: no basic_auth_users */
	bool openmetrics;
	struct admission *admission; /* the connection limits */
	struct admission_limits limits;
	atomic_uint parked; /* requests suspended until the bcrypt thread answers */
};

/* The MHD access handler (cls is the struct http_server). */
mhd_result http_handle_request(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_data_size, void **req_cls);

/* MHD_OPTION_NOTIFY_COMPLETED: frees what a request parked for bcrypt left. */
void http_request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			    enum MHD_RequestTerminationCode toe);

/* Queues response r (NULL: out of memory, the connection is closed) with
 * status and Content-Type, and counts it (http_routes.c). */
mhd_result http_respond(struct http_server *h, struct MHD_Connection *conn, unsigned status,
			struct MHD_Response *r, const char *content_type);

/* The history's API and the dashboard (http_api.c). */
struct web_asset;
bool http_is_api(const char *url);
mhd_result http_serve_api(struct http_server *h, struct MHD_Connection *conn, const char *url);
/* The dashboard file at url, or NULL (also when the history is disabled). */
const struct web_asset *http_dashboard_asset(struct http_server *h, const char *url);
mhd_result http_serve_asset(struct http_server *h, struct MHD_Connection *conn,
			    const struct web_asset *a);

/* The accept policy: closes a connection beyond the limits' reserves (http_conn.c). */
mhd_result http_accept_policy(void *cls, const struct sockaddr *sa, socklen_t len);

/* MHD_OPTION_NOTIFY_CONNECTION: counts connections open and admitted. */
void http_notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			    enum MHD_ConnectionNotificationCode toe);

/* True when conn is admitted (now or before); else it is counted as refused,
 * *why says which limit, and the caller answers 503 and closes it. */
bool http_conn_admitted(struct http_server *h, struct MHD_Connection *conn,
			enum admission_verdict *why);

/* Rate limit of the server's warnings: LOG_BURST lines per LOG_WINDOW_S. */
bool http_log_allowed(void);

#endif
