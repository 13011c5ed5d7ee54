/*
 * webconfig.h - the Prometheus exporter-toolkit web configuration file
 * (--web.config.file), the subset shmetrics serves:
 *
 *   tls_server_config:
 *     cert_file: server.crt          # PEM; relative paths are relative to this file
 *     key_file: server.key
 *     client_auth_type: RequireAndVerifyClientCert   # or NoClientCert (default),
 *                       # RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven
 *     client_ca_file: ca.crt
 *     min_version: TLS12             # TLS10, TLS11, TLS12 (default), TLS13
 *     max_version: TLS13
 *   http_server_config:
 *     http2: true                    # accepted and ignored: we serve HTTP/1.1
 *   basic_auth_users:
 *     alice: $2y$10$...              # bcrypt hashes
 *
 * Keys the toolkit knows but shmetrics cannot honour (cipher_suites,
 * curve_preferences, headers, ...) are refused with a message, never silently
 * ignored: a security setting that does nothing is worse than an error.
 * Certificates and keys are read once, at load.
 *
 * Errors: 0 or a negative errno, with "FILE:LINE:COLUMN: what" in err.
 */
#ifndef SHMETRICS_EXPORTER_WEBCONFIG_H
#define SHMETRICS_EXPORTER_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum client_auth {
	CLIENT_AUTH_NONE,             /* NoClientCert */
	CLIENT_AUTH_REQUEST,          /* RequestClientCert: asked for, never checked */
	CLIENT_AUTH_REQUIRE_ANY,      /* RequireAnyClientCert: present, not verified */
	CLIENT_AUTH_VERIFY_IF_GIVEN,  /* VerifyClientCertIfGiven */
	CLIENT_AUTH_REQUIRE_VERIFIED, /* RequireAndVerifyClientCert */
};

struct web_user {
	char *name;
	char *hash; /* bcrypt, "$2a$", "$2b$" or "$2y$" */
};

struct web_config {
	bool tls;
	char *cert_pem, *key_pem, *client_ca_pem; /* file contents; client_ca_pem may be NULL */
	enum client_auth client_auth;
	int min_version, max_version; /* 10..13 for TLS 1.0..1.3; max 0 = no limit */
	struct web_user *users;
	size_t n_users;
};

int web_config_load(struct web_config **out, const char *path, char *err, size_t errlen);
void web_config_free(struct web_config *c);

/* The GnuTLS priority string for the configured protocol versions. */
void web_config_priorities(const struct web_config *c, char *out, size_t outlen);

#endif
