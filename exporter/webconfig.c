/*
 * Why YAML through libyaml rather than keys in our JSON: the Prometheus
 * ecosystem already has this file (node_exporter, blackbox_exporter and the
 * rest read it with --web.config.file), so operators can reuse theirs
 * unchanged, and the docs and tooling around it (bcrypt hashes, mTLS recipes)
 * apply as-is.  libyaml is a small Debian package; we only walk its document
 * tree, so the YAML subset we accept is exactly what libyaml parses.
 */
#include "webconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define PEM_MAX (1u << 20)

struct loader {
	const char *path;
	yaml_document_t doc;
	struct web_config *c;
	char *err;
	size_t errlen;
};

static int fail_at(struct loader *l, const yaml_node_t *n, const char *what, const char *arg)
{
	snprintf(l->err, l->errlen, "%s:%zu:%zu: %s%s", l->path, n->start_mark.line + 1,
		 n->start_mark.column + 1, what, arg);
	return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* ---- files ---- */

/* path as written, or next to the config file when relative. */
static char *resolve(const char *config_path, const char *path)
{
	const char *slash = strrchr(config_path, '/');
	char *out;

	if (path[0] == '/' || !slash)
		return strdup(path);
	if (asprintf(&out, "%.*s/%s", (int)(slash - config_path), config_path, path) < 0)
		return NULL;
	return out;
}

/*
 * Opens a file for reading without waiting on a FIFO or a device: O_NONBLOCK,
 * then it must be a regular file.  NULL with errno set otherwise (EINVAL for
 * what is not a regular file).
 */
static FILE *open_regular(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	FILE *f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

static int read_file(struct loader *l, const yaml_node_t *n, char **out)
{
	char *path = resolve(l->path, scalar(n));
	FILE *f = path ? open_regular(path) : NULL;
	int rc = 0;

	if (!f) {
		snprintf(l->err, l->errlen, "%s:%zu:%zu: cannot open \"%s\": %s", l->path,
			 n->start_mark.line + 1, n->start_mark.column + 1, scalar(n),
			 strerror(path ? errno : ENOMEM));
		free(path);
		return -EINVAL;
	}
	char *data = calloc(1, PEM_MAX + 1);
	size_t len = data ? fread(data, 1, PEM_MAX + 1, f) : 0;
	if (!data || len == 0 || len > PEM_MAX) {
		rc = fail_at(l, n,
			     len > PEM_MAX ? "file too large: " : "empty or unreadable file: ",
			     scalar(n));
		free(data);
		data = NULL;
	}
	fclose(f);
	free(path);
	*out = data;
	return rc;
}

/* ---- values ---- */

static int parse_version(struct loader *l, const yaml_node_t *n, int *out)
{
	static const struct {
		const char *name;
		int v;
	} versions[] = {
		{ "TLS10", 10 },
		{ "TLS11", 11 },
		{ "TLS12", 12 },
		{ "TLS13", 13 },
	};
	const char *s = scalar(n);

	for (size_t i = 0; s && i < sizeof versions / sizeof versions[0]; i++)
		if (strcmp(s, versions[i].name) == 0) {
			*out = versions[i].v;
			return 0;
		}
	return fail_at(l, n, "expected TLS10, TLS11, TLS12 or TLS13", "");
}

static int parse_client_auth(struct loader *l, const yaml_node_t *n)
{
	static const char *const names[] = { "NoClientCert", "RequestClientCert",
					     "RequireAnyClientCert", "VerifyClientCertIfGiven",
					     "RequireAndVerifyClientCert" };
	const char *s = scalar(n);

	for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i]) == 0) {
			l->c->client_auth = (enum client_auth)i;
			return 0;
		}
	return fail_at(
	    l, n,
	    "unknown client_auth_type; expected NoClientCert, RequestClientCert, "
	    "RequireAnyClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert",
	    "");
}

/* ---- sections ---- */

typedef int (*key_fn)(struct loader *l, const yaml_node_t *value);

struct key_handler {
	const char *key;
	key_fn fn; /* NULL: a toolkit key we cannot honour */
};

static int each_key(struct loader *l, const yaml_node_t *map, const struct key_handler *keys,
		    const char *section)
{
	if (map->type != YAML_MAPPING_NODE)
		return fail_at(l, map, "expected a mapping for ", section);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *k = yaml_document_get_node(&l->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(&l->doc, p->value);
		const char *name = scalar(k);
		const struct key_handler *h = keys;
		while (name && h->key && strcmp(h->key, name) != 0)
			h++;
		if (!name || !h->key)
			return fail_at(l, k, "unknown key in ", section);
		if (!h->fn)
			return fail_at(l, k, "not supported by shmetrics: ", name);
		int rc = h->fn(l, v);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int key_cert(struct loader *l, const yaml_node_t *v)
{
	return scalar(v) ? read_file(l, v, &l->c->cert_pem)
			 : fail_at(l, v, "expected a file name", "");
}

static int key_key(struct loader *l, const yaml_node_t *v)
{
	return scalar(v) ? read_file(l, v, &l->c->key_pem)
			 : fail_at(l, v, "expected a file name", "");
}

static int key_client_ca(struct loader *l, const yaml_node_t *v)
{
	if (!scalar(v))
		return fail_at(l, v, "expected a file name", "");
	return scalar(v)[0] ? read_file(l, v, &l->c->client_ca_pem) : 0;
}

static int key_client_auth(struct loader *l, const yaml_node_t *v)
{
	return parse_client_auth(l, v);
}

static int key_min_version(struct loader *l, const yaml_node_t *v)
{
	return parse_version(l, v, &l->c->min_version);
}

static int key_max_version(struct loader *l, const yaml_node_t *v)
{
	return parse_version(l, v, &l->c->max_version);
}

/*
 * The certificate, key and client CA as GnuTLS will take them at start: a
 * file that is not PEM, or a key that does not match the certificate, is a
 * configuration error here, not a failure to start (exit 1) later.
 */
static int check_credentials(struct loader *l, const yaml_node_t *n)
{
	const struct web_config *c = l->c;
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t cert = { (unsigned char *)c->cert_pem, (unsigned)strlen(c->cert_pem) };
	gnutls_datum_t key = { (unsigned char *)c->key_pem, (unsigned)strlen(c->key_pem) };
	int rc;

	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return -ENOMEM;
	rc = gnutls_certificate_set_x509_key_mem(cred, &cert, &key, GNUTLS_X509_FMT_PEM);
	if (rc < 0)
		rc = fail_at(l, n, "cert_file and key_file are not a PEM certificate and its key: ",
			     gnutls_strerror(rc));
	if (rc >= 0 && c->client_ca_pem) {
		gnutls_datum_t ca = { (unsigned char *)c->client_ca_pem,
				      (unsigned)strlen(c->client_ca_pem) };
		rc = gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM);
		if (rc <= 0)
			rc = fail_at(l, n, "client_ca_file holds no PEM certificate", "");
	}
	gnutls_certificate_free_credentials(cred);
	return rc < 0 ? rc : 0;
}

static int check_tls(struct loader *l, const yaml_node_t *n)
{
	struct web_config *c = l->c;

	if (!c->cert_pem || !c->key_pem)
		return fail_at(l, n, "tls_server_config needs both cert_file and key_file", "");
	if (c->client_auth != CLIENT_AUTH_NONE && !c->client_ca_pem)
		return fail_at(l, n, "client_auth_type needs client_ca_file", "");
	if (c->min_version == 0)
		c->min_version = 12; /* the toolkit's default */
	if (c->max_version && c->max_version < c->min_version)
		return fail_at(l, n,
			       "max_version is below min_version (TLS12 when it is not set); set "
			       "min_version too, or raise max_version",
			       "");
	return check_credentials(l, n);
}

static int section_tls(struct loader *l, const yaml_node_t *v)
{
	static const struct key_handler keys[] = {
		{ "cert_file", key_cert },
		{ "key_file", key_key },
		{ "client_ca_file", key_client_ca },
		{ "client_auth_type", key_client_auth },
		{ "min_version", key_min_version },
		{ "max_version", key_max_version },
		{ "cert", NULL },
		{ "key", NULL },
		{ "client_ca", NULL },
		{ "cipher_suites", NULL },
		{ "prefer_server_cipher_suites", NULL },
		{ "curve_preferences", NULL },
		{ "client_allowed_sans", NULL },
		{ NULL, NULL },
	};
	int rc = each_key(l, v, keys, "tls_server_config");

	l->c->tls = true;
	return rc ? rc : check_tls(l, v);
}

static int key_http2(struct loader *l, const yaml_node_t *v)
{
	return scalar(v) ? 0 : fail_at(l, v, "expected true or false", "");
}

static int section_http(struct loader *l, const yaml_node_t *v)
{
	static const struct key_handler keys[] = {
		{ "http2", key_http2 },
		{ "headers", NULL },
		{ NULL, NULL },
	};
	return each_key(l, v, keys, "http_server_config");
}

static bool bcrypt_shaped(const char *h)
{
	return strlen(h) == 60 && h[0] == '$' && h[1] == '2' && strchr("aby", h[2]) && h[3] == '$';
}

static int add_user(struct loader *l, const yaml_node_t *k, const yaml_node_t *v)
{
	struct web_config *c = l->c;
	const char *name = scalar(k), *hash = scalar(v);

	if (!name || !name[0] || strchr(name, ':'))
		return fail_at(l, k, "a user name must be a non-empty string without ':'", "");
	if (!hash || !bcrypt_shaped(hash))
		return fail_at(l, v, "expected a bcrypt hash ($2y$...) for user ", name);
	struct web_user *u = realloc(c->users, (c->n_users + 1) * sizeof *u);
	if (!u)
		return fail_at(l, k, "out of memory", "");
	c->users = u;
	u[c->n_users].name = strdup(name);
	u[c->n_users].hash = strdup(hash);
	c->n_users++;
	if (!u[c->n_users - 1].name || !u[c->n_users - 1].hash)
		return fail_at(l, k, "out of memory", "");
	return 0;
}

static int section_users(struct loader *l, const yaml_node_t *v)
{
	if (v->type != YAML_MAPPING_NODE)
		return fail_at(l, v, "expected a mapping of user: bcrypt hash for ",
			       "basic_auth_users");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	     p++) {
		int rc = add_user(l, yaml_document_get_node(&l->doc, p->key),
				  yaml_document_get_node(&l->doc, p->value));
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int load_root(struct loader *l)
{
	static const struct key_handler keys[] = {
		{ "tls_server_config", section_tls },
		{ "http_server_config", section_http },
		{ "basic_auth_users", section_users },
		{ NULL, NULL },
	};
	const yaml_node_t *root = yaml_document_get_root_node(&l->doc);

	if (!root) /* an empty file configures nothing, as in the toolkit */
		return 0;
	if (root->type == YAML_SCALAR_NODE && !scalar(root)[0])
		return 0;
	return each_key(l, root, keys, "the top level");
}

static int parse(struct loader *l, FILE *f)
{
	yaml_parser_t parser;
	int rc = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &l->doc)) {
		snprintf(l->err, l->errlen, "%s:%zu:%zu: %s", l->path, parser.problem_mark.line + 1,
			 parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	rc = load_root(l);
	yaml_document_delete(&l->doc);
	yaml_parser_delete(&parser);
	return rc;
}

int web_config_load(struct web_config **out, const char *path, char *err, size_t errlen)
{
	struct loader l = { .path = path, .err = err, .errlen = errlen };
	FILE *f = open_regular(path);
	int rc;

	*out = NULL;
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "cannot open web config %s: %s", path,
			 errno == EINVAL ? "not a regular file" : strerror(errno));
		return rc;
	}

	l.c = calloc(1, sizeof *l.c);
	rc = l.c ? parse(&l, f) : -ENOMEM;
	fclose(f);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory reading %s", path);
	if (rc < 0) {
		web_config_free(l.c);
		return rc;
	}
	if (l.c->min_version == 0)
		l.c->min_version = 12;
	*out = l.c;
	return 0;
}

void web_config_free(struct web_config *c)
{
	if (!c)
		return;
	free(c->cert_pem);
	free(c->key_pem);
	free(c->client_ca_pem);
	for (size_t i = 0; i < c->n_users; i++) {
		free(c->users[i].name);
		free(c->users[i].hash);
	}
	free(c->users);
	free(c);
}

void web_config_priorities(const struct web_config *c, char *out, size_t outlen)
{
	size_t n = (size_t)snprintf(out, outlen, "NORMAL:-VERS-ALL");
	int max = c->max_version ? c->max_version : 13;

	for (int v = c->min_version; v <= max && n < outlen; v++)
		n += (size_t)snprintf(out + n, outlen - n, ":+VERS-TLS1.%d", v - 10);
}
