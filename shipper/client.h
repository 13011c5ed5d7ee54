/*
 * client.h - the HTTP(S) client of one remote-write endpoint (libcurl, with
 * GnuTLS like the exporter).
 *
 * One POST per request: the snappy-compressed WriteRequest with
 *   Content-Encoding: snappy
 *   Content-Type: application/x-protobuf
 *   X-Prometheus-Remote-Write-Version: 0.1.0
 *   User-Agent: shmetrics/VERSION
 * plus the configured headers, and basic auth or a bearer token read from
 * their files on every request (so a rotated secret is picked up; a secret is
 * never logged, echoed or passed on a command line).  Connections are kept
 * alive between requests; redirects are not followed; only http and https.
 *
 * Thread safety: one client per thread.  Nothing here logs.
 */
#ifndef SHMETRICS_SHIPPER_CLIENT_H
#define SHMETRICS_SHIPPER_CLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLIENT_HEADERS_MAX 16

struct client_options {
	const char *url;
	const char *username, *password_file; /* basic auth when username is set */
	const char *bearer_token_file;
	const char *ca_file, *cert_file, *key_file;
	const char *server_name; /* name to verify (and send as SNI) instead of the URL's host */
	bool insecure_skip_verify;
	size_t n_headers;
	const char *headers[CLIENT_HEADERS_MAX]; /* "Name: value" */
	uint32_t timeout_ms;
	const char *user_agent;
};

enum client_verdict {
	CLIENT_OK,       /* 2xx */
	CLIENT_RETRY,    /* 5xx, 429, or no answer (connection, TLS, timeout) */
	CLIENT_REJECTED, /* any other status: retrying cannot help */
	CLIENT_ABORTED,  /* stopped by the caller's flag */
};

struct client_result {
	enum client_verdict verdict;
	long status;            /* HTTP status, 0 without an answer */
	int64_t retry_after_ms; /* Retry-After of a 429 or 5xx, -1 without one */
	char reason[320];       /* what went wrong, printable, for the log */
};

struct client;

/* Checks what can be checked now (files are read later).  0 or -errno. */
int client_new(struct client **out, const struct client_options *o, char *err, size_t errlen);
void client_free(struct client *c);

/* Posts body[0..len).  stop, when set while the request runs, aborts it. */
void client_post(struct client *c, const void *body, size_t len, const atomic_bool *stop,
		 struct client_result *r);

/* Reads a secret file: its first line, without the line break.  The content
 * never appears in err.  0 or -errno. */
int client_read_secret(const char *path, char *out, size_t outlen, char *err, size_t errlen);

/* Once per process, before any thread starts: libcurl's global setup. */
int client_global_init(char *err, size_t errlen);

#endif
