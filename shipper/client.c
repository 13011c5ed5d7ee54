/* The remote-write HTTP client (client.h), on libcurl's easy interface. */
#include "client.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SECRET_MAX     4096
#define BODY_KEEP      240
#define CONNECT_MAX_MS 10000u

struct client {
	CURL *curl;
	struct client_options o;
	char url[2048];
	char connect_to[600]; /* server_name: "NAME:PORT:HOST:PORT" */
	struct curl_slist *connect_list;
	/* per request */
	const atomic_bool *stop;
	int64_t retry_after_ms;
	char body[BODY_KEEP + 1];
	size_t body_len;
	char curl_err[CURL_ERROR_SIZE];
};

/* ---- secrets ---- */

int client_read_secret(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size >= SECRET_MAX ||
	    (size_t)st.st_size >= outlen) {
		close(fd);
		snprintf(err, errlen, "%s is not a regular file of less than %zu bytes", path,
			 outlen < SECRET_MAX ? outlen : (size_t)SECRET_MAX);
		return -EINVAL;
	}
	do
		n = read(fd, out, outlen - 1);
	while (n < 0 && errno == EINTR);
	int e = errno;
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
		return -e;
	}
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

/* ---- callbacks ---- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct client *c = ud;
	size_t len = size * n, room = BODY_KEEP - c->body_len;

	memcpy(c->body + c->body_len, p, len < room ? len : room);
	c->body_len += len < room ? len : room;
	return len;
}

static int64_t parse_retry_after(const char *v)
{
	char *end;
	long long secs = strtoll(v, &end, 10);

	if (end != v && *end == '\0' && secs >= 0)
		return secs * 1000;
	time_t when = curl_getdate(v, NULL); /* an HTTP date */
	if (when < 0)
		return -1;
	time_t now = time(NULL);
	return when > now ? (int64_t)(when - now) * 1000 : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct client *c = ud;
	size_t len = size * n;
	static const char name[] = "retry-after:";
	char v[128];

	if (len > sizeof name && len < sizeof v + sizeof name - 1 &&
	    strncasecmp(p, name, sizeof name - 1) == 0) {
		size_t vlen = len - (sizeof name - 1);
		memcpy(v, p + sizeof name - 1, vlen);
		v[vlen] = '\0';
		char *s = v + strspn(v, " \t");
		s[strcspn(s, "\r\n")] = '\0';
		c->retry_after_ms = parse_retry_after(s);
	}
	return len;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t x, curl_off_t y)
{
	struct client *c = ud;
	(void)a, (void)b, (void)x, (void)y;
	return c->stop && atomic_load_explicit(c->stop, memory_order_relaxed);
}

/* ---- setup ---- */

int client_global_init(char *err, size_t errlen)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK) {
		snprintf(err, errlen, "libcurl initialisation failed: %s", curl_easy_strerror(rc));
		return -EIO;
	}
	return 0;
}

/* For server_name: the URL with server_name as its host, and where to connect
 * really ("NAME:PORT:HOST:PORT"): curl then verifies, and sends as SNI, the
 * configured name. */
static int apply_server_name(struct client *c, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *full = NULL;
	int rc = -EINVAL;

	if (u && curl_url_set(u, CURLUPART_URL, c->o.url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_HOST, c->o.server_name, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK && strlen(full) < sizeof c->url) {
		snprintf(c->url, sizeof c->url, "%s", full);
		snprintf(c->connect_to, sizeof c->connect_to, "%s:%s:%s:%s", c->o.server_name, port,
			 host, port);
		c->connect_list = curl_slist_append(NULL, c->connect_to);
		rc = c->connect_list ? 0 : -ENOMEM;
	}
	if (rc < 0)
		snprintf(err, errlen, "cannot use server_name \"%s\" with the URL",
			 c->o.server_name);
	curl_free(host);
	curl_free(port);
	curl_free(full);
	curl_url_cleanup(u);
	return rc;
}

static void set_tls(struct client *c)
{
	CURL *h = c->curl;

	if (c->o.ca_file && *c->o.ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->o.ca_file);
	if (c->o.cert_file && *c->o.cert_file)
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->o.cert_file);
	if (c->o.key_file && *c->o.key_file)
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->o.key_file);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->o.insecure_skip_verify ? 0L : 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->o.insecure_skip_verify ? 0L : 2L);
	if (c->connect_list)
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, c->connect_list);
}

static void set_fixed(struct client *c)
{
	CURL *h = c->curl;
	uint32_t connect = c->o.timeout_ms < CONNECT_MAX_MS ? c->o.timeout_ms : CONNECT_MAX_MS;

	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->o.timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)connect);
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->o.user_agent);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
	set_tls(c);
}

int client_new(struct client **out, const struct client_options *o, char *err, size_t errlen)
{
	struct client *c = calloc(1, sizeof *c);

	if (!c || !(c->curl = curl_easy_init())) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->o = *o;
	snprintf(c->url, sizeof c->url, "%s", o->url);
	if (o->server_name && *o->server_name && apply_server_name(c, err, errlen) < 0) {
		client_free(c);
		return -EINVAL;
	}
	set_fixed(c);
	*out = c;
	return 0;
}

void client_free(struct client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->connect_list);
	free(c);
}

/* ---- one request ---- */

static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = ' ';
}

/* The fixed headers, the configured ones, and a bearer token when set. */
static struct curl_slist *request_headers(struct client *c, struct client_result *r)
{
	static const char *const fixed[] = { "Content-Encoding: snappy",
					     "Content-Type: application/x-protobuf",
					     "X-Prometheus-Remote-Write-Version: 0.1.0",
					     "Expect:" };
	struct curl_slist *l = NULL, *n;
	char token[SECRET_MAX], line[SECRET_MAX + 32], why[300];

	for (size_t i = 0; i < 4; i++)
		l = (n = curl_slist_append(l, fixed[i])) ? n : l;
	for (size_t i = 0; i < c->o.n_headers; i++)
		l = (n = curl_slist_append(l, c->o.headers[i])) ? n : l;
	if (c->o.bearer_token_file && *c->o.bearer_token_file) {
		if (client_read_secret(c->o.bearer_token_file, token, sizeof token, why,
				       sizeof why) < 0) {
			snprintf(r->reason, sizeof r->reason, "bearer_token_file: %.280s", why);
			curl_slist_free_all(l);
			return NULL;
		}
		snprintf(line, sizeof line, "Authorization: Bearer %s", token);
		l = (n = curl_slist_append(l, line)) ? n : l;
		explicit_bzero(token, sizeof token);
		explicit_bzero(line, sizeof line);
	}
	return l;
}

static int set_basic_auth(struct client *c, char *password, size_t len, struct client_result *r)
{
	char why[300];

	if (!c->o.username || !*c->o.username)
		return 0;
	password[0] = '\0';
	if (c->o.password_file && *c->o.password_file &&
	    client_read_secret(c->o.password_file, password, len, why, sizeof why) < 0) {
		snprintf(r->reason, sizeof r->reason, "basic_auth.password_file: %.280s", why);
		return -1;
	}
	curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(c->curl, CURLOPT_USERNAME, c->o.username);
	curl_easy_setopt(c->curl, CURLOPT_PASSWORD, password);
	return 0;
}

static void judge(struct client *c, CURLcode rc, struct client_result *r)
{
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		r->verdict = CLIENT_ABORTED;
		snprintf(r->reason, sizeof r->reason, "stopped");
		return;
	}
	if (rc != CURLE_OK) {
		r->verdict = CLIENT_RETRY;
		snprintf(r->reason, sizeof r->reason, "%s",
			 c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc));
		printable(r->reason);
		return;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
	c->body[c->body_len] = '\0';
	printable(c->body);
	snprintf(r->reason, sizeof r->reason, "HTTP %ld%s%s", r->status, c->body_len ? ": " : "",
		 c->body);
	if (r->status >= 200 && r->status < 300)
		r->verdict = CLIENT_OK;
	else if (r->status == 429 || r->status >= 500)
		r->verdict = CLIENT_RETRY;
	else
		r->verdict = CLIENT_REJECTED;
	if (r->verdict == CLIENT_RETRY)
		r->retry_after_ms = c->retry_after_ms;
}

void client_post(struct client *c, const void *body, size_t len, const atomic_bool *stop,
		 struct client_result *r)
{
	char password[SECRET_MAX];

	memset(r, 0, sizeof *r);
	r->retry_after_ms = -1;
	r->verdict = CLIENT_RETRY;
	c->stop = stop;
	c->retry_after_ms = -1;
	c->body_len = 0;
	c->curl_err[0] = '\0';
	struct curl_slist *headers = request_headers(c, r);
	if (!headers || set_basic_auth(c, password, sizeof password, r) < 0) {
		curl_slist_free_all(headers);
		return; /* a secret file that cannot be read: retried, it may appear */
	}
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	judge(c, curl_easy_perform(c->curl), r);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->curl, CURLOPT_PASSWORD, "");
	explicit_bzero(password, sizeof password);
	curl_slist_free_all(headers);
}
